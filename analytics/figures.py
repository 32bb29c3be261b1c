"""The figures of a period, read from the daily aggregates (analytics.aggregate, kept within minutes by
the beat task, today's row included): what the page, the CSV and the weekly e-mail show.

`shop_figures` reads the period's and the previous period's DailyStats rows in one query, plus the
live CRM health and whether the shop has a catalogue: a few small queries, no raw table scanned."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

from django.db.models import Count

from analytics.aggregate import CONVERSION_DAYS
from analytics.models import DailyStats
from catalog.cached import shop_has_catalogue
from crm_backends.models import CrmConnection, CustomerSync
from shopinfo.selectors import shop_hours, shop_zone

PERIODS = ("7d", "30d", "12m")
# Waits read per period when days were sampled: a year of busy days would otherwise sort ~150,000 of them
# on every view; each day's sample is thinned to its share (evenly spaced ranks, weighted as the day).
POINTS_PER_PERIOD = 4_000
MIN_POINTS_PER_DAY = 10

CENTS = Decimal("0.01")
MAX_DAYS = 366
# Periods up to this many days are charted by day, longer ones by month.
DAILY_SERIES_UP_TO = 62


@dataclass(frozen=True)
class Period:
    first: date  # local dates, both included
    last: date
    name: str = "custom"  # "7d", "30d", "12m" or "custom"

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def previous(self) -> Period:
        """The period of the same length just before (what the page compares with)."""
        return Period(self.first - timedelta(days=self.days), self.first - timedelta(days=1), self.name)


@dataclass(frozen=True)
class Durations:
    count: int = 0
    median: float | None = None  # seconds
    p90: float | None = None


@dataclass(frozen=True)
class Bucket:
    """One point of the time series: a day (periods up to 62 days) or a month (longer)."""

    start: date
    messages_in: dict[str, int] = field(default_factory=dict)  # by channel
    messages_out: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Figures:
    period: Period
    series: tuple[Bucket, ...] = ()
    messages_in: dict[str, int] = field(default_factory=dict)
    messages_out: dict[str, int] = field(default_factory=dict)
    inbound_answered_auto: int = 0
    inbound_escalated: int = 0
    inbound_opted_out: int = 0
    first_answer_auto: Durations = Durations()
    first_answer_human: Durations = Durations()
    business_hours: bool = False  # response times count opening hours only
    new_customers: dict[str, int] = field(default_factory=dict)  # by source channel
    returning_customers: int = 0
    segments_start: dict[str, int] | None = None
    segments_since: date | None = None  # the start's day when the snapshots begin within the period
    segments_end: dict[str, int] | None = None
    orders: dict[str, tuple[int, Decimal]] = field(default_factory=dict)  # by segment
    # Only the days whose CONVERSION_DAYS have passed (a conversation of yesterday may still convert):
    # `conversion_open_days` of the period's last days are left out until they have.
    conversations: int = 0
    conversions: int = 0
    conversion_days: int = 7
    conversion_open_days: int = 0
    holds: tuple[int, int, int] | None = None  # made, converted, expired; None without a catalogue
    crm: dict[str, int] | None = None  # {"pushed", "failed", "pending"}; None without a connection
    previous: Figures | None = None  # the period just before, for comparison (its own `previous`: None)

    @property
    def inbound(self) -> int:
        return sum(self.messages_in.values())


def period_for(name: str, today: date, first: date | None = None, last: date | None = None) -> Period:
    """The period a page asks for: the last 7 or 30 days, the last 12 months, ending `today`, or a
    custom one (first <= last, at most MAX_DAYS days); ValueError otherwise."""
    if name == "7d":
        return Period(today - timedelta(days=6), today, name)
    if name == "30d":
        return Period(today - timedelta(days=29), today, name)
    if name == "12m":
        return Period(_year_before(today) + timedelta(days=1), today, name)
    if name != "custom":
        raise ValueError(f"unknown period {name!r}")
    if first is None or last is None:
        raise ValueError("a custom period needs a first and a last day")
    if first > last:
        raise ValueError("the first day comes after the last")
    if (last - first).days + 1 > MAX_DAYS:
        raise ValueError(f"a period is at most {MAX_DAYS} days")
    return Period(first, last, "custom")


def _year_before(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def percentile(ordered: list[float], q: float) -> float | None:
    """The q-th quantile (0..1) of sorted values, linear between ranks; None for no value."""
    if not ordered:
        return None
    rank = (len(ordered) - 1) * q
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def durations(waits: list[float]) -> Durations:
    ordered = sorted(waits)
    return Durations(len(ordered), percentile(ordered, 0.5), percentile(ordered, 0.9))


def durations_of_days(days: list[tuple[list[float], int]]) -> Durations:
    """The median and 90th percentile over several days' waits, each day given as (its kept waits, how
    many waits it had). Exact when every day kept all its waits; otherwise each kept wait stands for
    count / kept waits of its day (a busy day's sample weighs what the day weighed), nearest rank."""
    total = sum(max(count, len(kept)) for kept, count in days)
    if all(count <= len(kept) for kept, count in days):
        return replace(durations([w for kept, _count in days for w in kept]), count=total)
    per_day = max(MIN_POINTS_PER_DAY, POINTS_PER_PERIOD // len(days))
    weighted = []
    for kept, count in days:
        points = thinned(kept, per_day)  # kept sorted: aggregate.sample writes them so
        weighted.extend((wait, max(count, len(kept)) / len(points)) for wait in points)
    weighted.sort()
    median, p90 = weighted_ranks(weighted, (0.5, 0.9))
    return Durations(total, median, p90)


def thinned(ordered: list[float], at_most: int) -> list[float]:
    """At most `at_most` of the sorted values, at evenly spaced ranks, both ends included."""
    if len(ordered) <= at_most:
        return ordered
    step = (len(ordered) - 1) / (at_most - 1)
    return [ordered[round(i * step)] for i in range(at_most)]


def weighted_ranks(weighted: list[tuple[float, float]], qs: tuple[float, ...]) -> list[float | None]:
    """For each q (ascending), the first value whose cumulative weight reaches q of the total (values
    sorted), in one pass."""
    if not weighted:
        return [None] * len(qs)
    total = sum(weight for _value, weight in weighted)
    found, reached, wanted = [], 0.0, iter(qs)
    q = next(wanted)
    for value, weight in weighted:
        reached += weight
        while q is not None and reached >= q * total:
            found.append(value)
            q = next(wanted, None)
        if q is None:
            return found
    return found + [weighted[-1][0]] * (len(qs) - len(found))


def shop_figures(shop, period: Period, *, now: datetime) -> Figures:
    """The shop's figures for `period`, with the previous period's as `previous`, from the days' rows:
    kept within minutes by the beat task (analytics.tasks.refresh_stats), today's within a minute of the
    page asking (analytics.tasks.refresh_today). `now` says which days' conversions are settled."""
    before = period.previous()
    today = now.astimezone(shop_zone(shop)).date()
    rows = _rows(shop, before.first, period.last)
    shared = {
        "business_hours": _has_hours(shop),
        "holds_known": _has_catalogue(shop),
        "crm": crm_health(shop),
        # An order up to CONVERSION_DAYS after a conversation counts: a day is settled once the day its
        # window ends in has passed too.
        "settled_until": today - timedelta(days=CONVERSION_DAYS + 1),
    }
    earlier = [r for r in rows if r.day < period.first]
    previous = _figures(before, earlier, **shared)
    current = [r for r in rows if r.day >= period.first]
    return _figures(period, current, previous=previous, segments_before=_last_snapshot(earlier), **shared)


# What a period reads of each day (all but ids and bookkeeping).
ROW_FIELDS = tuple(
    f.attname for f in DailyStats._meta.concrete_fields if f.attname not in ("id", "shop_id", "computed_at")
)


def _rows(shop, first: date, last: date) -> list:
    """The days' rows as plain records (up to two years of them per view: model instances would cost
    more than the figures)."""
    found = DailyStats.objects.filter(shop=shop, day__gte=first, day__lte=last).order_by("day")
    return [SimpleNamespace(**values) for values in found.values(*ROW_FIELDS)]


def _last_snapshot(rows: list) -> dict[str, int] | None:
    return next((row.segments for row in reversed(rows) if row.segments is not None), None)


def _figures(
    period: Period,
    rows: list,
    *,
    business_hours: bool,
    holds_known: bool,
    crm,
    settled_until: date,
    previous=None,
    segments_before=None,
) -> Figures:
    snapshots = [row.segments for row in rows if row.segments is not None]
    first_snapshot = next((row.day for row in rows if row.segments is not None), None)
    settled = [row for row in rows if row.day <= settled_until]
    return Figures(
        period=period,
        series=_series(period, rows),
        messages_in=_sum_dicts(row.messages_in for row in rows),
        messages_out=_sum_dicts(row.messages_out for row in rows),
        inbound_answered_auto=sum(row.inbound_answered_auto for row in rows),
        inbound_escalated=sum(row.inbound_escalated for row in rows),
        inbound_opted_out=sum(row.inbound_opted_out for row in rows),
        first_answer_auto=durations_of_days([(row.waits_auto, row.waits_auto_count) for row in rows]),
        first_answer_human=durations_of_days([(row.waits_human, row.waits_human_count) for row in rows]),
        business_hours=business_hours,
        new_customers=_sum_dicts(row.new_customers for row in rows),
        returning_customers=sum(row.returning_customers for row in rows),
        # The start: the snapshot at the end of the day before the period (the first day's changes are
        # the period's), else the earliest one within it.
        segments_start=segments_before or (snapshots[0] if snapshots else None),
        segments_since=None if segments_before else first_snapshot,
        segments_end=snapshots[-1] if snapshots else None,
        orders=_sum_orders(rows),
        conversations=sum(row.conversations for row in settled),
        conversions=sum(row.conversions for row in settled),
        conversion_days=CONVERSION_DAYS,
        conversion_open_days=max(0, min((period.last - settled_until).days, period.days)),
        holds=_holds(rows) if holds_known else None,
        crm=crm,
        previous=previous,
    )


def _sum_dicts(dicts) -> dict[str, int]:
    total: Counter = Counter()
    for counts in dicts:
        total.update(counts)
    return dict(sorted(total.items()))


def _sum_orders(rows: list) -> dict[str, tuple[int, Decimal]]:
    counts: Counter = Counter()
    amounts: dict[str, Decimal] = {}
    for row in rows:
        for segment, (count, amount) in row.orders.items():
            counts[segment] += count
            amounts[segment] = amounts.get(segment, Decimal("0")) + Decimal(amount).quantize(CENTS)
    return {segment: (counts[segment], amounts[segment]) for segment in sorted(counts)}


def _holds(rows: list) -> tuple[int, int, int]:
    return (
        sum(row.holds_made for row in rows),
        sum(row.holds_converted for row in rows),
        sum(row.holds_expired for row in rows),
    )


def _series(period: Period, rows: list) -> tuple[Bucket, ...]:
    """One bucket per day (short periods) or per month (long ones, the first starting on the period's
    first day), every bucket present even without a row."""
    by_start: dict[date, list] = {start: [] for start in _bucket_starts(period)}
    monthly = period.days > DAILY_SERIES_UP_TO
    for row in rows:
        start = max(row.day.replace(day=1), period.first) if monthly else row.day
        by_start[start].append(row)
    return tuple(
        Bucket(
            start,
            _sum_dicts(row.messages_in for row in found),
            _sum_dicts(row.messages_out for row in found),
        )
        for start, found in by_start.items()
    )


def _bucket_starts(period: Period) -> list[date]:
    if period.days <= DAILY_SERIES_UP_TO:
        return [period.first + timedelta(days=n) for n in range(period.days)]
    starts, month = [period.first], period.first.replace(day=1)
    while True:
        month = (month + timedelta(days=32)).replace(day=1)
        if month > period.last:
            return starts
        starts.append(month)


def _has_hours(shop) -> bool:
    hours = shop_hours(shop)
    return hours is not None and hours.is_set()


def _has_catalogue(shop) -> bool:
    return shop_has_catalogue(shop.pk)


def crm_health(shop) -> dict[str, int] | None:
    """Customers pushed, failed and waiting on the shop's CRM connection; None without one that pushes
    (none, or the native backend: nothing to push)."""
    connection = CrmConnection.objects.filter(shop=shop).first()
    if connection is None or connection.backend == CrmConnection.Backend.NATIVE:
        return None
    counts = dict(
        CustomerSync.objects.filter(connection=connection)
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    return {
        "pushed": counts.get(CustomerSync.Status.SYNCED, 0),
        "failed": counts.get(CustomerSync.Status.FAILED, 0),
        "pending": counts.get(CustomerSync.Status.PENDING, 0),
    }
