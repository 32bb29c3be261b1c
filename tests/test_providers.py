"""Provider adapters against recorded-shape fixtures and local fakes of the Twilio and Graph APIs (no DB)."""

import hashlib
import hmac
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.http import QueryDict
from twilio.request_validator import RequestValidator

from coccinelle.http import ExternalServiceError
from tests.fakes.meta_graph import FakeMetaGraph
from tests.fakes.twilio_api import FakeTwilioAPI
from webhooks.inbound import InboundMessage, Location, MalformedWebhook, Media, StatusUpdate
from webhooks.providers import SendResult, meta
from webhooks.providers import twilio as twilio_provider

FIXTURES = Path(__file__).parent / "fixtures"
TOKEN = "12345678901234567890123456789012"
URL = "https://crm.example.fr/webhooks/twilio/inbound?shop=1"
SHOP = "+33757000000"
PNID = "100000000000001"


def load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def sign(url, params, token=TOKEN):
    return RequestValidator(token).compute_signature(url, params)


# Twilio: signature


def test_twilio_verify_accepts_a_valid_signature():
    params = load("twilio/sms_text.json")
    assert twilio_provider.verify(url=URL, params=params, signature=sign(URL, params), auth_token=TOKEN)


def test_twilio_verify_accepts_the_url_with_the_default_port():
    params = load("twilio/whatsapp_text.json")
    signature = sign("https://crm.example.fr:443/webhooks/twilio/inbound?shop=1", params)
    assert twilio_provider.verify(url=URL, params=params, signature=signature, auth_token=TOKEN)


@pytest.mark.parametrize(
    "change",
    [
        {"auth_token": "another-token-0000000000000000000"},
        {"url": URL.replace("shop=1", "shop=2")},
        {"params": {**load("twilio/sms_text.json"), "Body": "Bonjour, c'est modifié"}},
        {"signature": ""},
        {"auth_token": ""},
    ],
)
def test_twilio_verify_rejects(change):
    params = load("twilio/sms_text.json")
    arguments = {"url": URL, "params": params, "signature": sign(URL, params), "auth_token": TOKEN} | change
    assert not twilio_provider.verify(**arguments)


def test_twilio_verify_signs_every_value_of_a_repeated_field():
    query = QueryDict(mutable=True)
    query.update(load("twilio/sms_text.json"))
    query.setlist("MediaUrl", ["https://example.com/b.jpg", "https://example.com/a.jpg"])
    signature = sign(URL, query)
    as_lists = {key: query.getlist(key) for key in query}
    assert twilio_provider.verify(url=URL, params=query, signature=signature, auth_token=TOKEN)
    assert twilio_provider.verify(url=URL, params=as_lists, signature=signature, auth_token=TOKEN)
    as_lists["MediaUrl"] = as_lists["MediaUrl"][:1]
    assert not twilio_provider.verify(url=URL, params=as_lists, signature=signature, auth_token=TOKEN)


# Twilio: inbound messages


def test_twilio_sms_text():
    message = twilio_provider.parse_inbound(load("twilio/sms_text.json"))
    assert isinstance(message, InboundMessage)
    assert (message.provider, message.channel, message.message_type) == ("twilio", "sms", "text")
    assert message.shop_address == SHOP
    assert message.provider_message_id.startswith("SM") and len(message.provider_message_id) == 34
    assert message.sender_phone == "+33698765432"
    assert message.sender_whatsapp_id is None
    assert message.text == "Bonjour, je m'appelle Julie Martin. Avez-vous la robe en 38 ?"
    assert message.media == () and message.location is None
    assert message.raw["AccountSid"].startswith("AC")


def test_twilio_alphanumeric_sender_is_kept_raw_without_a_phone():
    message = twilio_provider.parse_inbound(load("twilio/sms_alphanumeric_sender.json"))
    assert message.sender_phone is None and message.sender_whatsapp_id is None
    assert message.sender_raw == "SUPPORT"
    assert message.channel == "sms"


