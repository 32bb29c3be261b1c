"""Celery tasks of the e-shop sync: thin, each calls one service."""

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from eshops.models import EshopConnection, EshopEvent
from eshops.services import connection_sync, event_process


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
    """Beat: events stored while the broker was down (their task never ran) are processed now."""
    due = timezone.now() - timedelta(minutes=2)
    ids = list(
        EshopEvent.objects.filter(state=EshopEvent.State.PENDING, received_at__lt=due).values_list(
            "pk", flat=True
        )[:500]
    )
    for pk in ids:
        process_event.delay(pk)
    return len(ids)
