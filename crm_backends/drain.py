"""The outbox's drain side: claim a batch of due rows, push it, record what happened, in a constant
number of SQL statements per batch whatever its size (100 contacts for HubSpot, 200 for Salesforce).

claim due rows (a lease, so two workers never push the same row) -> build the payloads (two reads) ->
push through the backend -> record per item what happened (one upsert of the customers' sync state,
bulk deletes of what is done, one bulk update of what failed) -> transient failures retried with
backoff and jitter a bounded number of times; permanent ones kept, failed and visible, until someone
retries them. A vendor answer the backend did not expect never crashes the drain: the batch is retried.
"""

import logging
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from functools import reduce
from operator import or_

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, Subquery
from django.utils import timezone

from crm_backends.base import CrmError, CustomerPayload, InteractionPayload, PushOutcome
from crm_backends.models import CrmConnection, CustomerSync, InteractionSync, SyncItem
from crm_backends.outbox import outbox_add_customers
from crm_backends.registry import backend_for
from customers.models import Customer, Interaction

logger = logging.getLogger(__name__)

LEASE = timedelta(minutes=10)
BACKOFF_BASE_SECONDS = 30
BACKOFF_MAX_SECONDS = 3600
NO_ANSWER = "the CRM's answer said nothing about this item; it will be tried again"


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
    """Push one batch of due customers (with the erasures and merges due), then one batch of due
    interactions (with the delivery statuses due)."""
    report = DrainReport()
    if not connection.pushes:
        return report
    try:
        backend = backend or backend_for(connection)
    except CrmError as exc:  # a misconfigured connection: say so on the rows rather than fail silently
        _call_failed(connection, _claim(connection, SyncItem.Kind.CUSTOMER, 1000), exc, report)
        return report
    _drain_customers(connection, backend, report)
    _drain_interactions(connection, backend, report)
    return report


# Claimed together: contacts, and what is done to contacts (erase, merge); messages, and their statuses.
CONTACT_KINDS = (SyncItem.Kind.CUSTOMER, SyncItem.Kind.ERASE, SyncItem.Kind.MERGE)
MESSAGE_KINDS = (SyncItem.Kind.INTERACTION, SyncItem.Kind.STATUS)


def due_count(connection: CrmConnection) -> int:
    """Rows a drain can work on now (interactions only once their contact exists)."""
    customers = _due(connection, CONTACT_KINDS).count()
    return customers + _due(connection, MESSAGE_KINDS).filter(Exists(_contact_of(connection))).count()


def _due(connection, kinds=None):
    now = timezone.now()
    rows = SyncItem.objects.filter(
        connection=connection, state=SyncItem.State.PENDING, next_attempt_at__lte=now
    )
    rows = rows.filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
    if kinds is None:
        return rows
    return rows.filter(kind=kinds) if isinstance(kinds, str) else rows.filter(kind__in=kinds)


def _claim(connection, kind, limit, *, with_contact=False) -> list[SyncItem]:
    due = _due(connection, kind)
    if with_contact:
        due = due.filter(Exists(_contact_of(connection)))
    with transaction.atomic():
        rows = list(due.select_for_update(skip_locked=True).order_by("next_attempt_at", "pk")[:limit])
        if rows:
            SyncItem.objects.filter(pk__in=[r.pk for r in rows]).update(claimed_until=timezone.now() + LEASE)
    return rows


def _contact_of(connection):
    return CustomerSync.objects.filter(connection=connection, customer_id=OuterRef("customer_id")).exclude(
        external_id=""
    )


# --- customers ----------------------------------------------------------------------------------------


def _drain_customers(connection, backend, report):
    from crm_backends import drain_contacts  # it builds on this module's helpers

    claimed = _claim(connection, CONTACT_KINDS, backend.customer_batch_size)
    rows = [r for r in claimed if r.kind == SyncItem.Kind.CUSTOMER]
    if rows:
        _push_customers(connection, backend, rows, report)
    drain_contacts.merges(connection, backend, [r for r in claimed if r.kind == SyncItem.Kind.MERGE], report)
    drain_contacts.erasures(
        connection, backend, [r for r in claimed if r.kind == SyncItem.Kind.ERASE], report
    )


