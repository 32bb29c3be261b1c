"""The HubSpot connector as HubSpot really is: results matched without trace ids, nothing blanked,
documented timestamps and retry classes, each error to its own record, the portal's own domain, OAuth
on the 2026-03 endpoints with the refresh token revoked when the connection goes."""

import re
from datetime import UTC, datetime

import pytest
from django.utils import timezone

from crm_backends import services
from crm_backends.hubspot import HubSpotBackend
from crm_backends.models import CrmConnection, CustomerSync, SyncItem
from crm_backends.services import connection_test, sync_drain
from customers.models import Customer, Interaction
from tests.fakes.hubspot import FakeHubSpot

UPSERT = "/crm/v3/objects/contacts/batch/upsert"


@pytest.fixture(autouse=True)
def _fakes_are_allowed_crm_hosts(settings):
    settings.CRM_ALLOWED_HOSTS = ["127.0.0.1"]


@pytest.fixture
def hubspot():
    with FakeHubSpot(token="hs-token") as fake:
        yield fake


def connect(shop, fake, **options):
    connection = CrmConnection(shop=shop, backend="hubspot", options={"api_base": fake.url, **options})
    connection.set_secrets({"token": "hs-token"})
    connection.save()
    return connection


@pytest.fixture
def connection(shop, hubspot):
    return connect(shop, hubspot)


def drain(connection, backend=None):
    while services.due_count(connection):
        if not sync_drain(connection, backend=backend).pushed:
            break


def sync_of(customer):
    return CustomerSync.objects.get(customer=customer)


def posted(fake, path):
    return [r for r in fake.requests if r.path == path]


# --- 1. matching without trace ids, no duplicates on retry --------------------------------------------


def test_contacts_are_matched_without_trace_ids(connection, hubspot, shop, make_customer):
    with_email = [make_customer(shop, first_name=f"E{n}", email=f"e{n}@example.com") for n in range(4)]
    without = [make_customer(shop, first_name=f"N{n}") for n in range(4)]
    drain(connection)
    for customer in with_email + without:
        contact = hubspot.contacts[sync_of(customer).external_id]
        assert sync_of(customer).status == "synced" and contact["firstname"] == customer.first_name
        assert contact["coccinelle_id"] == str(customer.pk)
    assert hubspot.contact_properties["coccinelle_id"]["hasUniqueValue"] is True
    assert len(posted(hubspot, UPSERT)) == 2  # one upsert by e-mail, one by coccinelle_id


def test_a_retry_after_a_lost_answer_finds_the_contact_instead_of_doubling_it(
    connection, hubspot, shop, make_customer
):
    customer = make_customer(shop, first_name="Léa")  # no e-mail
    drain(connection)
    first = sync_of(customer).external_id
    CustomerSync.objects.filter(customer=customer).update(external_id="")  # the answer never arrived
    customer.first_name = "Léa M."
    customer.save()
    drain(connection)
    assert sync_of(customer).external_id == first and len(hubspot.contacts) == 1
    assert hubspot.contacts[first]["firstname"] == "Léa M."


def test_a_contact_sales_created_is_adopted_and_stamped(connection, hubspot, shop, make_customer):
    existing = hubspot._store_contact({"email": "julie@example.com", "phone": "+33 1 23 45 67 89"})
    customer = make_customer(shop, first_name="Julie", email="julie@example.com")
    drain(connection)
    assert sync_of(customer).external_id == existing and len(hubspot.contacts) == 1
    assert hubspot.contacts[existing]["coccinelle_id"] == str(customer.pk)


def test_echoed_trace_ids_are_used_too(shop, make_customer):
    with FakeHubSpot(token="hs-token", echo_trace_ids=True) as fake:
        connection = connect(shop, fake)
        customers = [make_customer(shop, first_name=f"T{n}", email=f"t{n}@example.com") for n in range(3)]
        drain(connection)
        for customer in customers:
            assert fake.contacts[sync_of(customer).external_id]["firstname"] == customer.first_name


def test_without_the_schema_scope_contacts_without_email_are_created_one_by_one(shop, hubspot, make_customer):
    hubspot.scopes.discard("crm.schemas.contacts.write")
    connection = connect(shop, hubspot)
    checks = {c.name: c for c in connection_test(connection)}
    assert not checks["unique id"].ok and "crm.schemas.contacts.write" in checks["unique id"].detail
    connection.refresh_from_db()
    assert connection.options["id_property_ready"] is False
    customers = [make_customer(shop, first_name=f"N{n}") for n in range(3)]
    drain(connection)
    assert {hubspot.contacts[sync_of(c).external_id]["firstname"] for c in customers} == {"N0", "N1", "N2"}
    assert len(posted(hubspot, "/crm/v3/objects/contacts/batch/create")) == 3


# --- 2. never blank -------------------------------------------------------------------------------------


