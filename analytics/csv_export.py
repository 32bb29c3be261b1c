"""The numbers behind the analytics page, as tables: one per section, shown under its chart and exported
as CSV by `/dashboard/analytics/export.csv?section=<key>&period=…` (one file per section, so each opens
as a plain sheet; the page links each section's own file).

Cells are raw values (ints, Decimals, seconds as floats, None for "not known"): the page formats them for
people, the CSV writes them as they are (decimal point, seconds) so that a spreadsheet can compute with
them. Column titles are in the shop's language, like the page. Every cell goes through
`customers.csv_io.neutralize`, as the customer export does, so that a label starting with = + - @ is
never run as a formula.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext as _

from analytics.figures import DAILY_SERIES_UP_TO, Figures
from customers.csv_io import neutralize
from customers.models import Channel, Customer

Cell = str | int | float | Decimal | None
KNOWN_CHANNELS = ("sms", "whatsapp")
MONTHLY_AFTER_DAYS = DAILY_SERIES_UP_TO  # the figures' series switch from days to months past this


@dataclass(frozen=True)
class Table:
    key: str
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]


def tables(current: Figures, previous: Figures) -> dict[str, Table]:
    """The page's sections in their order; holds, CRM and segment movements only when known."""
    built = [
        messages_table(current),
        automation_table(current, previous),
        response_table(current, previous),
        customers_table(current, previous),
        segments_table(current),
        revenue_table(current, previous),
        conversion_table(current, previous),
        holds_table(current, previous),
        crm_table(current),
    ]
    return {table.key: table for table in built if table is not None}


def write_csv(table: Table) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([neutralize(c) for c in table.columns])
    for row in table.rows:
        writer.writerow([_raw(cell) for cell in row])
    return out.getvalue()


def share(part: int, whole: int) -> Decimal | None:
    """A percentage with one decimal; None when there is nothing to divide by."""
    if whole <= 0:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def channels_of(figures: Figures) -> list[str]:
    """SMS and WhatsApp first (always shown), then any other channel that carried messages."""
    seen = set(figures.messages_in) | set(figures.messages_out)
    for bucket in figures.series:
        seen |= set(bucket.messages_in) | set(bucket.messages_out)
    return list(KNOWN_CHANNELS) + sorted(seen - set(KNOWN_CHANNELS))


def channel_label(channel: str) -> str:
    try:
        return str(Channel(channel).label)
    except ValueError:
        pass
    # Customer.source has a few values that are not channels (free text, "import", "api"…).
    named = {"other": _("Other"), "import": _("Import"), "api": _("API"), "": _("Unknown")}
    return str(named.get(channel, channel))


def segment_label(segment: str) -> str:
    try:
        return str(Customer.Segment(segment).label)
    except ValueError:
        return segment


def message_columns(figures: Figures) -> list[tuple[str, str, str]]:
    """(direction, channel, column title) of the messages' series, inbound first."""
    names = {"in": _("%(channel)s in"), "out": _("%(channel)s out")}
    return [
        (direction, channel, names[direction] % {"channel": channel_label(channel)})
        for direction in ("in", "out")
        for channel in channels_of(figures)
    ]


def messages_table(figures: Figures) -> Table:
    columns = message_columns(figures)
    rows = []
    for bucket in figures.series:
        counts = {"in": bucket.messages_in, "out": bucket.messages_out}
        rows.append((bucket.start.isoformat(), *(counts[d].get(c, 0) for d, c, _title in columns)))
    monthly = figures.period.days > MONTHLY_AFTER_DAYS
    title = _("Messages per month") if monthly else _("Messages per day")
    first = _("Month") if monthly else _("Date")
    return Table("messages", title, (first, *(t for *_dc, t in columns)), tuple(rows))


def automation_table(current: Figures, previous: Figures) -> Table:
    def counts(f: Figures) -> list[int]:
        return [f.inbound_answered_auto, f.inbound_escalated, f.inbound_opted_out]

    labels = [_("Answered automatically"), _("Escalated to a person"), _("Opted out")]
    rows = [(_("Inbound messages"), current.inbound, None, previous.inbound, None)]
    for label, now, before in zip(labels, counts(current), counts(previous), strict=True):
        rows.append((label, now, share(now, current.inbound), before, share(before, previous.inbound)))
    columns = (_("Inbound"), _("This period"), _("Share (%)"), _("Previous period"), _("Previous share (%)"))
    return Table("automation", _("Automation"), columns, tuple(rows))