def split_outcomes(rows, outcomes: dict, key, failures: list) -> list:
    """(row, outcome) of the rows the CRM wrote; the others go to `failures` as (row, error, permanent):
    refused with the CRM's reason, or left out of its answer (retried)."""
    written = []
    for row in rows:
        outcome = outcomes.get(key(row))
        if outcome is None:
            failures.append((row, NO_ANSWER, False))
        elif outcome.ok:
            written.append((row, outcome))
        else:
            failures.append((row, outcome.error or "refused by the CRM", outcome.permanent))
    return written


def _push_customers(connection, backend, rows, report):
    payloads = customer_payloads(connection, [r.customer_id for r in rows])
    rows, failures = _with_payload(rows, payloads, key=lambda r: r.customer_id)
    items = [payloads[r.customer_id] for r in rows]
    outcomes = _push(connection, backend.push_customers, items, rows, report)
    if outcomes is None:
        _items_failed(connection, failures, report)
        return
    written = split_outcomes(rows, outcomes, lambda r: r.customer_id, failures)
    # An answer without the id keeps the one we knew: never lose the link to the contact.
    synced = [(row, o.external_id or payloads[row.customer_id].external_id) for row, o in written]
    _customers_synced(connection, synced)
    report.pushed += len(synced)
    _items_failed(connection, failures, report)


def _customers_synced(connection, synced) -> None:
    """Record a batch of successful pushes: one upsert of the sync state, one delete of the rows done."""
    if not synced:
        return
    try:
        _record_synced(connection, synced)
    except IntegrityError:
        # A customer was erased while their push was on its way: the contact the CRM just wrote is
        # erased in turn, and the others are recorded.
        synced = _erased_meanwhile(connection, synced)
        if not synced:
            return
        _record_synced(connection, synced)
    ids = sorted(row.customer_id for row, _ in synced)
    # Done, unless the customer changed while we pushed (its version went up): then the row stays, for
    # that newer version to go out next time.
    pks_by_version = defaultdict(list)
    for row, _ in synced:
        pks_by_version[row.version].append(row.pk)
    done = reduce(or_, (Q(version=v, pk__in=pks) for v, pks in pks_by_version.items()))
    deleted, _ = SyncItem.objects.filter(done).delete()
    if deleted < len(synced):
        SyncItem.objects.filter(pk__in=[row.pk for row, _ in synced]).update(claimed_until=None)
    # Older failures of these customers are superseded by what was just pushed.
    SyncItem.objects.filter(
        connection=connection, kind=SyncItem.Kind.CUSTOMER, customer_id__in=ids, state=SyncItem.State.FAILED
    ).delete()


def _record_synced(connection, synced) -> None:
    now, external = timezone.now(), {row.customer_id: external_id for row, external_id in synced}
    CustomerSync.objects.bulk_create(
        [
            CustomerSync(
                connection=connection,
                customer_id=pk,
                status=CustomerSync.Status.SYNCED,
                external_id=external[pk],
                synced_at=now,
                last_error="",
            )
            for pk in sorted(external)
        ],
        update_conflicts=True,
        unique_fields=["connection", "customer"],
        update_fields=["status", "external_id", "synced_at", "last_error", "updated_at"],
    )


def _erased_meanwhile(connection, synced) -> list:
    alive = set(
        Customer.objects.filter(pk__in=[r.customer_id for r, _ in synced]).values_list("pk", flat=True)
    )
    gone = [external_id for row, external_id in synced if row.customer_id not in alive and external_id]
    SyncItem.objects.bulk_create(
        [SyncItem(connection=connection, kind=SyncItem.Kind.ERASE, external_id=e) for e in gone]
    )
    return [(row, external_id) for row, external_id in synced if row.customer_id in alive]


