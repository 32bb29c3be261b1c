"""A card number or an IBAN a customer texts is never stored: posted through the real webhook URLs
(a signed Twilio form, a signed Meta notification, a Meta edit, simulate_inbound), processed by the
worker, pushed to HubSpot or Salesforce (the local fakes) and to outgoing webhooks, then looked for
everywhere: the stored events, the timeline, the GDPR export, the API, what the CRMs received, the
logs, and every row of every table of the database."""

import io
import json
import logging

import pytest
from django.core.management import call_command
from django.db import connection

from crm_backends.outgoing.models import WebhookEvent
from crm_backends.outgoing.services import endpoint_create
from crm_backends.services import due_count, sync_drain
from customers.models import ChannelAddress, Customer, Interaction
from customers.privacy import customer_export_data
from tests.crm_fixtures import *  # noqa: F403 - the fakes and a connection to each
from tests.webhook_posting import (
    SMS_URL,
    post_meta,
    post_twilio,
    providers_with_fake_twilio,
    twilio_signature,
)
from webhooks import amendments
from webhooks.inbound import InboundMessage
from webhooks.models import InboundEvent

pytestmark = pytest.mark.postgres  # the database is searched row by row as PostgreSQL prints it

SHOP_NUMBER, PHONE_NUMBER_ID = "+33757000000", "100000000000001"
CARD = "4970 1012 3456 7893"  # Luhn-valid
IBAN = "FR76 3000 6000 0112 3456 7890 189"
MASKED_CARD, MASKED_IBAN = "4970 •••• •••• 7893", "FR76 •••• •••• •••• •••• •••• 189"
# Every way the hidden digits could show up again: as typed, grouped otherwise, or run together.
SECRETS = (
    "1012 3456",
    "10123456",
    "1012-3456",
    "4970101234567893",
    "3000 6000 0112 3456 7890",
    "30006000011234567890",
    "FR7630006000011234567890189",
)


@pytest.fixture(autouse=True)
def twilio_api(settings):
    yield from providers_with_fake_twilio(settings)


@pytest.fixture(autouse=True)
def _loopback_allowed(settings):
    settings.OUTGOING_WEBHOOKS_ALLOW_PRIVATE = True


@pytest.fixture
def shop(shop):
    ChannelAddress.objects.create(shop=shop, provider="twilio", address=SHOP_NUMBER)
    ChannelAddress.objects.create(shop=shop, provider="meta", address=PHONE_NUMBER_ID)
    endpoint_create(shop=shop, url="http://127.0.0.1:9/hooks/", events=["message.received", "message.sent"])
    return shop


@pytest.fixture(params=["hubspot", "salesforce"])
def crm(request, shop):
    """The shop's CRM connection and the fake that receives its pushes."""
    connection_ = request.getfixturevalue("hs_connection" if request.param == "hubspot" else "sf_connection")
    return connection_, request.getfixturevalue(request.param)


def sms(sid, text, sender="+33698765432"):
    return {
        "MessageSid": sid, "SmsMessageSid": sid, "SmsSid": sid, "AccountSid": "AC" + "1" * 32,
        "From": sender, "To": SHOP_NUMBER, "Body": text, "NumMedia": "0", "ApiVersion": "2010-04-01",
    }  # fmt: skip


def whatsapp(message_id, message_type, body, sender="33611223344"):
    message = {"from": sender, "id": message_id, "timestamp": "1767960000", "type": message_type}
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "33757000000", "phone_number_id": PHONE_NUMBER_ID},
        "contacts": [{"profile": {"name": "Julie Martin"}, "wa_id": sender}],
        "messages": [{**message, message_type: body}],
    }
    entry = {"id": "102290129340398", "changes": [{"field": "messages", "value": value}]}
    return {"object": "whatsapp_business_account", "entry": [entry]}


def assert_nowhere(text: str, where: str) -> None:
    found = [secret for secret in SECRETS if secret in text]
    assert not found, f"{found} in {where}"


def database_text() -> str:
    """Every row of every table, as PostgreSQL prints a row (JSON and text columns included)."""
    rows = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT t::text FROM "{table}" t')  # noqa: S608 - names from the catalogue
            rows.extend(f"{table}: {row}" for (row,) in cursor.fetchall())
    return "\n".join(rows)


def received_text(body: bytes) -> str:
    """A request body as text, JSON bodies with their escaped characters (the bullets) read back."""
    text = body.decode("utf-8", "replace")
    try:
        return json.dumps(json.loads(text), ensure_ascii=False)
    except ValueError:
        return text


def drain(connection_):
    """Run the CRM queue to the end, as the Celery task does."""
    while due_count(connection_):
        if not sync_drain(connection_).pushed:
            break


