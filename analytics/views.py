"""The analytics page under /dashboard/analytics/: a period's figures beside the previous period's, as
headline cards, SVG charts (analytics.svg) and the tables behind them (analytics.csv_export), with one CSV
per section. Owners always; staff when the shop's owner allows it (read-only: no settings form).

Thin: the figures come from `analytics.figures.shop_figures`, what is shown of them from
`analytics.presenting` (headlines, tables) and `analytics.charts`; this module picks the period and the shop.
"""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from analytics.csv_export import tables, write_csv
from analytics.figures import Figures, Period, shop_figures
from analytics.forms import AnalyticsSettingsForm, PeriodForm
from analytics.models import AnalyticsSettings, WeeklySummary
from analytics.presenting import page_context
from customers.access import dashboard_view, switch_shop
from customers.models import Membership, Shop
from shopinfo.selectors import shop_zone


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
    """The period's figures and the previous period's (computed at once by shop_figures)."""
    current = shop_figures(shop, period, now=timezone.now())
    return current, current.previous


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
    return timezone.localdate(timezone.now(), shop_zone(shop))