def test_twilio_whatsapp_text():
    message = twilio_provider.parse_inbound(load("twilio/whatsapp_text.json"))
    assert message.channel == "whatsapp"
    assert message.shop_address == SHOP
    assert message.sender_phone == "+33698765432"
    assert message.sender_raw == "whatsapp:+33698765432"
    assert message.profile_name == "Julie Martin"


def test_twilio_whatsapp_image_with_caption():
    message = twilio_provider.parse_inbound(load("twilio/whatsapp_image_caption.json"))
    assert message.message_type == "media"
    assert message.provider_message_id.startswith("MM")
    assert message.text == "Celle-ci, en bleu marine, vous l'avez encore ?"
    (media,) = message.media
    assert media.content_type == "image/jpeg"
    assert media.url.startswith("https://api.twilio.com/2010-04-01/Accounts/AC")


def test_twilio_media_is_capped_at_ten():
    params = load("twilio/whatsapp_image_caption.json") | {"NumMedia": "12"}
    for index in range(12):
        params[f"MediaUrl{index}"] = f"https://api.twilio.com/media/{index}"
        params[f"MediaContentType{index}"] = "image/png"
    assert len(twilio_provider.parse_inbound(params).media) == 10


def test_twilio_whatsapp_location():
    message = twilio_provider.parse_inbound(load("twilio/whatsapp_location.json"))
    assert message.message_type == "location"
    assert message.location == Location(
        48.8566, 2.3522, name="Chez moi", address="12 Rue de Rivoli, 75004 Paris"
    )


@pytest.mark.parametrize("latitude", ["", "nord", "nan", "123.0"])
def test_twilio_unreadable_location_is_ignored(latitude):
    params = load("twilio/whatsapp_location.json") | {"Latitude": latitude}
    message = twilio_provider.parse_inbound(params)
    assert message.location is None and message.message_type == "text"


def test_twilio_whatsapp_button_reply():
    message = twilio_provider.parse_inbound(load("twilio/whatsapp_button_reply.json"))
    assert message.message_type == "button"
    assert message.button_reply == "Oui, je passe samedi"
    payload_only = load("twilio/whatsapp_button_reply.json")
    del payload_only["ButtonText"]
    assert twilio_provider.parse_inbound(payload_only).button_reply == "visit_saturday_yes"


def test_twilio_whatsapp_username_user():
    message = twilio_provider.parse_inbound(load("twilio/whatsapp_username_user.json"))
    assert message.channel == "whatsapp"
    assert message.sender_phone is None
    assert message.sender_whatsapp_id == "FR.13491208655302741918"
    assert message.profile_name == "Camille"


def test_twilio_wa_id_fills_in_an_unreadable_from():
    params = load("twilio/whatsapp_text.json") | {"From": "whatsapp:"}
    assert twilio_provider.parse_inbound(params).sender_phone == "+33698765432"


def test_twilio_reads_a_query_dict_and_keeps_repeated_values_in_raw():
    query = QueryDict(mutable=True)
    query.update(load("twilio/whatsapp_text.json"))
    query.appendlist("Referral", "a")
    query.appendlist("Referral", "b")
    message = twilio_provider.parse_inbound(query)
    assert message.sender_phone == "+33698765432"
    assert message.raw["Referral"] == ["a", "b"]
    assert message.raw["Body"] == "Bonjour, je m'appelle Julie Martin. Avez-vous la robe en 38 ?"


def test_twilio_nul_bytes_are_stripped_everywhere():
    params = load("twilio/whatsapp_text.json")
    params |= {"Body": "Bon\x00jour", "ProfileName": "Ju\x00lie", "Extra\x00": "x\x00y"}
    message = twilio_provider.parse_inbound(params)
    assert message.text == "Bonjour" and message.profile_name == "Julie"
    assert message.raw["Extra"] == "xy"
    assert "\\u0000" not in json.dumps(message.raw)