def response_table(current: Figures, previous: Figures) -> Table:
    """One row per kind of answer and period: four rows of three numbers stay readable on a phone."""
    rows = []
    for label, now, before in (
        (_("Automatic"), current.first_answer_auto, previous.first_answer_auto),
        (_("By a person"), current.first_answer_human, previous.first_answer_human),
    ):
        rows.append((label, now.count, now.median, now.p90))
        earlier = _("%(kind)s, previous period") % {"kind": label}
        rows.append((earlier, before.count, before.median, before.p90))
    columns = (_("First answer"), _("Answers"), _("Median (seconds)"), _("90th percentile (seconds)"))
    return Table("response", _("Response time"), columns, tuple(rows))


def customers_table(current: Figures, previous: Figures) -> Table:
    sources = sorted(set(current.new_customers) | set(previous.new_customers), key=source_order)
    rows: list[tuple[Cell, ...]] = [
        (
            _("New customers from %(channel)s") % {"channel": channel_label(source)},
            current.new_customers.get(source, 0),
            previous.new_customers.get(source, 0),
        )
        for source in sources
    ]
    rows.append(
        (_("New customers"), sum(current.new_customers.values()), sum(previous.new_customers.values()))
    )
    # Counted per day (one customer writing on three days is three): the daily rows keep no customer ids.
    rows.append(
        (
            _("Conversations with returning customers"),
            current.returning_customers,
            previous.returning_customers,
        )
    )
    return Table(
        "customers", _("Customers"), (_("Customers"), _("This period"), _("Previous period")), tuple(rows)
    )


def segments_table(figures: Figures) -> Table | None:
    """Customers per segment at the period's start and end; None when either is unknown."""
    if figures.segments_start is None or figures.segments_end is None:
        return None
    names = segment_order(set(figures.segments_start) | set(figures.segments_end))
    rows = []
    for name in names:
        start, end = figures.segments_start.get(name, 0), figures.segments_end.get(name, 0)
        rows.append((segment_label(name), start, end, end - start))
    columns = (_("Segment"), _("At the start"), _("At the end"), _("Change"))
    return Table("segments", _("Segment movements"), columns, tuple(rows))


def revenue_table(current: Figures, previous: Figures) -> Table:
    rows = []
    for name in segment_order(set(current.orders) | set(previous.orders)):
        count, amount = current.orders.get(name, (0, Decimal(0)))
        before_count, before_amount = previous.orders.get(name, (0, Decimal(0)))
        rows.append((segment_label(name), count, Decimal(amount), before_count, Decimal(before_amount)))
    columns = (_("Segment"), _("Orders"), _("Revenue"), _("Previous orders"), _("Previous revenue"))
    return Table("revenue", _("Revenue and orders by segment"), columns, tuple(rows))


def conversion_table(current: Figures, previous: Figures) -> Table:
    rows = (
        (_("Conversations"), current.conversations, previous.conversations),
        (
            _("Followed by an order within %(days)s days") % {"days": current.conversion_days},
            current.conversions,
            previous.conversions,
        ),
        (
            _("Conversion (%)"),
            share(current.conversions, current.conversations),
            share(previous.conversions, previous.conversations),
        ),
    )
    return Table(
        "conversion", _("Conversion"), (_("Conversations"), _("This period"), _("Previous period")), rows
    )


def holds_table(current: Figures, previous: Figures) -> Table | None:
    if current.holds is None:
        return None
    before = previous.holds or (0, 0, 0)
    labels = (_("Holds made"), _("Holds converted to an order"), _("Holds expired"))
    rows = tuple((label, now, then) for label, now, then in zip(labels, current.holds, before, strict=True))
    return Table("holds", _("Holds"), (_("Holds"), _("This period"), _("Previous period")), rows)


def crm_table(figures: Figures) -> Table | None:
    if figures.crm is None:
        return None
    labels = (("pushed", _("Pushed")), ("failed", _("Failed")), ("pending", _("Pending")))
    rows = tuple((label, figures.crm.get(key, 0)) for key, label in labels)
    return Table("crm", _("CRM sync"), (_("CRM sync"), _("Records")), rows)


def _raw(cell: Cell) -> str:
    # Only texts are neutralised: a number is never a formula, and a quote before -3 (a segment that
    # shrank) would turn it into text.
    if cell is None:
        return ""
    if isinstance(cell, str):
        return neutralize(cell)
    if isinstance(cell, float):
        return f"{cell:.1f}"
    return str(cell)


def source_order(channel: str) -> tuple[int, str]:
    """Sort key: SMS, WhatsApp, then other sources by name."""
    return (
        (KNOWN_CHANNELS.index(channel), "") if channel in KNOWN_CHANNELS else (len(KNOWN_CHANNELS), channel)
    )


def segment_order(names: Iterable[str]) -> list[str]:
    """The model's order (prospect, active, VIP, inactive), then any unknown name."""
    known = [value for value in Customer.Segment.values if value in names]
    return known + sorted(set(names) - set(known))
