"""The analytics page's charts: each section's figures as an SVG chart (analytics.svg) and its legend,
titled and labelled in the active language."""

from __future__ import annotations

from django.utils import formats
from django.utils.translation import gettext as _

from analytics import svg
from analytics.csv_export import (
    MONTHLY_AFTER_DAYS,
    channel_label,
    message_columns,
    segment_label,
    segment_order,
    share,
    source_order,
)
from analytics.figures import Figures


def charts(current: Figures, previous: Figures) -> dict[str, tuple[str, str]]:
    """Section key → (SVG, legend HTML)."""
    this, before = _("This period"), _("Previous period")
    charts = {"messages": messages_chart(current)}
    # Short labels: three of them share 400 units of width under the bars.
    auto_labels = [_("Automatic"), _("To a person"), _("Opted out")]
    auto = [_shares(f) for f in (current, previous)]
    charts["automation"] = _compare(
        auto_labels, auto, _("Share of inbound messages (%)"), _automation_empty(current), this, before
    )
    # The same order as the tables under the charts.
    sources = sorted(set(current.new_customers) | set(previous.new_customers), key=source_order)
    charts["customers"] = _compare(
        [channel_label(s) for s in sources],
        [[f.new_customers.get(s, 0) for s in sources] for f in (current, previous)],
        _("New customers by source channel"),
        _("No new customer in this period"),
        this,
        before,
    )
    segments = segment_order(set(current.orders) | set(previous.orders))
    charts["revenue"] = _compare(
        [segment_label(s) for s in segments],
        [[float(f.orders.get(s, (0, 0))[1]) for s in segments] for f in (current, previous)],
        _("Revenue by segment"),
        _("No order in this period"),
        this,
        before,
    )
    if current.segments_start is not None and current.segments_end is not None:
        names = segment_order(set(current.segments_start) | set(current.segments_end))
        charts["segments"] = _compare(
            [segment_label(s) for s in names],
            [[f.get(s, 0) for s in names] for f in (current.segments_start, current.segments_end)],
            _("Customers per segment"),
            _("No customer in this period"),
            _("At the start"),
            _("At the end"),
        )
    if current.holds is not None:
        charts["holds"] = _compare(
            [_("Made"), _("Converted"), _("Expired")],
            [list(current.holds), list(previous.holds or (0, 0, 0))],
            _("Holds"),
            _("No hold in this period"),
            this,
            before,
        )
    return charts


def messages_chart(figures: Figures) -> tuple[str, str]:
    columns = message_columns(figures)
    monthly = figures.period.days > MONTHLY_AFTER_DAYS
    # "N": the language's own abbreviations ("4 nov.", "sept. 2026"; "Nov. 4" style in English).
    labels = [formats.date_format(b.start, "N Y" if monthly else "j N") for b in figures.series]
    series = [
        svg.Series(
            title,
            tuple(float((b.messages_in if d == "in" else b.messages_out).get(c, 0)) for b in figures.series),
            # Every message answered makes "sent" equal "received": dashed, both lines stay visible.
            dashed=d == "out",
        )
        for d, c, title in columns
    ]
    # A channel the shop never used would draw a flat line over the others': only the ones with messages.
    series = [s for s in series if any(s.values)] or series
    title = _("Messages per month") if monthly else _("Messages per day")
    chart = svg.line_chart(
        labels,
        series,
        title=title,
        desc=_("Messages received and sent, by channel."),
        empty_text=_("No messages in this period"),
        decimal=_decimal(),
    )
    if svg.is_empty(labels, series):
        return chart, ""  # the chart says there is nothing: a key to nothing would contradict it
    return chart, svg.legend([s.name for s in series], dashed=[s.dashed for s in series], lines=True)


def _compare(labels, rows, title: str, empty: str, first: str, second: str) -> tuple[str, str]:
    series = [
        svg.Series(first, tuple(float(v) for v in rows[0])),
        svg.Series(second, tuple(float(v) for v in rows[1])),
    ]
    chart = svg.bar_chart(
        labels, series, title=title, desc=f"{first} / {second}", empty_text=empty, decimal=_decimal()
    )
    if svg.is_empty(labels, series):
        return chart, ""  # the chart says there is nothing: a key to nothing would contradict it
    return chart, svg.legend([first, second])


def _automation_empty(current: Figures) -> str:
    """Why the automation chart is empty: no inbound message at all, or none with any of its outcomes."""
    if current.inbound:
        return _("Inbound messages, but none answered automatically, handed to a person or opted out")
    return _("No inbound message in this period")


def _decimal() -> str:
    # The y axis' "12.5k" reads "12,5k" in French.
    return formats.get_format("DECIMAL_SEPARATOR")


def _shares(figures: Figures) -> list[float]:
    parts = (figures.inbound_answered_auto, figures.inbound_escalated, figures.inbound_opted_out)
    return [float(share(part, figures.inbound) or 0) for part in parts]
