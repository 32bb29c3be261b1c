"""The daily aggregates (analytics.models.DailyStats), computed from the raw tables.

`stats_rebuild` recomputes whole local days of one shop (its time zone: a day runs from local midnight
to local midnight, 23 or 25 hours across a daylight-saving change); `stats_refresh` is what the beat
task runs every few minutes: the last REFRESH_DAYS days' rows and today's of the shops with new activity.
`today_refresh` rewrites a shop's current day when its analytics page is looked at (a task).

Messages are read once, in one stream ordered by customer and time (`_messages`), for everything that
needs a conversation's order: what became of each inbound message, the waits, conversations, returning
customers. What an automatic reply did is read from its `_reply_kind` marker (webhooks.autoreply);
replies recorded before the marker existed (and the LLM's, which tasks.py records without one) count as
answers when they answer a message (`in_reply_to`); automatic messages answering nothing (hold
reminders, back-in-stock alerts) neither answer nor end a wait.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.core.cache import cache
from django.db.models import Count, Max, Min, Subquery, Sum
from django.db.models.fields.json import KT
from django.db.models.functions import TruncDate
from django.utils import timezone

from analytics.models import DailyStats
from catalog.models import Hold
from customers.models import Customer, Interaction, Order, Shop
from shopinfo.hours import Hours, business_seconds
from shopinfo.selectors import shop_hours, shop_zone
from webhooks.autoreply import ANSWER, HANDOVER, NOT_A_TURN, OPT_IN, OPT_OUT, REPLY_KIND_KEY

logger = logging.getLogger(__name__)

CHANNELS = ("sms", "whatsapp")
# Waits kept per day: beyond, an evenly spread sample of the sorted waits (ranks 1/59 apart: the day's
# median and 90th percentile within two percentiles), so that a row stays small whatever the day's
# traffic and a year of rows reads fast (bench/pages.py: 200 a day made the 12-month page ~100 ms).
MAX_WAITS = 60
CONVERSION_DAYS = 7
# A wait is measured from the customer's first unanswered message within this many days before the
# answer's local day (a customer answered after a month is no response time but a lost conversation).
# Anchored on the answer's day, not on the rows being computed: the beat's two-day refresh and a rebuild
# from the first message measure the same waits.
WAIT_LOOKBACK = timedelta(days=30)
# What became of an inbound message is what followed it within this time (an answer, a hand-over, a
# person's reply, STOP); later, it is left unresolved. A fixed horizon, so that the refresh (which
# recomputes the last REFRESH_DAYS days) and a rebuild count the same.
FATE_GRACE = timedelta(days=1)
# Days the beat task recomputes for a shop with new messages: today and enough days back for every
# inbound message whose FATE_GRACE has not passed.
REFRESH_DAYS = 2
# A message is recorded (created_at) after it occurred, give or take the providers' clocks: the first id
# recorded after a moment minus this bounds the messages that occurred after it.
CLOCK_SLACK = timedelta(days=1)
REFRESH_MARK = "analytics:refresh:last"
CENTS = Decimal("0.01")


@dataclass
class Day:
    """One local day being counted (the future DailyStats row)."""

    messages_in: Counter = field(default_factory=Counter)
    messages_out: Counter = field(default_factory=Counter)
    answered_auto: int = 0
    escalated: int = 0
    opted_out: int = 0
    waits_auto: list[float] = field(default_factory=list)
    waits_human: list[float] = field(default_factory=list)
    waits_auto_count: int = 0  # before sampling
    waits_human_count: int = 0
    conversations: int = 0
    conversions: int = 0
    returning: int = 0


@dataclass
class Clock:
    """The shop's time: its zone, the first and last local days counted and their instants."""

    zone: object
    first: date
    last: date
    hours: Hours | None

    @property
    def start(self) -> datetime:
        return local_midnight(self.first, self.zone)

    @property
    def end(self) -> datetime:
        return local_midnight(self.last + timedelta(days=1), self.zone)

    def day_of(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()

    def lookback_from(self, moment: datetime) -> datetime:
        """The earliest start of a wait that ends at `moment` (see WAIT_LOOKBACK)."""
        return local_midnight(self.day_of(moment), self.zone) - WAIT_LOOKBACK

    def counts(self, day: date) -> bool:
        return self.first <= day <= self.last

    def wait_seconds(self, start: datetime, end: datetime) -> float:
        # Time outside opening hours does not count when the shop gave structured hours.
        if self.hours is not None:
            return business_seconds(self.hours, start.astimezone(self.zone), end)
        return max((end - start).total_seconds(), 0.0)


def local_midnight(day: date, zone) -> datetime:
    """The instant a local day starts (aware, in `zone`): 00:00 exists on every day in every zone we
    serve; a zone skipping midnight would give the first instant after the gap's fold."""
    return datetime.combine(day, time(0), tzinfo=zone)


def channel_of(channel: str) -> str:
    return channel if channel in CHANNELS else "other"


def stats_rebuild(shop: Shop, first: date, last: date, *, min_interaction_id: int = 0) -> int:
    """Compute the DailyStats rows of the shop's local days `first`..`last` (both included) from the raw
    tables and write them (insert or replace); the number of rows written. `min_interaction_id`: no
    message of those days has a smaller id (stats_refresh knows one), so the database need not look below.
    The segment snapshot is taken only for the shop's current day; a past day keeps the one it had."""
    rows = day_rows(shop, first, last, min_interaction_id=min_interaction_id)
    if rows:
        _write(shop, rows, timezone.now().astimezone(shop_zone(shop)).date())
    return len(rows)


def day_rows(shop: Shop, first: date, last: date, *, min_interaction_id: int = 0) -> list[DailyStats]:
    """The rows of the local days `first`..`last`, computed, not saved (no segment snapshot)."""
    if last < first:
        return []
    clock = Clock(shop_zone(shop), first, last, _hours(shop))
    days: dict[date, Day] = defaultdict(Day)
    _count_messages(shop, clock, days, min_interaction_id)
    rows = [_row(shop, day, days[day]) for day in _dates(first, last)]
    _add_customers(shop, clock, rows)
    _add_orders(shop, clock, rows)
    _add_holds(shop, clock, rows)
    return rows


def _hours(shop: Shop) -> Hours | None:
    hours = shop_hours(shop)
    return hours if hours is not None and hours.is_set() else None


def _dates(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _window_customers(shop: Shop, clock: Clock, min_id: int):
    """The shop's customers who exchanged a message in the window (or just after it: FATE_GRACE)."""
    rows = Interaction.objects.filter(
        customer__shop_id=shop.pk,
        occurred_at__gte=clock.start,
        occurred_at__lt=clock.end + FATE_GRACE,
        pk__gte=min_id,
    )
    return rows.values("customer_id")


def _messages(shop: Shop, clock: Clock, min_id: int):
    """The window's customers' messages from WAIT_LOOKBACK before the window to FATE_GRACE after it, by
    customer then time: (customer, occurred_at, direction, channel, automatic, author, in_reply_to,
    reply kind). Streamed: a shop's million messages never sit in memory."""
    rows = (
        Interaction.objects.filter(
            customer_id__in=Subquery(_window_customers(shop, clock, min_id)),
            occurred_at__gte=clock.start - WAIT_LOOKBACK,
            occurred_at__lt=clock.end + FATE_GRACE,
        )
        .exclude(message_type__in=NOT_A_TURN)
        .annotate(kind=KT(f"raw_payload__{REPLY_KIND_KEY}"))
        .order_by("customer_id", "occurred_at", "pk")
    )
    fields = ("customer_id", "occurred_at", "direction", "channel", "is_automatic", "author_id")
    return rows.values_list(*fields, "in_reply_to_id", "kind").iterator(chunk_size=5000)


class Conversation:
    """One customer's messages, in order: what became of each inbound message, their waits."""

    def __init__(self, clock: Clock, days: dict[date, Day]):
        self.clock, self.days = clock, days
        self.pending: list[datetime] = []  # inbound messages nothing resolved yet
        self.waiting: list[datetime] = []  # inbound messages since the last answer that ended a wait
        self.handed_over_at: datetime | None = None  # an automatic answer after it ends no wait
        self.talked: dict[date, datetime] = {}  # counted days the customer wrote: their first message

    def inbound(self, at: datetime, channel: str) -> None:
        day = self.clock.day_of(at)
        if self.clock.counts(day):
            self.days[day].messages_in[channel_of(channel)] += 1
            self.talked.setdefault(day, at)
        self.pending.append(at)
        self.waiting.append(at)

    def outbound(self, at: datetime, channel: str, *, automatic: bool, person: bool, kind: str) -> None:
        day = self.clock.day_of(at)
        if self.clock.counts(day):
            self.days[day].messages_out[channel_of(channel)] += 1
        if person:
            self._resolve(at, "escalated")  # a person answered what the automatic reply left them
            self._end_wait(at, human=True)
        elif automatic and kind == HANDOVER:
            self._resolve(at, "escalated")
            if self.waiting:
                self.handed_over_at = at
        elif automatic and kind == OPT_OUT:
            self._resolve(at, "opted_out")
            self.waiting, self.handed_over_at = [], None  # nothing is awaited any more
        elif automatic and kind in (ANSWER, OPT_IN):
            self._resolve(at, "answered_auto")
            if not self._handed_over(at):
                self._end_wait(at, human=False)

    def _resolve(self, at: datetime, fate: str) -> None:
        for asked in self.pending:
            day = self.clock.day_of(asked)
            if self.clock.counts(day) and at - asked <= FATE_GRACE:
                setattr(self.days[day], fate, getattr(self.days[day], fate) + 1)
        self.pending = []

    def _started(self, at: datetime) -> datetime | None:
        """The wait's start as seen from `at`: its first unanswered message within the lookback."""
        since = self.clock.lookback_from(at)
        return next((asked for asked in self.waiting if asked >= since), None)

    def _handed_over(self, at: datetime) -> bool:
        start = self._started(at)
        return start is not None and self.handed_over_at is not None and self.handed_over_at >= start

    def _end_wait(self, at: datetime, *, human: bool) -> None:
        start = self._started(at)
        day = self.clock.day_of(at)
        if start is not None and self.clock.counts(day):
            seconds = self.clock.wait_seconds(start, at)
            (self.days[day].waits_human if human else self.days[day].waits_auto).append(seconds)
        self.waiting, self.handed_over_at = [], None


def reply_kind(automatic: bool, in_reply_to: int | None, kind: str | None) -> str:
    """What an automatic message did; the fallback for those recorded before the marker (see the
    module's docstring)."""
    if not automatic:
        return ""
    if kind:
        return kind
    return ANSWER if in_reply_to else ""


def _count_messages(shop: Shop, clock: Clock, days: dict[date, Day], min_id: int) -> None:
    talked: dict[int, dict[date, datetime]] = {}
    current, conversation = None, None
    for customer_id, at, direction, channel, automatic, author, in_reply_to, kind in _messages(
        shop, clock, min_id
    ):
        if customer_id != current:
            if conversation is not None and conversation.talked:
                talked[current] = conversation.talked
            current, conversation = customer_id, Conversation(clock, days)
        if direction == Interaction.Direction.INBOUND:
            conversation.inbound(at, channel)
        else:
            kind = reply_kind(automatic, in_reply_to, kind)
            conversation.outbound(at, channel, automatic=automatic, person=author is not None, kind=kind)
    if conversation is not None and conversation.talked:
        talked[current] = conversation.talked
    _count_conversations(shop, clock, days, talked, min_id)
    for day in days.values():
        day.waits_auto_count, day.waits_human_count = len(day.waits_auto), len(day.waits_human)
        day.waits_auto, day.waits_human = sample(day.waits_auto), sample(day.waits_human)


def _count_conversations(
    shop: Shop, clock: Clock, days: dict[date, Day], talked: dict[int, dict[date, datetime]], min_id: int
) -> None:
    """Conversations (customers who wrote that day), returning customers (who had written on an earlier
    day) and conversions (who ordered within CONVERSION_DAYS of their first message that day)."""
    if not talked:
        return
    window = _window_customers(shop, clock, min_id)
    earlier = set(
        Interaction.objects.filter(
            customer_id__in=Subquery(window),
            direction=Interaction.Direction.INBOUND,
            occurred_at__lt=clock.start,
        )
        .values_list("customer_id", flat=True)
        .order_by()
        .distinct()
    )
    orders: dict[int, list[datetime]] = defaultdict(list)
    placed = Order.objects.filter(
        shop_id=shop.pk,
        customer_id__in=Subquery(window),
        placed_at__gte=clock.start,
        placed_at__lt=clock.end + timedelta(days=CONVERSION_DAYS),
    )
    for customer_id, at in placed.values_list("customer_id", "placed_at"):
        orders[customer_id].append(at)
    for customer_id, spoke in talked.items():
        for n, (day, first_at) in enumerate(sorted(spoke.items())):
            days[day].conversations += 1
            days[day].returning += int(n > 0 or customer_id in earlier)
            horizon = first_at + timedelta(days=CONVERSION_DAYS)
            days[day].conversions += int(any(first_at <= at < horizon for at in orders[customer_id]))


def sample(waits: list[float]) -> list[float]:
    """The waits, sorted, at most MAX_WAITS of them: beyond, evenly spaced ranks, both ends included
    (deterministic: a rebuild writes the same row)."""
    waits = sorted(round(w, 1) for w in waits)
    if len(waits) <= MAX_WAITS:
        return waits
    step = (len(waits) - 1) / (MAX_WAITS - 1)
    return [waits[round(i * step)] for i in range(MAX_WAITS)]


def _row(shop: Shop, day: date, counted: Day) -> DailyStats:
    return DailyStats(
        shop=shop,
        day=day,
        messages_in=dict(sorted(counted.messages_in.items())),
        messages_out=dict(sorted(counted.messages_out.items())),
        inbound_answered_auto=counted.answered_auto,
        inbound_escalated=counted.escalated,
        inbound_opted_out=counted.opted_out,
        waits_auto=counted.waits_auto,
        waits_human=counted.waits_human,
        waits_auto_count=counted.waits_auto_count,
        waits_human_count=counted.waits_human_count,
        returning_customers=counted.returning,
        conversations=counted.conversations,
        conversions=counted.conversions,
    )


def _by_day(clock: Clock, field_name: str):
    return TruncDate(field_name, tzinfo=clock.zone)


def _add_customers(shop: Shop, clock: Clock, rows: list[DailyStats]) -> None:
    by_day = {row.day: row for row in rows}
    new = (
        Customer.objects.filter(shop=shop, created_at__gte=clock.start, created_at__lt=clock.end)
        .annotate(local_day=_by_day(clock, "created_at"))
        .values("local_day", "source")
        .annotate(n=Count("pk"))
    )
    for found in new:
        counts = by_day[found["local_day"]].new_customers
        source = found["source"] or "unknown"
        counts[source] = counts.get(source, 0) + found["n"]


def _add_orders(shop: Shop, clock: Clock, rows: list[DailyStats]) -> None:
    """Orders of the day by the customer's segment (today's: the analytics keep no segment history;
    an order whose customer was erased counts as "unknown")."""
    by_day = {row.day: row for row in rows}
    placed = (
        Order.objects.filter(shop=shop, placed_at__gte=clock.start, placed_at__lt=clock.end)
        .annotate(local_day=_by_day(clock, "placed_at"))
        .values("local_day", "customer__segment")
        .annotate(n=Count("pk"), amount=Sum("amount"))
    )
    for found in placed:
        segment = found["customer__segment"] or "unknown"
        # Quantized: SQLite sums decimals as floats ("470.700000000001").
        amount = Decimal(found["amount"] or 0).quantize(CENTS)
        by_day[found["local_day"]].orders[segment] = [found["n"], str(amount)]


def _add_holds(shop: Shop, clock: Clock, rows: list[DailyStats]) -> None:
    """Holds made that day, and those converted or expired that day (their last change: updated_at)."""
    by_day = {row.day: row for row in rows}
    holds = Hold.objects.filter(shop=shop)
    made = holds.filter(created_at__gte=clock.start, created_at__lt=clock.end)
    for found in (
        made.annotate(local_day=_by_day(clock, "created_at")).values("local_day").annotate(n=Count("pk"))
    ):
        by_day[found["local_day"]].holds_made = found["n"]
    ended = holds.filter(
        state__in=(Hold.State.CONVERTED, Hold.State.EXPIRED),
        updated_at__gte=clock.start,
        updated_at__lt=clock.end,
    )
    ended = ended.annotate(local_day=_by_day(clock, "updated_at")).values("local_day", "state")
    for found in ended.annotate(n=Count("pk")):
        row = by_day[found["local_day"]]
        if found["state"] == Hold.State.CONVERTED:
            row.holds_converted = found["n"]
        else:
            row.holds_expired = found["n"]


def segment_snapshot(shop: Shop) -> dict[str, int]:
    counts = Customer.objects.filter(shop=shop).values("segment").annotate(n=Count("pk"))
    return {found["segment"]: found["n"] for found in counts.order_by("segment")}


UPDATED = [
    "messages_in",
    "messages_out",
    "inbound_answered_auto",
    "inbound_escalated",
    "inbound_opted_out",
    "waits_auto",
    "waits_human",
    "waits_auto_count",
    "waits_human_count",
    "new_customers",
    "returning_customers",
    "orders",
    "conversations",
    "conversions",
    "holds_made",
    "holds_converted",
    "holds_expired",
    "computed_at",
]


def _write(shop: Shop, rows: list[DailyStats], today: date) -> None:
    """Insert or replace the rows in one statement each: the segment snapshot only on today's (a past day
    keeps the one taken while it was today, or none)."""
    past = [row for row in rows if row.day != today]
    current = [row for row in rows if row.day == today]
    if past:
        DailyStats.objects.bulk_create(
            past, update_conflicts=True, unique_fields=["shop", "day"], update_fields=UPDATED
        )
    if current:
        current[0].segments = segment_snapshot(shop)
        DailyStats.objects.bulk_create(
            current,
            update_conflicts=True,
            unique_fields=["shop", "day"],
            update_fields=[*UPDATED, "segments"],
        )


def first_id_since(model, moment: datetime) -> int:
    """The smallest id of `model` recorded (created_at) at or after `moment`, found by bisecting the
    primary key (ids grow with time): a few index lookups instead of a scan of an unindexed column.
    Rows recorded out of order by seconds are covered by the callers' CLOCK_SLACK."""
    bounds = model.objects.aggregate(low=Min("pk"), high=Max("pk"))
    if bounds["low"] is None:
        return 0
    low, high = bounds["low"], bounds["high"] + 1  # high + 1: no row is recent enough
    while low < high:
        middle = (low + high) // 2
        found = model.objects.filter(pk__gte=middle).order_by("pk").values_list("pk", "created_at").first()
        if found is None or found[1] >= moment:
            high = middle
        else:
            low = found[0] + 1  # no row between middle and found: none of them is recent
    return low


def today_refresh(shop_id: int) -> int:
    """Recompute the shop's row of its current day (what a page view asks for, at most once a minute);
    the days before are the beat's (their fates may still change)."""
    shop = Shop.objects.filter(pk=shop_id).first()
    if shop is None:
        return 0
    today = timezone.now().astimezone(shop_zone(shop)).date()
    return stats_rebuild(shop, today, today, min_interaction_id=today_first_id(shop, today))


def today_first_id(shop: Shop, today: date) -> int:
    """A message id below which none of the shop's local `today` lies (its messages are found by id, not
    by a scan of every shop's dates); the bisection is kept for the day in the cache."""
    zone = shop_zone(shop)
    key = f"analytics:first-id:{zone.key}:{today.isoformat()}"
    found = cache.get(key)
    if found is None:
        found = first_id_since(Interaction, local_midnight(today, zone) - CLOCK_SLACK)
        cache.set(key, found, 26 * 60 * 60)
    return found


def _active_shops(
    since_interaction: int, since_order: int, holds_since: datetime
) -> tuple[set[int], set[int]]:
    """Shops with messages or holds changed since the marks, and shops with new orders (whose open
    conversion days change too)."""
    talking = set(
        Interaction.objects.filter(pk__gt=since_interaction)
        .values_list("customer__shop_id", flat=True)
        .order_by()
        .distinct()
    )
    holding = set(
        Hold.objects.filter(updated_at__gte=holds_since)
        .values_list("shop_id", flat=True)
        .order_by()
        .distinct()
    )
    ordering = set(
        Order.objects.filter(pk__gt=since_order).values_list("shop_id", flat=True).order_by().distinct()
    )
    return talking | holding, ordering


def stats_refresh(now: datetime | None = None) -> int:
    """Bring the rows of today and the REFRESH_DAYS before (shop time) up to date for the shops with new
    activity since the last run, and the days whose conversions are still open (CONVERSION_DAYS + 1
    back) for the shops with new orders; the number of rows written. Reads only recent ids
    (first_id_since), never a shop's whole history. The last ids seen are kept in the cache: without
    them, the last days count as new."""
    now = now or timezone.now()
    mark = cache.get(REFRESH_MARK)
    top_interaction = Interaction.objects.aggregate(top=Max("pk"))["top"] or 0
    top_order = Order.objects.aggregate(top=Max("pk"))["top"] or 0
    # The first id each look-back can need (a day more for the time zones; the waits' own look-back is
    # read by customer, from their index).
    bounds = {
        back: first_id_since(Interaction, now - timedelta(days=back + 1) - CLOCK_SLACK)
        for back in (REFRESH_DAYS, CONVERSION_DAYS + 1)
    }
    if mark is None:
        # No mark (first run, cache emptied): the last two days are new, and every shop that talked
        # then gets its open conversion days too (orders carry no recording time to find new ones by).
        talking, _ = _active_shops(bounds[REFRESH_DAYS] - 1, top_order, now - timedelta(days=2))
        ordering = talking
    else:
        talking, ordering = _active_shops(mark["interaction"], mark["order"], mark["at"])
    written = 0
    for shop in Shop.objects.filter(pk__in=talking | ordering):
        today = now.astimezone(shop_zone(shop)).date()
        back = CONVERSION_DAYS + 1 if shop.pk in ordering else REFRESH_DAYS
        first = today - timedelta(days=back)
        written += stats_rebuild(shop, first, today, min_interaction_id=bounds[back])
    cache.set(REFRESH_MARK, {"interaction": top_interaction, "order": top_order, "at": now}, None)
    return written


def first_message_day(shop: Shop) -> date | None:
    """The local day of the shop's first message (rebuild_stats' default start)."""
    first = Interaction.objects.filter(customer__shop_id=shop.pk).aggregate(at=Min("occurred_at"))["at"]
    return first.astimezone(shop_zone(shop)).date() if first else None


def stats_rebuild_all(
    shop: Shop, since: date | None, *, today: date | None = None
) -> tuple[date, date] | None:
    """Rebuild the shop from `since` (default: its first message's day) to today, a month at a time
    (31 days per stream of messages: memory stays bounded); the days rebuilt, None when there was nothing."""
    zone = shop_zone(shop)
    today = today or timezone.now().astimezone(zone).date()
    first = since or first_message_day(shop)
    if first is None or first > today:
        return None
    start = first
    while start <= today:
        end = min(start + timedelta(days=30), today)
        stats_rebuild(shop, start, end)
        start = end + timedelta(days=1)
    return first, today


def demo_stats_rebuild(*, shop_id: int) -> None:
    """seed_demo's hook (see apps.py): the demo shop's figures, every day since its first message."""
    stats_rebuild_all(Shop.objects.get(pk=shop_id), None)
