"""The Salesforce connector as Salesforce documents it (issue 11, points 2, 3 and 9): nothing blanked,
shop-local Task dates, Salesforce's retry classes, per-record results, one refresh on an expired
session, and the refresh token revoked when the connection goes. Against tests/fakes/salesforce.py,
which refuses nulls, and through the outbox drain as in production."""

from datetime import UTC, datetime

import pytest

from crm_backends import crypto, services
from crm_backends.base import CustomerPayload
from crm_backends.models import CrmConnection, CustomerSync, SyncItem
from crm_backends.registry import backend_for
from crm_backends.services import sync_drain
from customers.models import Interaction
from tests.fakes.salesforce import FakeSalesforce

SECRETS = {"client_id": "sf-client", "client_secret": "sf-secret", "refresh_token": "sf-refresh"}


@pytest.fixture(autouse=True)
def _fakes_are_allowed_crm_hosts(settings):
    settings.CRM_ALLOWED_HOSTS = ["127.0.0.1"]


@pytest.fixture
def salesforce():
    with FakeSalesforce() as fake:
        yield fake


@pytest.fixture
def connection(shop, salesforce):
    connection = CrmConnection(shop=shop, backend="salesforce", options={"login_url": salesforce.url})
    connection.set_secrets(SECRETS)
    connection.save()
    return connection


def drain(connection):
    while services.due_count(connection):
        if not sync_drain(connection).handled:
            break


def sync_of(customer):
    return CustomerSync.objects.get(customer=customer)


def row_of(customer):
    return SyncItem.objects.get(customer=customer, kind="customer")


def collection_records(salesforce):
    """Every record sent in a collection call so far."""
    return [
        record
        for r in salesforce.requests
        if "/composite/sobjects" in r.path and r.body
        for record in r.json()["records"]
    ]


# --- 2. never blank ---------------------------------------------------------------------------------


def test_unknown_values_are_left_out_and_what_sales_typed_stays(connection, salesforce, shop, make_customer):
    customer = make_customer(shop, first_name="Julie", phone=None)
    drain(connection)
    contact_id = sync_of(customer).external_id
    # Created with the marker Salesforce's required LastName needs, and nothing we do not know.
    assert salesforce.contacts[contact_id] == {
        "Coccinelle_Id__c": str(customer.pk),
        "FirstName": "Julie",
        "LastName": "(unknown)",
    }
    # Sales completes the contact in Salesforce; the customer changes in Coccinelle.
    salesforce.contacts[contact_id].update(
        LastName="Martin", Phone="+33 1 23 45 67 89", Email="j@example.com"
    )
    customer.first_name = "Julie-Anne"
    customer.save()
    drain(connection)
    assert sync_of(customer).status == "synced"
    assert salesforce.contacts[contact_id] == {
        "Coccinelle_Id__c": str(customer.pk),
        "FirstName": "Julie-Anne",
        "LastName": "Martin",
        "Phone": "+33 1 23 45 67 89",
        "Email": "j@example.com",
    }
    assert all(v not in (None, "") for record in collection_records(salesforce) for v in record.values())


def test_an_email_opt_out_set_in_salesforce_is_never_lifted(connection, salesforce, shop, make_customer):
    customer = make_customer(shop, last_name="Martin")
    drain(connection)
    contact = salesforce.contacts[sync_of(customer).external_id]
    assert "HasOptedOutOfEmail" not in contact
    contact["HasOptedOutOfEmail"] = True
    customer.first_name = "Julie"
    customer.save()
    drain(connection)
    assert contact["HasOptedOutOfEmail"] is True and contact["FirstName"] == "Julie"


