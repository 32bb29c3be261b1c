"""The figures of a period (analytics.figures), read from the daily rows: sums, series by day or by
month, medians and 90th percentiles, the comparison period, holds and CRM health, periods asked for."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from analytics.aggregate import stats_rebuild
from analytics.figures import Durations, Period, durations, percentile, period_for, shop_figures
from analytics.models import DailyStats
from catalog.models import Product, Variant
from crm_backends.models import CrmConnection, CustomerSync
from customers.models import Interaction

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 30, 12, tzinfo=ZoneInfo("Europe/Paris"))
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
