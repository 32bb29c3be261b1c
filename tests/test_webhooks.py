"""The webhook endpoints end to end: real-shaped payloads through the URLs, asserting the HTTP answer
and the database once the worker has processed the stored event (tests/webhook_posting.py)."""

import json
import time
from pathlib import Path

import pytest
from django.test import Client
from twilio.request_validator import RequestValidator

from customers.models import ChannelAddress, Customer, Interaction
from tests.concurrency import run_concurrently
from tests.fakes.meta_graph import FakeMetaGraph
from tests.fakes.twilio_api import FakeTwilioAPI
from tests.webhook_posting import EMPTY_TWIML, META_URL, SMS_URL, STATUS_URL, WA_URL, post_meta, post_twilio
from tests.webhook_posting import META_APP_SECRET as APP_SECRET
from tests.webhook_posting import TWILIO_TOKEN as TOKEN
from webhooks.models import InboundEvent

FIXTURES = Path(__file__).parent / "fixtures"
ACCOUNT_SID = "AC" + "1" * 32
VERIFY_TOKEN = "verify-me"
SHOP_NUMBER = "+33757000000"


@pytest.fixture(autouse=True)
def twilio_api(settings):
    """Replies go out through the Twilio Messages API: here a local fake, never the network."""
    with FakeTwilioAPI(account_sid=ACCOUNT_SID, auth_token=TOKEN) as fake:
        settings.TWILIO_API_BASE = fake.url
        yield fake


@pytest.fixture(autouse=True)
def _secrets(settings):
    settings.TWILIO_AUTH_TOKEN = TOKEN
    settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
    settings.WHATSAPP_APP_SECRET = APP_SECRET
    settings.WHATSAPP_VERIFY_TOKEN = VERIFY_TOKEN
    settings.WHATSAPP_ACCESS_TOKEN = ""
    settings.PUBLIC_BASE_URL = ""


@pytest.fixture
def shop(shop):
    shop.opening_hours = "Mardi-samedi 10h-19h"
    shop.save()
    ChannelAddress.objects.create(shop=shop, provider="twilio", address=SHOP_NUMBER)
    ChannelAddress.objects.create(shop=shop, provider="meta", address="100000000000001")
    return shop


def fixture(provider, name):
    return json.loads((FIXTURES / provider / f"{name}.json").read_text())


def nothing_stored():
    return not InboundEvent.objects.exists() and not Interaction.objects.exists()


# --- Twilio inbound ------------------------------------------------------------------------------


def test_twilio_sms_is_answered_with_an_empty_twiml_and_the_reply_goes_out_through_the_api(
    client, shop, settings, twilio_api
):
    settings.PUBLIC_BASE_URL = "https://crm.example.com"
    params = fixture("twilio", "sms_text")
    response = post_twilio(client, SMS_URL, params, url=f"https://crm.example.com{SMS_URL}")
    # Twilio sends nothing from the answer itself: no <Message>, no waiting on the pipeline.
    assert response.status_code == 200 and response["Content-Type"].startswith("text/xml")
    assert response.content == EMPTY_TWIML
    customer = Customer.objects.get(shop=shop)
    inbound = customer.interactions.get(direction="inbound")
    assert inbound.provider_message_id == params["MessageSid"] and inbound.channel == "sms"
    assert inbound.body == params["Body"]
    # The worker recorded the reply on the timeline and sent it through the Messages API.
    reply = customer.interactions.get(direction="outbound")
    assert reply.is_automatic and reply.in_reply_to == inbound and reply.channel == "sms"
    assert "Julie" in reply.body
    [sent] = twilio_api.requests
    assert sent.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert sent.form() == {
        "From": SHOP_NUMBER,
        "To": "+33698765432",
        "Body": reply.body,
        "StatusCallback": f"https://crm.example.com{STATUS_URL}",  # its delivery reports come back
    }
    assert reply.provider_message_id.startswith("SM") and reply.status == "queued"
    assert InboundEvent.objects.get().state == InboundEvent.State.PROCESSED