def test_an_adopted_contact_keeps_its_name(connection, salesforce, shop, make_customer):
    salesforce.contacts["003000000000001AAA"] = {"LastName": "Dupont", "Email": "ana@example.com"}
    customer = make_customer(shop, first_name="Ana", email="ana@example.com")
    drain(connection)
    assert sync_of(customer).external_id == "003000000000001AAA" and len(salesforce.contacts) == 1
    contact = salesforce.contacts["003000000000001AAA"]
    assert contact["LastName"] == "Dupont" and contact["Coccinelle_Id__c"] == str(customer.pk)


def payload(n, **fields) -> CustomerPayload:
    values = dict(
        customer_id=n,
        external_id="",
        first_name=f"Client {n}",
        last_name="Bench",
        email=None,
        phone=f"+3361{n:07d}",
        whatsapp_phone=None,
        segment="prospect",
        tags=(),
        language="fr",
        opted_out=False,
    )
    return CustomerPayload(**(values | fields))


def test_one_contact_is_adopted_by_one_customer_only(connection, salesforce):
    """Two payloads with one e-mail (the shop's unique e-mail makes this rare, a case-variant import
    can): the contact is adopted once, the other customer gets its own contact."""
    salesforce.contacts["003000000000001AAA"] = {"LastName": "Dupont", "Email": "ana@example.com"}
    first, second = payload(1, email="ana@example.com"), payload(2, email="ANA@example.com")
    outcomes = backend_for(connection).push_customers([first, second])
    assert [o.ok for o in outcomes] == [True, True]
    assert outcomes[0].external_id == "003000000000001AAA" != outcomes[1].external_id
    assert salesforce.contacts["003000000000001AAA"]["Coccinelle_Id__c"] == "1"


def test_a_pulled_contact_is_updated_by_id_not_duplicated(connection, salesforce, shop):
    salesforce.contacts["003000000000002AAA"] = {
        "LastName": "Crm",
        "FirstName": "Alice",
        "Phone": "+33611111111",
        "Title": "Buyer",
    }
    assert services.sync_pull(connection) == {"linked": 0, "created": 1, "skipped": 0}
    sync = CustomerSync.objects.get(connection=connection)
    sync.customer.first_name = "Alicia"
    sync.customer.save()
    drain(connection)
    assert len(salesforce.contacts) == 1
    contact = salesforce.contacts["003000000000002AAA"]
    assert contact["FirstName"] == "Alicia" and contact["Title"] == "Buyer"
    assert contact["Coccinelle_Id__c"] == str(sync.customer.pk) and contact["LastName"] == "Crm"


def test_a_contact_deleted_in_salesforce_is_created_again(connection, salesforce, shop, make_customer):
    customer = make_customer(shop, last_name="Martin")
    drain(connection)
    old_id = sync_of(customer).external_id
    del salesforce.contacts[old_id]
    salesforce.reindex()
    customer.first_name = "Julie"
    customer.save()
    drain(connection)
    new_id = sync_of(customer).external_id
    assert sync_of(customer).status == "synced" and new_id != old_id
    assert salesforce.contacts[new_id]["LastName"] == "Martin"


def test_a_known_nameless_contact_gone_from_salesforce_gets_the_marker(
    connection, salesforce, shop, make_customer
):
    customer = make_customer(shop, first_name="Lou")
    drain(connection)
    old_id = sync_of(customer).external_id
    del salesforce.contacts[old_id]
    salesforce.reindex()
    customer.first_name = "Louise"
    customer.save()
    drain(connection)
    contact = salesforce.contacts[sync_of(customer).external_id]
    assert contact["LastName"] == "(unknown)" and contact["FirstName"] == "Louise"


# --- 3. Task dates, retry classes, per-record results, session expiry --------------------------------


