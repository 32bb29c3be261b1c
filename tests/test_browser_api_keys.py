"""The owners' API keys page in a real Chromium, at a desktop's and a phone's width: from the shop
settings, create a key, read it once, call the API with it, see it listed by prefix, revoke it.

Same harness as tests/test_browser.py (its fixtures are reused); screenshots go to test-artifacts/
(api-keys.png, api-key-created.png, api-key-revoke.png and their -mobile variants).
"""

import pytest
import requests

from customers.models import Membership
from customers.models_keys import ApiKey
from customers.services import membership_add, shop_create
from tests.test_browser import ARTIFACTS, browser, pytestmark  # noqa: F401 (fixtures and marks)

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def boutique(django_user_model):
    shop = shop_create(name="Maison Coccinelle", country="FR", language="fr")
    owner = django_user_model.objects.create_user("lila", password="lila-pw-2026", is_staff=True)
    membership_add(shop=shop, user=owner, role=Membership.Role.OWNER)
    return shop


def signed_in(browser, live_server, viewport):  # noqa: F811
    context = browser.new_context(base_url=live_server.url, viewport=viewport)
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto("/dashboard/shop/")
    page.fill("input[name=username]", "lila")
    page.fill("input[name=password]", "lila-pw-2026")
    page.locator("main button[type=submit]").click()
    page.wait_for_selector("h1")
    return context, page, errors


def overflow(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


@pytest.mark.parametrize("viewport, suffix", [(DESKTOP, ""), (PHONE, "-mobile")])
def test_an_owner_creates_uses_and_revokes_a_key(browser, live_server, boutique, viewport, suffix):  # noqa: F811
    context, page, errors = signed_in(browser, live_server, viewport)
    ARTIFACTS.mkdir(exist_ok=True)
    page.get_by_role("link", name="Clés d’API").click()
    page.get_by_label("Nom").fill("Site marchand")
    page.get_by_label("Lecture et écriture", exact=False).check()
    page.screenshot(path=str(ARTIFACTS / f"api-keys{suffix}.png"), full_page=True)
    page.get_by_role("button", name="Créer la clé").click()

    key_box = page.locator("#api-key-value")
    raw = key_box.input_value()
    assert raw.startswith("coc_")
    assert "ne sera plus jamais affichée" in page.locator("[role=alert]").inner_text()
    created_overflow = overflow(page)
    page.screenshot(path=str(ARTIFACTS / f"api-key-created{suffix}.png"), full_page=True)
    assert raw not in page.url
    # Its Copy button puts exactly the key on the clipboard.
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page.get_by_role("button", name="Copier la clé").click()
    page.get_by_role("button", name="Copiée").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == raw

    # The key works at once, for this shop, with the scope chosen.
    api = requests.get(f"{live_server.url}/api/v1/customers/", headers={"Authorization": f"Bearer {raw}"})
    assert api.status_code == 200

    page.get_by_role("link", name="Je l’ai copiée").click()
    listing = page.locator("#api-key-list").inner_text()
    key = ApiKey.objects.get(shop=boutique)
    assert "Site marchand" in listing and key.prefix in listing and raw not in page.content()
    assert "lecture et écriture" in listing
    list_overflow = overflow(page)

    page.get_by_role("link", name="Révoquer Site marchand").click()
    page.screenshot(path=str(ARTIFACTS / f"api-key-revoke{suffix}.png"), full_page=True)
    page.get_by_role("button", name="Révoquer la clé").click()
    assert "révoquée" in page.locator(".messages").inner_text()
    page.screenshot(path=str(ARTIFACTS / f"api-keys-revoked{suffix}.png"), full_page=True)
    context.close()

    api = requests.get(f"{live_server.url}/api/v1/customers/", headers={"Authorization": f"Bearer {raw}"})
    assert api.status_code == 401
    assert created_overflow <= 0 and list_overflow <= 0, "the pages are wider than the screen"
    assert errors == []  # no CSP violation, no script error