def test_twilio_whatsapp_text_uses_profile_and_text_names(client, shop):
    response = post_twilio(client, WA_URL, fixture("twilio", "whatsapp_text"))
    assert response.status_code == 200
    customer = Customer.objects.get(shop=shop)
    assert (customer.first_name, customer.last_name, customer.phone) == ("Julie", "Martin", "+33698765432")
    assert customer.interactions.get(direction="inbound").channel == "whatsapp"


@pytest.mark.parametrize(
    ("name", "check"),
    [
        ("whatsapp_image_caption", lambda i: i.media and i.media[0]["content_type"].startswith("image/")),
        ("whatsapp_location", lambda i: i.location and isinstance(i.location["latitude"], float)),
        ("whatsapp_button_reply", lambda i: i.button_reply != ""),
        ("whatsapp_username_user", lambda i: i.customer.whatsapp_user_id and i.customer.phone is None),
    ],
)
def test_twilio_whatsapp_variants_are_recorded(client, shop, name, check):
    response = post_twilio(client, WA_URL, fixture("twilio", name))
    assert response.status_code == 200
    assert check(Interaction.objects.get(direction="inbound"))


def test_twilio_alphanumeric_sender_is_a_200_and_a_customer_known_by_its_address(client, shop, twilio_api):
    response = post_twilio(client, SMS_URL, fixture("twilio", "sms_alphanumeric_sender"))
    assert response.status_code == 200 and response.content == EMPTY_TWIML
    # Never dropped: a customer identified by the address as sent, the message on their timeline.
    customer = Customer.objects.get(shop=shop)
    assert customer.external_address == "SUPPORT" and customer.phone is None
    assert customer.interactions.get(direction="inbound").body.startswith("Votre colis Colissimo")
    event = InboundEvent.objects.get()
    assert event.state == InboundEvent.State.PROCESSED and event.customer == customer
    # Nothing can be sent to "SUPPORT": no request reaches Twilio.
    assert twilio_api.requests == []


def test_bad_twilio_signature_is_403_and_records_nothing(client, shop):
    response = post_twilio(client, SMS_URL, fixture("twilio", "sms_text"), token="wrong-token")
    assert response.status_code == 403
    assert not Customer.objects.exists() and nothing_stored()


def test_tampered_twilio_body_is_403(client, shop):
    params = fixture("twilio", "sms_text")
    signature = RequestValidator(TOKEN).compute_signature(f"http://testserver{SMS_URL}", params)
    response = client.post(SMS_URL, {**params, "Body": "changed"}, HTTP_X_TWILIO_SIGNATURE=signature)
    assert response.status_code == 403 and nothing_stored()


def test_no_auth_token_configured_refuses_everything(client, shop, settings):
    settings.TWILIO_AUTH_TOKEN = ""
    response = post_twilio(client, SMS_URL, fixture("twilio", "sms_text"), token="anything")
    assert response.status_code == 403 and nothing_stored()


def test_signature_checked_against_public_url_behind_a_proxy(client, shop, settings):
    settings.PUBLIC_BASE_URL = "https://crm.example.com"
    params = fixture("twilio", "sms_text")
    response = post_twilio(client, SMS_URL, params, url=f"https://crm.example.com{SMS_URL}")
    assert response.status_code == 200
    # Signed for the internal URL Django sees: refused, because Twilio signs the public one.
    refused = {**params, "MessageSid": "SM" + "b" * 32}
    assert post_twilio(client, SMS_URL, refused).status_code == 403
    assert list(InboundEvent.objects.values_list("event_key", flat=True)) == [params["MessageSid"]]