@pytest.mark.parametrize(
    ("zone", "occurred", "day"),
    [
        ("Europe/Paris", datetime(2026, 5, 4, 22, 30, tzinfo=UTC), "2026-05-05"),  # 00:30 in Paris
        ("America/New_York", datetime(2026, 5, 5, 2, 0, tzinfo=UTC), "2026-05-04"),  # 22:00 the day before
        ("Europe/Paris", datetime(2026, 5, 4, 12, 0, tzinfo=UTC), "2026-05-04"),
    ],
)
def test_task_dates_are_the_shops_local_day(connection, salesforce, shop, make_customer, zone, occurred, day):
    shop.time_zone = zone
    shop.save()
    customer = make_customer(shop, last_name="Martin")
    Interaction.objects.create(
        customer=customer, channel="sms", direction="inbound", body="Bonsoir", occurred_at=occurred
    )
    drain(connection)
    (task,) = salesforce.tasks.values()
    assert task["ActivityDate"] == day and task["WhoId"] == sync_of(customer).external_id


@pytest.mark.parametrize(
    ("status", "body", "retried"),
    [
        (503, [{"message": "Server is unavailable", "errorCode": "SERVER_UNAVAILABLE"}], True),
        (403, [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}], True),
        (400, [{"message": "unable to obtain exclusive access", "errorCode": "UNABLE_TO_LOCK_ROW"}], True),
        (500, [{"message": "An unexpected error occurred", "errorCode": "UNKNOWN_EXCEPTION"}], True),
        (403, [{"message": "Insufficient privileges", "errorCode": "INSUFFICIENT_ACCESS"}], False),
        (400, [{"message": "No such column", "errorCode": "INVALID_FIELD"}], False),
        (409, [{"message": "conflict", "errorCode": "CONFLICT"}], False),
    ],
)
def test_whole_call_failures_follow_salesforce_retry_classes(
    connection, salesforce, shop, make_customer, status, body, retried
):
    customer = make_customer(shop, last_name="Martin")
    salesforce.fail_next(status, body)
    sync_drain(connection)
    row = row_of(customer)
    assert row.state == ("pending" if retried else "failed") and row.attempts == 1
    assert body[0]["errorCode"] in row.last_error


def test_each_record_gets_its_own_result(connection, salesforce, shop, make_customer):
    good = make_customer(shop, last_name="Martin")
    too_long = make_customer(shop, first_name="J" * 60, last_name="Durand")  # FirstName holds 40
    other = make_customer(shop, last_name="Petit")
    sync_drain(connection)
    assert sync_of(good).status == "synced" and sync_of(other).status == "synced"
    failed = row_of(too_long)
    assert failed.state == "failed" and failed.last_error.startswith("STRING_TOO_LONG")
    assert "FirstName" in failed.last_error
    assert "Martin" not in failed.last_error and len(salesforce.contacts) == 2


def test_a_locked_row_retries_that_record_only(connection, salesforce, shop, make_customer):
    first = make_customer(shop, last_name="Martin")
    second = make_customer(shop, last_name="Durand")
    salesforce.fail_next_records("UNABLE_TO_LOCK_ROW")
    sync_drain(connection)
    locked, written = sorted([first, second], key=lambda c: sync_of(c).status == "synced")
    assert sync_of(written).status == "synced"
    assert row_of(locked).state == "pending" and "UNABLE_TO_LOCK_ROW" in row_of(locked).last_error
    salesforce.fail_next_records("DUPLICATE_VALUE")
    services.SyncItem.objects.filter(pk=row_of(locked).pk).update(next_attempt_at=datetime.now(UTC))
    sync_drain(connection)
    assert row_of(locked).state == "failed" and "DUPLICATE_VALUE" in row_of(locked).last_error


def test_a_task_failure_is_its_own(connection, salesforce, shop, make_customer):
    customer = make_customer(shop, last_name="Martin")
    drain(connection)
    kept = Interaction.objects.create(customer=customer, channel="sms", direction="inbound", body="un")
    refused = Interaction.objects.create(customer=customer, channel="sms", direction="inbound", body="deux")
    salesforce.fail_next_records("INVALID_FIELD")  # the first record of the next collection call
    sync_drain(connection)
    failed = SyncItem.objects.get(kind="interaction", state="failed")
    assert failed.interaction_id in (kept.pk, refused.pk) and "INVALID_FIELD" in failed.last_error
    assert len(salesforce.tasks) == 1 and SyncItem.objects.filter(kind="interaction").count() == 1


