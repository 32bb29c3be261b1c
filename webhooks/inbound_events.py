"""Stored inbound events: write them at the edge, process them in the worker, retry, reprocess.

The edge (`webhooks.views`) calls `events_store` with rows built by the provider modules: one INSERT,
idempotent on (provider, event key), then a task is enqueued after the commit. The worker calls
`events_process`, which runs today's pipeline on each event and records the outcome on the row.

Ordering: events of one sender to one shop are processed in arrival order. A worker locks every
pending event of that sender up to the one it was asked for, oldest first (a plain row lock, waited
for: a second worker given a later event of the same sender queues behind the first, then finds the
earlier events done and skips them). Statuses need no order (a status never moves a message back).
"""

import logging
import random
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from customers.models import Customer
from webhooks.inbound import InboundMessage, MalformedWebhook, RawEvent
from webhooks.models import InboundEvent
from webhooks.outbound import status_apply
from webhooks.pipeline import inbound_receive, shop_for_address
from webhooks.providers import meta, twilio

logger = logging.getLogger(__name__)

# An event not picked up this long after it arrived is assumed lost on the way to a worker (the broker
# was down, the task was dropped): the sweep hands it to one again.
LOST_AFTER = timedelta(seconds=60)
# Events handed to one task by the sweep and by Reprocess.
BATCH = 100
STATE = InboundEvent.State


@dataclass(frozen=True)
class ProcessReport:
    processed: int = 0
    ignored: int = 0
    retrying: int = 0
    failed: int = 0


def events_store(events: list[RawEvent]) -> None:
    """Store verified events of one provider in one INSERT (a replay or a concurrent copy inserts
    nothing), then ask a worker to process them once the rows are committed."""
    if not events:
        return
    rows = [
        InboundEvent(
            provider=event.provider,
            kind=event.kind,
            event_key=event.key,
            shop_address=event.shop_address,
            sender=event.sender,
            payload=event.payload,
        )
        for event in events
    ]
    InboundEvent.objects.bulk_create(rows, ignore_conflicts=True)
    provider, keys = events[0].provider, [event.key for event in events]
    transaction.on_commit(lambda: enqueue(provider, keys))


def enqueue(provider: str, keys: list[str], *, countdown: float | None = None) -> bool:
    """Hand events to a worker. A broker that is down loses nothing: the rows are committed and beat's
    sweep hands them over once it is back."""
    from webhooks.tasks import process_inbound_events

    try:
        process_inbound_events.apply_async((provider, keys), countdown=countdown)
        return True
    except Exception as exc:  # noqa: BLE001 - any broker failure; the events are already stored
        logger.warning("inbound events %s %s not enqueued (%s); the sweep will retry", provider, keys, exc)
        return False


def events_process(*, provider: str, keys: list[str]) -> ProcessReport:
    """Process the named events (and any earlier pending event of the same senders, first)."""
    events = InboundEvent.objects.filter(provider=provider, event_key__in=keys).values_list(
        "pk", "kind", "shop_address", "sender"
    )
    counts = {name: 0 for name in ("processed", "ignored", "retrying", "failed")}
    for pk, kind, shop_address, sender in sorted(events):
        for outcome in _process_in_order(pk, provider, kind, shop_address, sender):
            counts[outcome] += 1
    return ProcessReport(**counts)


def _process_in_order(pk: int, provider: str, kind: str, shop_address: str, sender: str) -> list[str]:
    due = _due(timezone.now())
    with transaction.atomic():
        if kind == InboundEvent.Kind.MESSAGE:
            queue = InboundEvent.objects.filter(
                provider=provider, kind=kind, shop_address=shop_address, sender=sender, pk__lte=pk
            )
        else:
            queue = InboundEvent.objects.filter(pk=pk)
        # Locked oldest first by every worker, so two workers never deadlock on one sender's rows.
        batch = list(queue.filter(due).select_for_update().order_by("pk"))
        return [_process_one(event) for event in batch]


def _due(now) -> Q:
    return Q(state=STATE.PENDING) & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))


def _process_one(event: InboundEvent) -> str:
    """Run the pipeline on one event inside a savepoint; record what happened on the row."""
    event.attempts += 1
    try:
        with transaction.atomic():
            ignored = _dispatch(event)
    except (UnreadableSender, MalformedWebhook) as exc:
        # Expected of real traffic (carrier notices, a message we cannot read yet): no traceback.
        logger.warning("inbound event %s (%s %s) failed: %s", event.pk, event.provider, event.event_key, exc)
        return _failed(event, f"{type(exc).__name__}: {exc}")
    except Exception as exc:  # noqa: BLE001 - a bug or a database error must not lose the event
        logger.exception("inbound event %s (%s %s) failed", event.pk, event.provider, event.event_key)
        return _failed(event, f"{type(exc).__name__}: {exc}")
    event.state = STATE.IGNORED if ignored else STATE.PROCESSED
    event.error = ignored
    event.next_attempt_at = None
    event.processed_at = timezone.now()
    event.save(update_fields=_OUTCOME_FIELDS + ["shop", "customer"])
    return "ignored" if ignored else "processed"


_OUTCOME_FIELDS = ["state", "attempts", "error", "next_attempt_at", "processed_at"]


