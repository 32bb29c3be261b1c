"""The owners' page for what automatic replies tell customers: weekly hours, holidays and exceptional
openings, facts, signature. Thin: forms parse, shopinfo.services changes things. Owners only, like the
shop settings it is linked from."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from customers.access import dashboard_view
from shopinfo.forms import HoursExceptionForm, ShopInfoForm, exception_ranges_text
from shopinfo.models import HoursException
from shopinfo.selectors import shop_profile, shop_zone
from shopinfo.services import hours_exception_add, hours_exception_delete, profile_save


@require_http_methods(["GET", "POST"])
@dashboard_view(owner_only=True)
def shop_info_page(request):
    form = ShopInfoForm(request.POST or None, shop=request.shop, profile=shop_profile(request.shop))
    if request.method == "POST" and form.is_valid():
        profile_save(
            shop=request.shop,
            weekly=form.weekly(),
            hours_note=form.cleaned_data["hours_note"],
            signature=form.cleaned_data["signature"],
            map_url=form.cleaned_data["map_url"],
            facts=form.facts(),
            translations=form.translations(),
        )
        messages.success(request, _("Hours and facts saved."))
        return redirect("shop-info")
    return _render(request, form, HoursExceptionForm())


@require_POST
@dashboard_view(owner_only=True)
def exception_add(request):
    exception_form = HoursExceptionForm(request.POST, shop=request.shop)
    if exception_form.is_valid():
        data = exception_form.cleaned_data
        hours_exception_add(
            shop=request.shop,
            first_day=data["first_day"],
            last_day=data["last_day"],
            ranges=data["ranges"],
            label=data["label"],
        )
        messages.success(request, _("Exception added."))
        return redirect("shop-info")
    form = ShopInfoForm(shop=request.shop, profile=shop_profile(request.shop))
    return _render(request, form, exception_form)


@require_POST
@dashboard_view(owner_only=True)
def exception_remove(request, exception_id):
    if not hours_exception_delete(shop=request.shop, exception_id=exception_id):
        raise Http404("No such exception in this shop.")
    messages.success(request, _("Exception deleted."))
    return redirect("shop-info")


def _render(request, form, exception_form):
    today = timezone.localdate(timezone=shop_zone(request.shop))
    exceptions = HoursException.objects.filter(shop=request.shop, last_day__gte=today)
    rows = [(exception, exception_ranges_text(exception)) for exception in exceptions[:100]]
    status = 400 if form.errors or exception_form.errors else 200
    return render(
        request,
        "shopinfo/shop_info.html",
        {"form": form, "exception_form": exception_form, "exceptions": rows},
        status=status,
    )
