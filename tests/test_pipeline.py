"""The inbound pipeline, provider-neutral: identity, names, recording, replies, opt-out, safety."""

import dataclasses
import itertools
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from customers.models import ChannelAddress, Customer, Interaction
from customers.services import tags_get_or_create
from webhooks.inbound import InboundMessage, Location, Media, StatusUpdate
from webhooks.outbound import status_apply
from webhooks.pipeline import UnknownShopAddress
from webhooks.pipeline import inbound_receive as _inbound_receive
from webhooks.tasks import reply_for_turn

_ids = itertools.count(1)
TWILIO_NUMBER = "+33757000000"
META_ID = "100000000000001"


@pytest.fixture
def shop(shop):
    shop.opening_hours = "Mardi-samedi 10h-19h"
    shop.address = "12 rue des Martyrs, Paris"
    shop.save()
    ChannelAddress.objects.create(shop=shop, provider="twilio", address=TWILIO_NUMBER)
    ChannelAddress.objects.create(shop=shop, provider="meta", address=META_ID)
    return shop


def sms(text, sender="+33698765432", **extra):
    return InboundMessage(
        provider="twilio", channel="sms", shop_address=TWILIO_NUMBER,
        provider_message_id=f"SM{next(_ids):032x}", sender_phone=sender, sender_whatsapp_id=None,
        sender_raw=sender, text=text, **extra,
    )  # fmt: skip


def inbound_receive(message, **kwargs):
    """The pipeline, then the turn's reply task as the worker runs it after the commit (eager tasks
    ignore the debounce; the reply's own send stays queued: this file tests decisions, not sending)."""
    outcome = _inbound_receive(message, **kwargs)
    if outcome.reply_scheduled:
        reply_for_turn(outcome.customer_id, outcome.interaction_id)
    return outcome


def reply_id(outcome) -> int | None:
    """The automatic reply recorded for a message (it answers the turn the message ends), if any."""
    return (
        Interaction.objects.filter(in_reply_to_id=outcome.interaction_id, direction="outbound")
        .values_list("pk", flat=True)
        .first()
    )


def reply_to(outcome) -> str:
    """The text of the automatic reply recorded for a message ("" for none); a task sends it."""
    if reply_id(outcome) is None:
        return ""
    reply = Interaction.objects.get(pk=reply_id(outcome))
    assert reply.direction == "outbound" and reply.is_automatic and reply.status == "queued"
    assert reply.in_reply_to_id == outcome.interaction_id
    return reply.body


def whatsapp(text, sender="+33698765432", wa_user=None, profile_name="", **extra):
    return InboundMessage(
        provider="meta", channel="whatsapp", shop_address=META_ID, provider_message_id=f"wamid.{next(_ids)}",
        sender_phone=sender, sender_whatsapp_id=wa_user, sender_raw=sender or wa_user or "", text=text,
        profile_name=profile_name, **extra,
    )  # fmt: skip


def test_first_contact_creates_a_profile_with_name_tags_and_reply(shop):
    outcome = inbound_receive(sms("Bonjour, je m'appelle Julie Martin. Vous ouvrez à quelle heure ?"))

    customer = Customer.objects.get(pk=outcome.customer_id)
    assert (customer.first_name, customer.last_name, customer.name_source) == ("Julie", "Martin", "text")
    assert customer.phone == "+33698765432" and customer.source == "sms" and customer.segment == "prospect"
    assert sorted(customer.tags.values_list("name", flat=True)) == ["auto-created", "sms"]
    assert customer.first_contact_at and customer.last_contact_at and customer.language == "fr"
    reply = reply_to(outcome)
    assert "Julie" in reply and "10h-19h" in reply
    assert customer.interactions.get(direction="outbound").pk == reply_id(outcome)  # on their timeline


def test_sms_then_whatsapp_from_one_number_is_one_customer_with_two_channels(shop):
    first = inbound_receive(sms("Bonjour"))
    second = inbound_receive(whatsapp("Re-bonjour", profile_name="Julie M."))
    assert first.customer_id == second.customer_id
    customer = Customer.objects.get(pk=first.customer_id)
    assert set(customer.interactions.filter(direction="inbound").values_list("channel", flat=True)) == {
        "sms",
        "whatsapp",
    }


def test_username_whatsapp_user_without_phone(shop):
    outcome = inbound_receive(
        whatsapp("Hello!", sender=None, wa_user="FR.abc123XYZ", profile_name="Amy Stone")
    )
    again = inbound_receive(whatsapp("Still me", sender=None, wa_user="FR.abc123XYZ"))
    customer = Customer.objects.get(pk=outcome.customer_id)
    assert again.customer_id == customer.pk
    assert customer.phone is None and customer.whatsapp_user_id == "FR.abc123XYZ"
    assert (customer.first_name, customer.last_name, customer.name_source) == ("Amy", "Stone", "profile")


