"""E-shop connections in the admin (owners of the row's shop only, secrets shown as "set", Sync now
queues a task) and the connect_eshop / sync_eshop commands."""

import json
from datetime import UTC, datetime

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from catalog.models import Variant
from customers.models import Membership
from customers.services import membership_add
from eshops.models import EshopConnection
from eshops.services import SyncReport, connection_save
from eshops.status import sync_details, sync_status
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
    assert "jeton d’accès, secret des webhooks : enregistré(s)" in page  # the shop's language: French
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


def test_a_refused_form_says_the_typed_secrets_must_be_typed_again(client, owner, shop):
    client.force_login(owner)
    data = form_data(shop, shopify_domain="evil.example", secret_access_token=TOKEN)
    page = client.post(f"{CHANGELIST}add/", data).content.decode()
    assert "Les secrets saisis n’ont pas été gardés : saisissez-les de nouveau" in page
    assert "le domaine de la boutique doit être son nom xxx.myshopify.com" in page
    assert TOKEN not in page


def test_the_add_form_speaks_french_to_a_french_shop(client, owner, shop):
    client.force_login(owner)
    page = client.get(f"{CHANGELIST}add/").content.decode()
    for french in (
        "Plateforme",
        "Domaine Shopify",
        "Adresse du site",
        "Identifiants (enregistrés chiffrés)",
        "Webhooks et synchronisation",
        "Laisser vide pour garder la valeur enregistrée.",
        "Oublier tous les identifiants enregistrés",
        "affichée après l’enregistrement",
        "aucun",
    ):
        assert french in page, french
    for english in ("Provider", "Enabled", "Shopify domain", "Site url", "Empty keeps", "shown once saved"):
        assert english not in page, english


def test_the_webhook_url_is_absolute_on_the_request_s_host_without_public_base_url(
    client, owner, connection, settings
):
    settings.PUBLIC_BASE_URL = ""
    client.force_login(owner)
    page = client.get(f"{CHANGELIST}{connection.pk}/change/", HTTP_HOST="testserver").content.decode()
    assert f'value="http://testserver/eshops/shopify/{connection.webhook_token}/"' in page
    assert 'data-copy="eshop-webhook-url"' in page  # the Copy button, and the script it needs
    assert "dashboard/copy.js" in page


def test_the_webhook_url_uses_public_base_url_when_set(client, owner, connection, settings):
    settings.PUBLIC_BASE_URL = "https://crm.example.com"
    client.force_login(owner)
    page = client.get(f"{CHANGELIST}{connection.pk}/change/", HTTP_HOST="testserver").content.decode()
    assert f'value="https://crm.example.com/eshops/shopify/{connection.webhook_token}/"' in page
    assert "http://testserver/eshops/" not in page


def _synced(connection, report):
    connection.last_sync_at = datetime(2026, 12, 2, 12, 30, tzinfo=UTC)
    connection.last_sync_report = json.dumps(report.__dict__)
    connection.save()
    return connection


def test_a_failed_sync_reads_as_a_failure_in_words(connection):
    _synced(connection, SyncReport(error="POST coccinelle-test.myshopify.com: ConnectionError"))
    with translation.override("fr"):
        succeeded, text = sync_status(connection)
        details = sync_details(connection)
    assert succeeded is False
    assert text == "Échec : boutique en ligne injoignable (vérifiez l’adresse)"
    assert "Message technique : POST coccinelle-test.myshopify.com: ConnectionError" in details


def test_a_refused_token_and_a_stopped_orders_read_are_told_apart(connection):
    _synced(connection, SyncReport(products=3, error="orders: POST x.myshopify.com: HTTP 401: Unauthorized"))
    with translation.override("fr"):
        assert sync_status(connection) == (
            False,
            "Échec : commandes : la boutique en ligne a refusé les identifiants",
        )


def test_a_successful_sync_reads_as_counts(connection):
    _synced(connection, SyncReport(products=12, variants=40, created=40, rejected=2, orders=5))
    with translation.override("fr"):
        assert sync_status(connection) == (True, "12 produits, 40 variantes, 2 rejetées")
        assert sync_details(connection)[0] == "Produits : 12 ; variantes : 40 (40 nouvelles)"


def test_the_list_shows_one_last_sync_column_with_the_failure_marked(client, owner, connection):
    _synced(connection, SyncReport(error="POST coccinelle-test.myshopify.com: timed out after 20s"))
    client.force_login(owner)
    page = client.get(CHANGELIST).content.decode()
    assert "icon-no.svg" in page and "Échec : la boutique en ligne n’a pas répondu à temps" in page
    assert page.count("Dernière synchronisation") == 1  # one column, not the date and the report apart
    assert '"error"' not in page and "timed out" not in page  # no JSON, no technical message in the list


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
    assert "1 synchronisation demandée" in client.get(response.url).content.decode()


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


def test_connect_eshop_prints_the_absolute_webhook_url_with_public_base_url(shop, settings, capsys):
    settings.PUBLIC_BASE_URL = "https://crm.example.com"
    call_command("connect_eshop", "shopify", "--shop", shop.slug, "--domain", "coccinelle-test.myshopify.com")
    token = EshopConnection.objects.get(shop=shop).webhook_token
    assert f"webhook URL: https://crm.example.com/eshops/shopify/{token}/" in capsys.readouterr().out


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
