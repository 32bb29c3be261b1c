"""The outbox: changes become rows in the same transaction; a task drains them in batches.

enqueue (on every change, inside its transaction) -> claim due rows (a lease, so two workers never
push the same row) -> push through the backend -> record per customer what happened -> retry
transient failures with backoff and jitter, a bounded number of times; permanent ones are kept, failed
and visible, until someone retries them.
"""

import json
import logging
import random
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from crm_backends import crypto
from crm_backends.base import CrmError, CustomerPayload, InteractionPayload
from crm_backends.cached import pushing_connection_id
from crm_backends.models import CrmConnection, CustomerSync, SyncItem
from crm_backends.registry import backend_for
from customers.models import Customer, Interaction
from customers.phones import try_normalize_phone

logger = logging.getLogger(__name__)

LEASE = timedelta(minutes=10)
BACKOFF_BASE_SECONDS = 30
BACKOFF_MAX_SECONDS = 3600


# --- enqueue (inside the change's transaction) ------------------------------------------------------


def outbox_add_customers(*, shop_id, customer_ids) -> None:
    # Asked on every change: the cached id of the pushing connection, no query for most shops.
    connection_id = pushing_connection_id(shop_id)
    if connection_id is None or not customer_ids:
        return
    ids = set(customer_ids)
    pending = SyncItem.objects.filter(
        connection_id=connection_id,
        kind=SyncItem.Kind.CUSTOMER,
        state=SyncItem.State.PENDING,
        customer_id__in=ids,
    )
    # Coalesce: a row already waiting absorbs this change; its new version tells a worker that is
    # pushing the older state right now to push once more.
    pending.update(version=F("version") + 1, next_attempt_at=timezone.now(), attempts=0)
    known = set(pending.values_list("customer_id", flat=True))
    SyncItem.objects.bulk_create(
        [
            SyncItem(connection_id=connection_id, kind=SyncItem.Kind.CUSTOMER, customer_id=pk)
            for pk in ids - known
        ],
        ignore_conflicts=True,
    )
    _mark_pending(connection_id, ids)
    _drain_after_commit(connection_id)


def outbox_add_interactions(*, shop_id, interaction_ids) -> None:
    connection_id = pushing_connection_id(shop_id)
    if connection_id is None or not interaction_ids:
        return
    rows = Interaction.objects.filter(pk__in=interaction_ids).values_list("pk", "customer_id")
    SyncItem.objects.bulk_create(
        [
            SyncItem(
                connection_id=connection_id,
                kind=SyncItem.Kind.INTERACTION,
                interaction_id=pk,
                customer_id=customer_id,
            )
            for pk, customer_id in rows
        ],
        ignore_conflicts=True,
    )
    _drain_after_commit(connection_id)


def _mark_pending(connection_id, customer_ids) -> None:
    existing = CustomerSync.objects.filter(connection_id=connection_id, customer_id__in=customer_ids)
    existing.exclude(status=CustomerSync.Status.FAILED).update(status=CustomerSync.Status.PENDING)
    known = set(existing.values_list("customer_id", flat=True))
    CustomerSync.objects.bulk_create(
        [CustomerSync(connection_id=connection_id, customer_id=pk) for pk in set(customer_ids) - known],
        ignore_conflicts=True,
    )


def _drain_after_commit(connection_id) -> None:
    """Ask for a drain once the transaction commits: once per connection and transaction, however many
    changes it queued (a message records a customer change and two interactions)."""
    db = transaction.get_connection()
    if db.in_atomic_block:
        # Already asked in this savepoint or an enclosing one: that request survives exactly when this
        # one would (a savepoint rolled back drops the callbacks registered inside it).
        current = set(db.savepoint_ids)
        for savepoint_ids, callback, _robust in db.run_on_commit:
            if getattr(callback, "drain_connection_id", None) == connection_id and savepoint_ids <= current:
                return
    callback = partial(enqueue_drain, connection_id)
    callback.drain_connection_id = connection_id
    transaction.on_commit(callback)


def enqueue_drain(connection_id) -> bool:
    """Ask a worker to drain the connection. A broker that is down loses nothing: the rows are in the
    database and Celery beat's sweep enqueues them once it is back.

    Never a push inside a web request: a drain can wait minutes on a CRM's rate limit, and this runs
    after the commit of whatever saved the change, a webhook or a page included. With a broker (Redis,
    or the embedded default's folder) `.delay` only writes a message. When tasks run eagerly (the test
    suite, or CELERY_TASK_ALWAYS_EAGER=1) `.delay` would push right here, so only the CRM's own tasks
    (beat's sweep, a drain handing over to the next) drain inline, since nothing runs those inside a
    request; any other caller leaves the rows pending and visible, for the sweep or `sync_crm`.
    """
    from celery import current_task

    from crm_backends.tasks import drain_connection, sweep_outbox

    crm_task = current_task and current_task.name in (drain_connection.name, sweep_outbox.name)
    if drain_connection.app.conf.task_always_eager and not crm_task:
        logger.info("CRM sync for connection %s left to the sweep: tasks run eagerly here", connection_id)
        return False
    try:
        drain_connection.delay(connection_id)
        return True
    except Exception as exc:  # noqa: BLE001 - any broker failure; the outbox row is already committed
        logger.warning(
            "CRM sync for connection %s not enqueued (%s); the sweep will retry", connection_id, exc
        )
        return False


