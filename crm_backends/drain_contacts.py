"""The drain's passes for what happens to contacts and messages after they were pushed: erasures and
merges (claimed with the contacts), delivery statuses (claimed with the messages). Same rules as the
rest of the drain (crm_backends/drain.py): a few statements per batch, every item done, retried with
backoff or failed with the CRM's words, never a crashed drain.
"""

from collections import defaultdict
from functools import reduce
from operator import or_

from django.db.models import Q

from crm_backends.base import ErasePayload, MergePayload
from crm_backends.drain import _items_failed, _push, interaction_payloads, split_outcomes
from crm_backends.models import CustomerSync, InteractionSync, SyncItem


def erasures(connection, backend, rows, report) -> None:
    """Delete (or anonymise) the contacts of erased customers; the rows hold only the CRM's ids."""
    if not rows:
        return
    items = [
        ErasePayload(
            key=row.pk,
            external_id=row.external_id,
            activities=tuple(str(a) for a in (row.payload or {}).get("activities", ()) if a),
        )
        for row in rows
    ]
    outcomes = _push(connection, backend.erase_contacts, items, rows, report)
    if outcomes is not None:
        _finish(connection, rows, outcomes, report)


def merges(connection, backend, rows, report) -> None:
    """Merge the contact of a merged customer into the survivor's, as the CRM merges (HubSpot's merge
    endpoint, Salesforce's merge call): the notes or tasks of both end up on the survivor."""
    if not rows:
        return
    survivors = dict(
        CustomerSync.objects.filter(connection=connection, customer_id__in={r.customer_id for r in rows})
        .exclude(external_id="")
        .values_list("customer_id", "external_id")
    )
    adopted = [r for r in rows if not survivors.get(r.customer_id)]
    for row in adopted:  # the survivor lost its contact since: it takes the merged one instead
        _survivor_is(connection, row.customer_id, row.external_id)
    if adopted:
        SyncItem.objects.filter(pk__in=[r.pk for r in adopted]).delete()
        report.pushed += len(adopted)
    rows = [r for r in rows if survivors.get(r.customer_id)]
    items = [
        MergePayload(key=r.pk, primary_id=survivors[r.customer_id], merged_id=r.external_id) for r in rows
    ]
    outcomes = _push(connection, backend.merge_contacts, items, rows, report)
    if outcomes is None:
        return
    for row in rows:
        outcome = outcomes.get(row.pk)
        if (
            outcome
            and outcome.ok
            and outcome.external_id
            and outcome.external_id != survivors[row.customer_id]
        ):
            _survivor_is(connection, row.customer_id, outcome.external_id)
    _finish(connection, rows, outcomes, report)


def statuses(connection, backend, rows, contacts, report) -> None:
    """Rewrite the note or task of messages whose delivery status changed since it was pushed."""
    if not rows:
        return
    notes = dict(
        InteractionSync.objects.filter(
            connection=connection, interaction_id__in=[r.interaction_id for r in rows]
        ).values_list("interaction_id", "external_id")
    )
    known = [r.interaction_id for r in rows if r.interaction_id in notes]
    payloads = interaction_payloads(known, contacts, notes, shop_id=connection.shop_id)
    unknown = [r for r in rows if r.interaction_id not in payloads]
    if unknown:
        _without_note(connection, unknown, report)
    rows = [r for r in rows if r.interaction_id in payloads]
    items = [payloads[r.interaction_id] for r in rows]
    outcomes = _push(connection, backend.update_interactions, items, rows, report)
    if outcomes is None:
        return
    by_row = {row.pk: outcomes.get(row.interaction_id) for row in rows}
    _finish(connection, rows, by_row, report, versioned=True)


def _without_note(connection, rows, report) -> None:
    """No note or task is known for these messages: while their own push is still on its way, wait
    for it (it may be what is late); otherwise nothing in the CRM can be updated."""
    waiting = set(
        SyncItem.objects.filter(
            connection=connection,
            kind=SyncItem.Kind.INTERACTION,
            interaction_id__in=[r.interaction_id for r in rows],
            state=SyncItem.State.PENDING,
        ).values_list("interaction_id", flat=True)
    )
    later = [
        (r, "waiting for the message's own note or task to be pushed", False)
        for r in rows
        if r.interaction_id in waiting
    ]
    SyncItem.objects.filter(pk__in=[r.pk for r in rows if r.interaction_id not in waiting]).delete()
    _items_failed(connection, later, report)


def _survivor_is(connection, customer_id, external_id) -> None:
    CustomerSync.objects.update_or_create(
        connection=connection, customer_id=customer_id, defaults={"external_id": external_id}
    )


def _finish(connection, rows, outcomes: dict, report, *, versioned=False) -> None:
    """Delete the rows done (a status row only if no newer status came meanwhile), record the others
    as failed or to retry."""
    failures = []
    done = [row for row, _ in split_outcomes(rows, outcomes, lambda r: r.pk, failures)]
    if done:
        if versioned:
            by_version = defaultdict(list)
            for row in done:
                by_version[row.version].append(row.pk)
            kept = reduce(or_, (Q(version=v, pk__in=pks) for v, pks in by_version.items()))
            deleted, _ = SyncItem.objects.filter(kept).delete()
            if deleted < len(done):  # a newer status arrived while this one was pushed: once more
                SyncItem.objects.filter(pk__in=[r.pk for r in done]).update(claimed_until=None)
        else:
            SyncItem.objects.filter(pk__in=[r.pk for r in done]).delete()
        report.pushed += len(done)
    _items_failed(connection, failures, report)