@pytest.mark.parametrize("missing", ["MessageSid", "From", "To"])
def test_twilio_missing_field_is_malformed(missing):
    params = load("twilio/sms_text.json")
    for name in (missing, "SmsMessageSid", "SmsSid") if missing == "MessageSid" else (missing,):
        del params[name]
    with pytest.raises(MalformedWebhook):
        twilio_provider.parse_inbound(params)


def test_twilio_message_sid_falls_back_to_the_legacy_fields():
    params = load("twilio/sms_text.json")
    del params["MessageSid"]
    assert twilio_provider.parse_inbound(params).provider_message_id == params["SmsMessageSid"]


@pytest.mark.parametrize("sid", ["SM123", "not-a-sid", "SM" + "z" * 32, "sm" + "a" * 32])
def test_twilio_bad_sid_is_malformed(sid):
    with pytest.raises(MalformedWebhook):
        twilio_provider.parse_inbound(load("twilio/sms_text.json") | {"MessageSid": sid})


# Twilio: status callbacks


@pytest.mark.parametrize(
    ("name", "status", "code"),
    [
        ("status_sent.json", "sent", ""),
        ("status_delivered.json", "delivered", ""),
        ("status_read.json", "read", ""),
        ("status_failed.json", "failed", "30008"),
        ("status_undelivered_63016.json", "undelivered", "63016"),
    ],
)
def test_twilio_status(name, status, code):
    update = twilio_provider.parse_status(load(f"twilio/{name}"))
    assert isinstance(update, StatusUpdate)
    assert (update.provider, update.status, update.error_code) == ("twilio", status, code)
    assert update.provider_message_id.startswith("SM")
    assert bool(update.error_message) == bool(code)


def test_twilio_status_is_lower_cased_and_required():
    params = load("twilio/status_sent.json") | {"MessageStatus": "Delivered"}
    assert twilio_provider.parse_status(params).status == "delivered"
    for name in ("MessageStatus", "SmsStatus"):
        del params[name]
    with pytest.raises(MalformedWebhook):
        twilio_provider.parse_status(params)


# Twilio: TwiML


def test_twiml_escapes_the_text():
    xml = twilio_provider.twiml('<script>alert("x")</script> Robes & jupes')
    assert xml == (
        '<?xml version="1.0" encoding="UTF-8"?><Response><Message>'
        '&lt;script&gt;alert("x")&lt;/script&gt; Robes &amp; jupes</Message></Response>'
    )


def test_twiml_status_callback_action():
    xml = twilio_provider.twiml("Merci !", action="https://crm.example.fr/webhooks/twilio/status?a=1&b=2")
    assert (
        '<Message action="https://crm.example.fr/webhooks/twilio/status?a=1&amp;b=2">Merci !</Message>' in xml
    )


@pytest.mark.parametrize("text", [None, "", "  "])
def test_twiml_empty_response(text):
    assert twilio_provider.twiml(text) == '<?xml version="1.0" encoding="UTF-8"?><Response/>'


def test_twiml_drops_characters_xml_cannot_carry():
    assert "<Message>Bonjour</Message>" in twilio_provider.twiml("Bon\x00jo\x1bur")


# Twilio: sending


@pytest.fixture
def twilio_api():
    with FakeTwilioAPI(account_sid="AC" + "a" * 32, auth_token=TOKEN) as fake:
        yield fake


def twilio_send(fake, **overrides):
    arguments = {
        "from_address": SHOP,
        "to": "+33698765432",
        "body": "Bonjour Julie, oui nous l'avons en 38 !",
        "channel": "sms",
        "account_sid": fake.account_sid,
        "auth_token": TOKEN,
        "api_base": fake.url,
    }
    return twilio_provider.send(**(arguments | overrides))


def test_twilio_send_sms(twilio_api):
    result = twilio_send(twilio_api, status_callback="https://crm.example.fr/webhooks/twilio/status")
    assert isinstance(result, SendResult)
    assert result.provider_message_id.startswith("SM") and result.status == "queued"
    (request,) = twilio_api.requests
    assert request.path == f"/2010-04-01/Accounts/{twilio_api.account_sid}/Messages.json"
    assert request.form() == {
        "To": "+33698765432",
        "From": SHOP,
        "Body": "Bonjour Julie, oui nous l'avons en 38 !",
        "StatusCallback": "https://crm.example.fr/webhooks/twilio/status",
    }