# --- drain ------------------------------------------------------------------------------------------


@dataclass
class DrainReport:
    pushed: int = 0
    failed: int = 0
    retrying: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def handled(self) -> int:
        return self.pushed + self.failed + self.retrying


def sync_drain(connection: CrmConnection, *, backend=None) -> DrainReport:
    """Push one batch of due customers, then one batch of due interactions."""
    report = DrainReport()
    if not connection.pushes:
        return report
    try:
        backend = backend or backend_for(connection)
    except CrmError as exc:  # a misconfigured connection: say so on the rows rather than fail silently
        _call_failed(_claim(connection, SyncItem.Kind.CUSTOMER, 1000), exc, report, connection)
        return report
    _drain_customers(connection, backend, report)
    _drain_interactions(connection, backend, report)
    return report


def due_count(connection: CrmConnection) -> int:
    """Rows a drain can work on now (interactions only once their contact exists)."""
    customers = _due(connection, SyncItem.Kind.CUSTOMER).count()
    return (
        customers
        + _due(connection, SyncItem.Kind.INTERACTION).filter(Exists(_contact_of(connection))).count()
    )


def _due(connection, kind=None):
    now = timezone.now()
    rows = SyncItem.objects.filter(
        connection=connection, state=SyncItem.State.PENDING, next_attempt_at__lte=now
    )
    rows = rows.filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
    return rows.filter(kind=kind) if kind else rows


def _claim(connection, kind, limit, *, with_contact=False) -> list[SyncItem]:
    due = _due(connection, kind)
    if with_contact:
        due = due.filter(Exists(_contact_of(connection)))
    with transaction.atomic():
        rows = list(due.select_for_update(skip_locked=True).order_by("next_attempt_at", "pk")[:limit])
        SyncItem.objects.filter(pk__in=[r.pk for r in rows]).update(claimed_until=timezone.now() + LEASE)
    return rows


def _drain_customers(connection, backend, report):
    rows = _claim(connection, SyncItem.Kind.CUSTOMER, backend.customer_batch_size)
    if not rows:
        return
    payloads = customer_payloads(connection, [r.customer_id for r in rows])
    try:
        outcomes = backend.push_customers([payloads[r.customer_id] for r in rows])
    except CrmError as exc:
        _call_failed(rows, exc, report, connection)
        return
    by_key = {o.key: o for o in outcomes}
    synced = [(row, o.external_id) for row in rows if (o := by_key.get(row.customer_id)) and o.ok]
    _customers_synced(connection, synced)
    report.pushed += len(synced)
    for row in rows:
        outcome = by_key.get(row.customer_id)
        if outcome and not outcome.ok:
            _item_failed(row, outcome.error, outcome.permanent, report, connection)


def _drain_interactions(connection, backend, report):
    _queue_missing_contacts(connection)
    rows = _claim(connection, SyncItem.Kind.INTERACTION, backend.interaction_batch_size, with_contact=True)
    if not rows:
        return
    contacts = dict(
        CustomerSync.objects.filter(connection=connection, customer_id__in={r.customer_id for r in rows})
        .exclude(external_id="")
        .values_list("customer_id", "external_id")
    )
    payloads = interaction_payloads([r.interaction_id for r in rows], contacts)
    try:
        outcomes = backend.push_interactions([payloads[r.interaction_id] for r in rows])
    except CrmError as exc:
        _call_failed(rows, exc, report, connection)
        return
    by_key = {o.key: o for o in outcomes}
    for row in rows:
        outcome = by_key.get(row.interaction_id)
        if outcome and outcome.ok:
            SyncItem.objects.filter(pk=row.pk).delete()
            report.pushed += 1
        elif outcome:
            _item_failed(row, outcome.error, outcome.permanent, report, connection)


