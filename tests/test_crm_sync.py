"""CRM sync through the outbox, against local HubSpot and Salesforce fakes speaking the real protocols."""

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from crm_backends import services
from crm_backends.models import CrmConnection, CustomerSync, SyncItem
from crm_backends.salesforce import soql_literal
from crm_backends.services import sync_drain
from customers.models import Customer, Interaction, Order
from customers.segments import segments_refresh
from customers.services import customer_merge, customers_add_tag
from tests.crm_fixtures import *  # noqa: F403 - the fakes and a connection to each
from tests.fakes.hubspot import FakeHubSpot
from tests.fakes.salesforce import FakeSalesforce


def drain(connection):
    """Run the queue to the end, as the Celery task does."""
    while services.due_count(connection):
        if not sync_drain(connection).pushed:
            break


def sync_of(customer):
    return CustomerSync.objects.get(customer=customer)


# --- the outbox --------------------------------------------------------------------------------------


def test_a_change_writes_a_pending_row_in_the_same_transaction(hs_connection, shop, make_customer):
    customer = make_customer(shop, first_name="Julie")
    row = SyncItem.objects.get(kind="customer", customer=customer)
    assert row.state == "pending" and sync_of(customer).status == "pending"


def test_repeated_changes_coalesce_into_one_pending_push(hs_connection, shop, make_customer):
    customer = make_customer(shop, first_name="Julie")
    for name in ("Julie-Anne", "Juliette", "Julia"):
        customer.first_name = name
        customer.save()
    customers_add_tag(shop=shop, customers=[customer], name="vip")
    row = SyncItem.objects.get(kind="customer", customer=customer)
    assert row.version == 5


def test_a_change_keeps_a_failed_push_visible_and_queues_a_synced_one_again(
    hs_connection, shop, make_customer, monkeypatch
):
    # Three statements of a few ids each, as an import of tens of thousands would be cut.
    monkeypatch.setattr("crm_backends.outbox_sql.CHUNK", 2)
    failed, synced, new = (make_customer(shop, first_name=name) for name in ("Ana", "Bea", "Cleo"))
    SyncItem.objects.all().delete()
    CustomerSync.objects.filter(customer=failed).update(status="failed")
    CustomerSync.objects.filter(customer=synced).update(status="synced")
    CustomerSync.objects.filter(customer=new).delete()
    customers_add_tag(shop=shop, customers=[failed, synced, new], name="vip")
    assert {sync_of(c).status for c in (failed, synced, new)} == {"failed", "pending"}
    assert sync_of(failed).status == "failed" and sync_of(synced).status == "pending"
    rows = SyncItem.objects.filter(kind="customer", state="pending")
    assert sorted(rows.values_list("customer_id", "version")) == [(failed.pk, 1), (synced.pk, 1), (new.pk, 1)]


def test_shop_without_connection_queues_nothing(shop, make_customer, other_shop, hs_connection):
    make_customer(other_shop, first_name="Elsewhere")
    assert not SyncItem.objects.filter(customer__shop=other_shop).exists()


def test_native_backend_queues_nothing(shop, make_customer):
    CrmConnection.objects.create(shop=shop, backend="native")
    make_customer(shop)
    assert not SyncItem.objects.exists()


def test_merge_segment_refresh_and_tags_queue_the_customer(hs_connection, shop, make_customer):
    keep, other = make_customer(shop, first_name="A"), make_customer(shop, first_name="A")
    SyncItem.objects.all().delete()
    customer_merge(keep=keep, others=[other])
    assert SyncItem.objects.filter(customer=keep).exists()
    SyncItem.objects.all().delete()
    Order.objects.create(shop=shop, customer=keep, reference="R1", amount=Decimal("2000"))
    segments_refresh(shop=shop)
    assert SyncItem.objects.filter(customer=keep).exists()


