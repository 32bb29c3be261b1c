"""The CRM admin: owners configure and test connections, secrets never shown back, tenants apart."""

import pytest

from crm_backends.models import CrmConnection, CustomerSync, SyncItem
from tests.fakes.hubspot import FakeHubSpot

CHANGELIST = "/admin/crm_backends/crmconnection/"


@pytest.fixture(autouse=True)
def _fakes_are_allowed_crm_hosts(settings):
    """The local fakes listen on 127.0.0.1, which is no CRM's host: allow it, as ops would for a fake."""
    settings.CRM_ALLOWED_HOSTS = ["127.0.0.1"]


@pytest.fixture
def hubspot():
    with FakeHubSpot(token="pat-na1-secret-token-1234") as fake:
        yield fake


@pytest.fixture
def connection(shop, hubspot):
    conn = CrmConnection(shop=shop, backend="hubspot", options={"api_base": hubspot.url})
    conn.set_secrets({"token": "pat-na1-secret-token-1234"})
    conn.save()
    return conn


def test_owner_sees_masked_credentials_never_the_secret(client, owner, connection):
    client.force_login(owner)
    page = client.get(f"{CHANGELIST}{connection.pk}/change/").content.decode()
    assert "pat-na1-secret-token-1234" not in page and "1234" in page and "••••" in page


def test_owner_sets_a_secret_through_the_form_and_it_is_stored_encrypted(client, owner, shop, hubspot):
    client.force_login(owner)
    response = client.post(
        f"{CHANGELIST}add/",
        {
            "shop": shop.pk,
            "backend": "hubspot",
            "enabled": "on",
            "options": f'{{"api_base": "{hubspot.url}"}}',
            "secret_token": "pat-na1-typed-9999",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    conn = CrmConnection.objects.get(shop=shop)
    assert conn.secrets == {"token": "pat-na1-typed-9999"} and "typed" not in conn.secrets_encrypted
    # Saving again with the field empty keeps the stored secret.
    client.post(f"{CHANGELIST}{conn.pk}/change/", {"shop": shop.pk, "backend": "hubspot", "enabled": "on",
                                                     "options": "{}"})  # fmt: skip
    conn.refresh_from_db()
    assert conn.secrets == {"token": "pat-na1-typed-9999"}


def test_test_connection_action_reports_what_works(client, owner, connection, hubspot):
    client.force_login(owner)
    response = client.post(
        CHANGELIST, {"action": "test_connection", "_selected_action": [connection.pk]}, follow=True
    )
    text = response.content.decode()
    assert "✓ credentials" in text and "✓ contacts" in text
    connection.refresh_from_db()
    assert connection.last_test_at is not None and connection.options["portal_id"]


def test_test_connection_says_what_fails(client, owner, connection):
    connection.set_secrets({"token": "wrong"})
    connection.save()
    client.force_login(owner)
    text = client.post(
        CHANGELIST, {"action": "test_connection", "_selected_action": [connection.pk]}, follow=True
    )
    assert "✗ contacts" in text.content.decode() and "401" in text.content.decode()


def test_staff_cannot_see_connections(client, staff, connection):
    client.force_login(staff)
    assert client.get(CHANGELIST).status_code == 403
    assert client.get(f"{CHANGELIST}{connection.pk}/change/").status_code in (403, 404)


def test_another_shop_sees_nothing_of_this_connection_or_its_queue(
    client, other_owner, connection, shop, make_customer
):
    make_customer(shop, first_name="Julie")
    client.force_login(other_owner)
    assert "Boutique Coccinelle" not in client.get(CHANGELIST).content.decode()
    assert client.get(f"{CHANGELIST}{connection.pk}/change/").status_code == 404
    queue = client.get("/admin/crm_backends/syncitem/").content.decode()
    assert "Julie" not in queue
    item = SyncItem.objects.get()
    assert client.get(f"/admin/crm_backends/syncitem/{item.pk}/change/").status_code == 404


def test_customer_page_shows_sync_state_and_retry_requeues(
    client, owner, connection, shop, make_customer, hubspot
):
    customer = make_customer(shop, first_name="Julie")
    SyncItem.objects.filter(customer=customer).update(
        state="failed", last_error="HTTP 400: Email address invalid"
    )
    CustomerSync.objects.filter(customer=customer).update(
        status="failed", last_error="HTTP 400: Email address invalid"
    )
    client.force_login(owner)
    page = client.get(f"/admin/customers/customer/{customer.pk}/change/").content.decode()
    assert "CRM sync" in page and "Email address invalid" in page
    client.post("/admin/customers/customer/", {"action": "retry_crm_sync", "_selected_action": [customer.pk]})
    assert CustomerSync.objects.get(customer=customer).status in ("pending", "synced")
    assert not SyncItem.objects.filter(customer=customer, state="failed").exists()


# --- the dashboard's customer page ------------------------------------------------------------------


def test_dashboard_shows_synced_state_with_a_link(client, staff, connection, shop, make_customer):
    customer = make_customer(shop, first_name="Julie")
    connection.options = {**connection.options, "portal_id": 4242}
    connection.save()
    CustomerSync.objects.filter(customer=customer).update(
        status="synced", external_id="901", synced_at=customer.created_at
    )
    client.force_login(staff)
    page = client.get(f"/dashboard/customers/{customer.pk}/").content.decode()
    assert 'id="crm-sync-title"' in page and "https://app.hubspot.com/contacts/4242/record/0-1/901" in page


def test_dashboard_shows_the_error_and_retry_requeues(client, staff, connection, shop, make_customer):
    customer = make_customer(shop, first_name="Julie")
    SyncItem.objects.filter(customer=customer).update(state="failed", last_error="HTTP 400: <b>invalid</b>")
    CustomerSync.objects.filter(customer=customer).update(
        status="failed", last_error="HTTP 400: <b>invalid</b>"
    )
    client.force_login(staff)
    page = client.get(f"/dashboard/customers/{customer.pk}/").content.decode()
    assert "HTTP 400: &lt;b&gt;invalid&lt;/b&gt;" in page  # the CRM's message, escaped
    assert f'action="/dashboard/customers/{customer.pk}/crm-retry/"' in page
    response = client.post(f"/dashboard/customers/{customer.pk}/crm-retry/")
    assert response.status_code == 302
    assert not SyncItem.objects.filter(customer=customer, state="failed").exists()
    assert CustomerSync.objects.get(customer=customer).status in ("pending", "synced")


def test_dashboard_retry_of_another_shops_customer_is_404(
    client, other_owner, connection, shop, make_customer
):
    customer = make_customer(shop)
    client.force_login(other_owner)
    assert client.post(f"/dashboard/customers/{customer.pk}/crm-retry/").status_code == 404