def _queue_missing_contacts(connection):
    """An interaction is attached to its customer's contact, so that contact must exist first: queue
    the customers of waiting interactions that have neither a contact nor a push on the way."""
    orphans = (
        _due(connection, SyncItem.Kind.INTERACTION)
        .exclude(Exists(_contact_of(connection)))
        .exclude(
            Exists(
                SyncItem.objects.filter(
                    connection=connection, kind=SyncItem.Kind.CUSTOMER, customer_id=OuterRef("customer_id")
                )
            )
        )
        .values_list("customer_id", flat=True)
        .distinct()[:1000]
    )
    outbox_add_customers(shop_id=connection.shop_id, customer_ids=list(orphans))


def _contact_of(connection):
    return CustomerSync.objects.filter(connection=connection, customer_id=OuterRef("customer_id")).exclude(
        external_id=""
    )


def _customers_synced(connection, synced) -> None:
    """Record a batch of successful pushes in a few queries, whatever the batch size."""
    if not synced:
        return
    now = timezone.now()
    ids = [row.customer_id for row, _ in synced]
    existing = {
        s.customer_id: s for s in CustomerSync.objects.filter(connection=connection, customer_id__in=ids)
    }
    for row, external_id in synced:
        sync = existing.setdefault(
            row.customer_id, CustomerSync(connection=connection, customer_id=row.customer_id)
        )
        sync.status, sync.external_id, sync.synced_at, sync.last_error, sync.updated_at = (
            CustomerSync.Status.SYNCED, external_id, now, "", now,
        )  # fmt: skip
    CustomerSync.objects.bulk_update(
        [s for s in existing.values() if s.pk],
        ["status", "external_id", "synced_at", "last_error", "updated_at"],
    )
    CustomerSync.objects.bulk_create([s for s in existing.values() if not s.pk], ignore_conflicts=True)
    # Done, unless the customer changed while we pushed: then that newer version goes out next time.
    done = Q(pk__in=[])
    for row, _ in synced:
        done |= Q(pk=row.pk, version=row.version)
    SyncItem.objects.filter(done).delete()
    SyncItem.objects.filter(pk__in=[row.pk for row, _ in synced]).update(claimed_until=None)
    # Older failures of these customers are superseded by what was just pushed.
    SyncItem.objects.filter(
        connection=connection, kind=SyncItem.Kind.CUSTOMER, customer_id__in=ids, state=SyncItem.State.FAILED
    ).delete()


def _call_failed(rows, exc: CrmError, report, connection):
    logger.warning("CRM push for connection %s failed: %s", connection.pk, exc)
    report.errors.append(str(exc))
    for row in rows:
        _item_failed(row, str(exc), exc.permanent, report, connection)


def _item_failed(row, error, permanent, report, connection):
    attempts = row.attempts + 1
    if permanent or attempts >= settings.CRM_SYNC_MAX_ATTEMPTS:
        SyncItem.objects.filter(pk=row.pk).update(
            state=SyncItem.State.FAILED, attempts=attempts, claimed_until=None, last_error=error[:2000]
        )
        report.failed += 1
        if row.kind == SyncItem.Kind.CUSTOMER:
            CustomerSync.objects.update_or_create(
                connection=connection,
                customer_id=row.customer_id,
                defaults={"status": CustomerSync.Status.FAILED, "last_error": error[:2000]},
            )
        return
    SyncItem.objects.filter(pk=row.pk).update(
        attempts=attempts,
        claimed_until=None,
        next_attempt_at=timezone.now() + backoff(attempts),
        last_error=error[:2000],
    )
    report.retrying += 1


def backoff(attempts: int) -> timedelta:
    """Exponential, capped, with full jitter so that retries after an outage do not arrive together."""
    ceiling = min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2 ** (attempts - 1))
    return timedelta(seconds=random.uniform(ceiling / 2, ceiling))  # noqa: S311 - jitter, not security


# --- payloads ---------------------------------------------------------------------------------------


def customer_payloads(connection, customer_ids) -> dict[int, CustomerPayload]:
    external = dict(
        CustomerSync.objects.filter(connection=connection, customer_id__in=customer_ids).values_list(
            "customer_id", "external_id"
        )
    )
    customers = Customer.objects.filter(pk__in=customer_ids, shop_id=connection.shop_id).prefetch_related(
        "tags"
    )
    return {
        c.pk: CustomerPayload(
            customer_id=c.pk,
            external_id=external.get(c.pk, ""),
            first_name=c.first_name,
            last_name=c.last_name,
            email=c.email,
            phone=c.phone,
            whatsapp_phone=c.phone if c.preferred_channel == "whatsapp" else None,
            segment=c.segment,
            tags=tuple(sorted(t.name for t in c.tags.all())),
            language=c.language,
            opted_out=c.opted_out_at is not None,
        )
        for c in customers
    }


