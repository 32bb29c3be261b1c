"""The drain at the vendor's speed: a constant number of SQL statements per batch whatever its size, what
happens to each item whatever the backend answers, and at most one queued drain per connection."""

import itertools

import pytest
from django.db import connection as db
from django.test.utils import CaptureQueriesContext

from coccinelle.cache import is_shared
from crm_backends import services, tasks
from crm_backends.base import CrmBackend, CrmError, PushOutcome
from crm_backends.models import CrmConnection, CustomerSync, SyncItem
from crm_backends.services import DrainReport, sync_drain
from customers.models import Interaction


class RecordingBackend(CrmBackend):
    """A CRM in memory: no HTTP, so that only the drain's own SQL is counted. `answer(item)` decides
    each item's outcome (None: the answer says nothing about it)."""

    name = "memory"
    customer_batch_size = 200
    interaction_batch_size = 200

    def __init__(self, connection, answer=None):
        super().__init__(connection)
        self.answer = answer or (lambda item: PushOutcome(item.customer_id, True, f"ext-{item.customer_id}"))
        self.pushed = []

    def push_customers(self, items):
        self.pushed += items
        return [o for item in items if (o := self.answer(item)) is not None]

    def push_interactions(self, items):
        return [PushOutcome(i.interaction_id, True, f"note-{i.interaction_id}") for i in items]


@pytest.fixture
def connection(shop):
    # A pushing connection; the backend object is passed to sync_drain, so nothing is called.
    crm = CrmConnection(shop=shop, backend="hubspot", options={})
    crm.set_secrets({"token": "unused"})
    crm.save()
    return crm


_emails = itertools.count()


def _customers(shop, make_customer, count, *, interactions=True):
    customers = [
        make_customer(shop, first_name=f"C{n}", email=f"c{next(_emails)}@example.com") for n in range(count)
    ]
    if interactions:
        Interaction.objects.bulk_create(
            Interaction(customer=c, channel="sms", direction="inbound", body="Bonjour") for c in customers
        )
        services.outbox_add_interactions(
            shop_id=shop.pk,
            interaction_ids=Interaction.objects.filter(customer__in=customers).values_list("pk", flat=True),
        )
    return customers


def _statements(connection, backend):
    with CaptureQueriesContext(db) as queries:
        report = sync_drain(connection, backend=backend)
    return len(queries), report


# --- a constant number of statements per batch --------------------------------------------------------


def test_statements_per_batch_do_not_grow_with_the_batch(connection, shop, make_customer):
    backend = RecordingBackend(connection)
    _customers(shop, make_customer, 2)
    small, report = _statements(connection, backend)
    assert report.pushed == 4  # two contacts, then their two notes in the same drain
    # 120, not more: Django splits a bulk insert of 7 columns at 142 rows on SQLite (999 parameters).
    _customers(shop, make_customer, 120)
    large, report = _statements(connection, backend)
    assert report.pushed == 240
    # Contacts: claim (4 with its savepoint), customers and tags (2), sync state upsert and two deletes (3).
    # Notes: contacts to queue (1), claim (4), contact ids and interactions (2), their note ids (1),
    # delete (1). Erasures, merges and statuses are claimed with these: nothing more when none are due.
    assert large == small <= 18
    assert not SyncItem.objects.exists()
    assert set(CustomerSync.objects.values_list("status", flat=True)) == {"synced"}


def test_statements_per_batch_do_not_grow_when_items_fail(connection, shop, make_customer):
    def mixed(item):  # one in three refused for good, one in three to retry, one in three unanswered
        kind = item.customer_id % 3
        if kind == 0:
            return PushOutcome(item.customer_id, False, error=f"bad e-mail {item.email}", permanent=True)
        if kind == 1:
            return PushOutcome(item.customer_id, False, error="locked, try later", permanent=False)
        return None

    backend = RecordingBackend(connection, answer=mixed)
    _customers(shop, make_customer, 3, interactions=False)
    small, _ = _statements(connection, backend)
    _customers(shop, make_customer, 90, interactions=False)
    large, report = _statements(connection, backend)
    assert large == small
    assert (report.failed, report.retrying) == (30, 60)


def test_statements_per_batch_do_not_grow_when_the_call_fails(connection, shop, make_customer):
    class Down(RecordingBackend):
        def push_customers(self, items):
            raise CrmError("HubSpot: 503 Service Unavailable", permanent=False)

    _customers(shop, make_customer, 2, interactions=False)
    small, _ = _statements(connection, Down(connection))
    _customers(shop, make_customer, 100, interactions=False)
    large, report = _statements(connection, Down(connection))
    assert large == small and report.retrying == 100


# --- what happens to each item -------------------------------------------------------------------------


def test_each_item_gets_its_own_outcome_and_error(connection, shop, make_customer):
    good, refused, busy = _customers(shop, make_customer, 3, interactions=False)

    def answer(item):
        if item.customer_id == refused.pk:
            return PushOutcome(item.customer_id, False, error="INVALID_EMAIL", permanent=True)
        if item.customer_id == busy.pk:
            return PushOutcome(item.customer_id, False, error="423 locked", permanent=False)
        return PushOutcome(item.customer_id, True, "hs-1")

    report = sync_drain(connection, backend=RecordingBackend(connection, answer=answer))
    assert (report.pushed, report.failed, report.retrying) == (1, 1, 1)
    assert CustomerSync.objects.get(customer=good).external_id == "hs-1"
    assert not SyncItem.objects.filter(customer=good).exists()
    failed = SyncItem.objects.get(customer=refused)
    assert (failed.state, failed.last_error) == ("failed", "INVALID_EMAIL")
    assert CustomerSync.objects.get(customer=refused).last_error == "INVALID_EMAIL"
    retry = SyncItem.objects.get(customer=busy)
    assert (retry.state, retry.attempts, retry.last_error, retry.claimed_until) == (
        "pending",
        1,
        "423 locked",
        None,
    )
    assert CustomerSync.objects.get(customer=busy).status == "pending"


