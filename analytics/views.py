"""The analytics page under /dashboard/analytics/: a period's figures beside the previous period's, as
headline cards, SVG charts (analytics.svg) and the tables behind them (analytics.csv_export), with one CSV
per section. Owners always; staff when the shop's owner allows it (read-only: no settings form).

Thin: the figures come from `analytics.figures.shop_figures`, what is shown of them from
`analytics.presenting` (headlines, tables) and `analytics.charts`; this module picks the period and the shop.
"""

from __future__ import annotations

import logging
import re
from datetime import date
from urllib.parse import urlencode

from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseBadRequest, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from analytics import weekly
from analytics.csv_export import tables, write_csv
from analytics.figures import Figures, Period, shop_figures
from analytics.forms import AnalyticsSettingsForm, PeriodForm
from analytics.models import AnalyticsSettings, WeeklySummary
from analytics.presenting import page_context
from analytics.tasks import refresh_today
from customers.access import dashboard_view, switch_shop
from customers.models import Membership, Shop
from shopinfo.selectors import shop_zone

logger = logging.getLogger(__name__)

PERIOD_PARAMS = ("period", "start", "end")
LIVE_SECONDS = 60  # how stale today's row may be while someone looks at the page


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
    context.update(page_context(current, previous, form.query()), period_query=form.query())
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
    if form.cleaned_data["weekly_summary"]:
        weekly.subscribe(request.shop, request.user, now=timezone.now())
    else:
        weekly.unsubscribe(request.shop, request.user)
    messages.success(request, _("The analytics settings were saved."))
    return redirect(_page_with(QueryDict(request.POST.get("back", ""))))


def _page_with(query: QueryDict) -> str:
    """The page with the period it was showing (only the period's own parameters travel)."""
    kept = {key: query[key] for key in PERIOD_PARAMS if query.get(key)}
    target = reverse("analytics")
    return f"{target}?{urlencode(kept)}" if kept else target


def _switch_then_show(request):
    """The weekly e-mail's link names its shop: an owner of several lands on that shop's figures (when
    they belong to it; otherwise the param is dropped and the current shop shown)."""
    wanted = request.GET.get("shop", "")
    # ASCII digits only: "²".isdigit() is true and int("²") fails.
    switched = bool(re.fullmatch(r"[0-9]{1,18}", wanted)) and switch_shop(request, int(wanted))
    if not switched:
        messages.warning(
            request,
            _("You are not a member of the shop of that link: these are the figures of %(shop)s.")
            % {"shop": request.shop.name},
        )
    query = request.GET.copy()
    del query["shop"]
    target = reverse("analytics")
    return redirect(f"{target}?{query.urlencode()}" if query else target)


def _both(shop: Shop, period: Period) -> tuple[Figures, Figures]:
    """The period's figures and the previous period's (computed at once by shop_figures)."""
    _refresh_today(shop)
    current = shop_figures(shop, period, now=timezone.now())
    return current, current.previous


def _refresh_today(shop: Shop) -> None:
    """Someone is looking: today's row is recomputed by a task, at most once a minute per shop (the cache
    says when it last was asked); the page does not wait for it but shows the row as it is, at most five
    minutes old (the beat's), and the next view the fresh one."""
    try:
        if cache.add(f"analytics:today-asked:{shop.pk}", True, LIVE_SECONDS):
            # No publish retries: a broker that is down must not hold the page (the beat catches up).
            refresh_today.apply_async((shop.pk,), retry=False)
    except Exception as exc:  # noqa: BLE001 - a cache or broker down: the figures still show, as stored
        logger.warning("analytics: today's row of shop %s not refreshed (%s)", shop.pk, exc)


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
