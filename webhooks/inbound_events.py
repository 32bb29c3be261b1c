"""Stored inbound events: write them at the edge, process them in the worker, retry, reprocess.

The edge (`webhooks.views`) calls `events_store` with rows built by the provider modules: their card
numbers and IBANs masked (webhooks.sensitive), then one INSERT,
idempotent on (provider, event key), then, after the commit, one `process_inbound` task is published
unless one is already waiting (a flag in the shared cache). The worker's task processes every due event
in batches of BATCH (`events_process_due`): one transaction a batch, the plain messages recorded
together (webhooks.inbound_bulk), the others one savepoint each, the CRM outbox written and the turns'
reply task published once per batch.

Claiming: `SELECT ... FOR UPDATE SKIP LOCKED`, so concurrent workers share the rows and never process
one twice. Ordering: events of one sender to one shop are processed in arrival order; a batch leaves
aside a sender's events when an earlier one is held by another worker, and hands them over a second
later. Statuses need no order (a status never moves a message back).
"""

import logging
import random
import time
from collections import Counter
from dataclasses import astuple, dataclass, replace
from datetime import timedelta

from django.conf import settings
from django.db import OperationalError, transaction
from django.db.models import Q
from django.db.models.constants import OnConflict
from django.utils import timezone

from coccinelle import cache, db
from customers import events
from customers.models import Customer
from webhooks import autoreply, inbound_bulk
from webhooks.inbound import InboundMessage, MalformedWebhook, RawEvent
from webhooks.models import InboundEvent
from webhooks.outbound import status_apply
from webhooks.pipeline import inbound_receive, shop_for_address
from webhooks.providers import meta, twilio
from webhooks.sensitive import mask_stored

logger = logging.getLogger(__name__)

# An event not picked up this long after it arrived is assumed lost on the way to a worker (the broker
# was down, the task was dropped): the sweep hands it to one again.
LOST_AFTER = timedelta(seconds=60)
# Events a batch claims (one transaction), and Reprocess's per task. Plain messages share one savepoint
# (webhooks.inbound_bulk); the others take one to three each, and PostgreSQL keeps 64 subtransactions
# per transaction in memory and slows every snapshot beyond: a batch processes at most ONE_BY_ONE of
# those and leaves the rest pending for the next batch.
BATCH = 50
ONE_BY_ONE = 15
STATE = InboundEvent.State


@dataclass(frozen=True)
class ProcessReport:
    processed: int = 0
    ignored: int = 0
    retrying: int = 0
    failed: int = 0
    claimed: int = 0  # rows claimed, set aside included
    set_aside: int = 0  # claimed, but a sender's earlier event was another worker's: left pending
    left: int = 0  # claimed, but beyond the batch's ONE_BY_ONE: left pending for the next batch

    def __add__(self, other: "ProcessReport") -> "ProcessReport":
        return ProcessReport(*(a + b for a, b in zip(astuple(self), astuple(other), strict=True)))


def events_store(events: list[RawEvent]) -> None:
    """Store verified events of one provider in one INSERT (a replay or a concurrent copy inserts
    nothing), then wake a worker up once the rows are committed."""
    if not events:
        return
    events = [_masked(event) for event in events]
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
    # One statement: QuerySet._insert is what bulk_create runs, without the transaction bulk_create
    # opens around it (its BEGIN and COMMIT are two more round trips on every webhook).
    InboundEvent.objects._insert(rows, fields=_INSERTED, on_conflict=OnConflict.IGNORE)
    transaction.on_commit(wake_worker)


def _masked(event: RawEvent) -> RawEvent:
    """The event with card numbers and IBANs masked in its payload (webhooks.sensitive), the kinds
    masked listed under "_masked".

    Here rather than in each provider's parse step: this INSERT is the one way into storage for every
    provider and every caller (the views, simulate_inbound through them, benches), and what is stored
    is what the Interaction, the timeline, the CRMs, the exports, the replays and the API are made of.
    The views call it after the signature check, which needs the request as it came."""
    # A provider without its own list of ids gets every string masked: safer than nothing.
    payload = _MASKERS.get(event.provider, mask_stored)(event.payload)
    return event if payload is event.payload else replace(event, payload=payload)


_MASKERS = {twilio.PROVIDER: twilio.mask, meta.PROVIDER: meta.mask}
_INSERTED = [field for field in InboundEvent._meta.concrete_fields if not field.primary_key]


# Set while a `process_inbound` task is queued and not yet started (with a shared cache): a webhook
# that finds it set publishes nothing, since that task will find its row. Short-lived, so that a task
# lost on the way lets the next webhook publish again; the sweep covers the rows in between.
WAKEUP_FLAG = "inbound:process-queued"
WAKEUP_FLAG_SECONDS = 10


