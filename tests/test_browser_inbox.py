"""The inbox and the conversation view in a real headless Chromium (issue 13, items 1 and 2): a customer
asks for a person, appears in the inbox without a reload, is answered from the conversation view and
leaves the inbox. Screenshots at desktop and phone widths go to test-artifacts/."""

import pytest

from customers.models import Customer
from tests.test_browser import (  # noqa: F401 - fixtures
    TIMEOUT_MS,
    boutique,
    browser,
    page,
    post_twilio_sms,
    pytestmark,
    shot,
    sign_in,
    twilio,
)

pytestmark = pytestmark  # the browser tests' marks: Chromium, a live server, a real transaction


def test_a_customer_waits_in_the_inbox_until_someone_answers(page, boutique, twilio, live_server):  # noqa: F811
    from playwright.sync_api import expect

    sign_in(page)
    page.get_by_role("link", name="Inbox").click()
    page.wait_for_url("**/dashboard/inbox/")
    items = page.locator("#inbox-rows .inbox-item")
    expect(items).to_have_count(1)  # Julie, flagged in the fixture
    expect(page.locator("#inbox-count")).to_have_text("1")

    post_twilio_sms(
        live_server.url,
        sender="+33655443322",
        body="I want to speak to a human, this is a complaint about my order",
        sid="SM" + "c" * 32,
    )
    # Live: the new customer appears under Julie (she waited longer), and the count follows.
    expect(items).to_have_count(2, timeout=TIMEOUT_MS)
    newcomer = items.nth(1)
    expect(newcomer).to_contain_text("this is a complaint about my order")
    expect(newcomer).to_contain_text("SMS")
    expect(page.locator("#inbox-count")).to_have_text("2")
    shot(page, "inbox.png")
    shot(page, "inbox-mobile.png", mobile=True)

    newcomer.get_by_label("Assigned to").select_option(label="lila")
    newcomer.get_by_role("button", name="Assign").click()
    page.get_by_role("link", name="Mine").click()
    expect(items).to_have_count(1)
    expect(items.first).to_contain_text("this is a complaint")

    items.first.locator(".inbox-name").click()
    thread = page.locator("#thread-list")
    expect(thread.locator(".bubble.inbound").last).to_contain_text("this is a complaint about my order")
    expect(thread.locator(".bubble.outbound.automatic").last).to_contain_text("Automatic reply")
    page.get_by_label("SMS").check()
    page.get_by_role("textbox", name="Message").fill("So sorry! I am calling you right now.")
    page.get_by_role("button", name="Send").click()
    customer = Customer.objects.get(phone="+33655443322")
    page.goto(f"/dashboard/customers/{customer.pk}/")
    expect(thread.locator(".bubble.outbound").last).to_contain_text("So sorry! I am calling you right now.")
    shot(page, "conversation.png")
    shot(page, "conversation-mobile.png", mobile=True)

    page.get_by_role("link", name="Inbox").click()
    expect(page.locator("#inbox-rows .inbox-item")).to_have_count(1)  # only Julie still waits
    expect(page.locator("#inbox-rows")).not_to_contain_text("this is a complaint")
    expect(page.locator("#inbox-count")).to_have_text("1")


@pytest.mark.parametrize("width", [1280, 390])
def test_the_conversation_reads_like_a_chat(page, boutique, live_server, width):  # noqa: F811
    from playwright.sync_api import expect

    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page)
    julie = Customer.objects.get(phone="+33698765432")
    page.goto(f"/dashboard/customers/{julie.pk}/")
    bubble = page.locator("#thread-list .bubble.inbound").first
    expect(bubble).to_contain_text("avez-vous la robe en 38")
    # The customer's message on the left half, inside the page at any width.
    box, thread = bubble.bounding_box(), page.locator("#thread-list").bounding_box()
    assert box["x"] < thread["x"] + thread["width"] / 2
    assert box["x"] + box["width"] <= width
    # Nothing reaches past the screen but the header and the tab strip, which scroll sideways on their own.
    wide = page.evaluate(
        "[...document.querySelectorAll('body *')]"
        ".filter(e => e.getBoundingClientRect().right > innerWidth + 1)"
        ".filter(e => !e.closest('.topbar, nav.tabs ul'))"
        ".map(e => e.tagName + '.' + e.className)"
    )
    assert wide == []
    # And the page itself no wider than the screen (the header's hidden labels stay in its scrolling box).
    assert page.evaluate("document.documentElement.scrollWidth") <= width
