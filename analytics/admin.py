"""The analytics' rows in the admin, scoped per shop like the rest (customers/admin/base.py): the daily
rows read-only (they are computed: `rebuild_stats` rewrites them), the staff setting changed by owners
(as on the page), the weekly e-mail's subscribers seen and removed by owners."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from analytics.models import AnalyticsSettings, DailyStats, WeeklySummary
from customers.admin.base import ALL, OWNER, STAFF, ShopScopedAdmin, pretty_json

VIEW = frozenset({"view"})


@admin.register(DailyStats)
class DailyStatsAdmin(ShopScopedAdmin):
    role_permissions = {OWNER: VIEW}
    superuser_permissions = VIEW
    list_display = [
        "day",
        "shop",
        "received",
        "inbound_answered_auto",
        "inbound_escalated",
        "inbound_opted_out",
    ]
    list_filter = ["day"]
    list_select_related = ["shop"]
    date_hierarchy = "day"
    ordering = ["-day"]
    exclude = ["messages_in", "messages_out", "waits_auto", "waits_human", "segments", "orders"]
    readonly_fields = ["messages_in_shown", "messages_out_shown", "segments_shown", "orders_shown"]

    @admin.display(description=_("messages received"))
    def received(self, obj):
        return sum(obj.messages_in.values())

    @admin.display(description=_("messages received"))
    def messages_in_shown(self, obj):
        return pretty_json(obj.messages_in)

    @admin.display(description=_("messages sent"))
    def messages_out_shown(self, obj):
        return pretty_json(obj.messages_out)

    @admin.display(description=_("segments"))
    def segments_shown(self, obj):
        return pretty_json(obj.segments)

    @admin.display(description=_("orders by segment"))
    def orders_shown(self, obj):
        return pretty_json(obj.orders)


@admin.register(AnalyticsSettings)
class AnalyticsSettingsAdmin(ShopScopedAdmin):
    role_permissions = {OWNER: ALL, STAFF: VIEW}
    list_display = ["shop", "staff_can_view"]
    list_select_related = ["shop"]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, "shop"] if obj is not None else fields


@admin.register(WeeklySummary)
class WeeklySummaryAdmin(ShopScopedAdmin):
    role_permissions = {OWNER: frozenset({"view", "delete"})}
    superuser_permissions = frozenset({"view", "delete"})
    list_display = ["user", "shop", "last_sent_for"]
    list_select_related = ["shop", "user"]
    readonly_fields = ["shop", "user", "last_sent_for"]