# A web process that found the flag up (or raised it) less than INBOUND_WAKEUP_LOCAL_SECONDS ago takes
# it as still up without asking Redis again: that round trip was an eighth of a webhook's time
# in-process (bench/webhook_profile.py). Safe because a task that processed events looks again
# FOLLOW_UP_SECONDS after it ran out of them (events_process_due), which covers an event stored
# meanwhile by a process whose copy of the flag was stale: such an event waits a second at most.
FOLLOW_UP_SECONDS = 1.0
_flag_seen_at: float | None = None


def wake_worker() -> bool:
    """Have a worker process what is due: one task for every event that arrives while it is queued.
    A broker that is down loses nothing: the rows are committed and beat's sweep hands them over."""
    global _flag_seen_at
    from webhooks.tasks import process_inbound

    if _flag_recently_seen():
        return True
    raised = cache.flag_raise(WAKEUP_FLAG, WAKEUP_FLAG_SECONDS)
    _flag_seen_at = time.monotonic()
    if not raised:
        return True
    try:
        process_inbound.delay()
        return True
    except Exception as exc:  # noqa: BLE001 - any broker failure; the events are already stored
        cache.flag_lower(WAKEUP_FLAG)
        _flag_seen_at = None  # the next webhook tries again
        logger.warning("inbound processing not enqueued (%s); the sweep will retry", exc)
        return False


def _flag_recently_seen() -> bool:
    window = settings.INBOUND_WAKEUP_LOCAL_SECONDS
    if not window or _flag_seen_at is None or not cache.is_shared():
        return False
    return time.monotonic() - _flag_seen_at < window


def enqueue(provider: str, keys: list[str], *, countdown: float | None = None) -> bool:
    """Hand named events to a worker (a retry when it is due, the sweep, a Reprocess)."""
    from webhooks.tasks import process_inbound_events

    try:
        process_inbound_events.apply_async((provider, keys), countdown=countdown)
        return True
    except Exception as exc:  # noqa: BLE001 - any broker failure; the events are already stored
        logger.warning("inbound events %s %s not enqueued (%s); the sweep will retry", provider, keys, exc)
        return False


def events_process_due(*, batch: int = BATCH, seconds: float = 20) -> ProcessReport:
    """The `process_inbound` task: batches of due events, oldest first, until none is left or
    `seconds` have passed (then a new task carries on, so that one task never holds a worker long)."""
    cache.flag_lower(WAKEUP_FLAG)  # before reading: a row committed after this wakes another task
    report, deadline = ProcessReport(), time.monotonic() + seconds
    while True:
        done = _process_batch_safely(Q(), limit=batch)
        report = report + done
        if done.set_aside:
            # A sender's earlier event is another worker's right now: carry on a second later rather
            # than claim the same rows again at once.
            transaction.on_commit(lambda: _carry_on(countdown=1))
            return report
        if done.claimed < batch and not done.left:
            if report.claimed and cache.is_shared() and settings.INBOUND_WAKEUP_LOCAL_SECONDS:
                # Once more in a moment, for an event whose webhook took the flag as still up
                # (WAKEUP_LOCAL_SECONDS); that task, finding nothing, asks for no other.
                transaction.on_commit(lambda: _carry_on(countdown=FOLLOW_UP_SECONDS))
            return report
        if time.monotonic() > deadline:
            transaction.on_commit(lambda: _carry_on(countdown=None))
            return report


def _carry_on(*, countdown: float | None) -> None:
    """Another `process_inbound` task for what is left (whatever the wake-up flag says)."""
    from webhooks.tasks import process_inbound

    try:
        process_inbound.apply_async(countdown=countdown)
    except Exception as exc:  # noqa: BLE001 - broker down: the sweep hands the events over
        logger.warning("inbound processing not carried on (%s); the sweep will", exc)


def events_process(*, provider: str, keys: list[str]) -> ProcessReport:
    """Process the named events (and, first, any earlier due message of the same senders)."""
    named = InboundEvent.objects.filter(provider=provider, event_key__in=keys).values_list("pk", "sender")
    named = list(named)
    if not named:
        return ProcessReport()
    senders, last = {sender for _, sender in named}, max(pk for pk, _ in named)
    earlier = Q(kind=InboundEvent.Kind.MESSAGE, sender__in=senders, pk__lte=last)
    # Events set aside (a sender's earlier one is another worker's) are handed back a second later.
    return _process_batch(Q(provider=provider) & (Q(event_key__in=keys) | earlier), requeue=True)