def test_twilio_send_whatsapp_prefixes_both_addresses(twilio_api):
    twilio_send(twilio_api, channel="whatsapp", from_address="whatsapp:" + SHOP)
    form = twilio_api.requests[0].form()
    assert (form["To"], form["From"]) == ("whatsapp:+33698765432", "whatsapp:" + SHOP)
    assert "StatusCallback" not in form


def test_twilio_send_bad_credentials_is_permanent_and_secret_free(twilio_api):
    with pytest.raises(ExternalServiceError) as caught:
        twilio_send(twilio_api, auth_token="wrong-token-000000000000000000000")
    assert caught.value.permanent and caught.value.status == 401
    assert "wrong-token" not in str(caught.value) and TOKEN not in str(caught.value)


def test_twilio_send_rate_limit_is_transient(twilio_api):
    twilio_api.fail_next_with(429, 20429, "Too Many Requests")
    with pytest.raises(ExternalServiceError) as caught:
        twilio_send(twilio_api)
    assert not caught.value.permanent
    assert twilio_send(twilio_api).provider_message_id.startswith("SM")


def test_twilio_send_outside_the_whatsapp_window_is_permanent(twilio_api):
    twilio_api.fail_next_with(
        400, 63016, "Failed to send freeform message because you are outside the window"
    )
    with pytest.raises(ExternalServiceError) as caught:
        twilio_send(twilio_api, channel="whatsapp")
    assert caught.value.permanent
    assert "24-hour window" in str(caught.value) and "template" in str(caught.value)


def test_twilio_send_other_errors_keep_twilio_message(twilio_api):
    twilio_api.fail_next_with(400, 21211, "The 'To' number +33000 is not a valid phone number.")
    with pytest.raises(ExternalServiceError) as caught:
        twilio_send(twilio_api)
    assert caught.value.permanent and "not a valid phone number" in str(caught.value)


def test_twilio_send_unreachable_is_transient():
    with pytest.raises(ExternalServiceError) as caught:
        twilio_provider.send(
            from_address=SHOP,
            to="+33698765432",
            body="x",
            channel="sms",
            account_sid="AC" + "a" * 32,
            auth_token=TOKEN,
            api_base="http://127.0.0.1:9",
        )
    assert not caught.value.permanent


# Meta: signature and handshake


APP_SECRET = "d41d8cd98f00b204e9800998ecf8427e"