def test_signature_checked_against_forwarded_host_and_proto(client, shop, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.USE_X_FORWARDED_HOST = True
    settings.ALLOWED_HOSTS = ["crm.example.com", "testserver"]
    response = post_twilio(
        client, SMS_URL, fixture("twilio", "sms_text"), url=f"https://crm.example.com{SMS_URL}",
        HTTP_X_FORWARDED_PROTO="https", HTTP_X_FORWARDED_HOST="crm.example.com",
    )  # fmt: skip
    assert response.status_code == 200


def test_replay_is_stored_once_records_one_interaction_and_sends_one_reply(client, shop, twilio_api):
    params = fixture("twilio", "sms_text")
    first = post_twilio(client, SMS_URL, params)
    second = post_twilio(client, SMS_URL, params)
    assert first.status_code == second.status_code == 200
    assert first.content == second.content == EMPTY_TWIML
    assert InboundEvent.objects.count() == 1
    assert Interaction.objects.filter(direction="inbound").count() == 1
    assert Interaction.objects.filter(direction="outbound").count() == 1
    assert len(twilio_api.requests) == 1  # the customer gets one answer, not one per delivery


@pytest.mark.parametrize(
    "params",
    [
        {"From": "+33698765432", "To": "+33757000000", "Body": "no sid"},
        {"MessageSid": "SM" + "a" * 32, "To": "+33757000000", "Body": "no sender"},
        {"MessageSid": "not-a-sid", "From": "+33698765432", "To": "+33757000000"},
        {},
    ],
)
def test_malformed_twilio_form_is_400_and_records_nothing(client, shop, params):
    response = post_twilio(client, SMS_URL, params)
    assert response.status_code == 400
    assert nothing_stored()


def test_unknown_twilio_number_is_answered_without_retry_and_ignored_with_the_reason(client, shop):
    params = {**fixture("twilio", "sms_text"), "To": "+33757999999"}
    response = post_twilio(client, SMS_URL, params)
    assert response.status_code == 200 and response.content == EMPTY_TWIML  # Twilio has nothing to retry
    assert not Customer.objects.exists() and not Interaction.objects.exists()
    event = InboundEvent.objects.get()
    assert event.state == InboundEvent.State.IGNORED and event.shop is None
    assert "'+33757999999' belongs to no shop" in event.error  # what ops must set up


def test_unknown_twilio_number_is_logged(client, shop, caplog):
    post_twilio(client, SMS_URL, {**fixture("twilio", "sms_text"), "To": "+33757999999"})
    assert "+33757999999" in caplog.text and "no shop" in caplog.text


@pytest.mark.parametrize(
    "body",
    ["🙂🙂🙂", "Bonjour\x00 je m'appelle\x00 Julie", "<script>alert(1)</script>", "é" * 1600],
)
def test_odd_but_valid_texts_are_recorded_as_text(client, shop, body):
    params = {**fixture("twilio", "sms_text"), "Body": body}
    response = post_twilio(client, SMS_URL, params)
    assert response.status_code == 200
    recorded = Interaction.objects.get(direction="inbound").body
    assert recorded == body.replace("\x00", "")


def test_invalid_utf8_form_is_not_a_500(client, shop):
    raw = b"MessageSid=SM" + b"c" * 32 + b"&From=%2B33698765432&To=%2B33757000000&Body=%FF%FEabc"
    response = client.post(
        SMS_URL, raw, content_type="application/x-www-form-urlencoded", HTTP_X_TWILIO_SIGNATURE="x"
    )
    assert response.status_code in (400, 403)


def test_body_over_one_megabyte_is_refused(client, shop):
    response = post_twilio(
        client, SMS_URL, {**fixture("twilio", "sms_text"), "Body": "x" * (1024 * 1024 + 10)}
    )
    assert response.status_code == 413 and nothing_stored()


def test_get_on_a_twilio_endpoint_is_405(client, shop):
    assert client.get(SMS_URL).status_code == 405


# --- Twilio status callbacks ---------------------------------------------------------------------


@pytest.mark.parametrize("name", ["status_sent", "status_delivered", "status_read", "status_failed"])
def test_twilio_status_callbacks_update_the_message(client, shop, make_outbound, name):
    params = fixture("twilio", name)
    message = make_outbound(shop, provider="twilio", provider_message_id=params["MessageSid"])
    assert post_twilio(client, STATUS_URL, params).status_code == 204
    message.refresh_from_db()
    assert message.status == params["MessageStatus"]
    if params.get("ErrorCode"):
        assert message.error_code == params["ErrorCode"]


def test_late_sent_callback_does_not_overwrite_read(client, shop, make_outbound):
    read = fixture("twilio", "status_read")
    message = make_outbound(shop, provider="twilio", provider_message_id=read["MessageSid"])
    post_twilio(client, STATUS_URL, read)
    post_twilio(client, STATUS_URL, {**read, "MessageStatus": "sent"})
    message.refresh_from_db()
    assert message.status == "read"


def test_an_automatic_reply_gets_the_delivery_reports_of_its_sid(client, shop):
    post_twilio(client, SMS_URL, fixture("twilio", "sms_text"))
    reply = Interaction.objects.get(direction="outbound")
    assert reply.provider_message_id.startswith("SM")  # the sid the Messages API answered
    for status in ("sent", "delivered"):
        params = {"MessageSid": reply.provider_message_id, "MessageStatus": status, "AccountSid": ACCOUNT_SID}
        assert post_twilio(client, STATUS_URL, params).status_code == 204
    reply.refresh_from_db()
    assert reply.status == "delivered"


def test_a_reply_sent_inline_before_persist_first_gets_its_sid_from_its_status_url(
    client, shop, make_outbound
):
    # TwiML replies had no sid until their first report, posted to a status URL naming the reply.
    reply = make_outbound(shop, provider="twilio", provider_message_id=None)
    action = f"{STATUS_URL}?reply={reply.pk}"
    params = {"MessageSid": "SM" + "d" * 32, "MessageStatus": "sent", "AccountSid": ACCOUNT_SID}
    assert post_twilio(client, action, params).status_code == 204
    reply.refresh_from_db()
    assert (reply.provider_message_id, reply.status) == ("SM" + "d" * 32, "sent")


def test_bad_signature_on_status_is_403(client, shop, make_outbound):
    params = fixture("twilio", "status_delivered")
    message = make_outbound(shop, provider="twilio", provider_message_id=params["MessageSid"])
    assert post_twilio(client, STATUS_URL, params, token="nope").status_code == 403
    message.refresh_from_db()
    assert message.status == "queued"


# --- Meta WhatsApp -------------------------------------------------------------------------------


def test_meta_verification_handshake(client):
    ok = client.get(
        META_URL, {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"}
    )
    assert ok.status_code == 200 and ok.content == b"1158201444"
    wrong = client.get(META_URL, {"hub.mode": "subscribe", "hub.verify_token": "nope", "hub.challenge": "1"})
    assert wrong.status_code == 403


def test_meta_text_creates_customer_and_sends_reply_through_graph_api(client, shop, settings):
    payload = fixture("meta", "text")
    # A message sent now: the reply is inside WhatsApp's 24-hour window.
    payload["entry"][0]["changes"][0]["value"]["messages"][0]["timestamp"] = str(int(time.time()))
    with FakeMetaGraph(access_token="graph-token") as graph:
        settings.WHATSAPP_ACCESS_TOKEN = "graph-token"
        settings.WHATSAPP_GRAPH_BASE = graph.url
        response = post_meta(client, payload)
    assert response.status_code == 200
    customer = Customer.objects.get(shop=shop)
    assert (customer.first_name, customer.last_name) == ("Julie", "Martin")
    reply = customer.interactions.get(direction="outbound")
    assert reply.provider == "meta" and reply.provider_message_id.startswith("wamid.")
    sent = graph.requests[-1].json()
    assert sent["to"] == "33698765432" and sent["text"]["body"] == reply.body
    assert graph.requests[-1].path == "/v23.0/100000000000001/messages"


def test_an_old_replayed_message_gets_no_automatic_reply(client, shop, settings):
    # Meta replays for days after an outage; the fixture's message is months old: a person answers it
    # (and WhatsApp would refuse free text outside the 24-hour window anyway).
    with FakeMetaGraph(access_token="graph-token") as graph:
        settings.WHATSAPP_ACCESS_TOKEN, settings.WHATSAPP_GRAPH_BASE = "graph-token", graph.url
        assert post_meta(client, fixture("meta", "text")).status_code == 200
    assert Interaction.objects.filter(direction="inbound").count() == 1
    assert not Interaction.objects.filter(direction="outbound").exists()
    assert graph.requests == []


def test_meta_batch_records_every_message(client, shop):
    response = post_meta(client, fixture("meta", "batch_three_messages"))
    assert response.status_code == 200
    assert Interaction.objects.filter(direction="inbound").count() == 3
    assert Customer.objects.filter(shop=shop).count() == 2


@pytest.mark.parametrize(
    "name", ["image_caption", "location", "interactive_button_reply", "button", "reaction", "unsupported"]
)
def test_meta_message_types_are_recorded(client, shop, name):
    assert post_meta(client, fixture("meta", name)).status_code == 200
    assert Interaction.objects.filter(direction="inbound").count() == 1


def test_meta_username_user_without_phone(client, shop):
    assert post_meta(client, fixture("meta", "username_user")).status_code == 200
    customer = Customer.objects.get(shop=shop)
    assert customer.phone is None and customer.whatsapp_user_id


def test_meta_statuses_update_and_never_go_backwards(client, shop, make_outbound):
    sent = fixture("meta", "status_sent")
    wamid = sent["entry"][0]["changes"][0]["value"]["statuses"][0]["id"]
    message = make_outbound(shop, provider="meta", provider_message_id=wamid, status="queued")
    for name in ("status_read", "status_delivered", "status_sent"):
        payload = fixture("meta", name)
        payload["entry"][0]["changes"][0]["value"]["statuses"][0]["id"] = wamid
        assert post_meta(client, payload).status_code == 200
    message.refresh_from_db()
    assert message.status == "read"


def test_meta_failed_status_records_the_error(client, shop, make_outbound):
    payload = fixture("meta", "status_failed_131047")
    status = payload["entry"][0]["changes"][0]["value"]["statuses"][0]
    message = make_outbound(shop, provider="meta", provider_message_id=status["id"], status="sent")
    post_meta(client, payload)
    message.refresh_from_db()
    assert message.status == "failed" and message.error_code == "131047"


def test_meta_bad_signature_is_403_and_records_nothing(client, shop):
    assert post_meta(client, fixture("meta", "text"), secret="wrong").status_code == 403
    assert nothing_stored()


def test_meta_signature_is_over_the_raw_bytes(client, shop):
    payload = fixture("meta", "text")
    raw = json.dumps(payload, ensure_ascii=False, indent=1).encode()  # non-ASCII, odd spacing: as sent
    assert post_meta(client, None, raw=raw).status_code == 200
    assert Interaction.objects.filter(direction="inbound").count() == 1


def test_meta_replay_records_one_interaction(client, shop):
    post_meta(client, fixture("meta", "text"))
    post_meta(client, fixture("meta", "text"))
    assert InboundEvent.objects.count() == 1
    assert Interaction.objects.filter(direction="inbound").count() == 1


@pytest.mark.parametrize(
    "raw",
    [
        b"{not json",
        b"\xff\xfe\x00",
        b"[]",
        b'{"object": "page", "entry": []}',
        b'{"object": "whatsapp_business_account", "entry": 3}',
    ],
)
def test_meta_malformed_bodies_are_400(client, shop, raw):
    assert post_meta(client, None, raw=raw).status_code == 400
    assert nothing_stored()


def test_meta_unknown_phone_number_id_is_200_records_nothing_and_says_why(client, shop):
    payload = fixture("meta", "text")
    payload["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = "999"
    assert post_meta(client, payload).status_code == 200
    assert not Customer.objects.exists() and not Interaction.objects.exists()
    event = InboundEvent.objects.get()
    assert event.state == InboundEvent.State.IGNORED and "'999' belongs to no shop" in event.error


# --- concurrency (PostgreSQL) ----------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_copies_make_one_customer_and_one_interaction(shop, twilio_api):
    params = fixture("twilio", "sms_text")
    statuses, errors = run_concurrently(20, lambda: post_twilio(Client(), SMS_URL, params).status_code)
    assert errors == []
    assert statuses == [200] * 20
    assert InboundEvent.objects.count() == 1
    assert Customer.objects.filter(shop=shop).count() == 1
    assert Interaction.objects.filter(direction="inbound").count() == 1
    assert Interaction.objects.filter(direction="outbound").count() == 1
    assert len(twilio_api.requests) == 1
