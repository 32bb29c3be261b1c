"""Media customers send (webhooks.media): downloaded by the worker from the fake Graph API and the fake
Twilio API into Django's storage, shown on the customer page, served to the shop's own people only,
retried when the failure passes, refused (and shown so) when it cannot, and erased with the customer."""

import base64
import copy
import hashlib
import io
import json
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.test import Client, TestCase
from django.urls import reverse

from customers.models import ChannelAddress, Customer, Interaction
from tests.fakes.meta_graph import FakeMetaGraph
from tests.fakes.twilio_api import FakeMediaCDN, FakeTwilioAPI
from tests.webhook_posting import META_APP_SECRET, TWILIO_TOKEN, WA_URL, post_meta, post_twilio
from webhooks.inbound import InboundMessage, Media
from webhooks.models import MediaFile
from webhooks.pipeline import inbound_receive
from webhooks.providers.download import sha256_hex

FIXTURES = Path(__file__).parent / "fixtures"
ACCOUNT_SID = "AC" + "1" * 32
META_TOKEN = "fake-meta-token"
SHOP_NUMBER = "+33757000000"
META_ID = "100000000000001"
# A 1x1 PNG: real bytes of a real type.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def _settings(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.TWILIO_AUTH_TOKEN = TWILIO_TOKEN
    settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
    settings.WHATSAPP_APP_SECRET = META_APP_SECRET
    settings.WHATSAPP_ACCESS_TOKEN = META_TOKEN
    settings.PUBLIC_BASE_URL = ""
    settings.MEDIA_RETRY_BASE_SECONDS = 1


@pytest.fixture
def graph(settings):
    with FakeMetaGraph(access_token=META_TOKEN) as fake:
        settings.WHATSAPP_GRAPH_BASE = fake.url
        yield fake


@pytest.fixture
def twilio_api(settings):
    with FakeTwilioAPI(account_sid=ACCOUNT_SID, auth_token=TWILIO_TOKEN) as fake:
        settings.TWILIO_API_BASE = fake.url
        yield fake


@pytest.fixture
def shop(shop):
    ChannelAddress.objects.create(shop=shop, provider="twilio", address=SHOP_NUMBER)
    ChannelAddress.objects.create(shop=shop, provider="meta", address=META_ID)
    return shop


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def meta_media_message(media_id: str, *, kind="image", mime_type="image/jpeg", sha256_of=None, **extra):
    """A Meta notification carrying one media message, shaped as tests/fixtures/meta/image_caption.json
    (the `sha256` in base64, as Meta writes it in webhooks)."""
    payload = copy.deepcopy(json.loads((FIXTURES / "meta" / "image_caption.json").read_text()))
    message = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    body = {"mime_type": mime_type, "id": media_id, **extra}
    if sha256_of is not None:
        body["sha256"] = base64.b64encode(hashlib.sha256(sha256_of).digest()).decode()
    message.pop("image")
    message.update(type=kind, id=f"wamid.media-{media_id}")
    message[kind] = body
    return payload


def twilio_media_form(media_url: str, content_type: str, sid="MM" + "a" * 32) -> dict:
    params = json.loads((FIXTURES / "twilio" / "whatsapp_image_caption.json").read_text())
    params.update(
        MessageSid=sid, SmsSid=sid, SmsMessageSid=sid, AccountSid=ACCOUNT_SID,
        MediaUrl0=media_url, MediaContentType0=content_type,
    )  # fmt: skip
    return params


def only_media() -> MediaFile:
    return MediaFile.objects.select_related("interaction__customer").get()


def page(client, customer) -> str:
    response = client.get(f"/dashboard/customers/{customer.pk}/?tab=activity")
    assert response.status_code == 200
    return response.content.decode()


