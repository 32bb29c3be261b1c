"""Issue 10, senders and identity: no sender is dropped, one person has one profile.

Real-shaped payloads go through the signed webhook URLs (tests/webhook_posting.py: the worker runs
after the request), then the customer page is read as the shop's owner. Replies go to local fakes of
the Graph API and of Twilio's Messages API, whose recorded requests say which `to` a send used.
"""

import json
import time
from pathlib import Path

import pytest

from customers.models import AuditEntry, ChannelAddress, Customer, Interaction
from customers.phones import normalize_whatsapp_id
from tests.fakes.meta_graph import FakeMetaGraph
from tests.fakes.twilio_api import FakeTwilioAPI
from tests.webhook_posting import (
    META_APP_SECRET,
    SMS_URL,
    STATUS_URL,
    TWILIO_TOKEN,
    WA_URL,
    post_meta,
    post_twilio,
)
from webhooks.inbound_events import events_reprocess
from webhooks.models import InboundEvent
from webhooks.outbound import SendRefused, check_can_send

FIXTURES = Path(__file__).parent / "fixtures" / "meta" / "identity"
ACCOUNT_SID = "AC" + "1" * 32
SHOP_NUMBER = "+33757000000"
PHONE_NUMBER_ID = "100000000000001"
GRAPH_TOKEN = "graph-token"


@pytest.fixture(autouse=True)
def _providers(settings):
    """Both providers configured, both answered by local fakes: never the network."""
    settings.TWILIO_AUTH_TOKEN, settings.TWILIO_ACCOUNT_SID = TWILIO_TOKEN, ACCOUNT_SID
    settings.WHATSAPP_APP_SECRET, settings.WHATSAPP_ACCESS_TOKEN = META_APP_SECRET, GRAPH_TOKEN
    settings.PUBLIC_BASE_URL = ""
    settings.MESSAGING_SANDBOX = False
    with FakeMetaGraph(access_token=GRAPH_TOKEN) as graph, FakeTwilioAPI(ACCOUNT_SID, TWILIO_TOKEN) as twilio:
        settings.WHATSAPP_GRAPH_BASE, settings.TWILIO_API_BASE = graph.url, twilio.url
        yield graph, twilio


@pytest.fixture
def graph(_providers):
    return _providers[0]


@pytest.fixture
def twilio_api(_providers):
    return _providers[1]


@pytest.fixture
def shop(shop):
    shop.language = "en"  # the page in English, whatever the translations say
    shop.save(update_fields=["language"])
    ChannelAddress.objects.create(shop=shop, provider="twilio", address=SHOP_NUMBER)
    ChannelAddress.objects.create(shop=shop, provider="meta", address=PHONE_NUMBER_ID)
    return shop


@pytest.fixture
def as_owner(client, owner):
    client.force_login(owner)
    return client


_ids = iter(range(1, 10_000))


def meta_message(message: dict, *, contact: dict | None = None) -> dict:
    """A Cloud API notification carrying one message (the shape of Meta's own examples), sent now so
    that a reply is inside WhatsApp's 24-hour window."""
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "33757000000", "phone_number_id": PHONE_NUMBER_ID},
        "messages": [{"id": f"wamid.ID{next(_ids):08d}", "timestamp": str(int(time.time())), **message}],
    }
    if contact is not None:
        value["contacts"] = [contact]
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": value}]}],
    }


def meta_text(sender: str | None, body: str, *, user_id: str = "", name: str = "") -> dict:
    message = {"type": "text", "text": {"body": body}}
    contact = {"profile": {"name": name}} if name else {}
    if sender:
        message["from"], contact["wa_id"] = sender, sender
    if user_id:
        message["user_id"], contact["user_id"] = user_id, user_id
    return meta_message(message, contact=contact or None)


def twilio_whatsapp(sender: str, body: str, **extra) -> dict:
    """Twilio's WhatsApp form as its docs show it (From/To with `whatsapp:`, WaId without `+`)."""
    sid = f"SM{next(_ids):032x}"
    return {
        "SmsMessageSid": sid, "MessageSid": sid, "SmsSid": sid, "AccountSid": ACCOUNT_SID,
        "NumMedia": "0", "ProfileName": "Camila", "MessageType": "text", "SmsStatus": "received",
        "Body": body, "To": f"whatsapp:{SHOP_NUMBER}", "NumSegments": "1", "ReferralNumMedia": "0",
        "From": f"whatsapp:{sender}", "WaId": sender.lstrip("+"), "ApiVersion": "2010-04-01", **extra,
    }  # fmt: skip


