"""Every message type a customer can send, posted through the signed webhook URLs as the providers send
it, then read where the owner reads it: the customer page's timeline (rendered HTML), and the models.

Meta payloads come from the examples of Meta's own OpenAPI (tests/fixtures/meta/spec/, `_source` in each
file), with the sender set to our test customer and, where several examples share one wamid, an id of
their own; types the reference has no example for are written from its schemas here.
"""

import copy
import html
import json
import re
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client

from customers.models import ChannelAddress, Customer, Interaction
from tests.webhook_posting import ACCOUNT_SID, WA_URL, post_meta, post_twilio, providers_with_fake_twilio

FIXTURES = Path(__file__).parent / "fixtures"
SENDER = "33698765432"


@pytest.fixture(autouse=True)
def _providers(settings):
    yield from providers_with_fake_twilio(settings)


@pytest.fixture
def shop(shop):
    ChannelAddress.objects.create(shop=shop, provider="twilio", address="+33757000000")
    ChannelAddress.objects.create(shop=shop, provider="meta", address="100000000000001")
    return shop


@pytest.fixture
def owner_client(owner, settings):
    client = Client()
    client.force_login(owner)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # the shop's language is French
    return client


def meta(name, *, id, **fields):
    """A spec example as our customer sends it: their number, the given message id, `fields` replaced."""
    payload = json.loads((FIXTURES / "meta" / "spec" / f"{name}.json").read_text())
    payload.pop("_source")
    value = payload["entry"][0]["changes"][0]["value"]
    value["contacts"] = [{"profile": {"name": "Julie Martin"}, "wa_id": SENDER}]
    message = value["messages"][0]
    message.update({"from": SENDER, "id": id, **fields})
    return payload


def meta_message(message_type, body, *, id, **fields):
    """A message of a type the reference has no example for, written from its schema."""
    return meta("text", id=id, type=message_type, text=None, **{message_type: body}, **fields)


def post(client, payload):
    assert post_meta(client, _without_none(payload)).status_code == 200


def _without_none(payload):
    payload = copy.deepcopy(payload)
    message = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    for key in [k for k, v in message.items() if v is None]:
        del message[key]
    return payload


def page(owner_client) -> str:
    """The customer page's text as the owner reads it (tags removed, entities decoded)."""
    customer = Customer.objects.get()
    response = owner_client.get(f"/dashboard/customers/{customer.pk}/?tab=activity")
    assert response.status_code == 200
    return _text(response.content.decode())


def page_html(owner_client) -> str:
    customer = Customer.objects.get()
    return owner_client.get(f"/dashboard/customers/{customer.pk}/?tab=activity").content.decode()


