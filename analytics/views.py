"""The analytics page under /dashboard/analytics/: a period's figures beside the previous period's, as
headline cards, SVG charts (analytics.svg) and the tables behind them (analytics.csv_export), with one CSV
per section. Owners always; staff when the shop's owner allows it (read-only: no settings form).

Thin: the figures come from `analytics.figures.shop_figures`; this module picks the period, compares and
formats.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from analytics import svg
from analytics.csv_export import (
    MONTHLY_AFTER_DAYS,
    Table,
    channel_label,
    message_columns,
    segment_label,
    segment_order,
    share,
    source_order,
    tables,
    write_csv,
)
from analytics.figures import Durations, Figures, Period, shop_figures
from analytics.forms import AnalyticsSettingsForm, PeriodForm
from analytics.models import AnalyticsSettings, WeeklySummary
from customers.access import dashboard_view, switch_shop
from customers.models import Membership, Shop


@require_GET
@dashboard_view
def analytics_page(request):
    if "shop" in request.GET:
        return _switch_then_show(request)
    _check_may_view(request)
    form = PeriodForm(request.GET, today=_today(request.shop))
    context = {"nav": "analytics", "form": form, "settings_form": _settings_form(request)}
    if not form.is_valid():
        return render(request, "analytics/page.html", context, status=400)
    current, previous = _both(request.shop, form.chosen())
    context.update(page_context(current, previous, form.query()))
    return render(request, "analytics/page.html", context)


@require_GET
@dashboard_view
def analytics_csv(request):
    _check_may_view(request)
    form = PeriodForm(request.GET, today=_today(request.shop))
    if not form.is_valid():
        return HttpResponseBadRequest(
            _("This period cannot be read."), content_type="text/plain; charset=utf-8"
        )
    period = form.chosen()
    built = tables(*_both(request.shop, period))
    table = built.get(request.GET.get("section", ""))
    if table is None:
        return HttpResponseBadRequest(
            _("There is no such section."), content_type="text/plain; charset=utf-8"
        )
    response = HttpResponse(write_csv(table), content_type="text/csv; charset=utf-8")
    filename = f"analytics-{table.key}-{period.first:%Y%m%d}-{period.last:%Y%m%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_POST
@dashboard_view(owner_only=True)
def analytics_settings(request):
    form = AnalyticsSettingsForm(request.POST)
    form.is_valid()  # two optional checkboxes: always valid, unchecked means off
    AnalyticsSettings.objects.update_or_create(
        shop=request.shop, defaults={"staff_can_view": form.cleaned_data["staff_can_view"]}
    )
    mine = WeeklySummary.objects.filter(shop=request.shop, user=request.user)
    if form.cleaned_data["weekly_summary"]:
        WeeklySummary.objects.get_or_create(shop=request.shop, user=request.user)
    else:
        mine.delete()
    messages.success(request, _("The analytics settings were saved."))
    return redirect("analytics")


def _switch_then_show(request):
    """The weekly e-mail's link names its shop: an owner of several lands on that shop's figures (when
    they belong to it; otherwise the param is dropped and the current shop shown)."""
    wanted = request.GET.get("shop", "")
    if wanted.isdigit():
        switch_shop(request, int(wanted))
    query = request.GET.copy()
    del query["shop"]
    target = reverse("analytics")
    return redirect(f"{target}?{query.urlencode()}" if query else target)


def _both(shop: Shop, period: Period) -> tuple[Figures, Figures]:
    """The period's figures and the previous period's. shop_figures computes both at once and returns
    the previous one as `.previous`; a Figures without it (an older one) costs a second call."""
    now = timezone.now()
    current = shop_figures(shop, period, now=now)
    previous = getattr(current, "previous", None)
    return current, previous or shop_figures(shop, period.previous(), now=now)


def _check_may_view(request) -> None:
    if request.is_owner:
        return
    allowed = AnalyticsSettings.objects.filter(shop=request.shop, staff_can_view=True).exists()
    if request.role != Membership.Role.STAFF or not allowed:
        raise PermissionDenied("The shop's owner has not shared the analytics.")


def _settings_form(request) -> AnalyticsSettingsForm | None:
    if not request.is_owner:
        return None
    staff = AnalyticsSettings.objects.filter(shop=request.shop, staff_can_view=True).exists()
    weekly = WeeklySummary.objects.filter(shop=request.shop, user=request.user).exists()
    return AnalyticsSettingsForm(initial={"staff_can_view": staff, "weekly_summary": weekly})


def _today(shop: Shop) -> date:
    try:
        zone = ZoneInfo(shop.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = timezone.get_default_timezone()
    return timezone.localdate(timezone.now(), zone)


# --- what the template shows -------------------------------------------------------------------


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
    charts = _charts(current, previous)
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
        return _("A conversation converts when the customer orders within %(days)s days of writing.") % {
            "days": current.conversion_days
        }
    if key == "crm":
        return _("Records sent to the CRM now: pushed, failed (to retry) and waiting.")
    if key == "segments":
        return _("Customers in each segment at the start and at the end of the period.")
    return ""


# --- charts -------------------------------------------------------------------------------------


def _charts(current: Figures, previous: Figures) -> dict[str, tuple[str, str]]:
    """Section key → (SVG, legend HTML)."""
    this, before = _("This period"), _("Previous period")
    charts = {"messages": _messages_chart(current)}
    # Short labels: three of them share 400 units of width under the bars.
    auto_labels = [_("Automatic"), _("To a person"), _("Opted out")]
    auto = [_shares(f) for f in (current, previous)]
    charts["automation"] = _compare(
        auto_labels,
        auto,
        _("Share of inbound messages (%)"),
        _("No inbound message in this period"),
        this,
        before,
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


def _messages_chart(figures: Figures) -> tuple[str, str]:
    columns = message_columns(figures)
    monthly = figures.period.days > MONTHLY_AFTER_DAYS
    labels = [formats.date_format(b.start, "M Y" if monthly else "j M") for b in figures.series]
    series = [
        svg.Series(
            title,
            tuple(float((b.messages_in if d == "in" else b.messages_out).get(c, 0)) for b in figures.series),
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
    )
    return chart, svg.legend([s.name for s in series])


def _compare(labels, rows, title: str, empty: str, first: str, second: str) -> tuple[str, str]:
    series = [
        svg.Series(first, tuple(float(v) for v in rows[0])),
        svg.Series(second, tuple(float(v) for v in rows[1])),
    ]
    chart = svg.bar_chart(labels, series, title=title, desc=f"{first} / {second}", empty_text=empty)
    return chart, svg.legend([first, second])


def _shares(figures: Figures) -> list[float]:
    parts = (figures.inbound_answered_auto, figures.inbound_escalated, figures.inbound_opted_out)
    return [float(share(part, figures.inbound) or 0) for part in parts]