def _process_batch_safely(scope: Q, *, limit: int) -> ProcessReport:
    """_process_batch; when the batch itself fails (outside its events' savepoints: the CRM outbox
    written at the end, the outcomes' UPDATE, the commit's checks), its events one by one instead, so
    that each records its own outcome and attempts and one bad event cannot hold the others back."""
    try:
        return _process_batch(scope, limit=limit)
    except Exception as exc:  # noqa: BLE001 - nothing of the batch committed; each event is tried alone
        logger.warning("inbound batch rolled back (%s: %s): its events one by one", type(exc).__name__, exc)
    due = InboundEvent.objects.filter(scope & _due(timezone.now())).order_by("pk")
    report = ProcessReport()
    for pk in list(due.values_list("pk", flat=True)[:limit]):
        try:
            report = report + _process_batch(Q(pk=pk))
        except Exception as exc:  # noqa: BLE001 - recorded on the event, retried with backoff
            logger.exception("inbound event %s failed outside its savepoint", pk)
            report = report + _record_failure(pk, f"{type(exc).__name__}: {exc}")
    return report


def _record_failure(pk: int, error: str) -> ProcessReport:
    with transaction.atomic():
        event = InboundEvent.objects.select_for_update(skip_locked=True).filter(pk=pk).first()
        if event is None or event.state != STATE.PENDING:
            return ProcessReport()
        event.attempts += 1
        outcome = _failed(event, error)
        event.save(update_fields=_OUTCOME_FIELDS)
    return ProcessReport(claimed=1, **{outcome: 1})


def _process_batch(scope: Q, *, limit: int | None = None, requeue: bool = False) -> ProcessReport:
    """Claim the due events in `scope` that no other worker holds (SKIP LOCKED), and process them in
    one transaction, one savepoint each: the CRM is told once for the batch (customers.events), the
    turns it schedules share one reply task (webhooks.autoreply), and the outcomes are written in one
    UPDATE. A worker that dies mid-batch leaves every event of it pending, as if never claimed.

    Messages first, in arrival order; then statuses ordered by the message they update, so that two
    batches take the messages' row locks in one order and never wait on each other."""
    now = timezone.now()
    with transaction.atomic(), events.collected(), autoreply.turns_batched(), cache.memoized():
        claim = InboundEvent.objects.filter(scope & _due(now)).order_by("pk")
        claim = claim.select_for_update(skip_locked=True)
        claimed = list(claim[:limit] if limit else claim)
        batch = sorted(_in_arrival_order(claimed, now), key=_lock_order)
        plain, rest = inbound_bulk.split(batch)
        outcomes = _process_plain(plain)
        if plain and not outcomes:  # not recorded together: one by one, with the others
            rest = [event for event in batch if event in rest or any(item.event is event for item in plain)]
        # Later ones wait for the next batch; a person's events are all plain or all in `rest`, and
        # `rest` is in arrival order, so leaving its end keeps each person's order.
        rest, later = rest[:ONE_BY_ONE], rest[ONE_BY_ONE:]
        outcomes += Counter(_process_one(event) for event in rest)
        done = [event for event in batch if event not in later]
        db.rows_update(done, [*_OUTCOME_FIELDS, "shop", "customer"])
    set_aside = [event for event in claimed if event not in batch]
    if requeue:
        for provider, keys in _by_provider(set_aside).items():
            transaction.on_commit(lambda p=provider, k=keys: enqueue(p, k, countdown=1))
        for provider, keys in _by_provider(later).items():
            transaction.on_commit(lambda p=provider, k=keys: enqueue(p, k))
    return ProcessReport(claimed=len(claimed), set_aside=len(set_aside), left=len(later), **outcomes)


def _lock_order(event: InboundEvent) -> tuple:
    """Messages as claimed (arrival order, a stable sort keeps it), then statuses by message id."""
    if event.kind == InboundEvent.Kind.MESSAGE:
        return (0, "")
    return (1, event.event_key)


def _by_provider(events_: list[InboundEvent]) -> dict[str, list[str]]:
    keys: dict[str, list[str]] = {}
    for event in events_:
        keys.setdefault(event.provider, []).append(event.event_key)
    return keys


def _in_arrival_order(claimed: list[InboundEvent], now) -> list[InboundEvent]:
    """The claimed events less those of a sender whose earlier message is due but held by another
    worker (SKIP LOCKED passed it by): a sender's messages are recorded in the order they came."""
    messages = [event for event in claimed if event.kind == InboundEvent.Kind.MESSAGE]
    if not messages:
        return claimed
    held = (
        InboundEvent.objects.filter(_due(now), kind=InboundEvent.Kind.MESSAGE)
        .filter(sender__in={event.sender for event in messages}, pk__lt=max(event.pk for event in messages))
        .exclude(pk__in=[event.pk for event in claimed])
        .values_list("provider", "shop_address", "sender", "pk")
    )
    first_held: dict[tuple, int] = {}
    for provider, shop_address, sender, pk in held:
        key = (provider, shop_address, sender)
        first_held[key] = min(pk, first_held.get(key, pk))
    return [
        event
        for event in claimed
        if event.kind != InboundEvent.Kind.MESSAGE
        or first_held.get((event.provider, event.shop_address, event.sender), event.pk) >= event.pk
    ]


