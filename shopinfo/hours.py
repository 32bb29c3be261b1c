"""A shop's opening hours as values (pure: no Django): what is open on a given day, the next opening.

`shopinfo.models` stores them (weekly ranges, dated exceptions) and builds an `Hours`; the reply engine
answers "what time do you close today?" from it in the customer's language (webhooks.replies.hours_text),
and the analytics count business time with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time


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
