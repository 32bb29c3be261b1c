"""/api/v1/customers/{id}/messages/ (issue 14): a customer's messages, and sending one through the send
box's rules (opt-out, WhatsApp's 24-hour window, pause of automatic replies), to the local fake Twilio."""

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from customers.api_keys import api_key_create
from customers.models import ChannelAddress, Customer, Interaction
from tests.fakes.twilio_api import FakeTwilioAPI
from tests.webhook_posting import ACCOUNT_SID, SMS_URL, post_twilio
from tests.webhook_posting import TWILIO_TOKEN as TOKEN

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).parent / "fixtures"
SHOP_NUMBER = "+33757000000"
PHONE = "+33698765432"


@pytest.fixture(autouse=True)
def twilio_api(settings):
    settings.TWILIO_AUTH_TOKEN, settings.TWILIO_ACCOUNT_SID = TOKEN, ACCOUNT_SID
    settings.PUBLIC_BASE_URL = ""
    with FakeTwilioAPI(account_sid=ACCOUNT_SID, auth_token=TOKEN) as fake:
        settings.TWILIO_API_BASE = fake.url
        yield fake


@pytest.fixture
def shop(shop):
    shop.opening_hours = "Mardi-samedi 10h-19h"
    shop.save()
    ChannelAddress.objects.create(shop=shop, provider="twilio", address=SHOP_NUMBER)
    return shop


@pytest.fixture
def customer(shop, make_customer):
    return make_customer(shop, first_name="Julie", phone=PHONE)


@pytest.fixture
def writer(shop, staff):
    """A write key created by a member of the shop (who is recorded as the author of what it sends)."""
    _key, raw = api_key_create(shop=shop, name="e-shop", scope="write", actor=staff)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def url(customer) -> str:
    return f"/api/v1/customers/{customer.pk}/messages/"


def send(client, customer, django_capture_on_commit_callbacks, csrf="", **body):
    """POST a message (answers in English); then what runs after the commit (the send task, eager in
    tests)."""
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(
            url(customer),
            {"body": "Votre commande est prête.", **body},
            format="json",
            HTTP_ACCEPT_LANGUAGE="en",
            HTTP_X_CSRFTOKEN=csrf,
        )


def sent_to_twilio(fake) -> list[dict]:
    return [r.form() for r in fake.requests if r.path.endswith("/Messages.json")]


def wrote_on_whatsapp(customer, hours_ago: float) -> Interaction:
    return Interaction.objects.create(
        customer=customer,
        channel="whatsapp",
        direction="inbound",
        body="Bonjour",
        occurred_at=timezone.now() - timedelta(hours=hours_ago),
    )


def test_an_sms_goes_to_the_provider_and_pauses_automatic_replies(
    shop, customer, writer, twilio_api, django_capture_on_commit_callbacks
):
    before = timezone.now()
    response = send(writer, customer, django_capture_on_commit_callbacks, channel="sms")
    assert response.status_code == 202, response.json()
    body = response.json()
    assert (body["direction"], body["channel"], body["status"]) == ("outbound", "sms", "queued")
    assert body["author"] == "staff" and body["is_automatic"] is False and body["sandbox"] is False
    [form] = sent_to_twilio(twilio_api)
    assert (form["To"], form["From"], form["Body"]) == (PHONE, SHOP_NUMBER, "Votre commande est prête.")
    message = Interaction.objects.get(pk=body["id"])
    assert message.provider_message_id and message.status == "queued"  # Twilio's own queue: it left
    customer.refresh_from_db()
    pause = timedelta(minutes=shop.auto_reply_pause_minutes)
    assert before + pause <= customer.auto_replies_paused_until <= timezone.now() + pause


def test_after_a_message_sent_by_the_api_the_customer_gets_no_automatic_reply(
    shop, writer, twilio_api, django_capture_on_commit_callbacks
):
    def writes(text, sid):
        form = json.loads((FIXTURES / "twilio" / "sms_text.json").read_text())
        form.update(MessageSid=sid, SmsSid=sid, From=PHONE, To=SHOP_NUMBER, Body=text)
        assert post_twilio(Client(), SMS_URL, form).status_code == 200

    def automatic_replies():
        return Interaction.objects.filter(direction="outbound", is_automatic=True).count()

    writes("Quels sont vos horaires ?", "SM" + "1" * 32)
    assert automatic_replies() == 1  # automatic replies are on for this customer
    customer = Customer.objects.get(shop=shop, phone=PHONE)
    assert send(writer, customer, django_capture_on_commit_callbacks).status_code == 202
    writes("Et le dimanche ?", "SM" + "2" * 32)
    assert automatic_replies() == 1