def test_a_broker_outage_loses_nothing(
    hs_connection, shop, make_customer, monkeypatch, django_capture_on_commit_callbacks, celery_not_eager
):
    from crm_backends import tasks

    def broker_down(*args, **kwargs):
        raise ConnectionError("Error 111 connecting to localhost:6379. Connection refused.")

    monkeypatch.setattr(tasks.drain_connection, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        customer = make_customer(shop, first_name="Julie")  # the change itself succeeds
    assert SyncItem.objects.get(customer=customer).state == "pending"
    monkeypatch.undo()
    calls = []
    monkeypatch.setattr(tasks.drain_connection, "delay", lambda connection_id: calls.append(connection_id))
    assert tasks.sweep_outbox() == 1 and calls == [hs_connection.pk]


# --- HubSpot -----------------------------------------------------------------------------------------


def test_hubspot_upserts_by_email_and_keeps_the_id(hs_connection, hubspot, shop, make_customer):
    customer = make_customer(
        shop, first_name="Julie", last_name="Martin", email="julie@example.com", segment="vip"
    )
    drain(hs_connection)
    sync = sync_of(customer)
    assert sync.status == "synced" and sync.synced_at and sync.external_id in hubspot.contacts
    contact = hubspot.contacts[sync.external_id]
    assert contact["firstname"] == "Julie" and contact["email"] == "julie@example.com"
    assert contact["phone"] == customer.phone and contact["hs_lead_status"] == "CONNECTED"
    assert contact["lifecyclestage"] == "customer"
    assert not SyncItem.objects.exists()


def test_hubspot_creates_without_email_then_updates_by_id(hs_connection, hubspot, shop, make_customer):
    customers = [make_customer(shop, first_name=f"Client {n}") for n in range(3)]
    drain(hs_connection)
    ids = {sync_of(c).external_id for c in customers}
    assert len(ids) == 3 and ids <= set(hubspot.contacts)
    # Each created contact is matched back to its customer even though HubSpot shuffles the results.
    for customer in customers:
        assert hubspot.contacts[sync_of(customer).external_id]["firstname"] == customer.first_name
    customers[0].first_name = "Renamed"
    customers[0].save()
    drain(hs_connection)
    assert len(hubspot.contacts) == 3
    assert hubspot.contacts[sync_of(customers[0]).external_id]["firstname"] == "Renamed"


def test_hubspot_interactions_become_notes_on_the_contact(hs_connection, hubspot, shop, make_customer):
    customer = make_customer(shop, first_name="Julie")
    Interaction.objects.create(customer=customer, channel="sms", direction="inbound", body="<b>Bonjour</b>")
    drain(hs_connection)
    (note,) = hubspot.notes.values()
    contact_id = sync_of(customer).external_id
    association = note["associations"][0]
    assert association["to"]["id"] == contact_id
    assert association["types"][0]["associationTypeId"] == 202
    assert "&lt;b&gt;Bonjour&lt;/b&gt;" in note["properties"]["hs_note_body"]  # text stays text
    assert not SyncItem.objects.exists()


def test_hubspot_partial_batch_marks_only_the_bad_record_failed(hs_connection, hubspot, shop, make_customer):
    good = make_customer(shop, email="good@example.com")
    bad = Customer.objects.create(shop=shop, phone="+33612399999", email="not-an-email@")
    drain(hs_connection)
    assert sync_of(good).status == "synced"
    assert sync_of(bad).status == "failed" and "invalid" in sync_of(bad).last_error.lower()
    assert SyncItem.objects.get(customer=bad).state == "failed"


def test_hubspot_409_existing_id_becomes_an_update(hs_connection, hubspot, shop, make_customer):
    customer = make_customer(shop, first_name="Julie", email="julie@example.com")
    drain(hs_connection)
    first_id = sync_of(customer).external_id
    # Someone deletes the contact in HubSpot and another with the same e-mail appears.
    hubspot.contacts.pop(first_id)
    existing = hubspot._store_contact({"email": "julie@example.com", "firstname": "J."})
    customer.first_name = "Julie B."
    customer.save()
    drain(hs_connection)
    assert sync_of(customer).external_id == existing
    assert hubspot.contacts[existing]["firstname"] == "Julie B."
    assert len(hubspot.contacts) == 1


def test_hubspot_waits_and_retries_on_429(hs_connection, hubspot, shop, make_customer):
    hubspot.fail_next(429)
    customer = make_customer(shop, email="julie@example.com")
    drain(hs_connection)
    assert sync_of(customer).status == "synced"


def test_hubspot_stays_under_the_rate_limit(shop, make_customer):
    with FakeHubSpot(token="t", rate_limit=4, window_seconds=1.0) as fake:
        connection = CrmConnection(
            shop=shop,
            backend="hubspot",
            options={"api_base": fake.url, "rate_limit": 4, "rate_window_seconds": 1},
        )
        connection.set_secrets({"token": "t"})
        connection.save()
        for n in range(12):
            make_customer(shop, first_name=f"C{n}", email=f"c{n}@example.com")
        from crm_backends.hubspot import HubSpotBackend

        backend = HubSpotBackend(connection)
        backend.customer_batch_size = 1
        while services.due_count(connection):
            sync_drain(connection, backend=backend)
        assert fake.rate_limited_count == 0 and fake.max_requests_in_window <= 4
        assert CustomerSync.objects.filter(status="synced").count() == 12


def test_transient_errors_back_off_then_fail_after_bounded_attempts(
    hs_connection, hubspot, shop, make_customer, settings
):
    settings.CRM_SYNC_MAX_ATTEMPTS = 2
    customer = make_customer(shop, email="julie@example.com")
    hubspot.fail_next(500, count=10)
    sync_drain(hs_connection)
    row = SyncItem.objects.get(customer=customer)
    assert (row.state, row.attempts) == ("pending", 1) and row.next_attempt_at > timezone.now()
    assert "500" in row.last_error
    SyncItem.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    sync_drain(hs_connection)
    row.refresh_from_db()
    assert (row.state, row.attempts) == ("failed", 2)
    assert sync_of(customer).status == "failed"


def test_bad_token_fails_visibly_and_retry_failed_requeues(hs_connection, hubspot, shop, make_customer):
    hs_connection.set_secrets({"token": "wrong"})
    hs_connection.save()
    customer = make_customer(shop, email="julie@example.com")
    sync_drain(hs_connection)
    assert sync_of(customer).status == "failed" and "401" in sync_of(customer).last_error
    hs_connection.set_secrets({"token": "hs-token"})
    hs_connection.save()
    assert services.sync_retry_failed(hs_connection) == 1
    drain(hs_connection)
    assert sync_of(customer).status == "synced"


def test_hubspot_oauth_refreshes_before_expiry(shop, make_customer):
    with FakeHubSpot(oauth_client=("cid", "csecret", "rtoken"), token_ttl=1800) as fake:
        connection = CrmConnection(
            shop=shop, backend="hubspot", options={"api_base": fake.url, "auth": "oauth"}
        )
        connection.set_secrets({"client_id": "cid", "client_secret": "csecret", "refresh_token": "rtoken"})
        connection.save()
        make_customer(shop, email="a@example.com")
        drain(connection)
        assert fake.refresh_count == 1
        connection.refresh_from_db()
        assert connection.token_expires_at > timezone.now() + timedelta(minutes=20)
        make_customer(shop, email="b@example.com")
        drain(connection)
        assert fake.refresh_count == 1  # still valid: reused
        connection.token_expires_at = timezone.now() + timedelta(minutes=2)
        connection.save()
        make_customer(shop, email="c@example.com")
        drain(connection)
        assert fake.refresh_count == 2  # refreshed ahead of expiry, not after a 401
        assert CustomerSync.objects.filter(status="synced").count() == 3


def test_secrets_are_encrypted_at_rest(hs_connection):
    raw = CrmConnection.objects.filter(pk=hs_connection.pk).values_list("secrets_encrypted", flat=True).get()
    assert "hs-token" not in raw and hs_connection.secrets == {"token": "hs-token"}


# --- Salesforce --------------------------------------------------------------------------------------


def test_salesforce_upserts_contacts_and_tasks(sf_connection, salesforce, shop, make_customer):
    customer = make_customer(shop, first_name="Julie", last_name="Martin", email="julie@example.com")
    Interaction.objects.create(customer=customer, channel="whatsapp", direction="inbound", body="Bonjour !")
    drain(sf_connection)
    contact_id = sync_of(customer).external_id
    contact = salesforce.contacts[contact_id]
    assert contact["Coccinelle_Id__c"] == str(customer.pk) and contact["LastName"] == "Martin"
    (task,) = salesforce.tasks.values()
    assert (
        task["WhoId"] == contact_id and task["Status"] == "Completed" and task["Description"] == "Bonjour !"
    )


def test_salesforce_refreshes_once_on_401(sf_connection, salesforce, shop, make_customer):
    make_customer(shop, last_name="Martin")
    drain(sf_connection)
    salesforce.expire_tokens()
    second = make_customer(shop, last_name="Durand")
    drain(sf_connection)
    assert sync_of(second).status == "synced"


def test_salesforce_request_limit_backs_off(sf_connection, salesforce, shop, make_customer):
    salesforce.daily_limit = 0
    customer = make_customer(shop, last_name="Martin")
    sync_drain(sf_connection)
    row = SyncItem.objects.get(customer=customer)
    assert row.state == "pending" and row.attempts == 1 and "limit" in row.last_error.lower()


def test_salesforce_adopts_an_existing_contact_by_email_with_escaped_soql(
    sf_connection, salesforce, shop, make_customer
):
    salesforce.contacts["003000000000001AAA"] = {
        "Id": "003000000000001AAA",
        "LastName": "O'Brien",
        "Email": "o'brien@example.com",
    }
    customer = make_customer(shop, last_name="O'Brien", email="o'brien@example.com")
    drain(sf_connection)
    assert sync_of(customer).external_id == "003000000000001AAA"
    assert len(salesforce.contacts) == 1
    assert any("'o\\'brien@example.com'" in q for q in salesforce.queries)


@pytest.mark.parametrize(
    ("value", "literal"),
    [
        ("plain", "'plain'"),
        ("o'brien", "'o\\'brien'"),
        ("a\\b", "'a\\\\b'"),
        ("x' OR Name != '", "'x\\' OR Name != \\''"),
        ("l1\nl2", "'l1\\nl2'"),
    ],
)
def test_soql_literals_are_escaped(value, literal):
    assert soql_literal(value) == literal


def test_salesforce_bad_external_id_field_fails_visibly(shop, salesforce, make_customer):
    connection = CrmConnection(
        shop=shop, backend="salesforce", options={"login_url": salesforce.url, "external_id_field": "Id/../x"}
    )
    connection.set_secrets(
        {"client_id": "sf-client", "client_secret": "sf-secret", "refresh_token": "sf-refresh"}
    )
    connection.save()
    customer = make_customer(shop)
    sync_drain(connection)
    assert "external_id_field" in sync_of(customer).last_error and "API name" in sync_of(customer).last_error


# --- command -----------------------------------------------------------------------------------------


def test_sync_crm_full_and_pull(hs_connection, hubspot, shop, make_customer):
    Customer.objects.bulk_create(
        [Customer(shop=shop, first_name=f"Bulk {n}", email=f"b{n}@example.com") for n in range(5)]
    )
    hubspot._store_contact(
        {"email": "from-crm@example.com", "firstname": "Alice", "lastname": "Crm", "phone": "+33611111111"}
    )
    out = io.StringIO()
    call_command("sync_crm", "--shop", shop.slug, "--pull", "--full", stdout=out)
    assert (
        "1 created" in out.getvalue()
        and "5 customer(s) queued" in out.getvalue()
        or "6 customer(s) queued" in out.getvalue()
    )
    pulled = Customer.objects.get(email="from-crm@example.com")
    assert pulled.phone == "+33611111111" and sync_of(pulled).status == "synced"
    assert CustomerSync.objects.filter(status="synced").count() == 6
    assert len(hubspot.contacts) == 6


def test_sync_crm_without_connection_says_so(shop):
    with pytest.raises(CommandError, match="no enabled HubSpot or Salesforce"):
        call_command("sync_crm", "--shop", shop.slug, stdout=io.StringIO())


def test_hubspot_keeps_its_lifecycle_stage_when_moving_back_is_refused(
    hs_connection, hubspot, shop, make_customer
):
    customer = make_customer(shop, first_name="Julie", segment="vip")
    drain(hs_connection)
    assert hubspot.contacts[sync_of(customer).external_id]["lifecyclestage"] == "customer"
    customer.segment, customer.first_name = "prospect", "Julie M."
    customer.save()
    drain(hs_connection)
    contact = hubspot.contacts[sync_of(customer).external_id]
    assert sync_of(customer).status == "synced" and contact["firstname"] == "Julie M."
    assert contact["lifecyclestage"] == "customer"


def _sf_connection(shop, fake, auth, secrets):
    connection = CrmConnection(shop=shop, backend="salesforce", options={"login_url": fake.url, "auth": auth})
    connection.set_secrets(secrets)
    connection.save()
    return connection


def test_salesforce_jwt_bearer_flow(shop, make_customer):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    with FakeSalesforce(jwt_public_key_pem=public_pem, username="owner@example.com") as fake:
        secrets = {"client_id": "sf-client", "username": "owner@example.com", "private_key": private_pem}
        connection = _sf_connection(shop, fake, "jwt", secrets)
        customer = make_customer(shop, last_name="Martin")
        drain(connection)
        assert sync_of(customer).status == "synced"
        assert fake.token_grants == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]


def test_salesforce_client_credentials_flow_and_a_wrong_secret(shop, make_customer):
    with FakeSalesforce() as fake:
        connection = _sf_connection(
            shop, fake, "client_credentials", {"client_id": "sf-client", "client_secret": "no"}
        )
        customer = make_customer(shop, last_name="Martin")
        sync_drain(connection)
        assert sync_of(customer).status == "failed" and "invalid_client" in sync_of(customer).last_error
        connection.set_secrets({"client_id": "sf-client", "client_secret": "sf-secret"})
        connection.save()
        services.sync_retry_failed(connection)
        drain(connection)
        assert sync_of(customer).status == "synced"