def _text(markup: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", markup)))


def inbound():
    return Interaction.objects.filter(direction="inbound")


def replay():
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        call_command("reprocess_inbound", stdout=StringIO())


def state():
    return list(
        Interaction.objects.order_by("pk").values_list(
            "pk", "body", "reactions", "edits", "edited_at", "deleted_at", "message_type"
        )
    )


# --- Meta: each type on the timeline -----------------------------------------------------------


def test_text_from_a_click_to_whatsapp_ad_shows_the_ad_above_it(client, shop, owner_client):
    post(client, meta("referral_ad_text", id="wamid.ad1"))
    message = inbound().get()
    assert message.content["referral"]["headline"] == "Chat with us"
    text = page(owner_client)
    assert "Came from an ad: Chat with us — Summer Succulents are here!" in text
    assert "Hello! Can I get more info on this?" in text
    assert 'href="https://fb.me/3cr4Wqqkv"' in page_html(owner_client)


def test_image_with_caption(client, shop, owner_client):
    post(client, meta("image", id="wamid.img1"))
    (media,) = inbound().get().media
    assert media["media_id"] == "1003383421387256" and media["sha256"].startswith("SfInY0")
    assert media["url"] == "meta-media:1003383421387256"
    text = page(owner_client)
    assert "Photo" in text and "Taj Mahal" in text


@pytest.mark.parametrize(
    "kind,body,label",
    [
        (
            "audio",
            {"id": "501", "mime_type": "audio/ogg; codecs=opus", "sha256": "aa", "voice": True},
            "Voice message",
        ),
        ("audio", {"id": "502", "mime_type": "audio/mpeg", "sha256": "ab"}, "Audio"),
        (
            "video",
            {"id": "503", "mime_type": "video/mp4", "sha256": "ac", "caption": "La robe portée"},
            "Video",
        ),
        ("sticker", {"id": "504", "mime_type": "image/webp", "sha256": "ad", "animated": False}, "Sticker"),
        (
            "document",
            {
                "id": "505",
                "mime_type": "application/pdf",
                "sha256": "ae",
                "filename": "facture-0042.pdf",
                "caption": "Ma facture",
            },
            "Document · facture-0042.pdf",
        ),
    ],
)
def test_media_types_say_what_they_are(client, shop, owner_client, kind, body, label):
    post(client, meta_message(kind, body, id=f"wamid.{kind}{body['id']}"))
    message = inbound().get()
    assert message.message_type == kind and message.media[0]["media_id"] == body["id"]
    text = page(owner_client)
    assert label in text
    # not downloaded here (no access token): a sentence naming the kind, never the technical reason
    kind_word = label.split(" ·")[0]
    assert re.search(rf"{kind_word} (not downloaded yet|could not be downloaded)", text), text
    assert "WHATSAPP_ACCESS_TOKEN" not in text.split("Details")[0]
    if body.get("caption"):
        assert body["caption"] in text


def test_location_with_name_address_and_a_map_link(client, shop, owner_client):
    post(client, meta("location", id="wamid.loc1"))
    text = page(owner_client)
    assert "Location: Philz Coffee 101 Forest Ave, Palo Alto, CA 94301" in text
    assert "Open the map" in text
    assert "https://www.openstreetmap.org/?mlat=37.442215&amp;mlon=-122.161659" in page_html(owner_client)


def test_shared_contacts_show_names_phones_and_emails(client, shop, owner_client):
    payload = meta("contacts", id="wamid.vcard1")
    card = payload["entry"][0]["changes"][0]["value"]["messages"][0]["contacts"][0]
    card["emails"] = [{"email": "lucia@example.com", "type": "WORK"}]
    post(client, payload)
    assert inbound().get().content["contacts"][0]["name"] == "Lucía Gómez"
    assert "Shared contacts: Lucía Gómez · +1 (983) 555-2319 · lucia@example.com" in page(owner_client)


def test_interactive_button_and_list_replies(client, shop, owner_client):
    post(client, meta("interactive_button_reply", id="wamid.btn1"))
    post(client, meta("interactive_list_reply", id="wamid.list1"))
    text = page(owner_client)
    assert "Button: Cancel" in text
    assert "Chose from the list: Priority Mail Express — Next Day to 2 Days" in text


def test_flow_answers_are_readable_key_value_lines_and_escaped(client, shop, owner_client):
    answers = {"flow_token": "secret-token", "taille": "38", "couleur": "<b>bleu</b>", "rappel": True}
    body = {
        "type": "nfm_reply",
        "nfm_reply": {"name": "flow", "body": "Sent", "response_json": json.dumps(answers)},
    }
    post(client, meta_message("interactive", body, id="wamid.flow1"))
    message = inbound().get()
    assert message.content["response"] == {"taille": "38", "couleur": "<b>bleu</b>", "rappel": "true"}
    markup = page_html(owner_client)
    assert "<dt>taille</dt><dd>38</dd>" in markup
    assert "&lt;b&gt;bleu&lt;/b&gt;" in markup and "<b>bleu</b>" not in markup
    assert "secret-token" not in markup
    assert "Form answered: flow" in page(owner_client)


def test_flow_answers_that_are_not_json_are_recorded_without_answers(client, shop, owner_client):
    body = {"type": "nfm_reply", "nfm_reply": {"name": "flow", "body": "Sent", "response_json": "{not json"}}
    post(client, meta_message("interactive", body, id="wamid.flow2"))
    assert inbound().get().content["response"] == {}
    assert "Form answered: flow" in page(owner_client)


def test_template_button_reply_shows_text_and_payload(client, shop, owner_client):
    payload = meta("button", id="wamid.tpl1")
    payload["entry"][0]["changes"][0]["value"]["messages"][0]["button"] = {
        "text": "Oui, je viens",
        "payload": "VISIT_YES",
    }
    post(client, payload)
    assert inbound().get().content == {"payload": "VISIT_YES"}
    assert "Button: Oui, je viens (VISIT_YES)" in page(owner_client)


def test_order_lines_and_total(client, shop, owner_client):
    post(client, meta("order", id="wamid.order1"))
    order = inbound().get().content["order"]
    assert order["catalog_id"] == "194836987003835" and len(order["items"]) == 2
    text = page(owner_client)
    assert "Order from the catalogue:" in text
    assert "2 × di9ozbzfi4 · 30.00 USD = 60.00 USD" in text
    assert "1 × nqryix03ez · 25.00 USD = 25.00 USD" in text
    assert "Total: 85.00 USD" in text


def test_an_answer_quotes_the_message_it_answers(client, shop, owner_client):
    post(client, meta("text", id="wamid.first"))
    answer = meta("text", id="wamid.second", context={"from": SENDER, "id": "wamid.first"})
    answer["entry"][0]["changes"][0]["value"]["messages"][0]["text"] = {"body": "Et en 38 ?"}
    post(client, answer)
    assert inbound().get(provider_message_id="wamid.second").context_message_id == "wamid.first"
    assert "In reply to their message: Does it come in another color?" in page(owner_client)


def test_an_answer_to_a_message_we_do_not_have_says_so(client, shop, owner_client):
    post(client, meta("text_context_product", id="wamid.ctx1"))
    text = page(owner_client)
    assert "In reply to a message we do not have" in text
    assert "About product di9ozbzfi4 (catalogue 194836987003835)" in text


@pytest.mark.parametrize(
    "context,mark",
    [({"forwarded": True}, "Forwarded"), ({"frequently_forwarded": True}, "Forwarded many times")],
)
def test_forwarded_marks(client, shop, owner_client, context, mark):
    post(client, meta("text", id="wamid.fwd", context=context))
    assert inbound().get().forwarded is True
    assert re.search(rf"{mark} Does it come in another color\?", page(owner_client))


def test_unsupported_and_unknown_types_are_shown_as_such(client, shop, owner_client):
    post(client, meta("unsupported", id="wamid.unsup1"))
    post(client, meta_message("call_permission_reply", {"response": "accept"}, id="wamid.unknown1"))
    text = page(owner_client)
    assert "A message this app cannot show yet (type: unsupported) — Message type unknown" in text
    assert "A message this app cannot show yet (type: call_permission_reply)" in text
    assert inbound().count() == 2


# --- Reactions, edits, revokes ----------------------------------------------------------------


def test_a_reaction_attaches_to_our_message_and_a_removal_removes_it(
    client, shop, owner_client, make_outbound
):
    customer = Customer.objects.create(shop=shop, phone="+" + SENDER, first_name="Julie")
    ours = make_outbound(
        shop, provider="meta", provider_message_id="wamid.ours", status="read", customer=customer
    )
    post(client, meta("reaction", id="wamid.r1", reaction={"message_id": "wamid.ours", "emoji": "👍"}))
    assert not inbound().exists()  # not a message of its own, nothing to answer
    ours.refresh_from_db()
    assert [r["emoji"] for r in ours.reactions] == ["👍"]
    assert "Reactions: 👍" in page(owner_client)
    before = state()
    replay()
    assert state() == before
    post(client, meta("reaction", id="wamid.r2", reaction={"message_id": "wamid.ours", "emoji": ""}))
    assert "Reactions:" not in page(owner_client)
    before = state()
    replay()  # the older 👍 replayed after its removal does not come back
    assert state() == before and not inbound().exists()


def test_a_reaction_to_a_message_we_do_not_have_is_a_small_line_until_the_message_arrives(
    client, shop, owner_client
):
    post(client, meta("reaction", id="wamid.r3", reaction={"message_id": "wamid.late", "emoji": "❤️"}))
    assert "Reacted ❤️ to a message we do not have" in page(owner_client)
    post(client, meta("text", id="wamid.late"))
    message = inbound().get()  # the line was folded into the message
    assert message.provider_message_id == "wamid.late" and [r["emoji"] for r in message.reactions] == ["❤️"]
    text = page(owner_client)
    assert "Reactions: ❤️" in text and "a message we do not have" not in text
    before = state()
    replay()
    assert state() == before


def test_an_edit_replaces_the_text_and_keeps_the_old_one(client, shop, owner_client):
    post(client, meta("text", id="wamid.orig"))
    edit = {"original_message_id": "wamid.orig", "message": {"type": "text", "text": {"body": "En rouge ?"}}}
    post(client, meta_message("edit", edit, id="wamid.edit1"))
    message = inbound().get()
    assert message.body == "En rouge ?" and message.edited_at is not None
    assert [e["body"] for e in message.edits] == ["Does it come in another color?"]
    markup = page_html(owner_client)
    assert '<details class="edits">' in markup
    text = _text(markup)
    assert "En rouge ?" in text and "edited" in text and "Does it come in another color?" in text
    before = state()
    replay()
    assert state() == before


def test_a_revoke_marks_the_message_deleted_and_keeps_it_behind_a_click(client, shop, owner_client):
    post(client, meta("text", id="wamid.gone"))
    post(client, meta_message("revoke", {"original_message_id": "wamid.gone"}, id="wamid.revoke1"))
    message = inbound().get()
    assert message.deleted_at is not None
    markup = page_html(owner_client)
    assert "Message deleted by the customer" in markup
    assert '<details class="deleted-body"><summary>Show what it said</summary>' in markup
    before = state()
    replay()
    assert state() == before


def test_an_edit_before_its_message_is_applied_when_the_message_arrives(client, shop, owner_client):
    edit = {"original_message_id": "wamid.slow", "message": {"type": "text", "text": {"body": "Corrigé"}}}
    post(client, meta_message("edit", edit, id="wamid.edit2"))
    assert "Edited a message we do not have. New text: Corrigé" in page(owner_client)
    post(client, meta("text", id="wamid.slow"))
    message = inbound().get()
    assert message.body == "Corrigé" and [e["body"] for e in message.edits] == [
        "Does it come in another color?"
    ]
    before = state()
    replay()
    assert state() == before


def test_another_customer_cannot_edit_a_message(client, shop, make_customer):
    post(client, meta("text", id="wamid.julie"))
    edit = {"original_message_id": "wamid.julie", "message": {"type": "text", "text": {"body": "pirate"}}}
    payload = meta_message("edit", edit, id="wamid.edit3")
    payload["entry"][0]["changes"][0]["value"]["messages"][0]["from"] = "33612345678"
    payload["entry"][0]["changes"][0]["value"]["contacts"][0]["wa_id"] = "33612345678"
    post(client, payload)
    assert Interaction.objects.get(provider_message_id="wamid.julie").body == "Does it come in another color?"


def test_another_customer_cannot_react_to_a_message(client, shop):
    post(client, meta("text", id="wamid.julie2"))
    payload = meta("reaction", id="wamid.r9", reaction={"message_id": "wamid.julie2", "emoji": "💩"})
    payload["entry"][0]["changes"][0]["value"]["messages"][0]["from"] = "33612345678"
    payload["entry"][0]["changes"][0]["value"]["contacts"][0]["wa_id"] = "33612345678"
    post(client, payload)
    assert Interaction.objects.get(provider_message_id="wamid.julie2").reactions == []


def test_an_order_with_absurd_amounts_is_shown_not_a_500(client, shop, owner_client):
    order = {
        "catalog_id": "1",
        "product_items": [
            {"product_retailer_id": "x", "quantity": 10**20, "item_price": 1e30, "currency": "EUR"}
        ],
    }
    post(client, meta_message("order", order, id="wamid.order-huge"))
    assert "Order from the catalogue:" in page(owner_client)


# --- Twilio WhatsApp ---------------------------------------------------------------------------


def twilio(**fields):
    params = json.loads((FIXTURES / "twilio" / "whatsapp_text.json").read_text())
    params.pop("_source", None)
    return {**params, **fields}


def test_twilio_media_with_several_files(client, shop, owner_client):
    sid = "MM" + "a" * 32
    base = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sid}/Media/"
    params = twilio(
        MessageSid=sid,
        SmsMessageSid=sid,
        SmsSid=sid,
        Body="Les deux modèles",
        NumMedia="2",
        MediaUrl0=base + "ME" + "1" * 32,
        MediaContentType0="image/jpeg",
        MediaUrl1=base + "ME" + "2" * 32,
        MediaContentType1="application/pdf",
    )
    assert post_twilio(client, WA_URL, params).status_code == 200
    assert [m["content_type"] for m in inbound().get().media] == ["image/jpeg", "application/pdf"]
    text = page(owner_client)
    assert "Les deux modèles" in text and "Photo" in text and "Document" in text


