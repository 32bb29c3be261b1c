"""Holidays and exceptional hours, and the facts, in the admin; scoped per shop like the rest
(customers/admin/base.py). Owners change them, staff read them, as on the settings page. The weekly
hours are edited on the Hours and facts page, where each day is typed and read back."""

from django import forms
from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from customers.admin.base import ALL, OWNER, STAFF, ShopScopedAdmin
from shopinfo.forms import RangesField, check_exception_days, exception_ranges_text
from shopinfo.hours_parse import format_ranges_input
from shopinfo.models import HoursException, ShopProfile
from shopinfo.selectors import ranges_to_json, weekly_from_json

_OWNERS_CHANGE = {OWNER: ALL, STAFF: frozenset({"view"})}


class HoursExceptionAdminForm(forms.ModelForm):
    hours = RangesField(label=_("Hours"), help_text=_("e.g. 10:00-17:00; empty: closed all day."))

    class Meta:
        model = HoursException
        fields = ["shop", "first_day", "last_day", "hours", "label"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["hours"] = exception_ranges_text(self.instance)

    def clean(self):
        cleaned = super().clean()
        first, last, shop = cleaned.get("first_day"), cleaned.get("last_day"), cleaned.get("shop")
        if first and last:
            if shop is None and self.instance.shop_id:
                shop = self.instance.shop  # read-only on change: the row's own shop
            check_exception_days(self, first, last, shop, exclude_pk=self.instance.pk)
        return cleaned

    def save(self, commit=True):
        self.instance.ranges = ranges_to_json(self.cleaned_data["hours"])
        return super().save(commit)


@admin.register(HoursException)
class HoursExceptionAdmin(ShopScopedAdmin):
    form = HoursExceptionAdminForm
    role_permissions = _OWNERS_CHANGE
    list_display = ["label_or_days", "shop", "first_day", "last_day", "hours"]
    list_filter = ["first_day"]
    list_select_related = ["shop"]
    date_hierarchy = "first_day"

    @admin.display(description=_("exception"))
    def label_or_days(self, obj):
        return str(obj)

    @admin.display(description=_("hours"))
    def hours(self, obj):
        return exception_ranges_text(obj) or _("Closed")


@admin.register(ShopProfile)
class ShopProfileAdmin(ShopScopedAdmin):
    role_permissions = _OWNERS_CHANGE
    list_display = ["shop", "signature", "updated_at"]
    list_select_related = ["shop"]
    fields = ["shop", "week", "signature", "map_url", "delivery", "payment", "services", "returns", "parking"]
    readonly_fields = ["week"]
    text_limits = dict.fromkeys(["delivery", "payment", "services", "returns", "parking"], 600)

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, "shop"] if obj is not None else fields

    @admin.display(description=_("weekly hours"))
    def week(self, obj):
        weekly = weekly_from_json(obj.weekly_hours)
        days = [format_ranges_input(ranges) or "—" for ranges in weekly] if weekly else []
        # No link: the dashboard page edits the shop of the session, which may be another one.
        return format_html(
            "{} ({})", " · ".join(days) or "—", _("edited on that shop's Hours and facts page")
        )