def test_a_card_and_an_iban_sent_by_sms_and_whatsapp_are_masked_everywhere(client, shop, crm, caplog):
    connection_, fake = crm
    caplog.set_level(logging.DEBUG)
    text = f"Bonjour, je m'appelle Julie Martin. Ma carte : {CARD}, et mon IBAN {IBAN} pour le remboursement"
    assert post_twilio(client, SMS_URL, sms("SM" + "a" * 32, text)).status_code == 200
    wa_text = {"body": f"Voici ma carte {CARD.replace(' ', '-')}"}
    assert post_meta(client, whatsapp("wamid.card", "text", wa_text)).status_code == 200
    # The customer edits the message: the new text carries the IBAN, the old one goes to the history.
    edit = {
        "original_message_id": "wamid.card",
        "message": {"type": "text", "text": {"body": f"IBAN {IBAN}"}},
    }
    assert post_meta(client, whatsapp("wamid.edit", "edit", edit)).status_code == 200
    drain(connection_)

    sms_in = Interaction.objects.get(provider="twilio", direction="inbound")
    assert sms_in.body == text.replace(CARD, MASKED_CARD).replace(IBAN, MASKED_IBAN)
    assert sms_in.raw_payload["_masked"] == ["card", "iban"]
    wa_in = Interaction.objects.get(provider_message_id="wamid.card")
    assert wa_in.body == f"IBAN {MASKED_IBAN}" and wa_in.edited_at is not None
    assert [entry["body"] for entry in wa_in.edits] == [f"Voici ma carte {MASKED_CARD}"]
    assert wa_in.raw_payload["_masked"] == ["card"]
    stored = {event.event_key: event.payload for event in InboundEvent.objects.all()}
    assert stored["SM" + "a" * 32]["Body"] == sms_in.body and stored["SM" + "a" * 32]["_masked"] == [
        "card",
        "iban",
    ]
    assert stored["wamid.edit"]["_masked"] == ["iban"]

    assert Interaction.objects.filter(customer__shop=shop, direction="outbound").exists()  # replies went
    assert fake.requests, "nothing reached the CRM"
    pushed = "\n".join(received_text(request.body) for request in fake.requests)
    assert MASKED_CARD in pushed  # the messages did reach the CRM, masked
    assert_nowhere(pushed, "what the CRM received")
    assert WebhookEvent.objects.filter(type="message.received").count() == 2
    for customer in Customer.objects.filter(shop=shop):
        assert_nowhere(json.dumps(customer_export_data(customer=customer), ensure_ascii=False), "export")
    assert_nowhere("\n".join(record.getMessage() for record in caplog.records), "the logs")
    assert_nowhere(database_text(), "the database")


def test_the_api_reads_the_masked_text(client, shop, api_client):
    post_twilio(client, SMS_URL, sms("SM" + "b" * 32, f"carte {CARD}"))
    customer = Customer.objects.get(shop=shop)
    response = api_client(shop, scope="read").get(f"/api/v1/customers/{customer.pk}/messages/")
    assert response.status_code == 200
    content = response.content.decode()
    assert MASKED_CARD in json.loads(content)["results"][-1]["body"]
    assert_nowhere(content, "the API")


def test_simulate_inbound_stores_the_masked_text(shop, settings, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        call_command(
            "simulate_inbound",
            *("--shop", shop.slug, "--from", "06 11 22 33 44", "--text", f"ma carte {CARD}"),
            stdout=io.StringIO(),
        )
    message = Interaction.objects.get(direction="inbound")
    assert message.body == f"ma carte {MASKED_CARD}"
    assert_nowhere(database_text(), "the database")


def test_an_event_stored_before_masking_is_masked_when_replayed(client, shop):
    """Events stored in clear by an older version: reprocessing them records masked text."""
    post_twilio(client, SMS_URL, sms("SM" + "c" * 32, "Bonjour"))
    event = InboundEvent.objects.get()
    InboundEvent.objects.filter(pk=event.pk).update(payload={**event.payload, "Body": f"carte {CARD}"})
    Interaction.objects.filter(provider_message_id="SM" + "c" * 32).delete()
    call_command("reprocess_inbound", stdout=io.StringIO())
    assert Interaction.objects.get(provider_message_id="SM" + "c" * 32).body == f"carte {MASKED_CARD}"


def test_an_edit_is_masked_whoever_built_the_message(shop, make_customer):
    """webhooks.amendments masks the new text itself, not only the providers' parsing."""
    customer = make_customer(shop)
    original = Interaction.objects.create(
        customer=customer, channel="whatsapp", direction="inbound", body="Bonjour",
        provider="meta", provider_message_id="wamid.orig",
    )  # fmt: skip
    edit = InboundMessage(
        provider="meta", channel="whatsapp", shop_address=PHONE_NUMBER_ID, provider_message_id="wamid.e",
        sender_phone=customer.phone, sender_whatsapp_id=None, sender_raw=customer.phone.lstrip("+"),
        message_type="edit", content={"target_id": "wamid.orig", "text": f"carte {CARD}"},
    )  # fmt: skip
    assert amendments.amend(customer, edit) == original
    original.refresh_from_db()
    assert original.body == f"carte {MASKED_CARD}" and original.edits[0]["body"] == "Bonjour"


def test_an_error_report_of_the_twilio_webhook_shows_none_of_the_form(rf, shop, monkeypatch):
    from django.views.debug import SafeExceptionReporterFilter

    from webhooks import views

    def broken(events):
        raise RuntimeError("database down")

    monkeypatch.setattr(views, "events_store", broken)
    params = sms("SM" + "d" * 32, f"carte {CARD}")
    request = rf.post(
        SMS_URL, params, HTTP_X_TWILIO_SIGNATURE=twilio_signature(f"http://testserver{SMS_URL}", params)
    )
    with pytest.raises(RuntimeError):
        views.twilio_inbound(request)
    shown = SafeExceptionReporterFilter().get_post_parameters(request)
    assert_nowhere(json.dumps(dict(shown)), "the error report")
    assert shown["Body"] != params["Body"]