def meta_header(raw: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def test_meta_signature_is_over_the_raw_bytes():
    raw = (FIXTURES / "meta/batch_three_messages.json").read_bytes()
    assert "Léa".encode() in raw  # non-ASCII, as Meta sends it
    header = meta_header(raw)
    assert meta.verify_signature(raw_body=raw, header=header, app_secret=APP_SECRET)
    reserialised = json.dumps(json.loads(raw)).encode()  # \u00e9 escapes, other spacing
    assert not meta.verify_signature(raw_body=reserialised, header=header, app_secret=APP_SECRET)


@pytest.mark.parametrize(
    ("header", "secret"),
    [
        ("", APP_SECRET),
        (None, APP_SECRET),
        ("VALID", ""),
        ("VALID", "another-secret"),
        ("sha1=0123", APP_SECRET),
        ("sha256=not-hex", APP_SECRET),
        ("sha256=" + "0" * 64, APP_SECRET),
    ],
)
def test_meta_signature_rejects(header, secret):
    raw = (FIXTURES / "meta/text.json").read_bytes()
    header = meta_header(raw) if header == "VALID" else header
    assert not meta.verify_signature(raw_body=raw, header=header, app_secret=secret)


def test_meta_signature_accepts_an_upper_case_digest():
    raw = b'{"object":"whatsapp_business_account","entry":[]}'
    header = "sha256=" + meta_header(raw).removeprefix("sha256=").upper()
    assert meta.verify_signature(raw_body=raw, header=header, app_secret=APP_SECRET)


def test_meta_handshake():
    params = {"hub.mode": "subscribe", "hub.verify_token": "jeton-secret", "hub.challenge": "1158201444"}
    assert meta.handshake(params, verify_token="jeton-secret") == "1158201444"
    assert meta.handshake(
        QueryDict("hub.mode=subscribe&hub.verify_token=t&hub.challenge=42"), verify_token="t"
    )
    assert meta.handshake(params, verify_token="autre-jeton") is None
    assert meta.handshake(params | {"hub.mode": "unsubscribe"}, verify_token="jeton-secret") is None
    assert meta.handshake(params | {"hub.verify_token": ""}, verify_token="") is None
    assert meta.handshake(params | {"hub.verify_token": "jétön"}, verify_token="jeton-secret") is None


# Meta: notifications


def parse_one(name: str):
    (item,) = meta.parse_notification(load(f"meta/{name}"))
    return item


def test_meta_text():
    message = parse_one("text.json")
    assert isinstance(message, InboundMessage)
    assert (message.provider, message.channel, message.message_type) == ("meta", "whatsapp", "text")
    assert message.shop_address == PNID
    assert message.provider_message_id.startswith("wamid.")
    assert message.sender_phone == "+33698765432" and message.sender_whatsapp_id is None
    assert message.sender_raw == "33698765432"
    assert message.profile_name == "Julie Martin"
    assert message.text == "Bonjour, je m'appelle Julie Martin. Avez-vous la robe en 38 ?"
    assert message.timestamp == datetime(2026, 1, 9, 12, 0, tzinfo=UTC)
    assert message.raw["metadata"]["display_phone_number"] == "33757000000"
    assert message.raw["text"]["body"] == message.text


def test_meta_image_with_caption():
    message = parse_one("image_caption.json")
    assert message.message_type == "image"
    assert message.media == (
        Media(
            url="meta-media:1003383421387256",
            content_type="image/jpeg",
            sha256="SfInY0gGKTsJlUWbwxC1k+FAD0FZHvzwfpvO0zX0GUI=",
            media_id="1003383421387256",
        ),
    )
    assert message.text == "Celle-ci, en bleu marine, vous l'avez encore ?"


def test_meta_document_keeps_its_filename_in_raw():
    payload = load("meta/image_caption.json")
    message = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    message["type"] = "document"
    message["document"] = {
        "id": "77",
        "mime_type": "application/pdf",
        "sha256": "x",
        "filename": "facture.pdf",
    }
    (parsed,) = meta.parse_notification(payload)
    assert parsed.media == (
        Media(
            url="meta-media:77",
            content_type="application/pdf",
            filename="facture.pdf",
            sha256="x",
            media_id="77",
        ),
    )
    assert parsed.raw["document"]["filename"] == "facture.pdf"


def test_meta_location():
    message = parse_one("location.json")
    assert message.message_type == "location"
    assert message.location == Location(
        48.8566, 2.3522, name="Chez moi", address="12 Rue de Rivoli, 75004 Paris"
    )


def test_meta_interactive_button_reply():
    message = parse_one("interactive_button_reply.json")
    assert message.message_type == "interactive"
    assert message.button_reply == "Oui, samedi"
    assert message.raw["interactive"]["button_reply"]["id"] == "visit_saturday_yes"


def test_meta_interactive_list_reply():
    payload = load("meta/interactive_button_reply.json")
    message = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    message["interactive"] = {"type": "list_reply", "list_reply": {"id": "size_38", "title": "Taille 38"}}
    assert meta.parse_notification(payload)[0].button_reply == "Taille 38"


def test_meta_template_button():
    message = parse_one("button.json")
    assert (message.message_type, message.button_reply) == ("button", "Arrêter les promotions")


def test_meta_reaction():
    message = parse_one("reaction.json")
    assert (message.message_type, message.text) == ("reaction", "❤️")


@pytest.mark.parametrize("kind", ["unsupported", "contacts", "order", "system", "call_permission_reply"])
def test_meta_other_types_are_recorded_without_text(kind):
    payload = load("meta/unsupported.json")
    message = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    message["type"] = kind
    message.setdefault(kind, {"body": "ignored"} if kind == "system" else [{"name": "x"}])
    (parsed,) = meta.parse_notification(payload)
    assert (parsed.message_type, parsed.text, parsed.media) == (kind, "", ())
    assert parsed.sender_phone == "+33698765432"


def test_meta_batch_of_three_messages_from_two_senders():
    messages = meta.parse_notification(load("meta/batch_three_messages.json"))
    assert len(messages) == 3
    assert [m.sender_phone for m in messages] == ["+33698765432", "+33698765432", "+33612345678"]
    assert [m.profile_name for m in messages] == ["Julie Martin", "Julie Martin", "Léa Dubois"]
    assert len({m.provider_message_id for m in messages}) == 3
    assert {m.shop_address for m in messages} == {PNID}


def test_meta_profile_name_is_matched_by_wa_id():
    payload = load("meta/batch_three_messages.json")
    first, second = (entry["changes"][0]["value"] for entry in payload["entry"])
    first["contacts"] += second["contacts"]
    second["contacts"] = first["contacts"][::-1]
    assert [m.profile_name for m in meta.parse_notification(payload)] == [
        "Julie Martin",
        "Julie Martin",
        "Léa Dubois",
    ]


def test_meta_username_user():
    message = parse_one("username_user.json")
    assert message.sender_phone is None
    assert message.sender_whatsapp_id == "FR.13491208655302741918"
    assert message.sender_raw == "FR.13491208655302741918"
    assert message.profile_name == "Camille"


def test_meta_username_user_known_only_from_contacts():
    payload = load("meta/username_user.json")
    del payload["entry"][0]["changes"][0]["value"]["messages"][0]["user_id"]
    (message,) = meta.parse_notification(payload)
    assert (message.sender_phone, message.sender_whatsapp_id) == (None, "FR.13491208655302741918")


def test_meta_user_id_is_kept_beside_the_phone():
    payload = load("meta/text.json")
    value = payload["entry"][0]["changes"][0]["value"]
    value["contacts"][0]["user_id"] = "FR.998877"
    (message,) = meta.parse_notification(payload)
    assert (message.sender_phone, message.sender_whatsapp_id) == ("+33698765432", "FR.998877")


@pytest.mark.parametrize(
    ("name", "status", "code"),
    [
        ("status_sent.json", "sent", ""),
        ("status_delivered.json", "delivered", ""),
        ("status_read.json", "read", ""),
        ("status_failed_131047.json", "failed", "131047"),
    ],
)
def test_meta_status(name, status, code):
    update = parse_one(name)
    assert isinstance(update, StatusUpdate)
    assert (update.provider, update.status, update.error_code) == ("meta", status, code)
    assert update.provider_message_id.startswith("wamid.")
    assert update.timestamp is not None and update.timestamp.tzinfo is UTC
    assert update.raw["recipient_id"] == "33698765432"
    if code:
        assert update.error_message == "Re-engagement message"


@pytest.mark.parametrize(
    "payload",
    [
        [],
        "whatsapp",
        None,
        {"object": "page", "entry": []},
        {"object": "whatsapp_business_account"},
        {"object": "whatsapp_business_account", "entry": {"id": "1"}},
    ],
)
def test_meta_malformed_notification(payload):
    with pytest.raises(MalformedWebhook):
        meta.parse_notification(payload)


def test_meta_message_without_id_is_skipped_and_the_rest_kept(caplog):
    payload = load("meta/batch_three_messages.json")
    del payload["entry"][0]["changes"][0]["value"]["messages"][0]["id"]
    messages = meta.parse_notification(payload)
    assert len(messages) == 2
    assert "without id" in caplog.text


def test_meta_garbage_inside_a_valid_notification_is_skipped():
    payload = load("meta/text.json")
    value = payload["entry"][0]["changes"][0]["value"]
    value["messages"].insert(0, "not a message")
    value["statuses"] = "not a list"
    payload["entry"] += [None, {"changes": None}, {"changes": [None, {"value": "x"}]}]
    payload["entry"].append({"changes": [{"field": "messages", "value": {"messages": [{"id": "wamid.X"}]}}]})
    (message,) = meta.parse_notification(payload)
    assert message.text.startswith("Bonjour")


def test_meta_other_fields_are_ignored():
    payload = load("meta/text.json")
    payload["entry"][0]["changes"][0]["field"] = "group_lifecycle_update"
    assert meta.parse_notification(payload) == []


def test_meta_empty_notification_is_fine():
    assert meta.parse_notification({"object": "whatsapp_business_account", "entry": []}) == []


def test_meta_nul_bytes_are_stripped():
    payload = load("meta/text.json")
    payload["entry"][0]["changes"][0]["value"]["messages"][0]["text"]["body"] = "Bon\x00jour"
    (message,) = meta.parse_notification(payload)
    assert message.text == "Bonjour"
    assert "\\u0000" not in json.dumps(message.raw)


# Meta: sending


META_TOKEN = "EAAJB1rVvZCZBkBAFakeTokenForTests"


@pytest.fixture
def graph():
    with FakeMetaGraph(access_token=META_TOKEN) as fake:
        yield fake


def meta_send(fake, **overrides):
    arguments = {
        "phone_number_id": PNID,
        "to": "+33698765432",
        "body": "Bonjour Julie, oui nous l'avons en 38 !",
        "access_token": META_TOKEN,
        "graph_base": fake.url,
    }
    return meta.send_text(**(arguments | overrides))


def test_meta_send_text(graph):
    result = meta_send(graph, reply_to="wamid.ABC")
    assert result.provider_message_id.startswith("wamid.") and result.status == "accepted"
    (request,) = graph.requests
    assert request.path == f"/v23.0/{PNID}/messages"
    assert request.headers["Authorization"] == f"Bearer {META_TOKEN}"
    assert request.json() == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "33698765432",
        "type": "text",
        "text": {"body": "Bonjour Julie, oui nous l'avons en 38 !"},
        "context": {"message_id": "wamid.ABC"},
    }