def test_an_item_the_answer_leaves_out_is_retried_not_lost(connection, shop, make_customer):
    (customer,) = _customers(shop, make_customer, 1, interactions=False)
    report = sync_drain(connection, backend=RecordingBackend(connection, answer=lambda item: None))
    row = SyncItem.objects.get(customer=customer)
    assert report.retrying == 1 and (row.state, row.attempts, row.claimed_until) == ("pending", 1, None)
    assert "said nothing" in row.last_error


def test_an_unexpected_backend_error_retries_the_batch_instead_of_crashing(connection, shop, make_customer):
    class Broken(RecordingBackend):
        def push_customers(self, items):
            raise KeyError("results")  # a vendor answer the backend did not expect

    customers = _customers(shop, make_customer, 2, interactions=False)
    report = sync_drain(connection, backend=Broken(connection))
    assert report.retrying == 2 and "KeyError" in report.errors[0]
    rows = SyncItem.objects.filter(customer__in=customers)
    assert {(r.state, r.attempts, r.claimed_until) for r in rows} == {("pending", 1, None)}


def test_a_change_during_the_push_is_pushed_again(connection, shop, make_customer):
    (customer,) = _customers(shop, make_customer, 1, interactions=False)

    def changed_meanwhile(item):
        customer.first_name = "Renamed while pushing"
        customer.save()  # another transaction's change: the pending row's version goes up
        return PushOutcome(item.customer_id, True, "hs-1")

    sync_drain(connection, backend=RecordingBackend(connection, answer=changed_meanwhile))
    row = SyncItem.objects.get(customer=customer)
    assert (row.state, row.version, row.claimed_until) == ("pending", 2, None)
    assert CustomerSync.objects.get(customer=customer).external_id == "hs-1"
    backend = RecordingBackend(connection)
    sync_drain(connection, backend=backend)
    assert [i.first_name for i in backend.pushed] == ["Renamed while pushing"]
    assert not SyncItem.objects.exists()


def test_an_answer_without_an_id_keeps_the_known_one(connection, shop, make_customer):
    (customer,) = _customers(shop, make_customer, 1, interactions=False)
    sync_drain(connection, backend=RecordingBackend(connection))
    customer.first_name = "Again"
    customer.save()
    sync_drain(
        connection, backend=RecordingBackend(connection, answer=lambda i: PushOutcome(i.customer_id, True))
    )
    assert CustomerSync.objects.get(customer=customer).external_id == f"ext-{customer.pk}"


def test_a_push_supersedes_older_failures_of_the_customer(connection, shop, make_customer):
    (customer,) = _customers(shop, make_customer, 1, interactions=False)
    refuse = RecordingBackend(
        connection, answer=lambda i: PushOutcome(i.customer_id, False, error="no", permanent=True)
    )
    sync_drain(connection, backend=refuse)
    customer.first_name = "Fixed"
    customer.save()
    sync_drain(connection, backend=RecordingBackend(connection))
    assert not SyncItem.objects.exists()
    sync = CustomerSync.objects.get(customer=customer)
    assert (sync.status, sync.last_error) == ("synced", "")


# --- one queued drain per connection ------------------------------------------------------------------

needs_shared_cache = pytest.mark.skipif(not is_shared(), reason="needs the Redis cache: set REDIS_URL")
# Real commits: a drain is asked for after each change's own commit, as in the running app.
commits = pytest.mark.django_db(transaction=True)


@pytest.fixture
def published(monkeypatch, celery_not_eager):
    calls = []
    monkeypatch.setattr(tasks.drain_connection, "delay", lambda connection_id: calls.append(connection_id))
    return calls


@needs_shared_cache
@commits
def test_fifty_changes_publish_one_drain_until_it_starts(
    connection, shop, make_customer, published, monkeypatch
):
    for n in range(50):
        make_customer(shop, first_name=f"C{n}")
    assert published == [connection.pk]

    drained = []
    monkeypatch.setattr(tasks, "sync_drain", lambda c: drained.append(c.pk) or DrainReport())
    tasks.drain_connection(connection.pk)  # the queued task starts: it lowers the flag first
    assert drained == [connection.pk]
    make_customer(shop, first_name="After the drain started")
    assert published == [connection.pk, connection.pk]


@needs_shared_cache
@commits
def test_one_queued_drain_per_connection_not_per_install(
    connection, shop, other_shop, make_customer, published
):
    other = CrmConnection(shop=other_shop, backend="hubspot", options={})
    other.set_secrets({"token": "unused"})
    other.save()
    for target in (shop, other_shop, shop, other_shop):
        make_customer(target)
    assert published == [connection.pk, other.pk]


@needs_shared_cache
@commits
def test_a_publish_that_failed_does_not_hold_back_the_next(
    connection, shop, make_customer, celery_not_eager, monkeypatch
):
    def broker_down(connection_id):
        raise ConnectionError("Connection refused")

    monkeypatch.setattr(tasks.drain_connection, "delay", broker_down)
    make_customer(shop)
    calls = []
    monkeypatch.setattr(tasks.drain_connection, "delay", lambda connection_id: calls.append(connection_id))
    assert tasks.sweep_outbox() == 1 and calls == [connection.pk]


@commits
def test_without_a_shared_cache_every_change_publishes(connection, shop, make_customer, published, settings):
    # Each process has its own local cache: a flag raised here would never be lowered by the worker.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    for _ in range(3):
        make_customer(shop)
    assert published == [connection.pk] * 3
