"""The Holds pages under /dashboard/holds/ (owners and staff): the list, and the buttons that extend,
convert and release a hold (the last two ask first). Thin: catalog.holds changes, selectors read; every
id is looked up in the current shop, so another shop's hold is a 404."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from catalog.holds import HoldRefused, hold_convert, hold_extend, hold_release
from catalog.models import Hold
from catalog.selectors import shop_holds, shop_stock_alerts
from customers.access import dashboard_view

EXTEND_HOURS = 24
PAGE_SIZE = 200  # a boutique's active holds fit; the oldest ended ones drop off the end


@require_http_methods(["GET"])
@dashboard_view
def holds_page(request):
    holds = list(shop_holds(shop=request.shop)[:PAGE_SIZE])
    # Who waits for what: what the owner may want to reorder, and who will be told when it is back.
    waiting = list(shop_stock_alerts(shop=request.shop)[:PAGE_SIZE])
    return render(request, "catalog/holds.html", {"holds": holds, "waiting": waiting, "nav": "holds"})


@require_POST
@dashboard_view
def hold_extend_view(request, hold_id):
    hold = _hold(request, hold_id)
    if _done(request, hold_extend, hold=hold, hours=EXTEND_HOURS):
        messages.success(request, _("The hold was extended by 24 hours."))
    return _back(request)


@require_http_methods(["GET", "POST"])
@dashboard_view
def hold_release_view(request, hold_id):
    """GET asks; POST releases (its units are available to others again)."""
    return _confirmed(request, hold_id, hold_release, _("The hold was released."), "release")


@require_http_methods(["GET", "POST"])
@dashboard_view
def hold_convert_view(request, hold_id):
    """GET asks; POST makes the order and takes the units out of the stock."""
    return _confirmed(request, hold_id, hold_convert, _("The hold became an order."), "convert")


def _confirmed(request, hold_id, service, done_message, kind):
    hold = _hold(request, hold_id)
    if request.method == "GET":
        context = {"hold": hold, "kind": kind, "next": _next(request), "nav": "holds"}
        return render(request, "catalog/hold_confirm.html", context)
    if _done(request, service, hold=hold, actor=request.user):
        messages.success(request, done_message)
    return _back(request)


def _hold(request, hold_id) -> Hold:
    return get_object_or_404(
        Hold.objects.select_related("customer", "variant__product"), pk=hold_id, shop=request.shop
    )


def _done(request, service, **kwargs) -> bool:
    try:
        service(**kwargs)
    except HoldRefused as refused:
        messages.error(request, str(refused))
        return False
    return True


def _next(request) -> str:
    # Back to where the button was (the list or the customer's page), never to another site.
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return ""


def _back(request):
    return redirect(_next(request) or "holds")