def test_twilio_location_button_payload_referral_and_reply(client, shop, owner_client):
    first = "SM" + "b" * 32
    assert (
        post_twilio(client, WA_URL, twilio(MessageSid=first, SmsMessageSid=first, SmsSid=first)).status_code
        == 200
    )
    located = "SM" + "c" * 32
    params = twilio(
        MessageSid=located,
        SmsMessageSid=located,
        SmsSid=located,
        Body="",
        Latitude="48.8566",
        Longitude="2.3522",
        Label="Boutique",
        Address="12 Rue de Rivoli",
        MessageType="location",
    )
    assert post_twilio(client, WA_URL, params).status_code == 200
    button = "SM" + "d" * 32
    params = twilio(
        MessageSid=button,
        SmsMessageSid=button,
        SmsSid=button,
        Body="Oui",
        ButtonText="Oui",
        ButtonPayload="VISIT_YES",
        OriginalRepliedMessageSid=first,
        ReferralHeadline="Soldes d'hiver",
        ReferralSourceUrl="https://fb.me/abc",
        ReferralSourceType="ad",
        ReferralBody="-30 % sur les robes",
    )
    assert post_twilio(client, WA_URL, params).status_code == 200
    message = inbound().get(provider_message_id=button)
    assert message.context_message_id == first and message.content["payload"] == "VISIT_YES"
    text = page(owner_client)
    assert "Location: Boutique 12 Rue de Rivoli" in text and "Open the map" in text
    assert "Button: Oui (VISIT_YES)" in text
    assert "Came from an ad: Soldes d'hiver — -30 % sur les robes" in text
    assert "In reply to their message:" in text


