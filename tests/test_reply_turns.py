"""One automatic answer per conversation turn, and the answer a person would give to what has no text.

Payloads are shaped as Meta's Cloud API reference writes them (../shared/specs/business-messaging-api
_v23.0.yaml: webhook `messages` of each type) and Twilio's form fields. Posted through the signed URLs;
the worker runs after the commit. Tasks are eager here, so the debounce's countdown does not wait: the
"a newer message arrived" check works on the data, and `held_turns` holds the turn tasks the way the
broker does during the debounce when a test needs two POSTs inside one window.
"""

import itertools
import time

import pytest
from django.core import mail
from django.test import TestCase

from customers.models import ChannelAddress, Customer, Interaction
from tests.webhook_posting import META_APP_SECRET, SMS_URL, TWILIO_TOKEN, post_meta, post_twilio
from webhooks import tasks
from webhooks.inbound_events import events_reprocess
from webhooks.models import InboundEvent

META_ID = "100000000000001"
SHOP_NUMBER = "+33757000000"
WA_ID = "33698765432"
_ids = itertools.count(1)


@pytest.fixture(autouse=True)
def _secrets(settings):
    settings.TWILIO_AUTH_TOKEN, settings.TWILIO_ACCOUNT_SID = TWILIO_TOKEN, "AC" + "0" * 32
    settings.WHATSAPP_APP_SECRET, settings.WHATSAPP_ACCESS_TOKEN = META_APP_SECRET, ""
    settings.PUBLIC_BASE_URL = ""
    settings.AUTO_REPLY_DEBOUNCE_SECONDS = 5


@pytest.fixture
def shop(shop):
    shop.opening_hours = "Mardi-samedi 10h-19h"
    shop.address = "12 rue des Martyrs, Paris"
    shop.save()
    ChannelAddress.objects.create(shop=shop, provider="meta", address=META_ID)
    ChannelAddress.objects.create(shop=shop, provider="twilio", address=SHOP_NUMBER)
    return shop


def message(kind: str, body=None, **extra) -> dict:
    """One WhatsApp message of `kind` (its object is `body`; a text's is its string)."""
    if kind == "text":
        body = {"body": body}
    return {
        "from": WA_ID,
        "id": f"wamid.turn{next(_ids):06d}",
        "timestamp": str(int(time.time())),
        "type": kind,
        kind: body,
        **extra,
    }


def notification(*messages: dict, name: str = "Julie Martin") -> dict:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "33757000000", "phone_number_id": META_ID},
        "contacts": [{"profile": {"name": name}, "wa_id": WA_ID}],
        "messages": list(messages),
    }
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"value": value, "field": "messages"}]}],
    }


IMAGE = {"mime_type": "image/jpeg", "sha256": "a" * 64, "id": "1234567890123456"}
VOICE = {"mime_type": "audio/ogg; codecs=opus", "sha256": "b" * 64, "id": "2234567890123456", "voice": True}
LOCATION = {"latitude": 48.8809, "longitude": 2.3402, "name": "Chez moi", "address": "3 rue Lepic, Paris"}
CONTACTS = [
    {
        "name": {"formatted_name": "Paul Durand", "first_name": "Paul", "last_name": "Durand"},
        "phones": [{"phone": "+33 6 11 22 33 44", "type": "CELL", "wa_id": "33611223344"}],
    }
]
ORDER = {
    "catalog_id": "1234567890",
    "text": "",
    "product_items": [
        {"product_retailer_id": "ROBE-38", "quantity": 1, "item_price": 89.0, "currency": "EUR"},
    ],
}
STICKER = {"mime_type": "image/webp", "sha256": "c" * 64, "id": "3234567890123456", "animated": False}


def customer() -> Customer:
    return Customer.objects.get()  # one customer writes in these tests


def replies() -> list[Interaction]:
    return list(Interaction.objects.filter(direction="outbound", is_automatic=True).order_by("pk"))


def inbound(provider_message_id: str) -> Interaction:
    return Interaction.objects.get(provider_message_id=provider_message_id)