def page(client, customer) -> str:
    """The customer page with its Activity tab (the timeline)."""
    response = client.get(f"/dashboard/customers/{customer.pk}/", {"tab": "activity"})
    assert response.status_code == 200
    return response.content.decode()


def last_graph_send(graph) -> dict:
    sends = [request.json() for request in graph.requests if request.path.endswith("/messages")]
    assert sends, "no message was sent through the Graph API"
    return sends[-1]


# --- WhatsApp numbers as WhatsApp writes them ---------------------------------------------------


@pytest.mark.parametrize(
    ("wa_id", "e164"),
    [
        ("5215512345678", "+525512345678"),  # Mexico: the legacy mobile 1
        ("554188887777", "+5541988887777"),  # Brazil: a mobile from before the ninth digit
        ("5511987654321", "+5511987654321"),  # Brazil, already nine digits: as is
        ("554133334444", "+554133334444"),  # Brazil, a landline (starts with 3): as is
        ("33698765432", "+33698765432"),
    ],
)
def test_whatsapp_ids_read_as_e164(wa_id, e164):
    assert normalize_whatsapp_id(wa_id) == e164
    assert normalize_whatsapp_id("whatsapp:+" + wa_id) == e164


def test_a_mexican_whatsapp_sender_is_the_e164_customer_and_is_answered_at_the_wa_id(
    client, shop, graph, as_owner
):
    assert (
        post_meta(client, meta_text("5215512345678", "Hola, ¿tienen la talla 38?", name="Ana")).status_code
        == 200
    )

    customer = Customer.objects.get(shop=shop)
    assert customer.phone == "+525512345678"
    assert customer.interactions.get(direction="inbound").body == "Hola, ¿tienen la talla 38?"
    # The reply goes to the account WhatsApp knows, not to the E.164 spelling.
    assert last_graph_send(graph)["to"] == "5215512345678"
    assert "+525512345678" in page(as_owner, customer)


def test_a_brazilian_customer_known_by_the_nine_digit_number_is_the_same_person(
    client, shop, graph, make_customer
):
    known = make_customer(shop, first_name="Jhonata", phone="+5541988887777")

    post_meta(client, meta_text("554188887777", "Oi, vocês abrem sábado?"))

    assert Customer.objects.filter(shop=shop).count() == 1
    assert known.interactions.get(direction="inbound").body == "Oi, vocês abrem sábado?"
    assert last_graph_send(graph)["to"] == "554188887777"


def test_an_owner_message_to_a_brazilian_whatsapp_customer_uses_the_wa_id(
    client, shop, graph, as_owner, django_capture_on_commit_callbacks
):
    post_meta(client, meta_text("554188887777", "Oi!"))
    customer = Customer.objects.get(shop=shop)
    graph.requests.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = as_owner.post(
            f"/dashboard/customers/{customer.pk}/send/", {"channel": "whatsapp", "body": "Bom dia!"}
        )
    assert response.status_code in (200, 302)
    sent = last_graph_send(graph)
    assert (sent["to"], sent["text"]["body"]) == ("554188887777", "Bom dia!")


def test_a_mexican_twilio_whatsapp_sender_is_the_e164_customer_and_answered_at_the_wa_id(
    client, shop, twilio_api
):
    post_twilio(client, WA_URL, twilio_whatsapp("+5215512345678", "Hola"))

    customer = Customer.objects.get(shop=shop)
    assert customer.phone == "+525512345678"
    sent = [request.form() for request in twilio_api.requests]
    assert sent and sent[-1]["To"] == "whatsapp:+5215512345678"


# --- senders that are no phone: customers by the address as sent ---------------------------------


