"""The outbox's enqueue side: a change writes rows in its own transaction, and asks for a drain after
the commit, at most one queued drain per connection.

Coalescing: before publishing a drain task, `enqueue_drain` raises a shared flag "drain queued for
connection N" (coccinelle.cache.flag_raise, Redis: seen by every process); while it is up, later
changes publish nothing, since the queued task will find their rows. The task lowers the flag when it
starts, before it claims any row, so a change committed after that publishes again and nothing is
missed. The flag lives DRAIN_FLAG_SECONDS: a task lost with its flag up (a worker killed before it
started) delays the push until beat's sweep after that. Without a shared cache every change publishes.
"""

import logging

from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from coccinelle import db
from coccinelle.cache import flag_lower, flag_raise
from crm_backends.cached import pushing_connection_id
from crm_backends.models import SyncItem
from crm_backends.outbox_sql import (
    customer_items_upsert,
    customer_syncs_mark_pending,
    interaction_items_insert,
)
from customers.models import Interaction

logger = logging.getLogger(__name__)

DRAIN_FLAG_SECONDS = 30


def outbox_add_customers(*, shop_id, customer_ids) -> None:
    # Asked on every change: the cached id of the pushing connection, no query for most shops.
    connection_id = pushing_connection_id(shop_id)
    if connection_id is None or not customer_ids:
        return
    customer_items_upsert(connection_id, customer_ids)
    customer_syncs_mark_pending(connection_id, customer_ids)
    drain_after_commit(connection_id)


def outbox_add_interactions(*, shop_id, interaction_ids) -> None:
    connection_id = pushing_connection_id(shop_id)
    if connection_id is None or not interaction_ids:
        return
    interaction_items_insert(connection_id, interaction_ids)
    drain_after_commit(connection_id)


# Delivery statuses worth rewriting a pushed note or task for (not every hop: queued and sent are what
# every message goes through).
PUSHED_STATUSES = ("delivered", "read", "played", "failed", "undelivered", "canceled", "partially_delivered")


def outbox_add_statuses(*, shop_id, interaction_ids) -> None:
    """Messages whose delivery status changed: one pending row per message, which absorbs later
    statuses until it is pushed (sent -> delivered -> read together cost one update). A message whose
    own push is still waiting needs none: that push reads the status it has then."""
    connection_id = pushing_connection_id(shop_id)
    if connection_id is None or not interaction_ids:
        return
    now = timezone.now()
    waiting = SyncItem.objects.filter(
        connection_id=connection_id,
        kind=SyncItem.Kind.INTERACTION,
        interaction_id=OuterRef("pk"),
        state=SyncItem.State.PENDING,
    ).filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
    ids = list(
        Interaction.objects.filter(
            pk__in=interaction_ids, direction=Interaction.Direction.OUTBOUND, status__in=PUSHED_STATUSES
        )
        .exclude(Exists(waiting))
        .values_list("pk", "customer_id")
    )
    if not ids:
        return
    pending = SyncItem.objects.filter(
        connection_id=connection_id,
        kind=SyncItem.Kind.STATUS,
        state=SyncItem.State.PENDING,
        interaction_id__in=[pk for pk, _ in ids],
    )
    # A row being pushed right now read the older status: its new version makes the drain keep it.
    pending.update(version=F("version") + 1, next_attempt_at=now, attempts=0)
    SyncItem.objects.bulk_create(
        [
            SyncItem(connection_id=connection_id, kind=SyncItem.Kind.STATUS, interaction_id=pk, customer_id=c)
            for pk, c in ids
        ],
        ignore_conflicts=True,
    )
    drain_after_commit(connection_id)


def drain_after_commit(connection_id) -> None:
    """Ask for a drain once the transaction commits: once per connection and transaction, however many
    changes it queued."""
    db.on_commit_once(("crm-drain", connection_id), enqueue_drain, connection_id)


def drain_flag(connection_id) -> str:
    return f"crm-drain-queued:{int(connection_id)}"


def drain_started(connection_id) -> None:
    """Called by the drain task before it claims rows: changes committed from now on queue a new task."""
    flag_lower(drain_flag(connection_id))


def enqueue_drain(connection_id) -> bool:
    """Ask a worker to drain the connection, unless a drain is already queued for it. A broker that is
    down loses nothing: the rows are in the database and Celery beat's sweep enqueues them once it is
    back.

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
    if not flag_raise(drain_flag(connection_id), DRAIN_FLAG_SECONDS):
        return False  # a queued drain has not started yet: it will find these rows
    try:
        drain_connection.delay(connection_id)
        return True
    except Exception as exc:  # noqa: BLE001 - any broker failure; the outbox row is already committed
        flag_lower(drain_flag(connection_id))  # nothing is queued: let the sweep's request through
        logger.warning(
            "CRM sync for connection %s not enqueued (%s); the sweep will retry", connection_id, exc
        )
        return False
