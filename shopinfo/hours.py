"""A shop's opening hours as values (pure: no Django): what is open on a given day, the next opening.

`shopinfo.models` stores them (weekly ranges, dated exceptions) and builds an `Hours`; the reply engine
answers "what time do you close today?" from it in the customer's language (webhooks.replies.hours_text),
and the analytics count business time with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo


@dataclass(frozen=True)
class TimeRange:
    """One stretch of opening within a day, local time of the shop. `closes` is after `opens`;
    time(0, 0) as `closes` means midnight (end of that day)."""

    opens: time
    closes: time


@dataclass(frozen=True)
class HoursException:
    """A holiday, an exceptional closure or an exceptional opening, for every day from `first_day` to
    `last_day` included: `ranges` replace the weekly ones on those days (empty: closed)."""

    first_day: date
    last_day: date
    ranges: tuple[TimeRange, ...] = ()
    label: str = ""  # as the owner wrote it ("Noël", "Inventaire"), may be empty


@dataclass(frozen=True)
class Hours:
    """`weekly[0]` is Monday ... `weekly[6]` Sunday; a day with no range is closed."""

    weekly: tuple[tuple[TimeRange, ...], ...]
    exceptions: tuple[HoursException, ...] = ()

    def is_set(self) -> bool:
        return any(self.weekly) or bool(self.exceptions)

    def ranges_on(self, day: date) -> tuple[tuple[TimeRange, ...], HoursException | None]:
        """The ranges of `day` and the exception that set them, if any: a dated exception wins over
        the weekly ranges (when several cover the day, the last one listed wins, as the owner's latest)."""
        found = None
        for exception in self.exceptions:
            if exception.first_day <= day <= exception.last_day:
                found = exception
        if found is not None:
            return found.ranges, found
        if len(self.weekly) != 7:
            return (), None
        return self.weekly[day.weekday()], None

    def exceptions_between(self, first: date, last: date) -> tuple[HoursException, ...]:
        """Exceptions that touch [first, last], earliest first (for "closed on the 25th" notices)."""
        touching = [e for e in self.exceptions if e.first_day <= last and e.last_day >= first]
        return tuple(sorted(touching, key=lambda e: (e.first_day, e.last_day)))

    def is_open_at(self, moment: datetime) -> bool:
        """True when `moment` (wall time of the shop) falls in one of that day's ranges."""
        return self.open_range_at(moment) is not None

    def open_range_at(self, moment: datetime) -> TimeRange | None:
        """The range `moment` falls in, None when closed: what "open now until 7 pm" reads from."""
        ranges, _ = self.ranges_on(moment.date())
        wall = moment.time().replace(tzinfo=None)
        inside = (r for r in ranges if r.opens <= wall and (wall < r.closes or r.closes == MIDNIGHT))
        return next(inside, None)

    def next_opening(self, after: datetime) -> datetime | None:
        """The next moment the shop opens strictly after `after` (same tzinfo as `after`, naive stays
        naive), looking at most LOOKAHEAD_DAYS ahead; None if it never opens in that time."""
        for offset in range(LOOKAHEAD_DAYS + 1):
            try:
                day = after.date() + timedelta(days=offset)
            except OverflowError:  # the end of the calendar (year 9999): no opening after it
                return None
            ranges, _ = self.ranges_on(day)
            for r in sorted(ranges, key=lambda r: r.opens):
                opening = datetime.combine(day, r.opens, tzinfo=after.tzinfo)
                if opening > after:
                    return opening
        return None


MIDNIGHT = time(0, 0)
# A bit more than a year: an annual closure (e.g. a shop open only in summer) still finds its reopening.
LOOKAHEAD_DAYS = 370


def range_bounds(day: date, rng: TimeRange, tzinfo: tzinfo | None) -> tuple[datetime, datetime]:
    """Start and end of `rng` on `day` as datetimes; a `closes` of midnight is the next day's 00:00."""
    start = datetime.combine(day, rng.opens, tzinfo=tzinfo)
    end_day = day + timedelta(days=1) if rng.closes == MIDNIGHT else day
    return start, datetime.combine(end_day, rng.closes, tzinfo=tzinfo)


def business_seconds(hours: Hours, start: datetime, end: datetime) -> float:
    """Seconds of [start, end) during which the shop is open, read in the zone of `start`.

    Both must be aware. Bounds are compared as real instants (timestamps), so a range crossing a
    daylight-saving change counts its true length (10:00-19:00 on a 23-hour day is still 9 hours,
    but 01:00-04:00 on the night clocks go forward is 2)."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("business_seconds needs aware datetimes")
    if end <= start:
        return 0.0
    zone = start.tzinfo
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    first, last = local_start.timestamp(), local_end.timestamp()
    total = 0.0
    day = local_start.date()
    while day <= local_end.date():
        for rng in hours.ranges_on(day)[0]:
            opens, closes = range_bounds(day, rng, zone)
            low, high = max(first, opens.timestamp()), min(last, closes.timestamp())
            if high > low:
                total += high - low
        day += timedelta(days=1)
    return total