def test_values_coccinelle_does_not_know_are_left_alone(connection, hubspot, shop, make_customer):
    customer = Customer.objects.create(shop=shop, first_name="Julie", email="julie@example.com")
    drain(connection)
    contact_id = sync_of(customer).external_id
    # Sales add what they know in HubSpot.
    hubspot.contacts[contact_id].update(lastname="Martin", phone="+33 1 23", mobilephone="+33 6 12")
    customer.first_name = "Julie-Anne"
    customer.save()
    drain(connection)  # the fake refuses any "" value: this passing means none was sent
    contact = hubspot.contacts[contact_id]
    assert contact["firstname"] == "Julie-Anne" and contact["lastname"] == "Martin"
    assert contact["phone"] == "+33 1 23" and contact["mobilephone"] == "+33 6 12"
    for request in posted(hubspot, "/crm/v3/objects/contacts/batch/update") + posted(hubspot, UPSERT):
        for item in request.json()["inputs"]:
            assert "" not in item["properties"].values()


# --- 3. timestamps, retry classes, 207 attribution, lifecycle, uiDomain -------------------------------


def test_note_timestamps_are_utc_milliseconds_with_z(connection, hubspot, shop, make_customer):
    customer = make_customer(shop, first_name="Julie")
    moment = datetime(2026, 5, 4, 9, 30, 15, 123456, tzinfo=UTC)
    for body in ("one", "two"):  # the same millisecond: they cannot share a request
        Interaction.objects.create(
            customer=customer, channel="sms", direction="inbound", body=body, occurred_at=moment
        )
    Interaction.objects.create(customer=customer, channel="sms", direction="outbound", body="three")
    drain(connection)
    notes = list(hubspot.notes.values())
    assert len(notes) == 3 and not SyncItem.objects.exists()
    stamps = [n["properties"]["hs_timestamp"] for n in notes]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", s) for s in stamps)
    assert stamps.count("2026-05-04T09:30:15.123Z") == 2
    assert len(posted(hubspot, "/crm/v3/objects/notes/batch/create")) == 2


@pytest.mark.parametrize(
    ("status", "headers", "least"), [(423, {}, 2.0), (477, {"Retry-After": "7"}, 7.0), (429, {}, 0.0)]
)
def test_locked_migrating_and_rate_limited_answers_wait_then_retry(
    connection, hubspot, shop, make_customer, status, headers, least, monkeypatch
):
    waits = []
    backend = HubSpotBackend(connection, sleep=waits.append)
    monkeypatch.setattr(backend.limiter, "pause", waits.append)  # the limiter is shared: undo after
    customer = make_customer(shop, email="julie@example.com")
    backend._prepared = True
    hubspot.fail_next(status, headers=headers)
    sync_drain(connection, backend=backend)
    assert sync_of(customer).status == "synced"
    assert waits and waits[0] >= least


def test_the_daily_limit_is_left_to_the_outbox_backoff(connection, hubspot, shop, make_customer, monkeypatch):
    waits = []
    backend = HubSpotBackend(connection, sleep=waits.append)
    monkeypatch.setattr(backend.limiter, "pause", waits.append)  # the limiter is shared: undo after
    backend._prepared = True
    customer = make_customer(shop, email="julie@example.com")
    hubspot.fail_next(429, body=dict(hubspot._rate_limited_body("DAILY"), policyName="DAILY"))
    sync_drain(connection, backend=backend)
    row = SyncItem.objects.get(customer=customer)
    assert waits == [] and (row.state, row.attempts) == ("pending", 1)


@pytest.mark.parametrize("status", [502, 503, 504, 521, 523, 524])
def test_gateway_and_cloudflare_errors_are_retried_later(connection, hubspot, shop, make_customer, status):
    customer = make_customer(shop, email="julie@example.com")
    backend = HubSpotBackend(connection)
    backend._prepared = True
    hubspot.fail_next(status)
    sync_drain(connection, backend=backend)
    row = SyncItem.objects.get(customer=customer)
    assert (row.state, row.attempts) == ("pending", 1) and row.next_attempt_at > timezone.now()


def test_a_conflict_fails_one_contact_not_the_batch(connection, hubspot, shop, make_customer):
    customers = [make_customer(shop, first_name=f"C{n}", email=f"c{n}@example.com") for n in range(6)]
    drain(connection)
    hubspot._store_contact({"email": "someone@example.com"})
    for customer in customers:
        customer.first_name += "!"
        customer.save()
    clashing = customers[2]
    clashing.email = "someone@example.com"  # another contact's e-mail: HubSpot answers 409
    clashing.save()
    drain(connection)
    row = SyncItem.objects.get(customer=clashing)
    assert row.state == "failed" and row.attempts == 1 and "Existing ID" in row.last_error
    for customer in customers:
        if customer != clashing:
            assert hubspot.contacts[sync_of(customer).external_id]["firstname"] == customer.first_name


