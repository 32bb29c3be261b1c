"""Celery tasks of the e-shop sync: thin, each calls one service."""

from datetime import timedelta

from celery import shared_task
from django.db.models import Q
from django.utils import timezone

from eshops.models import EshopConnection, EshopEvent
from eshops.services import connection_sync, event_process

EVENTS_KEEP_DAYS = 30


@shared_task
def sync_connection(connection_id: int) -> str:
    connection = EshopConnection.objects.select_related("shop").filter(pk=connection_id, enabled=True).first()
    return str(connection_sync(connection)) if connection else "no such enabled connection"


@shared_task
def sync_all() -> int:
    """Beat: a full sync of every enabled connection, one task each (webhooks keep it current between)."""
    ids = list(EshopConnection.objects.filter(enabled=True).values_list("pk", flat=True))
    for pk in ids:
        sync_connection.delay(pk)
    return len(ids)


@shared_task
def process_event(event_id: int) -> str:
    event = (
        EshopEvent.objects.select_related("connection__shop")
        .filter(pk=event_id, state=EshopEvent.State.PENDING)
        .first()
    )
    return event_process(event) if event else "already processed"


@shared_task
def sweep_events() -> int:
    """Beat: events whose task never ran (the broker was down) or whose last attempt failed for a
    reason that may pass (eshops.services.event_process) are processed again, a few minutes on."""
    now = timezone.now()
    due = EshopEvent.objects.filter(state=EshopEvent.State.PENDING).filter(
        Q(processed_at__isnull=True, received_at__lt=now - timedelta(minutes=2))
        | Q(processed_at__lt=now - timedelta(minutes=5))
    )
    ids = list(due.values_list("pk", flat=True)[:500])
    for pk in ids:
        process_event.delay(pk)
    # Applied events carry buyers' names, phones and e-mails: kept a while to look into, then removed.
    EshopEvent.objects.filter(
        state__in=[EshopEvent.State.PROCESSED, EshopEvent.State.IGNORED],
        received_at__lt=now - timedelta(days=EVENTS_KEEP_DAYS),
    ).delete()
    return len(ids)
