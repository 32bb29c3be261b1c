"""Opening hours as values: the day's ranges, the next opening, business time across DST."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from shopinfo.hours import Hours, HoursException, TimeRange, business_seconds

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")


def _r(opens: str, closes: str) -> TimeRange:
    return TimeRange(time.fromisoformat(opens), time.fromisoformat(closes))


DAY = (_r("10:00", "19:00"),)
SPLIT = (_r("09:30", "12:30"), _r("14:00", "19:00"))
# Closed Monday; Tuesday-Friday split; Saturday 10-19; Sunday 14-18.
WEEK = Hours(weekly=((), SPLIT, SPLIT, SPLIT, SPLIT, DAY, (_r("14:00", "18:00"),)))
CHRISTMAS = HoursException(date(2026, 12, 25), date(2026, 12, 25), (), "Noël")
XMAS_SUNDAY = HoursException(date(2026, 12, 20), date(2026, 12, 20), (_r("10:00", "19:00"),), "Noël")
HOLIDAY_WEEK = HoursException(date(2026, 8, 3), date(2026, 8, 23), (), "Congés")


def test_weekly_ranges_and_closed_day():
    assert WEEK.ranges_on(date(2026, 12, 1)) == (SPLIT, None)  # a Tuesday
    assert WEEK.ranges_on(date(2026, 11, 30)) == ((), None)  # a Monday


def test_exception_wins_over_weekly_ranges():
    hours = Hours(WEEK.weekly, (CHRISTMAS, XMAS_SUNDAY))
    assert hours.ranges_on(date(2026, 12, 25)) == ((), CHRISTMAS)  # a Friday, normally open
    assert hours.ranges_on(date(2026, 12, 20)) == (XMAS_SUNDAY.ranges, XMAS_SUNDAY)
    assert hours.ranges_on(date(2026, 12, 26)) == (DAY, None)


def test_is_open_at_edges_and_lunch_break():
    tuesday = date(2026, 12, 1)
    assert WEEK.is_open_at(datetime.combine(tuesday, time(9, 30), tzinfo=PARIS))
    assert not WEEK.is_open_at(datetime.combine(tuesday, time(12, 30), tzinfo=PARIS))
    assert not WEEK.is_open_at(datetime.combine(tuesday, time(13, 0)))
    assert WEEK.is_open_at(datetime.combine(tuesday, time(18, 59)))
    assert not WEEK.is_open_at(datetime.combine(tuesday, time(19, 0)))


def test_midnight_closing_counts_as_end_of_day():
    late = Hours(weekly=((_r("18:00", "00:00"),),) * 7)
    assert late.is_open_at(datetime(2026, 12, 1, 23, 59))
    assert not late.is_open_at(datetime(2026, 12, 1, 17, 0))


def test_next_opening_after_lunch_next_day_and_across_the_week():
    tuesday_noon = datetime(2026, 12, 1, 13, 0, tzinfo=PARIS)
    assert WEEK.next_opening(tuesday_noon) == datetime(2026, 12, 1, 14, 0, tzinfo=PARIS)
    sunday_evening = datetime(2026, 12, 6, 18, 30, tzinfo=PARIS)
    # Monday is closed: the next opening is Tuesday morning.
    assert WEEK.next_opening(sunday_evening) == datetime(2026, 12, 8, 9, 30, tzinfo=PARIS)


def test_next_opening_is_strictly_after_and_keeps_naive_naive():
    opening = datetime(2026, 12, 1, 9, 30)
    assert WEEK.next_opening(opening) == datetime(2026, 12, 1, 14, 0)
    assert WEEK.next_opening(opening).tzinfo is None


def test_next_opening_skips_a_closure():
    hours = Hours(WEEK.weekly, (HOLIDAY_WEEK,))
    assert hours.next_opening(datetime(2026, 8, 1, 19, 0)) == datetime(2026, 8, 2, 14, 0)
    assert hours.next_opening(datetime(2026, 8, 2, 18, 0)) == datetime(2026, 8, 25, 9, 30)


def test_next_opening_none_when_never_open():
    assert Hours(weekly=((),) * 7).next_opening(datetime(2026, 12, 1, 10, 0)) is None
    assert not Hours(weekly=((),) * 7).is_set()


def test_exceptions_between_sorted_and_bounded():
    hours = Hours(WEEK.weekly, (CHRISTMAS, XMAS_SUNDAY, HOLIDAY_WEEK))
    assert hours.exceptions_between(date(2026, 12, 18), date(2026, 12, 31)) == (XMAS_SUNDAY, CHRISTMAS)
    assert hours.exceptions_between(date(2026, 12, 21), date(2026, 12, 24)) == ()


def test_business_seconds_simple_and_partial():
    start = datetime(2026, 12, 1, 12, 0, tzinfo=PARIS)  # Tuesday, 30 min before the lunch break
    end = datetime(2026, 12, 1, 15, 0, tzinfo=PARIS)
    assert business_seconds(WEEK, start, end) == 30 * 60 + 60 * 60
    assert business_seconds(WEEK, end, start) == 0.0


def test_business_seconds_over_a_closed_monday():
    start = datetime(2026, 11, 29, 17, 0, tzinfo=PARIS)  # Sunday 17:00, one hour before closing
    end = datetime(2026, 12, 1, 10, 0, tzinfo=PARIS)  # Tuesday 10:00
    assert business_seconds(WEEK, start, end) == 3600 + 1800


def test_business_seconds_uses_the_zone_of_start():
    start_utc = datetime(2026, 12, 1, 8, 0, tzinfo=ZoneInfo("UTC"))  # 09:00 in Paris
    end_utc = datetime(2026, 12, 1, 10, 0, tzinfo=ZoneInfo("UTC"))  # 11:00 in Paris
    assert business_seconds(WEEK, start_utc.astimezone(PARIS), end_utc) == 90 * 60


@pytest.mark.parametrize(
    ("zone", "spring_forward"),
    [(PARIS, date(2026, 3, 29)), (NEW_YORK, date(2026, 3, 8))],
)
def test_business_seconds_across_spring_forward(zone, spring_forward):
    night = Hours(weekly=((_r("01:00", "04:00"),),) * 7)
    start = datetime.combine(spring_forward, time(0, 0), tzinfo=zone)
    end = datetime.combine(spring_forward, time(5, 0), tzinfo=zone)
    # The clocks skip 02:00-03:00: the 01:00-04:00 range lasts two real hours that night.
    assert business_seconds(night, start, end) == 2 * 3600


@pytest.mark.parametrize(
    ("zone", "fall_back"),
    [(PARIS, date(2026, 10, 25)), (NEW_YORK, date(2026, 11, 1))],
)
def test_business_seconds_across_fall_back(zone, fall_back):
    night = Hours(weekly=((_r("00:00", "04:00"),),) * 7)
    start = datetime.combine(fall_back, time(0, 0), tzinfo=zone)
    end = datetime.combine(fall_back, time(12, 0), tzinfo=zone)
    # One hour is lived twice: the 00:00-04:00 range lasts five real hours.
    assert business_seconds(night, start, end) == 5 * 3600


def test_business_seconds_over_a_week_spanning_the_dst_change():
    start = datetime(2026, 3, 23, 0, 0, tzinfo=PARIS)  # Monday
    end = datetime(2026, 3, 30, 0, 0, tzinfo=PARIS)  # next Monday, after the change on Sunday 29
    weekly_hours = 4 * (3 + 5) + 9 + 4
    assert business_seconds(WEEK, start, end) == weekly_hours * 3600


def test_business_seconds_rejects_naive_datetimes():
    with pytest.raises(ValueError, match="aware"):
        business_seconds(WEEK, datetime(2026, 12, 1, 10, 0), datetime(2026, 12, 1, 11, 0))