# --- Payloads written by another project (pywa, MIT: tests/fixtures/meta/pywa/messages.json) -------


def pywa(name, **fields):
    message = json.loads((FIXTURES / "meta" / "pywa" / "messages.json").read_text())[name]
    return meta("text", text=None, **{**message, "id": message["id"] + name, "from": SENDER, **fields})


@pytest.mark.parametrize(
    "name,seen",
    [
        ("video_forwarded", ["Forwarded", "Video", "caption"]),
        ("document_forwarded", ["Forwarded", "Document · filename.pdf", "caption"]),
        ("voice", ["Voice message"]),
        ("animated_sticker", ["Sticker"]),
        (
            "chosen_location",
            ["Forwarded", "Location: Facebook HQ 1 Hacker Way, Menlo Park, CA 94025", "Open the map"],
        ),
        (
            "flow_completion",
            [
                "In reply to a message we do not have",
                "Form answered: flow",
                "comment_text Comment Text",
                "delivery_rating 4",
            ],
        ),
    ],
)
def test_pywa_payloads_on_the_timeline(client, shop, owner_client, name, seen):
    post(client, pywa(name))
    text = page(owner_client)
    for words in seen:
        assert words in text
    assert "AQAAAAACS5FpgQ" not in text  # a Flow's token is the business's, not an answer