def test_a_meta_image_is_downloaded_shown_and_served_to_the_shops_people_only(
    client, graph, shop, owner, staff, other_owner
):
    graph.add_media("1003383421387256", PNG, "image/png")
    post_meta(client, meta_media_message("1003383421387256", mime_type="image/png", sha256_of=PNG))

    media = only_media()
    assert media.state == "downloaded", media.error
    assert (media.provider, media.source, media.content_type, media.size) == (
        "meta",
        "1003383421387256",
        "image/png",
        len(PNG),
    )
    assert media.sha256 == hashlib.sha256(PNG).hexdigest()
    with default_storage.open(media.file.name, "rb") as stored:
        assert stored.read() == PNG
    # The Graph lookup, then the bytes from the URL it gave, both with the Bearer token.
    gets = [r for r in graph.requests if r.method == "GET"]
    assert [r.path for r in gets] == ["/v23.0/1003383421387256", "/whatsapp_business/attachments/"]
    assert all(r.headers["Authorization"] == f"Bearer {META_TOKEN}" for r in gets)

    url = f"/dashboard/media/{media.pk}/"
    html = page(_signed_in(owner), media.interaction.customer)
    assert f'<img class="media-thumb" src="{url}"' in html

    for user in (owner, staff):
        response = _signed_in(user).get(url)
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == PNG
        assert response["Content-Type"] == "image/png"
        assert response["Content-Disposition"].startswith("inline")
        assert response["X-Content-Type-Options"] == "nosniff"
        assert "default-src 'self'" in response["Content-Security-Policy"]
    assert _signed_in(other_owner).get(url).status_code == 404
    assert Client().get(url).status_code == 302  # to the sign-in page
    assert _signed_in(owner).get(f"/dashboard/media/{media.pk + 1}/").status_code == 404


def test_twilio_media_is_fetched_with_basic_auth_and_the_cdn_never_sees_the_credentials(
    client, twilio_api, shop, owner
):
    with FakeMediaCDN() as cdn:
        media_url = twilio_api.add_media("MM" + "a" * 32, "ME" + "b" * 32, PNG, "image/png", cdn=cdn)
        post_twilio(client, WA_URL, twilio_media_form(media_url, "image/png"))

        media = only_media()
        assert media.state == "downloaded", media.error
        assert (media.provider, media.source) == ("twilio", media_url)
        fetch = next(r for r in twilio_api.requests if r.method == "GET")
        expected = base64.b64encode(f"{ACCOUNT_SID}:{TWILIO_TOKEN}".encode()).decode()
        assert fetch.headers["Authorization"] == f"Basic {expected}"
        assert len(cdn.requests) == 1 and "Authorization" not in cdn.requests[0].headers
    assert f'src="/dashboard/media/{media.pk}/"' in page(_signed_in(owner), media.interaction.customer)


def test_a_meta_media_url_on_another_host_is_not_fetched_with_the_token(client, graph, shop):
    with FakeMediaCDN() as elsewhere:
        graph.media_host = elsewhere.url
        graph.add_media("555", PNG, "image/png")
        post_meta(client, meta_media_message("555", mime_type="image/png"))
        assert elsewhere.requests == []
    media = only_media()
    assert media.state == "failed" and "not on a Meta host" in media.error


def test_a_transient_failure_is_retried_until_the_file_arrives(client, graph, shop):
    graph.add_media("777", PNG, "image/png")
    graph.fail_media_next_with(503)
    post_meta(client, meta_media_message("777", mime_type="image/png"))

    media = only_media()
    assert (media.state, media.attempts, media.error) == ("downloaded", 2, "")


def test_failures_that_last_are_shown_with_the_reason_and_a_person_can_try_again(
    client, graph, shop, staff, settings
):
    settings.MEDIA_MAX_ATTEMPTS = 2
    graph.add_media("888", PNG, "image/png")
    graph.fail_media_next_with(503)
    graph.fail_media_next_with(503)
    post_meta(client, meta_media_message("888", mime_type="image/png"))

    media = only_media()
    assert (media.state, media.attempts) == ("failed", 2)
    assert "HTTP 503" in media.error
    as_staff = _signed_in(staff)
    html = page(as_staff, media.interaction.customer)
    # The shop speaks French: a calm sentence, a secondary button, the (English) reason folded away.
    block = _media_block(html, media)
    assert '<p class="media-state">Impossible de télécharger la photo</p>' in block
    assert '<details class="media-error"><summary>Détails</summary><p>' in block and "HTTP 503" in block
    assert 'class="error"' not in block and "téléchargement impossible" not in html
    assert f'action="/dashboard/media/{media.pk}/retry/"' in block
    assert '<button type="submit" class="button small secondary">Réessayer</button>' in block

    with TestCase.captureOnCommitCallbacks(execute=True):
        response = as_staff.post(f"/dashboard/media/{media.pk}/retry/")
    assert response.status_code == 302
    media.refresh_from_db()
    assert media.state == "downloaded"
    assert f'src="/dashboard/media/{media.pk}/"' in page(as_staff, media.interaction.customer)