def page(client, owner, person: Customer) -> str:
    """The customer page as the shop's owner sees it, timeline included."""
    client.force_login(owner)
    response = client.get(f"/dashboard/customers/{person.pk}/?tab=activity")
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def held_turns(monkeypatch):
    """The turn tasks held as the broker holds them for AUTO_REPLY_DEBOUNCE_SECONDS; `release()` is the
    worker picking them up afterwards, in the order they were scheduled."""

    class Held:
        def __init__(self):
            self.calls = []

        def apply_async(self, args, countdown=None):
            self.calls.append((tuple(args), countdown))

        def release(self):
            """What each turn's decision was, in the order the turns were scheduled."""
            calls, self.calls = self.calls, []
            with TestCase.captureOnCommitCallbacks(execute=True):
                return [outcome for args, _ in calls for outcome in real(*args)]

    real = tasks.reply_for_turns
    held = Held()
    monkeypatch.setattr(tasks, "reply_for_turns", held)
    return held


# --- One answer per turn --------------------------------------------------------------------------


def test_three_messages_in_one_post_get_one_reply_answering_the_last(client, shop, owner):
    first = message("text", "Bonjour")
    second = message("image", IMAGE)
    third = message("text", "Vous l'avez en 38 ?")
    assert post_meta(client, notification(first, second, third)).status_code == 200

    assert Interaction.objects.filter(direction="inbound").count() == 3  # each message on the timeline
    [reply] = replies()
    assert reply.in_reply_to == inbound(third["id"])
    # The question is answered (a person checks the size), not the greeting nor the photo alone.
    assert "disponibilit" in reply.body
    html = page(client, owner, customer())
    assert html.count("disponibilit") == 1


def test_two_messages_within_the_debounce_window_get_one_reply_answering_the_last(
    client, shop, owner, held_turns
):
    first, second = message("text", "Bonjour"), message("text", "Vous êtes ouverts samedi ?")
    post_meta(client, notification(first))
    post_meta(client, notification(second))
    assert replies() == []  # nothing decided during the window: both messages are already shown
    assert [countdown for _, countdown in held_turns.calls] == [5, 5]

    assert held_turns.release() == ["superseded", "replied"]

    [reply] = replies()
    assert reply.in_reply_to == inbound(second["id"])
    assert "10h-19h" in reply.body  # the opening hours: the question, not the greeting
    assert "10h-19h" in page(client, owner, customer())


def test_a_message_after_the_reply_starts_a_new_turn(client, shop):
    post_meta(client, notification(message("text", "Vous êtes ouverts samedi ?")))
    later = message("text", "Et vous êtes où exactement ?")
    post_meta(client, notification(later))

    first_reply, second_reply = replies()
    assert "10h-19h" in first_reply.body
    assert second_reply.in_reply_to == inbound(later["id"]) and "rue des Martyrs" in second_reply.body


def test_a_person_writing_during_the_window_answers_the_turn(client, shop, owner, held_turns):
    from webhooks.autoreply import record_outbound

    post_meta(client, notification(message("text", "Vous avez la robe rouge en 38 ?")))
    record_outbound(
        customer=customer(), channel="whatsapp", body="Oui, je vous la garde !", provider="meta", author=owner
    )
    assert held_turns.release() == ["answered"]
    assert replies() == []


def test_stop_anywhere_in_the_turn_only_confirms_the_opt_out(client, shop, owner):
    last = message("text", "merci")
    post_meta(
        client, notification(message("text", "Vous avez la robe en 38 ?"), message("text", "STOP"), last)
    )

    [reply] = replies()
    assert "ne recevrez plus" in reply.body and reply.in_reply_to == inbound(last["id"])
    assert customer().opted_out_at is not None
    assert "ne recevrez plus" in page(client, owner, customer())
    # Later turns are not answered, and the confirmation is not repeated.
    post_meta(client, notification(message("text", "Allo ?")))
    assert len(replies()) == 1