def _due(now) -> Q:
    return Q(state=STATE.PENDING) & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))


def _process_plain(plain: list[inbound_bulk.Plain]) -> Counter:
    """The batch's plain messages, recorded together in one savepoint (webhooks.inbound_bulk). An
    empty count when that failed: the caller then takes them one by one, each in a savepoint of its
    own so that each records its own outcome (two workers creating one new customer at once, a bug)."""
    if not plain:
        return Counter()
    try:
        with transaction.atomic(), events.dropped_on_error():
            inbound_bulk.record(plain)
    except Exception as exc:  # noqa: BLE001 - nothing of it was kept: each event is tried alone
        logger.warning("plain messages not recorded together (%s: %s): one by one", type(exc).__name__, exc)
        for item in plain:
            item.event.shop_id = item.event.customer_id = None
        return Counter()
    now = timezone.now()
    for item in plain:
        event = item.event
        event.attempts += 1
        event.state, event.error, event.next_attempt_at, event.processed_at = STATE.PROCESSED, "", None, now
    return Counter(processed=len(plain))


def _process_one(event: InboundEvent) -> str:
    """Run the pipeline on one event inside a savepoint; note the outcome on the row (written with the
    batch's)."""
    event.attempts += 1
    try:
        with transaction.atomic(), events.dropped_on_error():
            ignored = _dispatch(event)
    except (UnreadableSender, MalformedWebhook) as exc:
        # Expected of real traffic (carrier notices, a message we cannot read yet): no traceback.
        logger.warning("inbound event %s (%s %s) failed: %s", event.pk, event.provider, event.event_key, exc)
        return _failed(event, f"{type(exc).__name__}: {exc}")
    except OperationalError as exc:
        if not _is_deadlock(exc):
            logger.exception("inbound event %s (%s %s) failed", event.pk, event.provider, event.event_key)
            return _failed(event, f"{type(exc).__name__}: {exc}")
        # Another transaction held what this one needed and PostgreSQL chose this one to give way:
        # nothing is wrong with the event, so it is tried again in a second, without a traceback.
        logger.warning("inbound event %s gave way to a concurrent transaction; again in a second", event.pk)
        return _failed(event, "deadlock detected, retried", retry_in=timedelta(seconds=1))
    except Exception as exc:  # noqa: BLE001 - a bug or a database error must not lose the event
        logger.exception("inbound event %s (%s %s) failed", event.pk, event.provider, event.event_key)
        return _failed(event, f"{type(exc).__name__}: {exc}")
    event.state = STATE.IGNORED if ignored else STATE.PROCESSED
    event.error = ignored
    event.next_attempt_at = None
    event.processed_at = timezone.now()
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


def _failed(event: InboundEvent, error: str, *, retry_in: timedelta | None = None) -> str:
    """A failed attempt: retried with backoff and jitter (or after `retry_in`), or failed for good
    after the last one."""
    event.error = error[:2000]
    permanent = _is_permanent(error)
    if permanent or event.attempts >= settings.INBOUND_MAX_ATTEMPTS:
        event.state, event.next_attempt_at = STATE.FAILED, None
        outcome = "failed"
    else:
        event.next_attempt_at = timezone.now() + (retry_in or _backoff(event.attempts))
        outcome = "retrying"
    if outcome == "retrying":
        delay = (event.next_attempt_at - timezone.now()).total_seconds()
        transaction.on_commit(lambda: enqueue(event.provider, [event.event_key], countdown=delay))
    return outcome


def _is_deadlock(exc: OperationalError) -> bool:
    return "deadlock detected" in str(exc)


def _is_permanent(error: str) -> bool:
    """Errors no retry can fix: the payload cannot be read, or its sender cannot be identified."""
    return error.startswith((MalformedWebhook.__name__, UnreadableSender.__name__))


def _backoff(attempts: int) -> timedelta:
    base = min(settings.INBOUND_RETRY_BASE_SECONDS * 2 ** (attempts - 1), 3600)
    return timedelta(seconds=base * (0.8 + 0.4 * random.random()))


def events_sweep(*, now=None) -> int:
    """Celery beat: when events are due and were never picked up (lost on the way to a worker) or
    their retry time has come, one `process_inbound` task for all of them; how many there are."""
    now = now or timezone.now()
    due = InboundEvent.objects.filter(state=STATE.PENDING).filter(
        Q(next_attempt_at__lte=now) | Q(next_attempt_at__isnull=True, received_at__lte=now - LOST_AFTER)
    )
    count = due.count()
    if count:
        _carry_on(countdown=None)
    return count


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
    """Reset the events and hand them to the workers, BATCH a task."""
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
