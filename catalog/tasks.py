"""Beat tasks of the catalogue: thin, each calls one service (coccinelle/settings.py schedules them)."""

from celery import shared_task

from catalog.alerts import alerts_send_due
from catalog.holds import holds_expire_due
from catalog.reminders import holds_remind_due


@shared_task
def expire_holds() -> int:
    return holds_expire_due()


@shared_task
def remind_holds() -> int:
    return holds_remind_due()


@shared_task
def send_stock_alerts() -> int:
    return alerts_send_due()