def test_meta_send_to_a_username_user_keeps_the_id(graph):
    meta_send(graph, to="FR.13491208655302741918")
    sent = graph.requests[0].json()
    assert sent["recipient"] == "FR.13491208655302741918" and "to" not in sent


def test_meta_send_caps_the_body_at_4096(graph):
    meta_send(graph, body="é" * 5000)
    assert graph.requests[0].json()["text"]["body"] == "é" * 4096


def test_meta_send_bad_token_is_permanent_and_secret_free(graph):
    with pytest.raises(ExternalServiceError) as caught:
        meta_send(graph, access_token="EAAexpired")
    assert caught.value.permanent
    assert "access token expired or invalid" in str(caught.value)
    assert "EAAexpired" not in str(caught.value) and META_TOKEN not in str(caught.value)


@pytest.mark.parametrize(("status", "code"), [(429, 130429), (400, 131056), (429, 429)])
def test_meta_send_rate_limits_are_transient(graph, status, code):
    graph.fail_next_with(status, code, "(#130429) Rate limit hit")
    with pytest.raises(ExternalServiceError) as caught:
        meta_send(graph)
    assert not caught.value.permanent


def test_meta_send_outside_the_window_is_permanent(graph):
    graph.fail_next_with(400, 131047, "Re-engagement message")
    with pytest.raises(ExternalServiceError) as caught:
        meta_send(graph)
    assert caught.value.permanent and "outside the 24-hour window" in str(caught.value)


def test_meta_send_other_errors_keep_meta_message(graph):
    graph.fail_next_with(400, 131026, "Message Undeliverable.")
    with pytest.raises(ExternalServiceError) as caught:
        meta_send(graph)
    assert caught.value.permanent and "Message Undeliverable" in str(caught.value)