def _dispatch(event: InboundEvent) -> str:
    """Process the event; return why it was ignored, or "" when it was processed."""
    if event.kind == InboundEvent.Kind.STATUS:
        return _apply_status(event)
    message = _parse_message(event)
    # The shop first, so that a failure further on is shown to that shop's owners.
    shop = shop_for_address(provider=message.provider, address=message.shop_address)
    if shop is None:
        # Answered 200 at the edge so the provider stops retrying; the log says what to set up.
        reason = f"{message.provider} address {message.shop_address!r} belongs to no shop"
        logger.warning("inbound %s %s ignored: %s", event.provider, event.event_key, reason)
        return reason
    event.shop_id = shop.pk
    outcome = inbound_receive(message, shop=shop)
    event.shop_id, event.customer_id = outcome.shop_id, outcome.customer_id
    if outcome.ignored:
        # Not a reason to drop what a customer sent: failed and visible until it can be read.
        raise UnreadableSender(outcome.ignored)
    return ""


class UnreadableSender(Exception):
    """The sender could not be identified; kept failed so that a person can look at it."""


def _parse_message(event: InboundEvent) -> InboundMessage:
    if event.provider == twilio.PROVIDER:
        return twilio.parse_inbound(event.payload)
    items = [item for item in meta.parse_notification(event.payload) if isinstance(item, InboundMessage)]
    if len(items) != 1:
        raise MalformedWebhook("the stored WhatsApp message could not be read (no sender or no id)")
    return items[0]


def _apply_status(event: InboundEvent) -> str:
    if event.provider == twilio.PROVIDER:
        update = twilio.parse_status(event.payload)
        reply_id = str(event.payload.get("_reply_id", ""))
        changed = status_apply(update, reply_id=int(reply_id) if reply_id.isdigit() else None)
    else:
        items = meta.parse_notification(event.payload)
        updates = [item for item in items if not isinstance(item, InboundMessage)]
        if not updates:
            raise MalformedWebhook("the stored WhatsApp status could not be read")
        changed = status_apply(updates[0])
    return "" if changed else "no message of the shop has this id, or the status is not newer"


def _failed(event: InboundEvent, error: str) -> str:
    """A failed attempt: retried with backoff and jitter, or failed for good after the last one."""
    event.error = error[:2000]
    permanent = _is_permanent(error)
    if permanent or event.attempts >= settings.INBOUND_MAX_ATTEMPTS:
        event.state, event.next_attempt_at = STATE.FAILED, None
        outcome = "failed"
    else:
        event.next_attempt_at = timezone.now() + _backoff(event.attempts)
        outcome = "retrying"
    event.save(update_fields=[*_OUTCOME_FIELDS, "shop"])
    if outcome == "retrying":
        delay = (event.next_attempt_at - timezone.now()).total_seconds()
        transaction.on_commit(lambda: enqueue(event.provider, [event.event_key], countdown=delay))
    return outcome


def _is_permanent(error: str) -> bool:
    """Errors no retry can fix: the payload cannot be read, or its sender cannot be identified."""
    return error.startswith((MalformedWebhook.__name__, UnreadableSender.__name__))


def _backoff(attempts: int) -> timedelta:
    base = min(settings.INBOUND_RETRY_BASE_SECONDS * 2 ** (attempts - 1), 3600)
    return timedelta(seconds=base * (0.8 + 0.4 * random.random()))


def events_sweep(*, now=None, limit: int = 1000) -> int:
    """Celery beat: hand to a worker every event that is due and was never picked up (lost on the
    way to a worker) or whose retry time has come."""
    now = now or timezone.now()
    due = InboundEvent.objects.filter(state=STATE.PENDING).filter(
        Q(next_attempt_at__lte=now) | Q(next_attempt_at__isnull=True, received_at__lte=now - LOST_AFTER)
    )
    rows = list(due.order_by("pk").values_list("provider", "event_key")[:limit])
    by_provider: dict[str, list[str]] = {}
    for provider, key in rows:
        by_provider.setdefault(provider, []).append(key)
    for provider, keys in by_provider.items():
        for start in range(0, len(keys), BATCH):
            enqueue(provider, keys[start : start + BATCH])
    return len(rows)


def events_reset(queryset) -> dict[str, list[str]]:
    """Put events back in the queue (a person's Reprocess, `reprocess_inbound`) and return their keys
    by provider. Processing is idempotent: an event already recorded records nothing twice."""
    rows = list(queryset.order_by("pk").values_list("pk", "provider", "event_key"))
    InboundEvent.objects.filter(pk__in=[pk for pk, _, _ in rows]).update(
        state=STATE.PENDING, attempts=0, next_attempt_at=None, error=""
    )
    by_provider: dict[str, list[str]] = {}
    for _, provider, key in rows:
        by_provider.setdefault(provider, []).append(key)
    return by_provider


def events_reprocess(queryset) -> int:
    """Reset the events and hand them to the workers, 100 a task."""
    by_provider = events_reset(queryset)
    for provider, keys in by_provider.items():
        for start in range(0, len(keys), BATCH):
            chunk = keys[start : start + BATCH]
            transaction.on_commit(lambda p=provider, k=chunk: enqueue(p, k))
    return sum(len(keys) for keys in by_provider.values())


def events_erase_customer(*, shop_id: int, customer_id: int) -> int:
    """GDPR erasure: delete the raw events of an erased customer, in the erasure's transaction. Events
    are found by customer, and by sender for those the customer never got attached to (failed ones, or
    a merged record's): the sender as Twilio and Meta write it."""
    customer = Customer.objects.filter(pk=customer_id).values("phone", "whatsapp_user_id").first() or {}
    senders = {customer.get("whatsapp_user_id")}
    if customer.get("phone"):
        phone = customer["phone"]
        senders |= {phone, phone.lstrip("+"), f"whatsapp:{phone}"}
    senders.discard(None)
    events = InboundEvent.objects.filter(Q(customer_id=customer_id) | Q(shop_id=shop_id, sender__in=senders))
    deleted, _ = events.delete()
    return deleted
