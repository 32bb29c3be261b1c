"""Issue 13's layout rough edges in a real Chromium: the list on a phone, the admin on a wide screen.

Same harness as tests/test_browser.py (its fixtures are reused); screenshots go to test-artifacts/.
"""

import pytest

from customers.models import Customer, Membership, Order
from customers.services import membership_add, shop_create, tags_get_or_create
from tests.test_browser import ARTIFACTS, browser, pytestmark  # noqa: F401 (fixtures and marks)

PHONE = {"width": 390, "height": 844}
FIRST_SCREEN_PX = 700


@pytest.fixture
def french_boutique(django_user_model):
    shop = shop_create(name="Maison Coccinelle", country="FR", language="fr")
    owner = django_user_model.objects.create_user(
        "lila", password="lila-pw-2026", email="lila@example.com", is_staff=True
    )
    membership_add(shop=shop, user=owner, role=Membership.Role.OWNER)
    tags = tags_get_or_create(shop=shop, names=["fidélité", "mariage", "taille 38"])
    for n in range(30):
        customer = Customer.objects.create(
            shop=shop, first_name=f"Camille{n}", last_name="Durand-Lefèvre", phone=f"+336112749{n:02d}",
            email=f"camille.durand-lefevre.{n}@boutique-exemple-tres-longue.fr", needs_attention=n == 3,
        )  # fmt: skip
        customer.tags.add(*tags)
        Order.objects.create(shop=shop, customer=customer, reference=f"R{n}", amount="1916.10")
    return shop


def signed_in(browser, live_server, viewport):  # noqa: F811
    context = browser.new_context(base_url=live_server.url, viewport=viewport)
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto("/dashboard/customers/")
    page.fill("input[name=username]", "lila")
    page.fill("input[name=password]", "lila-pw-2026")
    page.locator("main button[type=submit]").click()
    page.wait_for_selector("#customer-rows")
    return context, page


def test_on_a_phone_the_first_customer_is_on_the_first_screen(browser, live_server, french_boutique):  # noqa: F811
    context, page = signed_in(browser, live_server, PHONE)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "rough-list-390.png"))
    top = page.locator("#customer-rows tr[data-customer-id]").first.bounding_box()["y"]
    header = page.locator("header.topbar").bounding_box()["height"]
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=str(ARTIFACTS / "rough-list-1280.png"))
    context.close()
    assert top < FIRST_SCREEN_PX, f"first customer at {top}px"
    # The bar wraps on a phone (every control in sight, tests/test_browser_analytics.py) rather than
    # scrolling sideways; it stays a band, not a page.
    assert header < 135, f"header {header}px high"


def test_the_admin_changelist_fits_a_1400px_screen(browser, live_server, french_boutique):  # noqa: F811
    context, page = signed_in(browser, live_server, {"width": 1400, "height": 900})
    page.goto("/admin/customers/customer/")
    page.screenshot(path=str(ARTIFACTS / "rough-admin-1400.png"), full_page=True)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    results = page.locator("#changelist .results")
    hidden = results.evaluate("box => box.scrollWidth - box.clientWidth")
    context.close()
    assert overflow <= 0, f"the page is {overflow}px wider than the screen"
    assert hidden <= 0, f"{hidden}px of the changelist's columns are cut off"


def test_the_customer_page_leads_with_edit_not_erase(browser, live_server, french_boutique):  # noqa: F811
    customer = Customer.objects.filter(shop=french_boutique).order_by("pk").first()
    customer.address_line1, customer.city, customer.language, customer.source = (
        "3 rue X",
        "Paris",
        "fr",
        "whatsapp",
    )
    customer.save()
    context, page = signed_in(browser, live_server, {"width": 1280, "height": 900})
    page.goto(f"/dashboard/customers/{customer.pk}/")
    page.screenshot(path=str(ARTIFACTS / "rough-detail-1280.png"))
    erase = page.locator(".profile-actions .danger-outline")
    edit = page.locator(".profile-actions a", has_text="Modifier")
    styles = "el => getComputedStyle(el).backgroundColor"
    erase_bg, edit_bg = erase.evaluate(styles), edit.evaluate(styles)
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(ARTIFACTS / "rough-detail-390.png"))
    context.close()
    assert erase_bg == "rgb(255, 255, 255)" and edit_bg != erase_bg  # outline, the filled one is Edit


def test_the_stat_cards_follow_live(browser, live_server, french_boutique):  # noqa: F811
    from playwright.sync_api import expect

    context, page = signed_in(browser, live_server, {"width": 1280, "height": 900})
    expect(page.locator('[data-stat="total"]')).to_have_text("30")
    Customer.objects.create(
        shop=french_boutique, first_name="Nouvelle", phone="+33699887766", needs_attention=True
    )
    expect(page.locator('[data-stat="total"]')).to_have_text("31")  # the next poll, within 3 s
    expect(page.locator('[data-stat="needs_attention"]')).to_have_text("2")
    context.close()