def _media_block(html: str, media: MediaFile) -> str:
    """The markup of one file's <div class="media …"> on the timeline (templates/dashboard/_media.html)."""
    start = html.index(f'data-media-file-id="{media.pk}"')
    return html[html.rindex("<div", 0, start) : html.index("</div>", start)]


class _Ancestry(HTMLParser):
    """The classes of the open elements around each element that has `wanted` among its classes."""

    def __init__(self, wanted: str):
        super().__init__()
        self.wanted, self.open, self.found = wanted, [], []

    def handle_starttag(self, tag, attrs):
        classes = (dict(attrs).get("class") or "").split()
        if self.wanted in classes:
            self.found.append([c for _, cs in self.open for c in cs])
        if tag not in ("img", "input", "br", "meta", "link"):
            self.open.append((tag, classes))

    def handle_endtag(self, tag):
        while self.open and self.open.pop()[0] != tag:
            pass


def test_a_deleted_messages_file_is_behind_the_same_click_and_cannot_be_retried(client, graph, shop, owner):
    post_meta(client, meta_media_message("999001", mime_type="image/jpeg"))
    media = only_media()
    assert media.state == "failed"
    revoke = meta_media_message("999001")
    message = revoke["entry"][0]["changes"][0]["value"]["messages"][0]
    message.pop("image")
    message.update(type="revoke", id="wamid.revoke-999001", revoke={"original_message_id": message["id"]})
    post_meta(client, revoke)
    media.refresh_from_db()
    assert media.interaction.deleted_at is not None

    html = page(_signed_in(owner), media.interaction.customer)
    for wanted in ("media-kind", "media-failed"):
        parser = _Ancestry(wanted)
        parser.feed(html)
        assert len(parser.found) == 1 and "deleted-body" in parser.found[0], wanted
    assert "Impossible de télécharger la photo" in _media_block(html, media)
    assert "/retry/" not in html and "Réessayer" not in html
    # Nor does the retry address itself take it.
    response = _signed_in(owner).post(reverse("media-retry", args=[media.pk]))
    assert response.status_code == 404


def test_an_unknown_media_id_fails_at_once_and_is_shown(client, graph, shop, owner):
    post_meta(client, meta_media_message("999000", mime_type="image/jpeg"))
    media = only_media()
    assert (media.state, media.attempts) == ("failed", 1)
    assert "HTTP 400" in media.error
    assert not media.file
    html = page(_signed_in(owner), media.interaction.customer)
    assert "HTTP 400" in html
    assert _signed_in(owner).get(f"/dashboard/media/{media.pk}/").status_code == 404


@pytest.mark.parametrize("stated_size", [None, 10])  # Meta states the true size / a smaller one
def test_a_file_over_the_size_limit_is_refused(client, graph, shop, settings, stated_size):
    settings.MEDIA_MAX_BYTES = 50
    graph.add_media("4242", PNG + b"\0" * 100, "image/png", file_size=stated_size)
    post_meta(client, meta_media_message("4242", mime_type="image/png"))
    media = only_media()
    assert (media.state, media.attempts) == ("failed", 1)
    assert "too big" in media.error
    assert not media.file
    assert not any(Path(settings.MEDIA_ROOT).rglob("*.png"))


@pytest.mark.parametrize("content_type", ["text/html", "application/x-msdownload", "image/svg+xml"])
def test_a_type_that_could_run_in_a_browser_or_on_a_computer_is_refused(
    client, twilio_api, shop, owner, content_type
):
    media_url = twilio_api.add_media(
        "MM" + "a" * 32, "ME" + "c" * 32, b"<script>alert(1)</script>", content_type
    )
    post_twilio(client, WA_URL, twilio_media_form(media_url, content_type))
    media = only_media()
    assert media.state == "failed"
    assert media.error == f"file type not accepted: {content_type}"
    assert not media.file
    assert "file type not accepted" in page(_signed_in(owner), media.interaction.customer)


