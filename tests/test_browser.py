"""The dashboard in a real headless Chromium (Playwright), against the live test server.

Sign in, search with a local phone, filter, export the filtered CSV, open a customer, add a note, send a
message (to the fake Twilio API) and see it on the timeline, then receive a signed Twilio webhook and see
it appear without a reload. Screenshots of the pages go to test-artifacts/.
"""

import csv
import os
from pathlib import Path

import pytest
import requests
from twilio.request_validator import RequestValidator

from customers.models import ChannelAddress, Customer, Interaction, Membership, Note
from customers.services import membership_add, shop_create, tags_get_or_create
from tests.fakes.twilio_api import FakeTwilioAPI

# Playwright's sync API runs an event loop in this thread; the ORM calls of the test itself are fine.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
SID, TOKEN = "AC" + "3" * 32, "browser-twilio-token"
SHOP_NUMBER = "+33757000000"
TIMEOUT_MS = 10_000  # live updates poll every 3 s

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not CHROMIUM.exists() and os.environ.get("REQUIRE_BROWSER") != "1",
        reason="needs /usr/bin/chromium (apt-get install chromium); REQUIRE_BROWSER=1 forbids skipping",
    ),
]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), "REQUIRE_BROWSER=1 but /usr/bin/chromium is missing"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    yield page
    context.close()
    # A CSP violation or a script error shows in the console: the pages must have none.
    assert errors == []


@pytest.fixture
def twilio(settings, live_server):
    with FakeTwilioAPI(account_sid=SID, auth_token=TOKEN) as fake:
        settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = SID, TOKEN
        settings.TWILIO_API_BASE = fake.url
        settings.PUBLIC_BASE_URL = live_server.url  # the URL Twilio signs
        yield fake


@pytest.fixture
def boutique(django_user_model):
    shop = shop_create(name="Maison Coccinelle", country="FR", language="en")
    ChannelAddress.objects.create(shop=shop, provider="twilio", address=SHOP_NUMBER)
    owner = django_user_model.objects.create_user("lila", password="lila-pw-2026", email="lila@example.com")
    membership_add(shop=shop, user=owner, role=Membership.Role.OWNER)
    julie = Customer.objects.create(
        shop=shop, first_name="Julie", last_name="Martin", phone="+33698765432", preferred_channel="sms",
        needs_attention=True,
    )  # fmt: skip
    julie.tags.add(*tags_get_or_create(shop=shop, names=["fidèle"]))
    Interaction.objects.create(
        customer=julie, channel="sms", direction="inbound", body="Bonjour, avez-vous la robe en 38 ?"
    )
    Note.objects.create(customer=julie, body="Prefers to be called after 6pm", author=owner)
    for n, name in enumerate(["Camille Durand", "Hugo Bernard", "Léa Petit", "Nina Roux"]):
        first, last = name.split()
        Customer.objects.create(
            shop=shop, first_name=first, last_name=last, phone=f"+3361122334{n}",
            segment="vip" if n % 2 else "active", email=f"{first.lower()}@example.com",
        )  # fmt: skip
    return shop


def post_twilio_sms(base_url: str, *, sender: str, body: str, sid: str):
    url = f"{base_url}/webhooks/twilio/sms/"
    params = {"MessageSid": sid, "SmsSid": sid, "AccountSid": SID, "From": sender, "To": SHOP_NUMBER,
              "Body": body, "NumMedia": "0"}  # fmt: skip
    signature = RequestValidator(TOKEN).compute_signature(url, params)
    response = requests.post(url, data=params, headers={"X-Twilio-Signature": signature}, timeout=10)
    assert response.status_code == 200, response.text


def sign_in(page):
    page.goto("/dashboard/customers/")
    page.get_by_label("Username").fill("lila")
    page.get_by_label("Password").fill("lila-pw-2026")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/dashboard/customers/")


def shot(page, name, *, mobile=False):
    ARTIFACTS.mkdir(exist_ok=True)
    if mobile:
        page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)
    if mobile:
        page.set_viewport_size({"width": 1280, "height": 900})


def rows(page):
    return page.locator("#customer-rows tr[data-customer-id]")


