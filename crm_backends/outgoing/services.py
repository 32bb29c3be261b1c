"""What owners (pages, admin, the command, later the REST API) do with webhook endpoints and deliveries.

Keyword-only arguments; every write checks what it is given (the URL, the event types) even when the
edge already did, since the REST API will call these too. Nothing here sends: a delivery task does,
after the commit.
"""

import logging
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm_backends.outgoing.models import (
    EVENT_TYPES,
    PING,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    new_secret,
)
from crm_backends.outgoing.outbox import deliver_after_commit, events_write
from crm_backends.outgoing.urlguard import url_problem

logger = logging.getLogger(__name__)


def _checked(url: str, events) -> tuple[str, list[str]]:
    url = (url or "").strip()
    errors = {}
    problem = url_problem(url)
    if problem:
        errors["url"] = [problem]
    events = sorted(set(events or ()))
    unknown = [e for e in events if e not in EVENT_TYPES]
    if unknown or not events:
        errors["events"] = [_("Choose at least one of the listed events.")]
    if errors:
        raise ValidationError(errors)
    return url, events


@transaction.atomic
def endpoint_create(*, shop, url: str, events, actor=None) -> WebhookEndpoint:
    """A new endpoint with a fresh secret (read it once from `endpoint.secret` to show it)."""
    url, events = _checked(url, events)
    endpoint = WebhookEndpoint(shop=shop, url=url, events=events)
    endpoint.set_secret(new_secret())
    endpoint.save()
    logger.info("webhook endpoint %s added to shop %s by user %s", endpoint.pk, shop.pk, _who(actor))
    return endpoint


@transaction.atomic
def endpoint_update(*, endpoint: WebhookEndpoint, url: str, events, actor=None) -> WebhookEndpoint:
    endpoint.url, endpoint.events = _checked(url, events)
    endpoint.save(update_fields=["url", "events", "updated_at"])
    logger.info("webhook endpoint %s changed by user %s", endpoint.pk, _who(actor))
    return endpoint


@transaction.atomic
def endpoint_delete(*, endpoint: WebhookEndpoint, actor=None) -> None:
    """The endpoint with its deliveries and attempts; events no other endpoint needs go too."""
    shop_id, pk = endpoint.shop_id, endpoint.pk
    event_ids = list(endpoint.deliveries.values_list("event_id", flat=True))
    endpoint.delete()
    WebhookEvent.objects.filter(pk__in=event_ids, deliveries__isnull=True).delete()
    logger.info("webhook endpoint %s of shop %s deleted by user %s", pk, shop_id, _who(actor))


@transaction.atomic
def endpoint_enable(*, endpoint: WebhookEndpoint, actor=None) -> WebhookEndpoint:
    """Enabled again, with its failure counters reset; what waited while it was disabled is due now."""
    endpoint.enabled, endpoint.disabled_reason, endpoint.disabled_at = True, "", None
    endpoint.consecutive_failures, endpoint.failing_since = 0, None
    endpoint.save()
    endpoint.deliveries.filter(state=WebhookDelivery.State.PENDING).update(
        next_attempt_at=timezone.now(), claimed_until=None
    )
    deliver_after_commit(endpoint.pk)
    logger.info("webhook endpoint %s enabled by user %s", endpoint.pk, _who(actor))
    return endpoint


@transaction.atomic
def endpoint_disable(*, endpoint: WebhookEndpoint, actor=None) -> WebhookEndpoint:
    """Disabled by a person: nothing is sent until it is enabled; new events are not queued for it."""
    endpoint.enabled, endpoint.disabled_at = False, timezone.now()
    endpoint.disabled_reason = _("Disabled by a person.")
    endpoint.save()
    logger.info("webhook endpoint %s disabled by user %s", endpoint.pk, _who(actor))
    return endpoint


@transaction.atomic
def endpoint_rotate_secret(*, endpoint: WebhookEndpoint, actor=None) -> str:
    """A new secret, in force at once (the old one signs nothing more); returns it to be shown."""
    secret = new_secret()
    endpoint.set_secret(secret)
    endpoint.save(update_fields=["secret_encrypted", "updated_at"])
    logger.info("webhook endpoint %s: secret rotated by user %s", endpoint.pk, _who(actor))
    return secret


@transaction.atomic
def endpoint_ping(*, endpoint: WebhookEndpoint, actor=None) -> WebhookDelivery:
    """A `ping` event to this endpoint only, whatever it subscribes to (disabled ones wait)."""
    data = {0: {"endpoint_id": endpoint.pk, "message": "Test event from Coccinelle"}}
    (event,) = events_write(shop_id=endpoint.shop_id, type=PING, data=data, endpoint_ids=[endpoint.pk])
    return event.deliveries.get()


@transaction.atomic
def delivery_replay(*, delivery: WebhookDelivery, actor=None) -> WebhookDelivery:
    """Send a delivery again (failed or delivered): the same event and delivery ids, a new signature.
    Its earlier attempts stay in the log."""
    deliveries_requeue(WebhookDelivery.objects.filter(pk=delivery.pk))
    delivery.refresh_from_db()
    logger.info("webhook delivery %s replayed by user %s", delivery.pk, _who(actor))
    return delivery


def deliveries_redrive(*, shop, failed_only: bool = False, since: datetime | None = None) -> int:
    """Queue the shop's deliveries again (the `redrive_webhooks` command): all, or the failed ones, or
    those of events since a date. Returns how many."""
    rows = WebhookDelivery.objects.filter(endpoint__shop=shop)
    if failed_only:
        rows = rows.filter(state=WebhookDelivery.State.FAILED)
    if since is not None:
        rows = rows.filter(event__created_at__gte=since)
    with transaction.atomic():
        return deliveries_requeue(rows)


def deliveries_requeue(rows) -> int:
    endpoint_ids = set(rows.values_list("endpoint_id", flat=True))
    count = rows.update(
        state=WebhookDelivery.State.PENDING, attempts=0, next_attempt_at=timezone.now(), claimed_until=None
    )
    for endpoint_id in endpoint_ids:
        deliver_after_commit(endpoint_id)
    return count


def _who(actor) -> str:
    return str(actor.pk) if actor is not None and getattr(actor, "pk", None) else "-"