def test_an_alphanumeric_twilio_sender_is_a_customer_shown_and_searchable(client, shop, twilio_api, as_owner):
    form = {
        "ToCountry": "FR", "SmsMessageSid": "SMed65b815548d58a19458256f1827ae8c", "NumMedia": "0",
        "SmsSid": "SMed65b815548d58a19458256f1827ae8c", "SmsStatus": "received",
        "Body": "Votre colis 6A12345678901 sera livré demain.", "To": SHOP_NUMBER, "NumSegments": "1",
        "MessageSid": "SMed65b815548d58a19458256f1827ae8c", "AccountSid": ACCOUNT_SID,
        "From": "InfoSMS", "ApiVersion": "2010-04-01",
    }  # fmt: skip
    assert post_twilio(client, SMS_URL, form).status_code == 200

    customer = Customer.objects.get(shop=shop)
    assert (customer.external_address, customer.phone, customer.whatsapp_user_id) == ("InfoSMS", None, None)
    html = page(as_owner, customer)
    assert "InfoSMS" in html and "Votre colis 6A12345678901 sera livré demain." in html
    listing = as_owner.get("/dashboard/customers/", {"q": "infosms"}).content.decode()
    assert f"/dashboard/customers/{customer.pk}/" in listing
    # Nothing can be sent to it: refused with the reason, no request to Twilio.
    with pytest.raises(SendRefused, match="no phone number"):
        check_can_send(customer, "sms")
    assert twilio_api.requests == []
    assert InboundEvent.objects.get().state == InboundEvent.State.PROCESSED


def test_the_admin_search_finds_a_sender_by_its_address(client, shop, owner):
    post_twilio(
        client, WA_URL, {**twilio_whatsapp("+33600000000", "Promo !"), "From": "whatsapp:SUPPORT", "WaId": ""}
    )
    customer = Customer.objects.get(shop=shop, external_address="whatsapp:SUPPORT")
    client.force_login(owner)
    response = client.get("/admin/customers/customer/", {"q": "SUPPORT"})
    assert (
        response.status_code == 200
        and f"/admin/customers/customer/{customer.pk}/" in response.content.decode()
    )


def test_a_meta_message_without_a_readable_sender_is_a_customer_by_its_address(client, shop, as_owner):
    # No `from`, no user id: only a contact whose wa_id no parser reads.
    payload = meta_message(
        {"type": "text", "text": {"body": "Bonjour, c'est Inès"}},
        contact={"profile": {"name": "Inès"}, "wa_id": "12345"},
    )
    post_meta(client, payload)

    customer = Customer.objects.get(shop=shop)
    assert customer.external_address == "12345" and customer.phone is None
    assert "12345" in page(as_owner, customer) and "Bonjour, c&#x27;est Inès" in page(as_owner, customer)
    # Its automatic answer, if any, was refused with the reason rather than sent somewhere wrong.
    for reply in customer.interactions.filter(direction="outbound"):
        assert reply.status == "failed" and "no phone number" in reply.raw_payload["error"]


# --- one person, one profile ----------------------------------------------------------------------


def test_a_username_user_who_later_writes_with_a_phone_is_one_customer(client, shop, graph, as_owner):
    user_id = "FR.13491208655302741918"
    post_meta(
        client, meta_text(None, "Coucou ! Vous êtes ouverts dimanche ?", user_id=user_id, name="Camille")
    )
    first = Customer.objects.get(shop=shop)
    assert (first.phone, first.whatsapp_user_id) == (None, user_id)

    post_meta(client, meta_text("33698765432", "C'est encore moi", user_id=user_id, name="Camille"))

    customer = Customer.objects.get(shop=shop)
    assert customer.pk == first.pk
    assert (customer.phone, customer.whatsapp_user_id) == ("+33698765432", user_id)
    assert customer.interactions.filter(direction="inbound").count() == 2
    html = page(as_owner, customer)
    assert "+33698765432" in html and user_id in html


def test_two_records_of_one_whatsapp_user_are_merged_with_an_audit_entry(client, shop, make_customer):
    user_id = "FR.77"
    by_phone = make_customer(shop, phone="+33698765432", first_name="Camille")
    by_id = make_customer(shop, phone=None, whatsapp_user_id=user_id)

    post_meta(client, meta_text("33698765432", "Bonjour", user_id=user_id))

    kept = Customer.objects.get(shop=shop)
    assert kept.pk == min(by_phone.pk, by_id.pk)
    assert (kept.phone, kept.whatsapp_user_id) == ("+33698765432", user_id)
    audit = AuditEntry.objects.get(customer=kept, action=AuditEntry.Action.MERGE)
    assert audit.details["merged_customer"]["id"] == max(by_phone.pk, by_id.pk)


