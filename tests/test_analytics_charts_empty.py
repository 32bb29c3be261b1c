"""analytics.charts: an empty chart says why it is empty, and shows no legend (a key to nothing)."""

from dataclasses import replace
from datetime import date

import pytest
from django.utils import translation

from analytics.charts import charts
from analytics.figures import Bucket, Figures, Period

PERIOD = Period(date(2026, 11, 1), date(2026, 11, 2), "custom")
QUIET = Figures(period=PERIOD, series=(Bucket(date(2026, 11, 1), {}, {}), Bucket(date(2026, 11, 2), {}, {})))


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def test_inbound_messages_without_any_outcome_are_not_called_no_inbound_message():
    # The walkthrough's "No inbound message in this period" above a month of received messages.
    current = replace(QUIET, messages_in={"sms": 12})
    svg, legend = charts(current, QUIET)["automation"]
    assert "none answered automatically" in svg and "No inbound message in this period" not in svg
    assert legend == ""


def test_no_inbound_message_at_all_says_so():
    svg, legend = charts(QUIET, QUIET)["automation"]
    assert "No inbound message in this period" in svg and legend == ""


def test_a_chart_with_figures_keeps_its_legend():
    current = replace(QUIET, messages_in={"sms": 12}, inbound_answered_auto=6)
    svg, legend = charts(current, QUIET)["automation"]
    assert 'class="legend"' in legend and "This period" in legend


def test_empty_message_and_revenue_charts_show_no_legend():
    for key in ("messages", "revenue", "customers"):
        svg, legend = charts(QUIET, QUIET)[key]
        assert 'class="empty"' in svg and legend == "", key


def test_the_sent_series_are_dashed_in_the_chart_and_its_legend():
    series = (
        Bucket(date(2026, 11, 1), {"sms": 3}, {"sms": 3}),
        Bucket(date(2026, 11, 2), {"sms": 1}, {"sms": 1}),
    )
    current = replace(QUIET, series=series, messages_in={"sms": 4}, messages_out={"sms": 4})
    svg, legend = charts(current, QUIET)["messages"]
    assert 'class="line s0"' in svg and 'class="line s1 dashed"' in svg
    assert 'class="swatch s1 line dashed"' in legend


@pytest.mark.parametrize(
    "language, first, last, months",
    [
        ("fr", "1 nov.", "2 nov.", ("sept. 2026", "déc. 2025")),
        ("en", "1 Nov.", "2 Nov.", ("Sept. 2026", "Dec. 2025")),
    ],
)
def test_the_axis_dates_use_the_language_s_month_abbreviations(language, first, last, months):
    series = (Bucket(date(2026, 11, 1), {"sms": 3}, {}), Bucket(date(2026, 11, 2), {"sms": 1}, {}))
    with translation.override(language):
        svg, _legend = charts(replace(QUIET, series=series, messages_in={"sms": 4}), QUIET)["messages"]
        assert f">{first}<" in svg and f">{last}<" in svg
        year = Period(date(2025, 12, 1), date(2026, 11, 30), "12m")
        buckets = tuple(
            Bucket(date(2025 + (m + 11) // 12, (m + 11) % 12 + 1, 1), {"sms": 1}, {}) for m in range(12)
        )
        svg, _legend = charts(replace(QUIET, period=year, series=buckets, messages_in={"sms": 12}), QUIET)[
            "messages"
        ]
    assert all(f"· {month}:" in svg for month in months)  # every month in the tooltips
