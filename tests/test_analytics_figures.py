"""The figures of a period (analytics.figures), read from the daily rows: sums, series by day or by
month, medians and 90th percentiles, the comparison period, holds and CRM health, periods asked for."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from analytics.aggregate import sample, stats_rebuild
from analytics.figures import Durations, Period, durations, percentile, period_for, shop_figures
from analytics.models import DailyStats
from catalog.models import Product, Variant
from crm_backends.models import CrmConnection, CustomerSync
from customers.models import Interaction

pytestmark = pytest.mark.django_db

# After the periods below and their 7 days of conversions: every row read as stored, none live.
NOW = datetime(2026, 7, 10, 12, tzinfo=ZoneInfo("Europe/Paris"))
JUNE = Period(date(2026, 6, 1), date(2026, 6, 30), "30d")


def day_row(shop, day: date, **fields) -> DailyStats:
    return DailyStats.objects.create(shop=shop, day=day, **fields)


def test_a_period_sums_its_days_and_compares_with_the_one_before(shop):
    day_row(
        shop,
        date(2026, 6, 3),
        messages_in={"sms": 2, "whatsapp": 5},
        messages_out={"whatsapp": 4},
        inbound_answered_auto=4,
        inbound_escalated=2,
        inbound_opted_out=1,
        new_customers={"whatsapp": 2},
        returning_customers=1,
        orders={"vip": [1, "120.50"], "active": [2, "40.00"]},
        conversations=5,
        conversions=2,
        segments={"vip": 3, "prospect": 10},
    )
    day_row(
        shop,
        date(2026, 6, 30),
        messages_in={"sms": 1},
        new_customers={"sms": 1, "whatsapp": 1},
        orders={"vip": [1, "79.50"]},
        conversations=1,
        segments={"vip": 4, "prospect": 9},
    )
    day_row(shop, date(2026, 5, 20), messages_in={"sms": 9}, conversations=9)  # the previous period
    day_row(shop, date(2026, 7, 1), messages_in={"sms": 100})  # after the period

    figures = shop_figures(shop, JUNE, now=NOW)

    assert (figures.messages_in, figures.messages_out) == ({"sms": 3, "whatsapp": 5}, {"whatsapp": 4})
    assert figures.inbound == 8
    assert (figures.inbound_answered_auto, figures.inbound_escalated, figures.inbound_opted_out) == (4, 2, 1)
    assert figures.new_customers == {"sms": 1, "whatsapp": 3}
    assert figures.returning_customers == 1
    assert figures.orders == {"active": (2, Decimal("40.00")), "vip": (2, Decimal("200.00"))}
    assert (figures.conversations, figures.conversions, figures.conversion_days) == (6, 2, 7)
    assert (figures.segments_start, figures.segments_end) == (
        {"vip": 3, "prospect": 10},
        {"vip": 4, "prospect": 9},
    )
    assert figures.previous.period == Period(date(2026, 5, 2), date(2026, 5, 31), "30d")
    assert (figures.previous.messages_in, figures.previous.conversations) == ({"sms": 9}, 9)
    assert figures.previous.previous is None


def test_a_short_period_is_charted_by_day_with_every_day_present(shop):
    day_row(shop, date(2026, 6, 2), messages_in={"sms": 2}, messages_out={"sms": 1})
    week = period_for("7d", date(2026, 6, 7))

    series = shop_figures(shop, week, now=NOW).series

    assert [bucket.start for bucket in series] == [date(2026, 6, d) for d in range(1, 8)]
    assert (series[1].messages_in, series[1].messages_out) == ({"sms": 2}, {"sms": 1})
    assert series[0].messages_in == {}


def test_a_long_period_is_charted_by_month(shop):
    day_row(shop, date(2025, 7, 1), messages_in={"sms": 1})  # the day before the period: not in it
    day_row(shop, date(2025, 7, 2), messages_in={"sms": 2})
    day_row(shop, date(2025, 7, 31), messages_in={"whatsapp": 3})
    day_row(shop, date(2026, 6, 30), messages_in={"sms": 4})
    year = period_for("12m", date(2026, 7, 1))

    series = shop_figures(shop, year, now=NOW).series

    assert year == Period(date(2025, 7, 2), date(2026, 7, 1), "12m")
    assert [bucket.start for bucket in series][:2] == [date(2025, 7, 2), date(2025, 8, 1)]
    assert len(series) == 13 and series[-1].start == date(2026, 7, 1)
    assert series[0].messages_in == {"sms": 2, "whatsapp": 3}
    assert series[-2].messages_in == {"sms": 4}


def test_medians_and_90th_percentiles_of_the_waits_across_days(shop):
    day_row(shop, date(2026, 6, 1), waits_auto=[2.0, 4.0, 6.0], waits_human=[600.0])
    day_row(shop, date(2026, 6, 2), waits_auto=[8.0, 10.0, 100.0], waits_human=[60.0, 1200.0])

    figures = shop_figures(shop, JUNE, now=NOW)

    assert figures.first_answer_auto == Durations(6, 7.0, 55.0)
    assert figures.first_answer_human == Durations(3, 600.0, 1080.0)


def test_percentiles_of_one_value_and_of_none():
    assert percentile([], 0.5) is None
    assert durations([30.0]) == Durations(1, 30.0, 30.0)
    assert durations([]) == Durations(0, None, None)


def test_a_shop_with_no_data_gets_zeros_and_no_medians(shop):
    figures = shop_figures(shop, JUNE, now=NOW)

    assert (figures.messages_in, figures.inbound, figures.conversations, figures.orders) == ({}, 0, 0, {})
    assert figures.first_answer_auto == Durations(0, None, None)
    assert figures.first_answer_human.median is None
    assert (figures.segments_start, figures.holds, figures.crm, figures.business_hours) == (
        None,
        None,
        None,
        False,
    )
    assert len(figures.series) == 30


def test_another_shops_rows_are_not_read(shop, other_shop):
    day_row(other_shop, date(2026, 6, 3), messages_in={"sms": 5}, waits_auto=[1.0])

    figures = shop_figures(shop, JUNE, now=NOW)

    assert figures.messages_in == {} and figures.first_answer_auto.count == 0


def test_holds_appear_once_the_shop_has_a_catalogue(shop):
    day_row(shop, date(2026, 6, 3), holds_made=3, holds_converted=1, holds_expired=1)
    assert shop_figures(shop, JUNE, now=NOW).holds is None

    product = Product.objects.create(shop=shop, name="Robe")
    Variant.objects.create(shop=shop, product=product, sku="R-38", price=80)

    assert shop_figures(shop, JUNE, now=NOW).holds == (3, 1, 1)


def test_crm_health_counts_the_connections_customers_by_status(shop, other_shop, make_customer):
    mine = [make_customer(shop) for _ in range(4)]
    theirs = make_customer(other_shop)
    connected = CrmConnection.objects.create(shop=shop, backend="hubspot")
    other = CrmConnection.objects.create(shop=other_shop, backend="hubspot")
    for customer, status in zip(mine, ("synced", "synced", "failed", "pending"), strict=True):
        CustomerSync.objects.update_or_create(
            connection=connected, customer=customer, defaults={"status": status}
        )
    CustomerSync.objects.update_or_create(connection=other, customer=theirs, defaults={"status": "failed"})

    assert shop_figures(shop, JUNE, now=NOW).crm == {"pushed": 2, "failed": 1, "pending": 1}


def test_the_native_crm_pushes_nothing_and_shows_no_health(shop):
    CrmConnection.objects.create(shop=shop, backend="native")

    assert shop_figures(shop, JUNE, now=NOW).crm is None


def test_the_figures_take_a_few_queries_whatever_the_period(shop):
    for n in range(400):
        day_row(shop, date(2025, 6, 1) + timedelta(days=n), messages_in={"sms": 1}, waits_auto=[1.0])
    year = period_for("12m", date(2026, 6, 30))
    shop_figures(shop, year, now=NOW)  # the catalogue's answer is cached after the first read

    with CaptureQueriesContext(connection) as queries:
        figures = shop_figures(shop, year, now=NOW)

    assert len(queries) <= 5
    assert figures.messages_in == {"sms": 365} and figures.previous.messages_in == {"sms": 30}


def test_the_figures_of_messages_rebuilt_from_the_raw_tables(shop, make_customer):
    paris = ZoneInfo("Europe/Paris")
    customer = make_customer(shop)
    question = Interaction.objects.create(
        customer=customer,
        channel="whatsapp",
        direction="inbound",
        occurred_at=datetime(2026, 6, 3, 10, tzinfo=paris),
    )
    Interaction.objects.create(
        customer=customer,
        channel="whatsapp",
        direction="outbound",
        occurred_at=datetime(2026, 6, 3, 10, 0, 3, tzinfo=paris),
        is_automatic=True,
        in_reply_to=question,
        raw_payload={"_reply_kind": "answer"},
    )
    stats_rebuild(shop, JUNE.first, JUNE.last)

    figures = shop_figures(shop, JUNE, now=NOW)

    assert (figures.messages_in, figures.messages_out) == ({"whatsapp": 1}, {"whatsapp": 1})
    assert figures.inbound_answered_auto == 1
    assert figures.first_answer_auto == Durations(1, 3.0, 3.0)


def test_the_named_periods_end_today():
    today = date(2026, 3, 1)

    assert period_for("7d", today) == Period(date(2026, 2, 23), today, "7d")
    assert period_for("30d", today) == Period(date(2026, 1, 31), today, "30d")
    assert period_for("12m", today) == Period(date(2025, 3, 2), today, "12m")
    assert period_for("12m", date(2028, 2, 29)).first == date(2027, 3, 1)
    assert period_for("12m", today).days == 365


def test_a_custom_period_is_checked():
    first, last = date(2026, 1, 1), date(2026, 12, 31)

    assert period_for("custom", date(2026, 7, 1), first, last) == Period(first, last, "custom")
    assert period_for("custom", date(2026, 7, 1), first, first).days == 1
    with pytest.raises(ValueError, match="after"):
        period_for("custom", date(2026, 7, 1), last, first)
    with pytest.raises(ValueError, match="366"):
        period_for("custom", date(2026, 7, 1), first, date(2027, 1, 2))
    assert period_for("custom", date(2026, 7, 1), first, date(2027, 1, 1)).days == 366
    with pytest.raises(ValueError, match="first and a last"):
        period_for("custom", date(2026, 7, 1), first)
    with pytest.raises(ValueError, match="unknown"):
        period_for("90d", date(2026, 7, 1))


# --- what the review found: each would fail on the code before it ------------------------------------


def test_percentiles_weigh_each_day_by_its_waits_not_by_its_sample(shop):
    # 1,000 automatic answers of 5 s on one day (kept: a sample of 200), 300 of 100 s the next.
    day_row(shop, date(2026, 6, 1), waits_auto=sample([5.0] * 1000), waits_auto_count=1000)
    day_row(shop, date(2026, 6, 2), waits_auto=sample([100.0] * 300), waits_auto_count=300)

    figures = shop_figures(shop, JUNE, now=NOW)

    assert figures.first_answer_auto == Durations(1300, 5.0, 100.0)


def test_segments_at_the_start_are_those_at_the_end_of_the_day_before(shop):
    day_row(shop, date(2026, 5, 31), segments={"vip": 3})
    day_row(shop, date(2026, 6, 1), segments={"vip": 5})  # two customers became VIP on the first day
    day_row(shop, date(2026, 6, 30), segments={"vip": 6})

    figures = shop_figures(shop, JUNE, now=NOW)

    assert (figures.segments_start, figures.segments_end) == ({"vip": 3}, {"vip": 6})


def test_conversions_count_only_days_whose_seven_days_have_passed(shop):
    day_row(shop, date(2026, 6, 20), conversations=10, conversions=4)
    day_row(shop, date(2026, 6, 24), conversations=10, conversions=1)  # an order until 1 July, 23:59

    figures = shop_figures(shop, JUNE, now=datetime(2026, 7, 1, 12, tzinfo=ZoneInfo("Europe/Paris")))

    assert (figures.conversations, figures.conversions, figures.conversion_open_days) == (10, 4, 7)
    assert figures.previous.conversion_open_days == 0


def _rebuilt_and_refreshed(shop, answer_day: date, field: str):
    """A day's figure as the beat task leaves it (that day and the two before), then as a rebuild from two
    months before to five days after leaves it."""
    stats_rebuild(shop, answer_day - timedelta(days=2), answer_day)
    refreshed = getattr(DailyStats.objects.get(shop=shop, day=answer_day), field)
    stats_rebuild(shop, answer_day - timedelta(days=60), answer_day + timedelta(days=5))
    return refreshed, getattr(DailyStats.objects.get(shop=shop, day=answer_day), field)


def test_a_wait_is_the_same_whether_refreshed_or_rebuilt(shop, make_customer, django_user_model):
    paris = ZoneInfo("Europe/Paris")
    clerk = django_user_model.objects.create_user("clerk", password="pw")
    customer = make_customer(shop)
    for day in (16, 25):  # an unanswered question 35 days before the answer, another 26 days before
        Interaction.objects.create(
            customer=customer,
            channel="sms",
            direction="inbound",
            occurred_at=datetime(2026, 5, day, 10, tzinfo=paris),
        )
    Interaction.objects.create(
        customer=customer,
        channel="sms",
        direction="outbound",
        author=clerk,
        occurred_at=datetime(2026, 6, 20, 10, tzinfo=paris),
    )

    refreshed, rebuilt = _rebuilt_and_refreshed(shop, date(2026, 6, 20), "waits_human")

    assert refreshed == rebuilt == [26 * 86400.0]  # from 25 May: the 16 May question is past the lookback


def test_what_became_of_a_message_is_the_same_whether_refreshed_or_rebuilt(
    shop, make_customer, django_user_model
):
    paris = ZoneInfo("Europe/Paris")
    clerk = django_user_model.objects.create_user("clerk", password="pw")
    customer = make_customer(shop)
    for day, hour in ((15, 10), (18, 10)):
        Interaction.objects.create(
            customer=customer,
            channel="sms",
            direction="inbound",
            occurred_at=datetime(2026, 6, day, hour, tzinfo=paris),
        )
    # The first question answered by a person two days later (past the one-day horizon: unresolved);
    # the second within the day (escalated).
    for day in (17, 18):
        Interaction.objects.create(
            customer=customer,
            channel="sms",
            direction="outbound",
            author=clerk,
            occurred_at=datetime(2026, 6, day, 12, tzinfo=paris),
        )

    assert _rebuilt_and_refreshed(shop, date(2026, 6, 15), "inbound_escalated") == (0, 0)
    assert _rebuilt_and_refreshed(shop, date(2026, 6, 18), "inbound_escalated") == (1, 1)


def test_amounts_summed_as_floats_read_as_cents(shop):
    # SQLite sums decimals as floats; rows written so before the fix still read right.
    day_row(shop, date(2026, 6, 3), orders={"vip": [2, "470.700000000000"], "active": [1, "0.1000000001"]})

    figures = shop_figures(shop, JUNE, now=NOW)

    assert figures.orders == {"active": (1, Decimal("0.10")), "vip": (2, Decimal("470.70"))}
    assert str(figures.orders["vip"][1]) == "470.70"