def test_an_escalation_in_the_turn_wins_and_mails_the_owners_once(client, shop, owner):
    post_meta(
        client,
        notification(
            message("text", "Bonjour"),
            message("text", "Je veux parler à la gérante, c'est inadmissible"),
            message("image", IMAGE),
            message("text", "Bonjour ?"),
        ),
    )
    [reply] = replies()
    assert "transmets" in reply.body
    assert customer().needs_attention
    assert len(mail.outbox) == 1 and "inadmissible" in mail.outbox[0].body


# --- What has no text gets the answer a person would give ------------------------------------------


@pytest.mark.parametrize(
    ("kind", "body", "expected", "attention"),
    [
        ("image", IMAGE, "merci pour la photo !", True),
        ("location", LOCATION, "merci pour la localisation", False),
        ("contacts", CONTACTS, "merci pour le contact", False),
        ("order", ORDER, "merci pour votre commande !", True),
        ("audio", VOICE, "merci pour votre message vocal !", True),
    ],
)
def test_a_message_without_text_gets_the_answer_a_person_would_give(
    client, shop, owner, kind, body, expected, attention
):
    post_meta(client, notification(message(kind, body)))
    [reply] = replies()
    assert expected in reply.body.lower() and reply.body.startswith("Bonjour")
    assert "dès que possible." not in reply.body or attention  # thanked, not told to wait, when nothing's due
    person = customer()
    assert person.needs_attention is attention
    assert expected in page(client, owner, person).lower()


@pytest.mark.parametrize(
    ("language", "kind", "body", "expected"),
    [
        ("en", "image", IMAGE, "thanks for the photo!"),
        ("es", "audio", VOICE, "gracias por tu mensaje de voz"),
        ("de", "order", ORDER, "danke für Ihre Bestellung"),
        ("it", "location", LOCATION, "grazie per la posizione"),
        ("pt", "contacts", CONTACTS, "obrigado pelo contacto"),
    ],
)
def test_the_answer_is_in_the_customers_language(client, shop, make_customer, language, kind, body, expected):
    make_customer(shop, phone="+" + WA_ID, whatsapp_user_id=WA_ID, language=language)
    post_meta(client, notification(message(kind, body)))
    [reply] = replies()
    assert expected in reply.body


def test_a_photo_with_a_greeting_is_answered_as_a_photo(client, shop):
    post_meta(client, notification(message("text", "Bonjour !"), message("image", IMAGE)))
    [reply] = replies()
    assert "merci pour la photo" in reply.body


def test_a_caption_makes_the_photo_a_question(client, shop):
    photo = message("image", {**IMAGE, "caption": "Vous l'avez en 38 ?"})
    post_meta(client, notification(photo))
    [reply] = replies()
    assert "disponibilit" in reply.body and "photo" not in reply.body


def test_a_reaction_gets_no_reply_and_does_not_reopen_the_turn(client, shop, held_turns):
    question = message("text", "Vous êtes ouverts samedi ?")
    post_meta(client, notification(question))
    held_turns.release()
    [reply] = replies()
    reaction = message("reaction", {"message_id": reply.provider_message_id or question["id"], "emoji": "👍"})
    post_meta(client, notification(reaction))
    assert held_turns.calls == [] and held_turns.release() == []
    assert len(replies()) == 1


def test_a_sticker_alone_gets_no_reply(client, shop):
    post_meta(client, notification(message("sticker", STICKER)))
    assert replies() == []


def test_an_unsupported_message_asks_the_customer_to_write(client, shop):
    unsupported = message(
        "unsupported",
        None,
        errors=[{"code": 131051, "title": "Message type unknown", "message": "Message type unknown"}],
    )
    unsupported.pop("unsupported")
    post_meta(client, notification(unsupported))
    [reply] = replies()
    assert "pas pu lire ce message" in reply.body