def test_each_error_of_a_207_goes_to_its_own_customer(connection, hubspot, shop, make_customer):
    good = make_customer(shop, email="good@example.com")
    bad_email = Customer.objects.create(shop=shop, phone="+33612399991", email="not-an-email@")
    hubspot.lead_status_options.remove("CONNECTED")  # the portal edited its list
    bad_status = make_customer(shop, email="vip@example.com", segment="vip")
    drain(connection)
    assert sync_of(good).status == "synced"
    assert "not-an-email@" in sync_of(bad_email).last_error
    assert "CONNECTED was not one of" not in sync_of(bad_email).last_error
    assert "CONNECTED was not one of" in sync_of(bad_status).last_error
    assert "not-an-email@" not in sync_of(bad_status).last_error


def test_a_backwards_lifecycle_stage_keeps_hubspots_on_the_upsert_path(
    connection, hubspot, shop, make_customer
):
    existing = hubspot._store_contact({"email": "vip@example.com", "lifecyclestage": "customer"})
    customer = make_customer(shop, email="vip@example.com", segment="prospect", first_name="Zoé")
    drain(connection)
    contact = hubspot.contacts[existing]
    assert sync_of(customer).status == "synced" and sync_of(customer).external_id == existing
    assert contact["lifecyclestage"] == "customer" and contact["firstname"] == "Zoé"


def test_one_backwards_stage_in_an_update_batch_does_not_hold_back_the_others(
    connection, hubspot, shop, make_customer
):
    going_back = make_customer(shop, first_name="Back", segment="vip")
    going_on = make_customer(shop, first_name="On", segment="prospect")
    drain(connection)
    going_back.segment, going_on.segment = "prospect", "vip"
    going_back.save()
    going_on.save()
    drain(connection)
    assert hubspot.contacts[sync_of(going_back).external_id]["lifecyclestage"] == "customer"
    assert hubspot.contacts[sync_of(going_on).external_id]["lifecyclestage"] == "customer"
    assert sync_of(going_back).status == sync_of(going_on).status == "synced"


def test_contact_links_use_the_portals_own_domain(shop, make_customer):
    with FakeHubSpot(token="hs-token", ui_domain="app-eu1.hubspot.com", portal_id=777) as fake:
        connection = connect(shop, fake)
        checks = {c.name: c for c in connection_test(connection)}
        assert checks["account"].ok
        connection.refresh_from_db()
        assert connection.options["ui_domain"] == "app-eu1.hubspot.com"
        url = HubSpotBackend(connection).external_url("901")
    assert url == "https://app-eu1.hubspot.com/contacts/777/record/0-1/901"


def test_the_first_sync_learns_the_domain_when_nobody_tested_the_connection(shop, make_customer):
    with FakeHubSpot(token="hs-token", ui_domain="app-eu1.hubspot.com") as fake:
        connection = connect(shop, fake)
        make_customer(shop, email="a@example.com")
        drain(connection)
        connection.refresh_from_db()
        assert connection.options["ui_domain"] == "app-eu1.hubspot.com"
        assert connection.options["id_property_ready"] is True


# --- 4. OAuth 2026-03 and revoke ------------------------------------------------------------------------


@pytest.fixture
def oauth_hubspot():
    with FakeHubSpot(oauth_client=("cid", "csecret", "rtoken")) as fake:
        yield fake


@pytest.fixture
def oauth_connection(shop, oauth_hubspot):
    connection = CrmConnection(
        shop=shop, backend="hubspot", options={"api_base": oauth_hubspot.url, "auth": "oauth"}
    )
    connection.set_secrets({"client_id": "cid", "client_secret": "csecret", "refresh_token": "rtoken"})
    connection.save()
    return connection


def test_oauth_refreshes_on_the_2026_03_endpoint(oauth_connection, oauth_hubspot, shop, make_customer):
    customer = make_customer(shop, email="a@example.com")
    drain(oauth_connection)
    assert sync_of(customer).status == "synced"
    assert oauth_hubspot.token_paths == ["/oauth/2026-03/token"]


def test_deleting_a_connection_revokes_its_refresh_token(
    oauth_connection, oauth_hubspot, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        oauth_connection.delete()
    assert oauth_hubspot.revoked == ["rtoken"]
    assert not CrmConnection.objects.exists()


def test_deleting_the_shop_revokes_too_and_a_dead_vendor_never_blocks_it(
    shop, django_capture_on_commit_callbacks
):
    with FakeHubSpot(oauth_client=("cid", "csecret", "rtoken")) as fake:
        url = fake.url
    connection = CrmConnection(shop=shop, backend="hubspot", options={"api_base": url, "auth": "oauth"})
    connection.set_secrets({"client_id": "cid", "client_secret": "csecret", "refresh_token": "rtoken"})
    connection.save()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        shop.delete()  # the fake is gone: the revoke fails, quietly
    assert callbacks and not CrmConnection.objects.exists()


def test_a_rolled_back_delete_revokes_nothing(
    oauth_connection, oauth_hubspot, django_capture_on_commit_callbacks
):
    from django.db import transaction

    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                oauth_connection.delete()
                raise RuntimeError("the delete is undone")
        except RuntimeError:
            pass
    assert oauth_hubspot.revoked == [] and CrmConnection.objects.exists()