def test_a_checksum_that_does_not_match_is_refused(client, graph, shop):
    graph.add_media("31337", PNG, "image/png", sha256="0" * 64)
    post_meta(client, meta_media_message("31337", mime_type="image/png"))
    media = only_media()
    assert media.state == "failed" and "sha256" in media.error
    assert not media.file


def test_the_webhooks_base64_checksum_is_checked_too(graph, shop):
    """Meta writes the hash in base64 in webhooks (hex in the media lookup): both are compared."""
    graph.add_media("31338", PNG, "image/png")
    stated = base64.b64encode(hashlib.sha256(b"other bytes").digest()).decode()
    message = InboundMessage(
        provider="meta", channel="whatsapp", shop_address=META_ID, provider_message_id="wamid.b64",
        sender_phone="+33698765432", sender_whatsapp_id="33698765432", sender_raw="33698765432",
        media=(Media(url="meta-media:31338", content_type="image/png", sha256=stated, media_id="31338"),),
    )  # fmt: skip
    with TestCase.captureOnCommitCallbacks(execute=True):
        inbound_receive(message)
    media = only_media()
    assert media.state == "failed" and "sha256" in media.error
    assert sha256_hex(stated) == hashlib.sha256(b"other bytes").hexdigest()


def test_a_document_is_a_download_with_its_name(client, graph, shop, owner):
    graph.add_media("2024", PDF, "application/pdf")
    docx = b"PK\x03\x04 a docx is a zip"
    graph.add_media("2025", docx, "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    post_meta(
        client, meta_media_message("2024", kind="document", mime_type="application/pdf", filename="devis.pdf")
    )
    word = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    payload = meta_media_message("2025", kind="document", mime_type=word, filename="taille.docx")
    post_meta(client, payload)

    pdf_file, word_file = MediaFile.objects.order_by("pk")
    assert (pdf_file.state, word_file.state) == ("downloaded", "downloaded")
    as_owner = _signed_in(owner)
    response = as_owner.get(f"/dashboard/media/{pdf_file.pk}/")
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("inline")
    response = as_owner.get(f"/dashboard/media/{word_file.pk}/")
    assert response["Content-Disposition"].startswith("attachment")
    assert b"".join(response.streaming_content) == docx
    html = page(as_owner, word_file.interaction.customer)
    assert f'href="/dashboard/media/{word_file.pk}/"' in html


def test_erasing_the_customer_deletes_the_rows_and_the_stored_bytes(client, graph, shop, owner):
    graph.add_media("1212", PNG, "image/png")
    post_meta(client, meta_media_message("1212", mime_type="image/png"))
    media = only_media()
    name, customer = media.file.name, media.interaction.customer
    assert default_storage.exists(name)

    with TestCase.captureOnCommitCallbacks(execute=True):
        response = _signed_in(owner).post(f"/dashboard/customers/{customer.pk}/erase/", {"confirm": "on"})
    assert response.status_code == 302
    assert not Customer.objects.filter(pk=customer.pk).exists()
    assert not MediaFile.objects.exists()
    assert not default_storage.exists(name)


def test_a_replay_downloads_nothing_twice(client, graph, shop):
    graph.add_media("3434", PNG, "image/png")
    post_meta(client, meta_media_message("3434", mime_type="image/png"))
    first = only_media()
    with TestCase.captureOnCommitCallbacks(execute=True):
        call_command("reprocess_inbound", stdout=io.StringIO())
    assert only_media().pk == first.pk
    assert Interaction.objects.filter(direction="inbound").count() == 1
    assert len([r for r in graph.requests if r.method == "GET"]) == 2


def test_credentials_go_to_the_configured_host_only_over_its_own_scheme():
    from webhooks.providers.download import vendor_owns

    base = "https://graph.facebook.com"
    domains = ("facebook.com",)
    assert vendor_owns("https://graph.facebook.com/v23.0/1", configured_base=base, domains=domains)
    assert not vendor_owns("http://graph.facebook.com/v23.0/1", configured_base=base, domains=domains)
    assert not vendor_owns("http://lookaside.fbsbx.facebook.com/x", configured_base=base, domains=domains)
    assert not vendor_owns("https://evil.example/x", configured_base=base, domains=domains)