def test_list_search_filter_and_export(page, boutique, twilio, live_server):
    from playwright.sync_api import expect

    sign_in(page)
    expect(rows(page)).to_have_count(5)
    expect(page.locator(".stat", has_text="Total customers")).to_contain_text("5")

    page.get_by_role("searchbox", name="Search").fill("06 98 76 54 32")
    page.get_by_role("button", name="Apply").click()
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_contain_text("Julie Martin")

    page.get_by_role("link", name="Reset").click()
    page.get_by_label("Segment", exact=True).select_option("vip")
    page.get_by_role("button", name="Apply").click()
    expect(rows(page)).to_have_count(2)
    shown = sorted(rows(page).evaluate_all("rows => rows.map(r => r.dataset.customerId)"))

    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    path = download.value.path()
    with open(path, encoding="utf-8") as exported:
        exported_ids = sorted(row["id"] for row in csv.DictReader(exported))
    assert exported_ids == shown

    page.get_by_role("link", name="Reset").click()
    shot(page, "customer-list.png")
    shot(page, "customer-list-mobile.png", mobile=True)

    # A new customer writes while the list is open: her row appears without a reload.
    page.evaluate("window.__sameDocument = true")
    post_twilio_sms(
        live_server.url, sender="+33655443322", body="Do you open on Sunday?", sid="SM" + "e" * 32
    )
    expect(rows(page).first).to_contain_text("06 55 44 33 22", timeout=TIMEOUT_MS)
    expect(rows(page)).to_have_count(6)
    assert page.evaluate("window.__sameDocument") is True
    # The webhook only stored the message; after its commit the (eager) worker recorded it and sent
    # the automatic reply through the Twilio Messages API.
    replies = [r.form() for r in twilio.requests if r.form().get("To") == "+33655443322"]
    assert len(replies) == 1 and replies[0]["From"] == SHOP_NUMBER and replies[0]["Body"]


def test_customer_page_note_send_and_live_inbound(page, boutique, twilio, live_server):
    from playwright.sync_api import expect

    sign_in(page)
    page.get_by_role("searchbox", name="Search").fill("06 98 76 54 32")
    page.keyboard.press("Enter")
    page.get_by_role("link", name="Julie Martin").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Julie Martin")
    expect(page.locator(".avatar")).to_have_text("JM")

    page.get_by_role("link", name="Notes", exact=True).click()
    page.get_by_label("New note").fill("Wants the blue dress in 38 <b>asap</b>")
    page.get_by_role("button", name="Add note").click()
    expect(page.locator(".notes")).to_contain_text("Wants the blue dress in 38 <b>asap</b>")
    expect(page.locator(".notes .note").first).to_contain_text("lila")

    page.get_by_label("SMS").check()
    page.get_by_role("textbox", name="Message").fill("Yes, we have it in 38: shall I keep it for you?")
    page.get_by_role("button", name="Send").click()
    page.wait_for_url("**tab=conversation")
    sent = page.locator("#thread-list .bubble.outbound").last
    expect(sent).to_contain_text("Yes, we have it in 38: shall I keep it for you?")
    expect(sent).to_contain_text("lila")
    assert twilio.requests and twilio.requests[0].form()["Body"].startswith("Yes, we have it in 38")

    page.evaluate("window.__sameDocument = true")
    post_twilio_sms(
        live_server.url, sender="+33698765432", body="Oui merci, je passe demain !", sid="SM" + "f" * 32
    )
    newest = page.locator("#thread-list .bubble").last
    expect(newest).to_contain_text("Oui merci, je passe demain !", timeout=TIMEOUT_MS)
    expect(newest).to_have_class("bubble inbound fresh")
    assert page.evaluate("window.__sameDocument") is True
    expect(page.locator("#live-region")).to_contain_text("New message from Julie Martin")

    shot(page, "customer-detail.png")
    shot(page, "customer-detail-mobile.png", mobile=True)


def test_untrusted_text_renders_as_text_in_the_browser(page, boutique, live_server):
    from playwright.sync_api import expect

    julie = Customer.objects.get(phone="+33698765432")
    Interaction.objects.create(
        customer=julie, channel="sms", direction="inbound", body="<script>alert(1)</script>"
    )
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    sign_in(page)
    page.goto(f"/dashboard/customers/{julie.pk}/?tab=activity")
    expect(page.locator("#timeline-list .entry").first).to_contain_text("<script>alert(1)</script>")
    assert dialogs == []