def interaction_payloads(interaction_ids, contacts: dict) -> dict[int, InteractionPayload]:
    rows = Interaction.objects.filter(pk__in=interaction_ids).select_related("author")
    return {
        i.pk: InteractionPayload(
            interaction_id=i.pk,
            customer_id=i.customer_id,
            contact_external_id=contacts.get(i.customer_id, ""),
            occurred_at=i.occurred_at,
            channel=i.channel,
            direction=i.direction,
            body=i.body or _describe_media(i),
            author=i.author.get_username() if i.author else "",
        )
        for i in rows
    }


def _describe_media(interaction) -> str:
    if interaction.media:
        return "Media: " + ", ".join(m.get("content_type") or m.get("url", "") for m in interaction.media)
    if interaction.location:
        return f"Location: {interaction.location.get('latitude')}, {interaction.location.get('longitude')}"
    return interaction.button_reply or "(no text)"


# --- operations (sync_crm command, admin actions) -----------------------------------------------------


def sync_retry_failed(connection, *, customer_ids=None) -> int:
    failed = SyncItem.objects.filter(connection=connection, state=SyncItem.State.FAILED)
    if customer_ids is not None:
        failed = failed.filter(customer_id__in=customer_ids)
    customers = set(failed.filter(kind=SyncItem.Kind.CUSTOMER).values_list("customer_id", flat=True))
    failed.filter(kind=SyncItem.Kind.CUSTOMER).delete()  # replaced by fresh pending rows below
    count = len(customers) + failed.update(
        state=SyncItem.State.PENDING, attempts=0, next_attempt_at=timezone.now(), claimed_until=None
    )
    CustomerSync.objects.filter(connection=connection, customer_id__in=customers).update(
        status=CustomerSync.Status.PENDING, last_error=""
    )
    outbox_add_customers(shop_id=connection.shop_id, customer_ids=customers)
    _drain_after_commit(connection.pk)
    return count


def sync_full(connection) -> int:
    """Queue every customer of the shop (and their interactions not yet pushed)."""
    ids = list(Customer.objects.filter(shop_id=connection.shop_id).values_list("pk", flat=True))
    for start in range(0, len(ids), 5000):
        outbox_add_customers(shop_id=connection.shop_id, customer_ids=ids[start : start + 5000])
    interaction_ids = Interaction.objects.filter(customer__shop_id=connection.shop_id).values_list(
        "pk", flat=True
    )
    outbox_add_interactions(shop_id=connection.shop_id, interaction_ids=list(interaction_ids))
    return len(ids)


def sync_pull(connection, *, backend=None) -> dict:
    """Import the CRM's contacts on first connection: link each to the matching customer (by phone or
    e-mail) or create one, and remember the CRM id so that nothing is duplicated on either side."""
    backend = backend or backend_for(connection)
    counts = {"linked": 0, "created": 0, "skipped": 0}
    shop = connection.shop
    for contact in backend.pull_contacts():
        with transaction.atomic():
            counts[_pull_one(connection, shop, contact)] += 1
    return counts


def _pull_one(connection, shop, contact) -> str:
    from customers.services import customer_find

    phone = try_normalize_phone(contact.phone, shop.country) if contact.phone else None
    email = contact.email.lower() or None
    if not (phone or email):
        return "skipped"
    customer = customer_find(shop=shop, phone=phone, email=email)
    outcome = "linked"
    if customer is None:
        customer = Customer.objects.create(
            shop=shop,
            phone=phone,
            email=email,
            first_name=contact.first_name[:100],
            last_name=contact.last_name[:100],
            name_source=Customer.NameSource.HUMAN,
            source=connection.backend,
        )
        outcome = "created"
    CustomerSync.objects.update_or_create(
        connection=connection,
        customer=customer,
        defaults={
            "external_id": contact.external_id,
            "status": CustomerSync.Status.SYNCED,
            "synced_at": timezone.now(),
        },
    )
    # It came from the CRM: no need to push it straight back.
    SyncItem.objects.filter(connection=connection, kind=SyncItem.Kind.CUSTOMER, customer=customer).delete()
    return outcome


def connection_test(connection) -> list:
    """Run the backend's checks and keep the report on the connection. Whatever the CRM (or a
    misconfiguration) does, the answer is a list of ✓/✗ lines, never an exception."""
    from crm_backends.base import Check

    try:
        checks = backend_for(connection).test_connection()
    except (CrmError, crypto.SecretsUnreadable) as exc:
        checks = [Check("configuration", False, str(exc))]
    except Exception:  # noqa: BLE001 - an owner is waiting on a page: a ✗ line, the details in the log
        logger.exception("CRM connection test of connection %s failed unexpectedly", connection.pk)
        checks = [Check("configuration", False, "unexpected error while testing; see the server log")]
    connection.last_test_at = timezone.now()
    connection.last_test_report = json.dumps([asdict(c) for c in checks])
    connection.save(update_fields=["last_test_at", "last_test_report"])
    return checks