def test_without_a_channel_the_customers_preferred_one_as_on_the_page(
    shop, customer, writer, twilio_api, django_capture_on_commit_callbacks
):
    customer.preferred_channel = "whatsapp"
    customer.save()
    wrote_on_whatsapp(customer, hours_ago=2)
    response = send(writer, customer, django_capture_on_commit_callbacks)
    assert response.status_code == 202 and response.json()["channel"] == "whatsapp"
    assert [f["To"] for f in sent_to_twilio(twilio_api)] == [f"whatsapp:{PHONE}"]


def test_an_opted_out_customer_is_refused_with_409_and_nothing_is_recorded_or_sent(
    shop, customer, writer, twilio_api, django_capture_on_commit_callbacks
):
    customer.opted_out_at = timezone.now()
    customer.save()
    response = send(writer, customer, django_capture_on_commit_callbacks, channel="sms")
    assert response.status_code == 409
    assert response.json()["error"] == "opted_out" and "START" in response.json()["detail"]
    assert not Interaction.objects.filter(customer=customer).exists() and sent_to_twilio(twilio_api) == []
    customer.refresh_from_db()
    assert customer.auto_replies_paused_until is None


def test_whatsapp_free_text_outside_the_24_hour_window_is_refused_and_points_to_templates(
    shop, customer, writer, twilio_api, django_capture_on_commit_callbacks
):
    wrote_on_whatsapp(customer, hours_ago=25)
    response = send(writer, customer, django_capture_on_commit_callbacks, channel="whatsapp")
    assert response.status_code == 409
    assert response.json()["error"] == "outside_whatsapp_window"
    assert "approved WhatsApp template" in response.json()["detail"]
    assert sent_to_twilio(twilio_api) == [] and not Interaction.objects.filter(direction="outbound").exists()
    wrote_on_whatsapp(customer, hours_ago=1)  # the customer wrote again: the window is open
    assert send(writer, customer, django_capture_on_commit_callbacks, channel="whatsapp").status_code == 202


def test_refusals_read_in_the_callers_language(shop, customer, writer, django_capture_on_commit_callbacks):
    customer.opted_out_at = timezone.now()
    customer.save()
    with django_capture_on_commit_callbacks(execute=True):
        response = writer.post(
            url(customer), {"body": "Bonjour", "channel": "sms"}, format="json", HTTP_ACCEPT_LANGUAGE="fr"
        )
    assert response.json()["error"] == "opted_out" and "START" in response.json()["detail"]
    assert "opted out" not in response.json()["detail"]
    customer.opted_out_at = None
    customer.save()
    wrote_on_whatsapp(customer, hours_ago=30)
    response = writer.post(
        url(customer), {"body": "Bonjour", "channel": "whatsapp"}, format="json", HTTP_ACCEPT_LANGUAGE="fr"
    )
    assert response.json()["error"] == "outside_whatsapp_window"
    assert "modèle WhatsApp approuvé" in response.json()["detail"]


def test_a_shop_without_a_number_and_a_customer_without_a_phone_are_refused_with_their_codes(
    shop, make_customer, writer, django_capture_on_commit_callbacks
):
    by_mail = make_customer(shop, phone=None, email="julie@example.com")
    response = send(writer, by_mail, django_capture_on_commit_callbacks)
    assert (response.status_code, response.json()["error"]) == (409, "no_address")
    ChannelAddress.objects.filter(shop=shop).delete()
    response = send(writer, make_customer(shop), django_capture_on_commit_callbacks)
    assert (response.status_code, response.json()["error"]) == (409, "no_shop_number")