def test_pywa_edits_and_revoke_of_one_message(client, shop, owner_client):
    post(client, meta("image", id="wamid.zzzzzz"))
    post(client, pywa("edit_text"))
    post(client, pywa("edit_caption", timestamp="1697044969"))
    message = inbound().get()
    assert message.body == "caption"
    assert [e["body"] for e in message.edits] == ["Taj Mahal", "Text was edited"]
    post(client, pywa("revoke"))
    message.refresh_from_db()
    assert message.deleted_at is not None and inbound().count() == 1
    assert "Message deleted by the customer" in page(owner_client)
    before = state()
    replay()
    assert state() == before


def test_pywa_removed_reaction_without_emoji_removes_it(client, shop, owner_client):
    post(client, meta("text", id="wamid.yzxyzx="))
    post(
        client,
        pywa(
            "unreaction_no_emoji",
            reaction={"message_id": "wamid.yzxyzx=", "emoji": "😮"},
            id="wamid.react-before",
            timestamp="1697044455",
        ),
    )
    assert "Reactions: 😮" in page(owner_client)
    post(client, pywa("unreaction_no_emoji"))
    assert "Reactions:" not in page(owner_client) and inbound().count() == 1


def test_the_timeline_speaks_the_shops_french_and_escapes_what_customers_send(client, shop, owner):
    payload = meta("contacts", id="wamid.vcard-xss")
    card = payload["entry"][0]["changes"][0]["value"]["messages"][0]["contacts"][0]
    card["name"]["formatted_name"] = "<script>alert(1)</script>"
    post(client, payload)
    post(client, meta("order", id="wamid.order-fr"))
    french = Client()
    french.force_login(owner)
    markup = french.get(f"/dashboard/customers/{Customer.objects.get().pk}/?tab=activity").content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in markup and "<script>alert(1)" not in markup
    text = _text(markup)
    assert "Contacts partagés :" in text and "Total : 85.00 USD" in text