# --- interactions -------------------------------------------------------------------------------------


def _drain_interactions(connection, backend, report):
    from crm_backends import drain_contacts  # it builds on this module's helpers

    _queue_missing_contacts(connection)
    claimed = _claim(connection, MESSAGE_KINDS, backend.interaction_batch_size, with_contact=True)
    if not claimed:
        return
    contacts = dict(
        CustomerSync.objects.filter(connection=connection, customer_id__in={r.customer_id for r in claimed})
        .exclude(external_id="")
        .values_list("customer_id", "external_id")
    )
    rows = [r for r in claimed if r.kind == SyncItem.Kind.INTERACTION]
    if rows:
        _push_interactions(connection, backend, rows, contacts, report)
    statuses = [r for r in claimed if r.kind == SyncItem.Kind.STATUS]
    drain_contacts.statuses(connection, backend, statuses, contacts, report)


def _push_interactions(connection, backend, rows, contacts, report):
    payloads = interaction_payloads([r.interaction_id for r in rows], contacts, shop_id=connection.shop_id)
    rows, failures = _with_payload(rows, payloads, key=lambda r: r.interaction_id)
    items = [payloads[r.interaction_id] for r in rows]
    outcomes = _push(connection, backend.push_interactions, items, rows, report)
    if outcomes is None:
        _items_failed(connection, failures, report)
        return
    written = split_outcomes(rows, outcomes, lambda r: r.interaction_id, failures)
    done = [(row, outcome.external_id) for row, outcome in written]
    if done:
        _interactions_pushed(connection, done)
        SyncItem.objects.filter(pk__in=[row.pk for row, _ in done]).delete()
    report.pushed += len(done)
    _items_failed(connection, failures, report)


def _interactions_pushed(connection, done) -> None:
    """Remember each note's or task's id (what a delivery status or an erasure acts on later)."""
    known = [(row.interaction_id, external_id) for row, external_id in done if external_id]

    def record(pairs):
        InteractionSync.objects.bulk_create(
            [InteractionSync(connection=connection, interaction_id=i, external_id=e) for i, e in pairs],
            update_conflicts=True,
            unique_fields=["connection", "interaction"],
            update_fields=["external_id"],
        )

    if not known:
        return
    try:
        record(known)
    except IntegrityError:  # a message erased while it was pushed: its erasure row has no id of it
        alive = set(Interaction.objects.filter(pk__in=[i for i, _ in known]).values_list("pk", flat=True))
        record([(i, e) for i, e in known if i in alive])


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


# --- pushing and failing, shared ---------------------------------------------------------------------


def _with_payload(rows, payloads, *, key):
    """Rows whose customer or interaction could be read, and failures for the others (a customer
    moved to another shop): those are never pushed to this shop's CRM."""
    kept = [r for r in rows if key(r) in payloads]
    gone = [(r, "no longer belongs to this shop's customers", True) for r in rows if key(r) not in payloads]
    return kept, gone


def _push(connection, call, items, rows, report) -> dict[int, PushOutcome] | None:
    """The backend's outcomes by key, or None when the whole call failed (the rows are then recorded)."""
    if not rows:
        return {}
    try:
        outcomes = call(items)
    except CrmError as exc:
        _call_failed(connection, rows, exc, report)
        return None
    except Exception as exc:  # noqa: BLE001 - an answer the backend did not expect: retry, never crash
        logger.exception("CRM push for connection %s failed unexpectedly", connection.pk)
        error = CrmError(f"unexpected {type(exc).__name__} while pushing; see the log", permanent=False)
        _call_failed(connection, rows, error, report)
        return None
    return {o.key: o for o in outcomes or () if isinstance(o, PushOutcome)}