def test_an_expired_session_is_renewed_once(connection, salesforce, shop, make_customer):
    customer = make_customer(shop, last_name="Martin")
    drain(connection)
    salesforce.expire_tokens()
    customer.first_name = "Julie"
    customer.save()
    drain(connection)
    assert sync_of(customer).status == "synced" and salesforce.token_grants == ["refresh_token"] * 2

    salesforce.fail_next(401, count=2)  # still refused after a new token: no loop, a visible failure
    customer.first_name = "Julia"
    customer.save()
    sync_drain(connection)
    assert salesforce.token_grants == ["refresh_token"] * 3
    assert row_of(customer).state == "failed" and "INVALID_SESSION_ID" in row_of(customer).last_error


# --- revoke -------------------------------------------------------------------------------------------


def test_revoke_revokes_the_connections_refresh_token(connection, salesforce, shop, make_customer):
    make_customer(shop, last_name="Martin")
    drain(connection)
    backend_for(connection).revoke()
    assert salesforce.revoked == ["sf-refresh"]
    revoke = next(r for r in salesforce.requests if r.path == "/services/oauth2/revoke")
    assert revoke.method == "POST" and revoke.form() == {"token": "sf-refresh"}
    # The access tokens issued with it are gone too: the next push cannot sign in again.
    customer = make_customer(shop, last_name="Durand")
    sync_drain(connection)
    assert sync_of(customer).status == "failed" and "invalid_grant" in sync_of(customer).last_error


def test_revoke_never_touches_the_install_wide_refresh_token(shop, salesforce, settings, caplog):
    settings.SALESFORCE_REFRESH_TOKEN = "sf-refresh"
    connection = CrmConnection(shop=shop, backend="salesforce", options={"login_url": salesforce.url})
    connection.set_secrets({"client_id": "sf-client", "client_secret": "sf-secret"})
    connection.save()
    backend_for(connection).revoke()
    assert salesforce.revoked == [] and not any(r.path.endswith("/revoke") for r in salesforce.requests)


def test_revoke_is_best_effort_and_keeps_secrets_out_of_the_log(shop, settings, caplog):
    connection = CrmConnection(shop=shop, backend="salesforce", options={"login_url": "http://127.0.0.1:9"})
    connection.set_secrets(SECRETS)
    connection.save()
    backend_for(connection).revoke()  # nothing listens there: logged, not raised
    assert "not revoked" in caplog.text and "sf-refresh" not in caplog.text


def test_revoke_with_client_credentials_revokes_the_cached_access_token(shop, salesforce):
    connection = CrmConnection(
        shop=shop, backend="salesforce", options={"login_url": salesforce.url, "auth": "client_credentials"}
    )
    connection.set_secrets({"client_id": "sf-client", "client_secret": "sf-secret"})
    connection.save()
    backend = backend_for(connection)
    backend.test_connection()
    token = crypto.decrypt(connection.token_encrypted)["access_token"]
    backend.revoke()
    assert salesforce.revoked == [token]


# --- the bench's volume ------------------------------------------------------------------------------


def test_ten_thousand_customers_go_out_in_fifty_collection_calls(connection, salesforce):
    items = [payload(n, email=f"client.{n}@example.com") for n in range(1, 10_001)]
    outcomes = backend_for(connection).push_customers(items)
    assert sum(o.ok for o in outcomes) == 10_000 and len(salesforce.contacts) == 10_000
    upserts = [
        r for r in salesforce.requests if r.path.endswith("/composite/sobjects/Contact/Coccinelle_Id__c")
    ]
    assert len(upserts) == 50 and all(len(r.json()["records"]) == 200 for r in upserts)
