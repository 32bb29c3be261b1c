"""Where API keys are made and unmade: the owners' page under the shop settings, the admin (read-only,
revoke), and the `create_api_key` / `revoke_api_key` commands."""

import io
import logging
import re

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from customers.api_keys import api_key_create
from customers.models_keys import ApiKey

pytestmark = pytest.mark.django_db
PAGE = "/dashboard/shop/api-keys/"


@pytest.fixture
def shop(shop):
    shop.language = "en"  # assertions read the English strings
    shop.save()
    return shop


def calls_shop_api(raw_key) -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    return client.get("/api/v1/shop/").status_code


# --- the page -----------------------------------------------------------------------------------


def test_the_shop_settings_link_to_the_keys_page(client, owner):
    client.force_login(owner)
    assert f'href="{PAGE}"' in client.get("/dashboard/shop/").content.decode()


def test_an_owner_creates_a_key_shown_once_and_listed_by_prefix_afterwards(client, owner, shop, caplog):
    client.force_login(owner)
    caplog.set_level(logging.DEBUG)
    response = client.post(PAGE, {"name": "E-shop orders", "scope": "write"})
    assert response.status_code == 200
    html = response.content.decode()
    raw = re.search(r'id="api-key-value"[^>]*>(coc_[^<]+)</textarea>', html).group(1)
    assert "will not be shown again" in html
    assert "no-store" in response["Cache-Control"]
    key = ApiKey.objects.get(shop=shop)
    assert (key.name, key.scope, key.created_by) == ("E-shop orders", "write", owner)
    assert raw.startswith(key.prefix) and raw not in key.key_hash
    assert calls_shop_api(raw) == 200
    # Never again: not on the list, not in a message (cookie), not in the session, not in a log.
    listing = client.get(PAGE).content.decode()
    assert key.prefix in listing and raw not in listing
    assert raw not in str(response.cookies) and raw not in str(client.cookies)
    assert all(raw not in str(value) for value in client.session.values())
    assert raw not in caplog.text


def test_sending_the_same_form_twice_a_reload_creates_one_key(client, owner, shop):
    client.force_login(owner)
    once = re.search(r'name="once" value="([^"]+)"', client.get(PAGE).content.decode()).group(1)
    first = client.post(PAGE, {"name": "Compta", "scope": "read", "once": once})
    assert "api-key-value" in first.content.decode()
    again = client.post(PAGE, {"name": "Compta", "scope": "read", "once": once}, follow=True)
    assert "api-key-value" not in again.content.decode() and "already sent" in again.content.decode()
    assert ApiKey.objects.filter(shop=shop).count() == 1
    # A new rendering of the form is a new form.
    once = re.search(r'name="once" value="([^"]+)"', client.get(PAGE).content.decode()).group(1)
    client.post(PAGE, {"name": "Compta 2", "scope": "read", "once": once})
    assert ApiKey.objects.filter(shop=shop).count() == 2


def test_the_list_says_who_created_it_when_and_its_last_use(client, owner, shop):
    key, raw = api_key_create(shop=shop, name="Zapier", scope="read", actor=owner)
    client.force_login(owner)
    assert "never used" in client.get(PAGE).content.decode()
    calls_shop_api(raw)
    html = client.get(PAGE).content.decode()
    assert "Zapier" in html and f"{key.prefix}…" in html and "created by owner" in html
    assert "last used" in html and "never used" not in html


def test_a_key_needs_a_name_and_a_known_scope(client, owner, shop):
    client.force_login(owner)
    assert client.post(PAGE, {"name": "  ", "scope": "read"}).status_code == 400
    assert client.post(PAGE, {"name": "x", "scope": "root"}).status_code == 400
    assert not ApiKey.objects.exists()


def test_revoking_asks_first_then_the_key_is_refused(client, owner, shop):
    key, raw = api_key_create(shop=shop, name="Old e-shop", scope="write")
    client.force_login(owner)
    confirm = client.get(f"{PAGE}{key.pk}/revoke/")
    assert confirm.status_code == 200 and "Revoke the key" in confirm.content.decode()
    key.refresh_from_db()
    assert key.revoked_at is None and calls_shop_api(raw) == 200
    response = client.post(f"{PAGE}{key.pk}/revoke/")
    assert response.status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None and calls_shop_api(raw) == 401
    assert "revoked on" in client.get(PAGE).content.decode()