def open_julie(page):
    julie = Customer.objects.get(phone="+33698765432")
    page.goto(f"/dashboard/customers/{julie.pk}/")
    return julie


def test_inserting_a_saved_reply_by_slash_and_from_the_list(page, boutique, twilio, live_server):
    from playwright.sync_api import expect

    from webhooks.saved_replies import saved_reply_save

    boutique.opening_hours = "Tue–Sat 10:00–19:00"
    boutique.save()
    saved_reply_save(
        shop=boutique, name="Opening hours", texts={"en": "Hi {first_name}, we are open {shop_hours}."}
    )
    saved_reply_save(shop=boutique, name="Thanks", texts={"en": "Thank you {first_name}, see you soon!"})
    sign_in(page)
    open_julie(page)
    message = page.get_by_role("textbox", name="Message")
    message.fill("")
    message.press_sequentially("/open")
    suggestions = page.get_by_role("listbox", name="Saved replies")
    expect(suggestions).to_be_visible()
    expect(suggestions.get_by_role("option")).to_have_text(["Opening hours"])
    shot(page, "saved-reply-slash.png")
    message.press("Enter")
    expect(message).to_have_value("Hi Julie, we are open Tue–Sat 10:00–19:00.")
    expect(suggestions).to_be_hidden()

    # On a phone: the list and its button, the reply added where the cursor is.
    page.set_viewport_size({"width": 390, "height": 844})
    message.press("End")
    message.press_sequentially(" ")
    page.get_by_label("Saved reply").select_option(label="Thanks")
    page.get_by_role("button", name="Insert").click()
    expect(message).to_have_value("Hi Julie, we are open Tue–Sat 10:00–19:00. Thank you Julie, see you soon!")
    box = page.get_by_role("button", name="Insert").bounding_box()
    assert box and box["x"] + box["width"] <= 390  # inside the phone's width
    shot(page, "saved-reply-insert-mobile.png")
    page.set_viewport_size({"width": 1280, "height": 900})
    shot(page, "saved-reply-insert.png")

    page.get_by_label("SMS").check()
    page.get_by_role("button", name="Send", exact=True).click()
    page.wait_for_url("**tab=conversation")
    expect(page.locator(".flash")).to_have_text("Message sent.")
    assert (
        twilio.requests[0].form()["Body"]
        == "Hi Julie, we are open Tue–Sat 10:00–19:00. Thank you Julie, see you soon!"
    )


def test_a_whatsapp_template_sent_outside_the_24_hour_window(page, boutique, twilio, live_server):
    from playwright.sync_api import expect

    from webhooks.models import WhatsAppTemplate

    body = "Hello {{1}}, your order {{2}} is ready for pick-up."
    sid = twilio.add_content("order_ready", "en", body)
    WhatsAppTemplate.objects.create(
        shop=boutique, provider="twilio", name="order_ready", language="en", body=body, content_sid=sid,
        parameters=["first_name", ""],
    )  # fmt: skip
    sign_in(page)
    open_julie(page)  # Julie never wrote on WhatsApp: its window is closed
    expect(page.get_by_label("WhatsApp", exact=True)).to_be_disabled()
    page.get_by_text("WhatsApp templates (24-hour window closed)").click()
    template = page.locator("form.template-send")
    expect(template.get_by_label("Parameter 1")).to_have_value("Julie")
    template.get_by_label("Parameter 2").fill("#1042")
    shot(page, "template-send.png")
    page.set_viewport_size({"width": 390, "height": 844})
    button = template.get_by_role("button", name="Send template order_ready")
    box = button.bounding_box()
    assert box and box["x"] + box["width"] <= 390
    shot(page, "template-send-mobile.png")
    button.click()
    page.wait_for_url("**tab=conversation")
    expect(page.locator(".flash")).to_have_text("Message sent.")
    sent = page.locator("#thread-list .bubble.outbound").last
    expect(sent).to_contain_text("Hello Julie, your order #1042 is ready for pick-up.")
    form = twilio.requests[0].form()
    assert form["ContentSid"] == sid and form["To"] == "whatsapp:+33698765432" and "Body" not in form
    shot(page, "template-sent-mobile.png")
    page.set_viewport_size({"width": 1280, "height": 900})
    shot(page, "template-sent.png")
