"""What the analytics page and the weekly e-mail show: the headline cards (a figure, the previous
period's, the change, formatted in the active language), the sections with their tables and notes."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.utils import formats
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from analytics.charts import charts as section_charts
from analytics.csv_export import Table, share, tables
from analytics.figures import Durations, Figures


@dataclass(frozen=True)
class Headline:
    key: str
    label: str
    value: str
    previous: str
    change: str


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    chart: str  # SVG markup, already escaped by analytics.svg
    legend: str
    note: str
    columns: tuple[str, ...]
    rows: list[list[tuple[str, str]]]
    csv_query: str


def page_context(current: Figures, previous: Figures, query: str) -> dict:
    built = tables(current, previous)
    charts = section_charts(current, previous)
    sections = [
        Section(
            key=key,
            title=table.title,
            chart=mark_safe(charts[key][0]) if key in charts else "",  # noqa: S308 (escaped by analytics.svg)
            legend=mark_safe(charts[key][1]) if key in charts else "",  # noqa: S308
            note=_note(key, current),
            columns=table.columns,
            rows=display_rows(table),
            csv_query=f"section={key}&{query}",
        )
        for key, table in built.items()
    ]
    return {
        "current": current,
        "previous": previous,
        "headlines": headlines(current, previous),
        "sections": sections,
    }


def headlines(current: Figures, previous: Figures) -> list[Headline]:
    def count(key: str, label: str, now: int, before: int) -> Headline:
        return Headline(key, label, _int(now), _int(before), change_count(now, before))

    def percent(key: str, label: str, now: Decimal | None, before: Decimal | None) -> Headline:
        return Headline(key, label, _percent(now), _percent(before), change_points(now, before))

    def waited(key: str, label: str, now: Durations, before: Durations) -> Headline:
        return Headline(
            key,
            label,
            duration(now.median),
            duration(before.median),
            change_duration(now.median, before.median),
        )

    return [
        count("in", _("Messages received"), current.inbound, previous.inbound),
        count(
            "out", _("Messages sent"), sum(current.messages_out.values()), sum(previous.messages_out.values())
        ),
        percent(
            "auto",
            _("Answered automatically"),
            share(current.inbound_answered_auto, current.inbound),
            share(previous.inbound_answered_auto, previous.inbound),
        ),
        waited(
            "wait-auto",
            _("First answer, automatic (median)"),
            current.first_answer_auto,
            previous.first_answer_auto,
        ),
        waited(
            "wait-human",
            _("First answer by a person (median)"),
            current.first_answer_human,
            previous.first_answer_human,
        ),
        count(
            "new",
            _("New customers"),
            sum(current.new_customers.values()),
            sum(previous.new_customers.values()),
        ),
        Headline(
            "revenue",
            _("Revenue"),
            _money(_revenue(current)),
            _money(_revenue(previous)),
            change_money(_revenue(current), _revenue(previous)),
        ),
        percent(
            "conversion",
            _("Conversations followed by an order"),
            share(current.conversions, current.conversations),
            share(previous.conversions, previous.conversations),
        ),
    ]


def change_count(now: int, before: int) -> str:
    """'+5 (+25 %)', '−3', 'no change'; no percentage when there was nothing before."""
    if now == before:
        return _("no change")
    text = _signed(_int(abs(now - before)), now > before)
    if before:
        percent = (Decimal(now - before) * 100 / before).quantize(Decimal("1"))
        text += f" ({_signed(_int(abs(percent)), percent > 0)} %)"
    return text


def change_points(now: Decimal | None, before: Decimal | None) -> str:
    if now is None or before is None:
        return "—"
    if now == before:
        return _("no change")
    return _("%(points)s points") % {
        "points": _signed(formats.number_format(abs(now - before), 1), now > before)
    }


def change_duration(now: float | None, before: float | None) -> str:
    if now is None or before is None:
        return "—"
    if round(now) == round(before):
        return _("no change")
    return _signed(duration(abs(now - before)), now > before)


def change_money(now: Decimal, before: Decimal) -> str:
    if now == before:
        return _("no change")
    return _signed(_money(abs(now - before)), now > before)


def duration(seconds: float | None) -> str:
    """'45 s', '3 min 5 s', '2 h 10 min', '1 d 4 h'; '—' when nobody was answered."""
    if seconds is None:
        return "—"
    total = round(seconds)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return _("%(days)s d %(hours)s h") % {"days": days, "hours": hours}
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    return f"{secs} s"


def display_rows(table: Table) -> list[list[tuple[str, str]]]:
    """Each row's cells formatted for people, with their column's title (a phone shows it beside the
    value: its tables become one card per row)."""
    return [
        [(column, _cell(cell)) for column, cell in zip(table.columns, row, strict=True)] for row in table.rows
    ]


def _cell(cell) -> str:
    if cell is None:
        return "—"
    if isinstance(cell, str):
        return str(cell)
    if isinstance(cell, int):
        return _int(cell)
    if isinstance(cell, float):
        return formats.number_format(cell, 1, use_l10n=True, force_grouping=True)
    return formats.number_format(cell, use_l10n=True, force_grouping=True)


def _signed(text: str, up: bool) -> str:
    return ("+" if up else "−") + text


def _int(value: int) -> str:
    return formats.number_format(value, use_l10n=True, force_grouping=True)


def _percent(value: Decimal | None) -> str:
    return "—" if value is None else f"{formats.number_format(value, 1, use_l10n=True)} %"


def _money(value: Decimal) -> str:
    return formats.number_format(value, 2, use_l10n=True, force_grouping=True)


def _revenue(figures: Figures) -> Decimal:
    return sum((Decimal(amount) for _count, amount in figures.orders.values()), Decimal(0))


def _note(key: str, current: Figures) -> str:
    if key == "response":
        if current.business_hours:
            return _("Times count opening hours only: the time while the shop is closed is left out.")
        return _("Times count every hour, day and night: the shop has no structured opening hours.")
    if key == "conversion":
        note = _("A conversation converts when the customer orders within %(days)s days of writing.") % {
            "days": current.conversion_days
        }
        if current.conversion_open_days:
            note += " " + ngettext(
                "The last day of the period is left out until its %(days)s days have passed.",
                "The last %(open)s days of the period are left out until their %(days)s days have passed.",
                current.conversion_open_days,
            ) % {"open": current.conversion_open_days, "days": current.conversion_days}
        return note
    if key == "crm":
        return _("Records sent to the CRM now: pushed, failed (to retry) and waiting.")
    if key == "customers":
        return _(
            "A conversation is a customer's messages on one day; it is a returning customer's when they "
            "had written on an earlier day."
        )
    if key == "segments":
        note = _("Customers in each segment at the start and at the end of the period.")
        if current.segments_since:
            note += " " + _("Segments are recorded daily since %(day)s: the start is that day's.") % {
                "day": formats.date_format(current.segments_since, "DATE_FORMAT")
            }
        return note
    return ""
