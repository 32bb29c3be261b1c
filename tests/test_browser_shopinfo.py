"""The Hours and facts page in a real Chromium, at a desktop's and a phone's width: reached from the
shop settings, a week typed as owners write it and read back, a holiday added, a fact with its English
version; hours typed and not saved are not lost to a holiday added below without asking. No page scrolls
sideways, no console error (the CSP holds). Screenshots: test-artifacts/shop-info-*.png.
"""

import pytest

from customers.models import Membership
from customers.services import membership_add, shop_create
from shopinfo.models import HoursException, ShopProfile
from tests.test_browser import ARTIFACTS, browser, pytestmark  # noqa: F401 (fixtures and marks)
from tests.test_browser_api_keys import DESKTOP, PHONE, overflow, signed_in


@pytest.fixture
def boutique(django_user_model):
    shop = shop_create(name="Maison Coccinelle", country="FR", language="en")
    owner = django_user_model.objects.create_user("lila", password="lila-pw-2026", is_staff=True)
    membership_add(shop=shop, user=owner, role=Membership.Role.OWNER)
    return shop


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "390"])
def test_an_owner_sets_the_week_a_holiday_and_a_fact(browser, live_server, boutique, viewport):  # noqa: F811
    width = viewport["width"]
    context, page, errors = signed_in(browser, live_server, viewport)
    page.get_by_role("link", name="Hours and facts").click()
    page.wait_for_url("**/dashboard/shop/info/")
    page.get_by_label("Monday").fill("closed")
    page.get_by_label("Tuesday").fill("10h-13h, 14h-19h")
    page.get_by_label("Saturday").fill("10 am - 6 pm")
    page.get_by_role("textbox", name="Delivery", exact=True).fill("France in 48 hours, €5.90.")
    page.get_by_role("textbox", name="Signature").fill("Lila, Maison Coccinelle")
    page.locator("#shop-info-form").get_by_role("button", name="Save").click()
    page.wait_for_selector("text=Hours and facts saved.")
    # Read back as understood.
    assert page.get_by_label("Tuesday").input_value() == "10:00-13:00, 14:00-19:00"
    assert page.get_by_label("Saturday").input_value() == "10:00-18:00"
    assert page.get_by_label("Monday").input_value() == "closed"
    assert ShopProfile.objects.get(shop=boutique).signature == "Lila, Maison Coccinelle"

    # Typed above, not saved, then a holiday added below: the page asks first; "cancel" keeps both.
    page.get_by_label("Wednesday").fill("11:00-19:00")
    page.locator("#id_exception_first_day").fill("2027-12-25")
    page.locator("#id_exception_label").fill("Christmas")
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.locator("#exception-form").get_by_role("button", name="Add").click()
    assert asked and "not saved" in asked[0]
    assert page.get_by_label("Wednesday").input_value() == "11:00-19:00"
    assert not HoursException.objects.exists()

    page.locator("#shop-info-form").get_by_role("button", name="Save").click()
    page.wait_for_selector("text=Hours and facts saved.")
    page.locator("#id_exception_first_day").fill("2027-12-25")
    page.locator("#id_exception_label").fill("Christmas")
    page.locator("#exception-form").get_by_role("button", name="Add").click()
    page.wait_for_selector("text=Exception added.")
    assert "Christmas" in page.locator("#exceptions-table").inner_text()
    assert overflow(page) <= 0
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"shop-info-{width}.png"), full_page=True)
    assert not errors, errors
    context.close()