def test_a_twilio_external_user_id_is_stored_on_the_customer(client, shop):
    form = twilio_whatsapp("+33698765432", "Bonjour", ExternalUserId="FR.13491208655302741918")
    post_twilio(client, WA_URL, form)
    customer = Customer.objects.get(shop=shop)
    assert (customer.phone, customer.whatsapp_user_id) == ("+33698765432", "FR.13491208655302741918")


def test_a_twilio_username_user_later_with_a_phone_is_one_customer(client, shop):
    user_id = "FR.555"
    post_twilio(
        client,
        WA_URL,
        {**twilio_whatsapp("+33600000000", "Coucou"), "From": f"whatsapp:{user_id}", "WaId": ""},
    )
    post_twilio(client, WA_URL, twilio_whatsapp("+33698765432", "Encore moi", ExternalUserId=user_id))
    customer = Customer.objects.get(shop=shop)
    assert (customer.phone, customer.whatsapp_user_id) == ("+33698765432", user_id)


# --- WhatsApp system messages: the identity moves, the customer stays ------------------------------


def system_changed_number(old: str, new: str) -> dict:
    # The shape of Meta's "System Message" example in its WhatsApp Business Messaging OpenAPI
    # (business-messaging-api_v23.0.yaml, MIT): `system.wa_id` is the new number.
    return meta_message(
        {
            "from": old,
            "type": "system",
            "system": {
                "body": f"User Julie changed from {old} to {new}",
                "wa_id": new,
                "type": "user_changed_number",
            },
        }
    )


def test_a_changed_number_keeps_the_customer_and_shows_on_the_timeline(
    client, shop, graph, as_owner, django_capture_on_commit_callbacks
):
    post_meta(client, meta_text("33698765432", "Bonjour", name="Julie Martin"))
    customer = Customer.objects.get(shop=shop)

    post_meta(client, system_changed_number("33698765432", "33611223344"))
    post_meta(client, meta_text("33611223344", "C'est mon nouveau numéro"))

    customer.refresh_from_db()
    assert Customer.objects.filter(shop=shop).count() == 1 and customer.phone == "+33611223344"
    system = customer.interactions.get(message_type="system")
    assert system.content["system_type"] == "user_changed_number"
    assert customer.interactions.filter(direction="inbound").count() == 3
    assert "User Julie changed from 33698765432 to 33611223344" in page(as_owner, customer)
    assert last_graph_send(graph)["to"] == "33611223344"

    # A replay of every stored event changes nothing: no one created, the number not moved back.
    with django_capture_on_commit_callbacks(execute=True):
        assert events_reprocess(InboundEvent.objects.all()) == 3
    assert Customer.objects.filter(shop=shop).count() == 1
    customer.refresh_from_db()
    assert customer.phone == "+33611223344"
    assert customer.interactions.filter(direction="inbound").count() == 3


def test_metas_own_system_message_example_moves_the_customer(client, shop, make_customer, as_owner):
    """Meta's published example, unchanged (tests/fixtures/meta/identity/, source noted in it)."""
    ChannelAddress.objects.create(shop=shop, provider="meta", address="106540352242922")
    customer = make_customer(shop, first_name="Sheena", last_name="Nelson", phone="+16505551234")
    payload = json.loads((FIXTURES / "system_user_changed_number.json").read_text())
    payload.pop("_source")

    assert post_meta(client, payload).status_code == 200

    customer.refresh_from_db()
    assert customer.phone == "+12195555358" and Customer.objects.filter(shop=shop).count() == 1
    system = customer.interactions.get()
    assert (system.message_type, system.content["new_wa_id"]) == ("system", "12195555358")
    assert "User Sheena Nelson changed from 16505551234 to 12195555358" in page(as_owner, customer)