def test_staff_get_403_on_the_keys_pages(client, staff, shop):
    key, _raw = api_key_create(shop=shop, name="k", scope="read")
    client.force_login(staff)
    refused = client.get(PAGE)
    assert refused.status_code == 403
    # A page of the app, in the shop's language, that says why and leads back (not a bare "403").
    assert "for the shop's owners only" in refused.content.decode()
    assert "/dashboard/customers/" in refused.content.decode()
    assert client.post(PAGE, {"name": "mine", "scope": "owner"}).status_code == 403
    assert client.post(f"{PAGE}{key.pk}/revoke/").status_code == 403
    key.refresh_from_db()
    assert key.revoked_at is None and ApiKey.objects.count() == 1


def test_shop_bs_owner_can_neither_see_nor_revoke_shop_as_keys(client, shop, other_owner):
    key, raw = api_key_create(shop=shop, name="A's e-shop", scope="owner")
    client.force_login(other_owner)
    assert "A&#x27;s e-shop" not in client.get(PAGE).content.decode()
    assert client.get(f"{PAGE}{key.pk}/revoke/").status_code == 404
    assert client.post(f"{PAGE}{key.pk}/revoke/").status_code == 404
    key.refresh_from_db()
    assert key.revoked_at is None and calls_shop_api(raw) == 200


def test_signed_out_visitors_are_sent_to_sign_in(client, shop):
    assert client.get(PAGE).status_code == 302


# --- the admin ----------------------------------------------------------------------------------


def test_the_admin_lists_keys_read_only_without_the_hash_and_revokes(client, owner, shop, other_shop):
    mine, raw = api_key_create(shop=shop, name="Mine", scope="read")
    theirs, _ = api_key_create(shop=other_shop, name="Theirs", scope="read")
    client.force_login(owner)
    listing = client.get("/admin/customers/apikey/").content.decode()
    assert "Mine" in listing and "Theirs" not in listing
    page = client.get(f"/admin/customers/apikey/{mine.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert mine.key_hash not in html and raw not in html and 'name="name"' not in html  # read-only
    assert client.get("/admin/customers/apikey/add/").status_code == 403
    assert client.get(f"/admin/customers/apikey/{theirs.pk}/change/").status_code in (302, 404)
    client.post(
        "/admin/customers/apikey/",
        {"action": "revoke_selected", "_selected_action": [mine.pk, theirs.pk]},
    )
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.revoked_at is not None and theirs.revoked_at is None


def test_staff_do_not_see_the_keys_in_the_admin(client, staff, shop):
    api_key_create(shop=shop, name="k", scope="read")
    client.force_login(staff)
    assert client.get("/admin/customers/apikey/").status_code == 403


# --- the commands -------------------------------------------------------------------------------


def run(*args):
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_create_api_key_prints_the_key_alone_on_its_last_line_and_it_works(shop):
    out = run("create_api_key", "--shop", shop.slug, "--name", "E-shop", "--scope", "owner")
    raw = out.strip().splitlines()[-1]
    assert re.fullmatch(r"coc_[A-Za-z0-9_-]{40,}", raw)
    key = ApiKey.objects.get(shop=shop)
    assert (key.name, key.scope, key.prefix) == ("E-shop", "owner", raw[:12])
    assert out.count(raw) == 1
    assert calls_shop_api(raw) == 200


def test_create_api_key_defaults_to_read_and_reports_a_bad_slug(shop):
    raw = run("create_api_key", "--shop", shop.slug, "--name", "Reader").strip().splitlines()[-1]
    assert ApiKey.objects.get(shop=shop).scope == "read" and calls_shop_api(raw) == 200
    with pytest.raises(CommandError, match="No shop with slug"):
        run("create_api_key", "--shop", "nope", "--name", "x")


def test_revoke_api_key_by_prefix(shop, other_shop):
    key, raw = api_key_create(shop=shop, name="Old", scope="read")
    with pytest.raises(CommandError, match="No API key"):
        run("revoke_api_key", "--shop", other_shop.slug, "--prefix", key.prefix)  # not that shop's
    with pytest.raises(CommandError):
        run("revoke_api_key", "--shop", shop.slug, "--prefix", "coc_")  # too short to name one key
    assert "revoked" in run("revoke_api_key", "--shop", shop.slug, "--prefix", f"{key.prefix}…")
    key.refresh_from_db()
    assert key.revoked_at is not None and calls_shop_api(raw) == 401
    assert "already revoked" in run("revoke_api_key", "--shop", shop.slug, "--prefix", raw)