def test_twilio_sms_messages_in_a_row_are_one_turn_too(client, shop, held_turns):
    for sid, text in (("SM" + "1" * 32, "Bonjour"), ("SM" + "2" * 32, "Vous fermez à quelle heure ?")):
        form = {"MessageSid": sid, "AccountSid": "AC" + "0" * 32, "From": "+33611111111", "To": SHOP_NUMBER}
        post_twilio(client, SMS_URL, {**form, "Body": text, "NumMedia": "0"})
    assert held_turns.release() == ["superseded", "replied"]
    [reply] = replies()
    assert "10h-19h" in reply.body


# --- Replays and duplicate tasks send nothing more ------------------------------------------------------


def test_replays_and_duplicate_tasks_send_nothing_more(client, shop):
    messages = [message("text", "Bonjour"), message("location", LOCATION), message("text", "Vous êtes où ?")]
    post_meta(client, notification(*messages))
    [reply] = replies()
    last = inbound(messages[-1]["id"])

    with TestCase.captureOnCommitCallbacks(execute=True):
        assert events_reprocess(InboundEvent.objects.all()) == 3
    assert InboundEvent.objects.filter(state="processed").count() == 3
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert tasks.reply_for_turn(last.customer_id, last.pk) == "answered"
        assert tasks.reply_for_turn(last.customer_id, inbound(messages[0]["id"]).pk) == "superseded"
    assert replies() == [reply] and Interaction.objects.filter(direction="inbound").count() == 3


def test_a_silent_decision_taken_twice_mails_the_owners_once(client, shop, owner, held_turns):
    shop.auto_replies_enabled = False
    shop.save()
    post_meta(client, notification(message("text", "Je veux parler à la gérante, c'est inadmissible")))
    [(args, _)] = held_turns.calls
    held_turns.calls.append((args, 5))  # the same task delivered twice (a worker lost after the commit)
    assert held_turns.release() == ["silent", "decided"]
    assert replies() == [] and len(mail.outbox) == 1


def test_a_message_over_a_day_old_gets_no_automatic_reply(client, shop):
    old = message("text", "Vous ouvrez dimanche ?")
    old["timestamp"] = str(int(time.time()) - 2 * 24 * 3600)  # a provider's late retry, a replay
    post_meta(client, notification(old))
    assert inbound(old["id"]) is not None and replies() == []
    fresh = message("text", "Vous ouvrez dimanche ?")
    post_meta(client, notification(fresh))
    assert [reply.in_reply_to for reply in replies()] == [inbound(fresh["id"])]


def test_a_sender_known_only_by_its_address_gets_no_automatic_reply(client, shop):
    notice = {
        "MessageSid": "SM" + "5" * 32,
        "From": "SUPPORT",
        "To": SHOP_NUMBER,
        "Body": "Votre colis arrive",
    }
    post_twilio(client, SMS_URL, {**notice, "AccountSid": "AC" + "0" * 32, "NumMedia": "0"})
    customer = Customer.objects.get(external_address="SUPPORT")
    assert customer.interactions.filter(direction="inbound").count() == 1
    assert not customer.interactions.filter(direction="outbound").exists()


def test_a_turn_whose_task_was_lost_is_answered_by_beats_sweep(client, shop, monkeypatch):
    from datetime import timedelta

    from django.utils import timezone

    # The broker is down when the turn's task is scheduled: the message is recorded, no reply.
    monkeypatch.setattr(tasks.reply_for_turns, "apply_async", lambda *a, **k: (_ for _ in ()).throw(OSError))
    question = message("text", "Vous ouvrez dimanche ?")
    post_meta(client, notification(question))
    monkeypatch.undo()
    assert replies() == []
    assert tasks.sweep_unanswered_turns() == 0  # not yet: the task may still be on its way
    Interaction.objects.filter(pk=inbound(question["id"]).pk).update(
        created_at=timezone.now() - timedelta(minutes=5)
    )
    assert tasks.sweep_unanswered_turns() == 1
    assert [reply.in_reply_to for reply in replies()] == [inbound(question["id"])]
    assert tasks.sweep_unanswered_turns() == 0  # answered: nothing left to hand over
