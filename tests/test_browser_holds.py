"""The Holds list and the customer page's Holds panel in a real Chromium, at a desktop's and a phone's
width: reach the list from the navigation, extend a hold, convert one after its confirmation page,
release one from the customer page. No page scrolls sideways, no console error (the CSP holds).

Same harness as tests/test_browser.py; screenshots go to test-artifacts/holds-*.png.
"""

from decimal import Decimal

import pytest

from catalog.holds import hold_create
from catalog.models import Hold
from catalog.services import product_upsert, variant_upsert_by_sku
from customers.models import Customer, Membership
from customers.services import membership_add, shop_create
from tests.test_browser import ARTIFACTS, browser, pytestmark  # noqa: F401 (fixtures and marks)
from tests.test_browser_api_keys import DESKTOP, PHONE, overflow, signed_in


@pytest.fixture
def boutique(django_user_model):
    shop = shop_create(name="Maison Coccinelle", country="FR", language="en")
    owner = django_user_model.objects.create_user("lila", password="lila-pw-2026", is_staff=True)
    membership_add(shop=shop, user=owner, role=Membership.Role.OWNER)
    product, _ = product_upsert(shop=shop, name="Robe portefeuille à fleurs")
    holds = []
    for n, (first, size) in enumerate([("Julie", "38"), ("Camille", "40"), ("Léa", "42")]):
        variant = variant_upsert_by_sku(
            shop=shop,
            sku=f"RPF-{size}-BLEU",
            fields={
                "product": product,
                "size": size,
                "color": "bleu nuit",
                "price": Decimal("89.00"),
                "stock": 2,
            },
        )[0]
        customer = Customer.objects.create(
            shop=shop, first_name=first, last_name="Martin", phone=f"+336987654{n:02d}"
        )
        holds.append(hold_create(customer=customer, variant=variant))
    return holds


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "390"])
def test_holds_list_and_customer_panel(browser, live_server, boutique, viewport):  # noqa: F811
    width = viewport["width"]
    context, page, errors = signed_in(browser, live_server, viewport)
    page.get_by_role("link", name="Holds").click()
    page.wait_for_url("**/dashboard/holds/")
    assert page.locator("#holds-table tbody tr").count() == 3 and overflow(page) <= 0
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"holds-{width}.png"), full_page=True)

    first, second, third = boutique
    page.locator(f"#hold-{first.pk}").get_by_role("button", name="Extend 24 h").click()
    page.wait_for_selector("text=The hold was extended by 24 hours.")
    page.locator(f"#hold-{second.pk}").get_by_role("link", name="Convert to order").click()
    page.wait_for_selector("h1:has-text('Convert this hold to an order?')")
    assert overflow(page) <= 0
    page.screenshot(path=str(ARTIFACTS / f"holds-convert-{width}.png"), full_page=True)
    page.locator("main").get_by_role("button", name="Convert to order").click()
    page.wait_for_selector("text=The hold became an order.")
    assert Hold.objects.get(pk=second.pk).state == "converted"

    page.goto(f"/dashboard/customers/{third.customer_id}/")
    panel = page.locator("section[aria-labelledby=holds-title]")
    assert "Robe portefeuille" in panel.inner_text() and overflow(page) <= 0
    page.screenshot(path=str(ARTIFACTS / f"holds-customer-{width}.png"), full_page=True)
    panel.get_by_role("link", name="Release").click()
    page.locator("main").get_by_role("button", name="Release the hold").click()
    page.wait_for_url(f"**/dashboard/customers/{third.customer_id}/")
    assert Hold.objects.get(pk=third.pk).state == "released"
    context.close()
    assert errors == []