def test_a_replay_records_nothing_new_and_no_second_reply(shop):
    message = sms("Vous êtes ouverts samedi ?")
    first = inbound_receive(message)
    again = inbound_receive(message)
    assert reply_to(first) != ""
    assert again.duplicate and again.interaction_id == first.interaction_id
    assert again.customer_id == first.customer_id and not again.reply_scheduled
    assert Interaction.objects.count() == 2  # the message and its one reply


def test_a_name_entered_by_a_person_is_never_overwritten(shop, make_customer):
    make_customer(shop, phone="+33698765432", first_name="Juliette", last_name="Dupont", name_source="human")
    inbound_receive(sms("Bonjour, je m'appelle Julie Martin"))
    customer = Customer.objects.get(phone="+33698765432")
    assert (customer.first_name, customer.last_name) == ("Juliette", "Dupont")


def test_text_name_beats_profile_name_and_greeting_the_owner_is_not_a_name(shop):
    outcome = inbound_receive(whatsapp("Bonjour Sarah, le manteau est toujours dispo ?", profile_name="🌸"))
    customer = Customer.objects.get(pk=outcome.customer_id)
    assert customer.first_name == "" and customer.last_name == ""
    inbound_receive(whatsapp("C'est Océane Petit au fait", profile_name="Oce"))
    customer.refresh_from_db()
    assert (customer.first_name, customer.name_source) == ("Océane", "text")


def test_media_location_and_button_are_recorded(shop):
    message = whatsapp(
        "Voici la photo",
        media=(Media("https://example.com/m/1", "image/jpeg"),),
        location=Location(48.88, 2.34, "Boutique", "12 rue des Martyrs"),
        button_reply="Oui, je réserve",
        message_type="image",
    )
    outcome = inbound_receive(message)
    interaction = Interaction.objects.get(pk=outcome.interaction_id)
    (media,) = interaction.media
    assert (media["url"], media["content_type"]) == ("https://example.com/m/1", "image/jpeg")
    assert interaction.location["latitude"] == 48.88 and interaction.button_reply == "Oui, je réserve"


def test_unknown_shop_address_is_refused(shop):
    message = InboundMessage(
        provider="twilio", channel="sms", shop_address="+33100000000", provider_message_id="SM" + "0" * 32,
        sender_phone="+33698765432", sender_whatsapp_id=None, sender_raw="+33698765432", text="Bonjour",
    )  # fmt: skip
    with pytest.raises(UnknownShopAddress):
        inbound_receive(message)
    assert not Customer.objects.exists()


def test_an_alphanumeric_sender_is_a_customer_known_by_its_address(shop):
    message = dataclasses.replace(sms("Votre code est 1234", sender=None), sender_raw="SUPPORT")
    outcome = inbound_receive(message)
    customer = Customer.objects.get(pk=outcome.customer_id)
    assert (customer.phone, customer.whatsapp_user_id, customer.external_address) == (None, None, "SUPPORT")
    assert Interaction.objects.get(pk=outcome.interaction_id).body == "Votre code est 1234"
    # The same sender again: the same customer.
    again = inbound_receive(dataclasses.replace(sms("Code 5678", sender=None), sender_raw="SUPPORT"))
    assert again.customer_id == customer.pk


def test_a_message_naming_no_sender_at_all_is_ignored_harmlessly(shop):
    outcome = inbound_receive(dataclasses.replace(sms("Votre code est 1234", sender=None), sender_raw=""))
    assert outcome.ignored and not Customer.objects.exists() and not Interaction.objects.exists()


# --- decisions -----------------------------------------------------------------------------------


def test_opt_out_confirms_once_then_silence_until_start(shop):
    first = inbound_receive(sms("STOP"))
    customer = Customer.objects.get(pk=first.customer_id)
    assert customer.opted_out_at is not None and reply_to(first)
    assert reply_to(inbound_receive(sms("STOP"))) == ""
    assert reply_to(inbound_receive(sms("Vous ouvrez quand ?"))) == ""
    back = inbound_receive(sms("START"))
    customer.refresh_from_db()
    assert customer.opted_out_at is None and reply_to(back)
    assert reply_to(inbound_receive(sms("Vous ouvrez quand ?")))