def _call_failed(connection, rows, exc: CrmError, report):
    logger.warning("CRM push for connection %s failed: %s", connection.pk, exc)
    report.errors.append(str(exc))
    _items_failed(connection, [(row, str(exc), exc.permanent) for row in rows], report)


def _items_failed(connection, failures, report) -> None:
    """Record failed items in one bulk update (and one upsert of the customers' state when some failed
    for good): retried after a backoff, or failed after the last attempt or a permanent error."""
    if not failures:
        return
    now, failed_customers = timezone.now(), {}
    for row, error, permanent in failures:
        row.attempts += 1
        row.claimed_until, row.last_error = None, error[:2000]
        if permanent or row.attempts >= settings.CRM_SYNC_MAX_ATTEMPTS:
            row.state = SyncItem.State.FAILED
            report.failed += 1
            if row.kind == SyncItem.Kind.CUSTOMER:
                failed_customers[row.customer_id] = row.last_error
        else:
            row.next_attempt_at = now + backoff(row.attempts)
            report.retrying += 1
    SyncItem.objects.bulk_update(
        [row for row, _, _ in failures],
        ["state", "attempts", "claimed_until", "next_attempt_at", "last_error"],
    )
    if failed_customers:
        try:
            _record_failed(connection, failed_customers)
        except IntegrityError:  # a customer erased meanwhile: nothing to show them on
            alive = set(Customer.objects.filter(pk__in=failed_customers).values_list("pk", flat=True))
            _record_failed(connection, {pk: e for pk, e in failed_customers.items() if pk in alive})


def _record_failed(connection, failed_customers: dict) -> None:
    CustomerSync.objects.bulk_create(
        [
            CustomerSync(
                connection=connection,
                customer_id=pk,
                status=CustomerSync.Status.FAILED,
                last_error=failed_customers[pk],
            )
            for pk in sorted(failed_customers)
        ],
        update_conflicts=True,
        unique_fields=["connection", "customer"],
        update_fields=["status", "last_error", "updated_at"],
    )


def backoff(attempts: int) -> timedelta:
    """Exponential, capped, with full jitter so that retries after an outage do not arrive together."""
    ceiling = min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2 ** (attempts - 1))
    return timedelta(seconds=random.uniform(ceiling / 2, ceiling))  # noqa: S311 - jitter, not security


# --- payloads -----------------------------------------------------------------------------------------


def customer_payloads(connection, customer_ids) -> dict[int, CustomerPayload]:
    """Two reads for any number of customers: the customers with their CRM id, and their tags."""
    external_id = CustomerSync.objects.filter(connection=connection, customer_id=OuterRef("pk")).values(
        "external_id"
    )[:1]
    customers = (
        Customer.objects.filter(pk__in=customer_ids, shop_id=connection.shop_id)
        .annotate(crm_external_id=Subquery(external_id))
        .prefetch_related("tags")
    )
    return {
        c.pk: CustomerPayload(
            customer_id=c.pk,
            external_id=c.crm_external_id or "",
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


def interaction_payloads(
    interaction_ids, contacts: dict, notes: dict | None = None, *, shop_id: int
) -> dict[int, InteractionPayload]:
    # Only the connection's shop's messages, as for customers: a stray row is no payload (failed, not
    # pushed into another shop's CRM).
    rows = Interaction.objects.filter(pk__in=interaction_ids, customer__shop_id=shop_id)
    rows = rows.select_related("author")
    notes = notes or {}
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
            status=i.status if i.direction == Interaction.Direction.OUTBOUND else "",
            external_id=notes.get(i.pk, ""),
        )
        for i in rows
    }


def _describe_media(interaction) -> str:
    if interaction.media:
        return "Media: " + ", ".join(m.get("content_type") or m.get("url", "") for m in interaction.media)
    if interaction.location:
        return f"Location: {interaction.location.get('latitude')}, {interaction.location.get('longitude')}"
    return interaction.button_reply or "(no text)"