def test_a_replay_after_a_number_change_creates_no_one(client, shop, django_capture_on_commit_callbacks):
    post_meta(client, meta_text("33698765432", "Bonjour"))
    post_meta(client, system_changed_number("33698765432", "33611223344"))
    InboundEvent.objects.update(processed_at=None)
    with django_capture_on_commit_callbacks(execute=True):
        events_reprocess(InboundEvent.objects.all())
    assert Customer.objects.filter(shop=shop).count() == 1
    assert Customer.objects.get(shop=shop).phone == "+33611223344"
    assert Interaction.objects.filter(direction="inbound").count() == 2
    # Both events went through the worker again (not skipped) and were recognised as already recorded.
    assert not InboundEvent.objects.exclude(state=InboundEvent.State.PROCESSED).exists()
    assert not InboundEvent.objects.filter(processed_at=None).exists()


def test_a_new_number_already_known_as_another_record_is_merged_into_the_customer(
    client, shop, make_customer
):
    post_meta(client, meta_text("33698765432", "Bonjour"))
    customer = Customer.objects.get(shop=shop)
    other = make_customer(shop, phone="+33611223344")

    post_meta(client, system_changed_number("33698765432", "33611223344"))

    assert list(Customer.objects.filter(shop=shop).values_list("pk", "phone")) == [
        (customer.pk, "+33611223344")
    ]
    assert AuditEntry.objects.get(action=AuditEntry.Action.MERGE).details["merged_customer"]["id"] == other.pk


def test_a_changed_user_id_keeps_the_customer(client, shop):
    post_meta(client, meta_text(None, "Coucou", user_id="FR.111"))
    customer = Customer.objects.get(shop=shop)
    payload = meta_message(
        {
            "user_id": "FR.111",
            "type": "system",
            "system": {
                "body": "User changed their user id",
                "new_user_id": "FR.222",
                "type": "user_changed_user_id",
            },
        }
    )
    post_meta(client, payload)
    customer.refresh_from_db()
    assert Customer.objects.filter(shop=shop).count() == 1 and customer.whatsapp_user_id == "FR.222"


# --- Twilio statuses beyond the usual ones ------------------------------------------------------------


def twilio_status(sid: str, status: str) -> dict:
    return {
        "SmsSid": sid, "SmsStatus": status, "MessageStatus": status, "To": "whatsapp:+33698765432",
        "MessageSid": sid, "AccountSid": ACCOUNT_SID, "From": f"whatsapp:{SHOP_NUMBER}",
        "ApiVersion": "2010-04-01", "ChannelPrefix": "whatsapp",
    }  # fmt: skip


@pytest.fixture
def sent_message(shop, make_customer):
    customer = make_customer(shop, phone="+33698765432")
    return Interaction.objects.create(
        customer=customer, channel="whatsapp", direction="outbound", body="Votre commande est prête",
        provider="twilio", provider_message_id="SM" + "c" * 32, status="sent",
    )  # fmt: skip


@pytest.mark.parametrize("status", ["canceled", "partially_delivered"])
def test_twilio_canceled_and_partially_delivered_are_recorded(client, shop, sent_message, as_owner, status):
    post_twilio(client, STATUS_URL, twilio_status(sent_message.provider_message_id, status))
    sent_message.refresh_from_db()
    assert sent_message.status == status
    assert InboundEvent.objects.get().state == InboundEvent.State.PROCESSED
    label = {"canceled": "canceled", "partially_delivered": "partially delivered"}[status]
    assert label in page(as_owner, sent_message.customer)


def test_a_late_sent_never_replaces_partially_delivered(client, shop, sent_message):
    post_twilio(client, STATUS_URL, twilio_status(sent_message.provider_message_id, "partially_delivered"))
    post_twilio(client, STATUS_URL, twilio_status(sent_message.provider_message_id, "sending"))
    sent_message.refresh_from_db()
    assert sent_message.status == "partially_delivered"


def test_an_unknown_twilio_status_is_kept_without_moving_the_message_back(client, shop, sent_message):
    post_twilio(client, STATUS_URL, twilio_status(sent_message.provider_message_id, "delivered"))
    post_twilio(client, STATUS_URL, twilio_status(sent_message.provider_message_id, "carrier_held"))

    sent_message.refresh_from_db()
    assert sent_message.status == "delivered"
    (kept,) = sent_message.raw_payload["other_statuses"]
    assert kept["status"] == "carrier_held"
    # Recorded, not ignored: the event says so, and the admin shows the interaction's raw payload.
    assert set(InboundEvent.objects.values_list("state", flat=True)) == {InboundEvent.State.PROCESSED}
