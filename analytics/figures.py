"""The figures of a period, read from the daily aggregates (and today's, computed live): what the page,
the CSV and the weekly e-mail show. Interface (filled in by analytics.aggregate's author)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

PERIODS = ("7d", "30d", "12m")


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
    segments_end: dict[str, int] | None = None
    orders: dict[str, tuple[int, Decimal]] = field(default_factory=dict)  # by segment
    conversations: int = 0
    conversions: int = 0
    conversion_days: int = 7
    holds: tuple[int, int, int] | None = None  # made, converted, expired; None without a catalogue
    crm: dict[str, int] | None = None  # {"pushed", "failed", "pending"}; None without a connection

    @property
    def inbound(self) -> int:
        return sum(self.messages_in.values())