def test_escalation_flags_the_customer_sends_a_holding_reply_and_mails_owners(
    shop, owner, django_capture_on_commit_callbacks
):
    # Tasks start after commit; the test's transaction never commits, so run them here.
    with django_capture_on_commit_callbacks(execute=True):
        outcome = inbound_receive(sms("Je veux parler à la gérante, c'est inadmissible"))
    customer = Customer.objects.get(pk=outcome.customer_id)
    assert customer.needs_attention
    assert Interaction.objects.get(pk=reply_id(outcome)).body  # the holding reply, recorded
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [owner.email]
    assert "inadmissible" in mail.outbox[0].body


def test_question_without_shop_data_gets_holding_reply_and_attention(shop):
    shop.opening_hours = ""
    shop.save()
    outcome = inbound_receive(sms("Vous ouvrez à quelle heure ?"))
    assert reply_to(outcome) and Customer.objects.get(pk=outcome.customer_id).needs_attention


def test_replies_in_the_customers_language_with_first_name(shop):
    outcome = inbound_receive(sms("Hi, I'm Rachel. Is the store open on Sunday?"))
    assert "Rachel" in reply_to(outcome)
    assert Customer.objects.get(pk=outcome.customer_id).language == "en"


def test_automatic_replies_are_capped_per_hour(shop, settings):
    settings.AUTO_REPLY_MAX_PER_HOUR = 2
    replies = [reply_to(inbound_receive(sms(f"Bonjour {n}"))) for n in range(4)]
    assert [bool(r) for r in replies] == [True, True, False, False]


def test_replies_pause_after_staff_wrote_by_hand(shop, make_customer):
    make_customer(shop, phone="+33698765432", auto_replies_paused_until=timezone.now() + timedelta(hours=2))
    assert reply_to(inbound_receive(sms("Bonjour"))) == ""


def test_shop_can_turn_automatic_replies_off(shop):
    shop.auto_replies_enabled = False
    shop.save()
    outcome = inbound_receive(sms("Bonjour"))
    assert reply_to(outcome) == "" and Interaction.objects.count() == 1


# --- delivery status -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sequence", "final"),
    [
        (["sent", "delivered", "read"], "read"),
        (["read", "sent"], "read"),  # a late "sent" does not overwrite "read"
        (["delivered", "sent", "queued"], "delivered"),
        (["sent", "failed"], "failed"),
        (["failed", "sent"], "failed"),
    ],
)
def test_status_never_moves_backwards(shop, make_outbound, sequence, final):
    message = make_outbound(shop, provider="meta", provider_message_id="wamid.out")
    for status in sequence:
        status_apply(StatusUpdate(provider="meta", provider_message_id="wamid.out", status=status))
    message.refresh_from_db()
    assert message.status == final


def test_status_links_a_reply_sent_inline_before_persist_first_to_its_provider_id(shop, make_outbound):
    # TwiML replies had no provider id until their first report, posted to a status URL naming them.
    reply = make_outbound(shop, provider="twilio")
    assert status_apply(StatusUpdate("twilio", "SM" + "a" * 32, "sent"), reply_id=reply.pk)
    reply.refresh_from_db()
    assert (reply.provider_message_id, reply.status) == ("SM" + "a" * 32, "sent")


def test_failed_status_keeps_the_error(shop, make_outbound):
    message = make_outbound(shop, provider="meta", provider_message_id="wamid.f", status="sent")
    status_apply(
        StatusUpdate("meta", "wamid.f", "failed", error_code="131047", error_message="Re-engagement message")
    )
    message.refresh_from_db()
    assert message.status == "failed" and message.error_code == "131047"
    assert message.raw_payload["error"] == "Re-engagement message"


def test_merged_tag_helper_still_works_for_pipeline_tags(shop):
    # The pipeline reuses the shop's existing tags rather than creating look-alikes.
    tags_get_or_create(shop=shop, names=["sms"])
    inbound_receive(sms("Bonjour"))
    assert shop.tags.filter(name="sms").count() == 1


def test_messages_that_never_reached_a_worker_are_sent_again_then_given_up(shop, make_outbound, monkeypatch):
    from webhooks import tasks

    stuck = make_outbound(shop, provider="meta")
    fresh = make_outbound(shop, provider="meta")
    ancient = make_outbound(shop, provider="meta")
    Interaction.objects.filter(pk__in=[stuck.pk, fresh.pk, ancient.pk]).update(raw_payload={"via": "api"})
    Interaction.objects.filter(pk=stuck.pk).update(created_at=timezone.now() - timedelta(minutes=20))
    Interaction.objects.filter(pk=ancient.pk).update(created_at=timezone.now() - timedelta(days=2))
    sent = []
    monkeypatch.setattr(tasks.send_interaction, "delay", sent.append)
    assert tasks.resend_stuck_outbound() == 1 and sent == [stuck.pk]
    ancient.refresh_from_db()
    assert ancient.status == "failed"
