"""Celery tasks of the CRM sync. They take ids and call the outbox services."""

import logging
import time

from celery import shared_task
from django.db.models import Q
from django.utils import timezone

from crm_backends.models import CrmConnection, SyncItem
from crm_backends.services import drain_started, due_count, enqueue_drain, sync_drain

logger = logging.getLogger(__name__)

# One task drains for at most this long, then hands over to a fresh task (fair to other shops).
DRAIN_BUDGET_SECONDS = 240


@shared_task
def drain_connection(connection_id: int) -> int:
    # Before any claim: a change committed from now on queues another drain (see crm_backends/outbox.py).
    drain_started(connection_id)
    connection = CrmConnection.objects.filter(pk=connection_id).first()
    if connection is None or not connection.pushes:
        return 0
    started, handled = time.monotonic(), 0
    while time.monotonic() - started < DRAIN_BUDGET_SECONDS:
        report = sync_drain(connection)
        handled += report.handled
        if report.pushed == 0 or not due_count(connection):
            break  # nothing due, or everything due is failing: backoff decides when to come back
    else:
        enqueue_drain(connection_id)
    return handled


@shared_task
def sweep_outbox() -> int:
    """Celery beat: enqueue a drain for every connection with due rows (work left behind when the
    broker was down, a worker crashed, or a retry's backoff has passed)."""
    now = timezone.now()
    due = SyncItem.objects.filter(state=SyncItem.State.PENDING, next_attempt_at__lte=now).filter(
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    )
    connection_ids = list(due.values_list("connection_id", flat=True).distinct())
    for connection_id in connection_ids:
        enqueue_drain(connection_id)
    return len(connection_ids)


# Outgoing webhooks' tasks live beside their code; imported here so that the worker registers them.
from crm_backends.outgoing import tasks as outgoing_tasks  # noqa: E402, F401