@pytest.mark.parametrize(
    "body, field",
    [
        ({"body": "   "}, "body"),
        ({"body": "x" * 1601}, "body"),
        ({"body": "Bonjour", "channel": "email"}, "channel"),
        ({}, "body"),
    ],
)
def test_invalid_sends_are_400(shop, customer, writer, twilio_api, body, field):
    response = writer.post(url(customer), body, format="json")
    assert response.status_code == 400 and field in response.json()["fields"]
    assert sent_to_twilio(twilio_api) == []


def test_without_credentials_the_sandbox_sends_as_for_the_page(
    shop, customer, writer, settings, twilio_api, django_capture_on_commit_callbacks
):
    settings.TWILIO_ACCOUNT_SID = settings.TWILIO_AUTH_TOKEN = ""
    settings.MESSAGING_SANDBOX = True
    send(writer, customer, django_capture_on_commit_callbacks, channel="sms")
    [message] = writer.get(url(customer)).json()["results"]
    assert message["sandbox"] is True and message["status"] == "delivered"
    assert sent_to_twilio(twilio_api) == []


def test_another_shops_key_gets_404_on_our_customer_and_sends_nothing(
    shop, other_shop, customer, api_client, twilio_api, django_capture_on_commit_callbacks
):
    theirs = api_client(other_shop, "owner")
    assert theirs.get(url(customer)).status_code == 404
    response = send(theirs, customer, django_capture_on_commit_callbacks, channel="sms")
    assert response.status_code == 404 and response.json()["error"] == "not_found"
    assert sent_to_twilio(twilio_api) == [] and not Interaction.objects.exists()


def test_a_read_key_lists_but_cannot_send(
    shop, customer, api_client, twilio_api, django_capture_on_commit_callbacks
):
    reader = api_client(shop, "read")
    assert reader.get(url(customer)).status_code == 200
    response = send(reader, customer, django_capture_on_commit_callbacks, channel="sms")
    assert response.status_code == 403 and response.json()["error"] == "permission_denied"
    assert sent_to_twilio(twilio_api) == [] and not Interaction.objects.exists()


def test_the_list_is_newest_first_by_cursor_with_files_described_not_linked(
    shop, customer, staff, api_client
):
    now = timezone.now()
    photo = Interaction.objects.create(
        customer=customer,
        channel="whatsapp",
        direction="inbound",
        message_type="image",
        provider="twilio",
        media=[
            {
                "url": f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/MM1/Media/ME1",
                "media_id": "ME1",
                "sha256": "",
                "content_type": "image/jpeg",
                "filename": "",
                "media_file_id": 3,
                "state": "downloaded",
                "size": 1234,
                "download_url": "/dashboard/media/3/",
                "error": "GET api.twilio.com: HTTP 404",
            }
        ],
        occurred_at=now - timedelta(hours=1),
    )
    answer = Interaction.objects.create(
        customer=customer, channel="sms", direction="outbound", body="Merci !", author=staff, occurred_at=now
    )
    # Recorded last but happened first: the list is in the order things happened.
    early = Interaction.objects.create(
        customer=customer,
        channel="sms",
        direction="inbound",
        body="Bonjour",
        occurred_at=now - timedelta(days=1),
    )
    client = api_client(shop, "read")
    page = client.get(url(customer), {"page_size": 2}).json()
    assert [m["id"] for m in page["results"]] == [answer.pk, photo.pk]
    assert [m["id"] for m in client.get(page["next"]).json()["results"]] == [early.pk]
    first, second = page["results"]
    assert first["author"] == "staff" and second["author"] is None
    assert second["media"] == [
        {"content_type": "image/jpeg", "filename": "", "size": 1234, "state": "downloaded"}
    ]
    assert "twilio.com" not in json.dumps(page) and ACCOUNT_SID not in json.dumps(page)


def test_staff_signed_in_send_with_their_session_and_a_csrf_token(
    shop, customer, staff, twilio_api, django_capture_on_commit_callbacks
):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(staff)
    without = send(client, customer, django_capture_on_commit_callbacks, channel="sms")
    assert without.status_code == 403 and sent_to_twilio(twilio_api) == []
    page = client.get(f"/dashboard/customers/{customer.pk}/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
    response = send(client, customer, django_capture_on_commit_callbacks, channel="sms", csrf=token)
    assert response.status_code == 202 and response.json()["author"] == "staff"
    assert len(sent_to_twilio(twilio_api)) == 1
