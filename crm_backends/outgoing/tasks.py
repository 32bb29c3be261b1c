"""Celery tasks of outgoing webhooks: they take ids and call crm_backends.outgoing.delivery."""

import time

from celery import shared_task
from django.db.models import Q
from django.utils import timezone

from crm_backends.outgoing.delivery import deliver_due, due
from crm_backends.outgoing.models import WebhookDelivery
from crm_backends.outgoing.outbox import delivery_started, enqueue_delivery

# One task delivers for at most this long, then hands over to a fresh task (fair to other endpoints).
BUDGET_SECONDS = 120


@shared_task
def deliver_endpoint(endpoint_id: int) -> int:
    delivery_started(endpoint_id)  # before any claim: events committed from now on queue another task
    started, handled = time.monotonic(), 0
    while time.monotonic() - started < BUDGET_SECONDS:
        report = deliver_due(endpoint_id)
        handled += report.handled
        if report.delivered == 0 or not due(endpoint_id).exists():
            break  # nothing due, or everything due is failing: the backoff decides when to come back
    else:
        enqueue_delivery(endpoint_id)
    return handled


@shared_task
def sweep_webhooks() -> int:
    """Celery beat: a delivery task for every enabled endpoint with due deliveries (retries whose
    backoff has passed, work left behind when the broker was down or a worker crashed)."""
    now = timezone.now()
    rows = WebhookDelivery.objects.filter(
        state=WebhookDelivery.State.PENDING, next_attempt_at__lte=now, endpoint__enabled=True
    ).filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
    endpoint_ids = list(rows.values_list("endpoint_id", flat=True).distinct())
    for endpoint_id in endpoint_ids:
        enqueue_delivery(endpoint_id)
    return len(endpoint_ids)
