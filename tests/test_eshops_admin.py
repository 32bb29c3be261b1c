"""E-shop connections in the admin (owners of the row's shop only, secrets shown as "set", Sync now
queues a task) and the connect_eshop / sync_eshop commands."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from catalog.models import Variant
from customers.models import Membership
from customers.services import membership_add
from eshops.models import EshopConnection
from eshops.services import connection_save
from tests.fakes.shopify import FakeShopify, variant_node

CHANGELIST = "/admin/eshops/eshopconnection/"
TOKEN = "shpat_admin_secret_value"


@pytest.fixture
def connection(shop):
    return connection_save(
        shop=shop,
        provider="shopify",
        fields={"shopify_domain": "coccinelle-test.myshopify.com"},
        secrets={"access_token": TOKEN, "webhook_secret": "whsec_admin_value"},
    )


def form_data(shop, **extra):
    return {
        "shop": shop.pk,
        "provider": "shopify",
        "enabled": "on",
        "shopify_domain": "coccinelle-test.myshopify.com",
        "api_version": "2026-10",
        "site_url": "",
        **extra,
    }


def test_the_owner_adds_a_connection_and_its_secrets_are_never_shown_back(client, owner, shop):
    client.force_login(owner)
    response = client.post(
        f"{CHANGELIST}add/",
        form_data(shop, secret_access_token=TOKEN, secret_webhook_secret="whsec_admin_value"),
    )
    assert response.status_code == 302
    connection = EshopConnection.objects.get()
    assert connection.secrets == {"access_token": TOKEN, "webhook_secret": "whsec_admin_value"}

    page = client.get(f"{CHANGELIST}{connection.pk}/change/").content.decode()
    assert "access_token: set" in page and "webhook_secret: set" in page
    assert TOKEN not in page and "whsec_admin_value" not in page
    assert f"/eshops/shopify/{connection.webhook_token}/" in page


def test_saving_without_typing_a_secret_keeps_the_stored_one(client, owner, shop, connection):
    client.force_login(owner)
    data = form_data(shop, api_version="2026-07", shopify_domain=" Coccinelle-Test.myshopify.com ")
    response = client.post(f"{CHANGELIST}{connection.pk}/change/", data)
    assert response.status_code == 302
    connection.refresh_from_db()
    assert connection.api_version == "2026-07" and connection.secrets["access_token"] == TOKEN
    assert connection.shopify_domain == "coccinelle-test.myshopify.com"


def test_the_form_refuses_a_domain_that_is_not_a_myshopify_name(client, owner, shop):
    client.force_login(owner)
    response = client.post(f"{CHANGELIST}add/", form_data(shop, shopify_domain="evil.example"))
    assert response.status_code == 200 and "myshopify.com" in response.content.decode()
    assert not EshopConnection.objects.exists()


def test_staff_and_other_shops_owners_see_no_connection(client, staff, other_owner, connection, shop):
    client.force_login(staff)
    assert client.get(f"{CHANGELIST}{connection.pk}/change/").status_code in (302, 403, 404)
    client.force_login(other_owner)
    assert client.get(f"{CHANGELIST}{connection.pk}/change/").status_code in (302, 403, 404)
    membership_add(shop=shop, user=other_owner, role=Membership.Role.STAFF)  # staff here, owner elsewhere
    listing = client.get(CHANGELIST)
    assert "coccinelle-test.myshopify.com" not in listing.content.decode()


def test_sync_now_queues_the_sync_of_the_owner_s_connections(
    client, owner, shop, connection, settings, django_capture_on_commit_callbacks
):
    with FakeShopify(token=TOKEN) as fake:
        settings.ESHOPS_SHOPIFY_BASE_URL, settings.ESHOPS_ALLOWED_HOSTS = fake.url, ["127.0.0.1"]
        fake.variants = [variant_node(11, product_id=1, title="Robe", sku="ROB-38")]
        client.force_login(owner)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(CHANGELIST, {"action": "sync_now", "_selected_action": [connection.pk]})

    assert response.status_code == 302
    assert Variant.objects.filter(shop=shop, sku="ROB-38").exists()  # the task ran (eagerly, in tests)


def test_connect_eshop_reads_secrets_from_the_environment(shop, monkeypatch, capsys):
    monkeypatch.setenv("SHOPIFY_ACCESS_TOKEN", TOKEN)
    monkeypatch.setenv("ESHOP_WEBHOOK_SECRET", "whsec_cmd")

    call_command("connect_eshop", "shopify", "--shop", shop.slug, "--domain", "Coccinelle-Test.myshopify.com")

    out = capsys.readouterr().out
    connection = EshopConnection.objects.get(shop=shop)
    assert connection.shopify_domain == "coccinelle-test.myshopify.com"
    assert connection.secrets == {"access_token": TOKEN, "webhook_secret": "whsec_cmd"}
    assert "access_token, webhook_secret" in out and TOKEN not in out
    assert f"/eshops/shopify/{connection.webhook_token}/" in out


def test_connect_eshop_refuses_an_http_site(shop):
    with pytest.raises(CommandError, match="https"):
        call_command("connect_eshop", "woocommerce", "--shop", shop.slug, "--site", "http://boutique.example")


def test_sync_eshop_prints_the_report_and_exits_2_when_the_sync_stopped(shop, connection, settings, capsys):
    with FakeShopify(token="another-token") as fake:
        settings.ESHOPS_SHOPIFY_BASE_URL, settings.ESHOPS_ALLOWED_HOSTS = fake.url, ["127.0.0.1"]
        with pytest.raises(SystemExit) as exit_status:
            call_command("sync_eshop", "--shop", shop.slug)

    assert exit_status.value.code == 2
    out = capsys.readouterr().out
    assert "HTTP 401" in out and TOKEN not in out


def test_sync_eshop_without_a_connection_is_an_error(shop):
    with pytest.raises(CommandError, match="no enabled e-shop connection"):
        call_command("sync_eshop", "--shop", shop.slug)


def test_a_system_check_warns_when_e_shop_tokens_may_leave_the_vendors_hosts_in_production(settings):
    from eshops.checks import allowed_hosts_check

    settings.DEBUG, settings.ESHOPS_ALLOWED_HOSTS, settings.ESHOPS_SHOPIFY_BASE_URL = False, [], ""
    assert allowed_hosts_check(None) == []
    settings.ESHOPS_ALLOWED_HOSTS = ["127.0.0.1"]
    assert [w.id for w in allowed_hosts_check(None)] == ["eshops.W001"]
