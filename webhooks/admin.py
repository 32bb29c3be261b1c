"""Inbound events in the admin: what each webhook brought and what became of it, with *Reprocess*.

Owners see their shops' events (the payload holds their customers' messages, which staff read on the
timeline anyway, so staff may look too); reprocessing is the owners'. Events whose receiving address
belongs to no shop have no shop: superusers only.
"""

from django.contrib import admin, messages

from customers.admin import OWNER, READ, STAFF, ShopScopedAdmin, pretty_json
from webhooks.inbound_events import events_reprocess
from webhooks.models import InboundEvent


@admin.register(InboundEvent)
class InboundEventAdmin(ShopScopedAdmin):
    role_permissions = {OWNER: frozenset({"view", "change"}), STAFF: READ}
    superuser_permissions = frozenset({"view", "change", "delete"})
    list_display = [
        "received_at",
        "provider",
        "kind",
        "event_key",
        "state",
        "attempts",
        "short_error",
        "customer",
    ]
    list_filter = ["state", "provider", "kind"]
    list_select_related = ["customer", "shop"]
    search_fields = ["event_key", "sender"]
    date_hierarchy = "received_at"
    actions = ["reprocess"]
    fields = [
        "shop",
        "provider",
        "kind",
        "event_key",
        "shop_address",
        "sender",
        "received_at",
        "state",
        "attempts",
        "next_attempt_at",
        "error",
        "processed_at",
        "customer",
        "payload_pretty",
    ]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False  # events come from providers only

    def has_change_permission(self, request, obj=None):
        # Nothing on the page is editable; "change" is what Reprocess needs.
        return obj is None and super().has_change_permission(request)

    @admin.display(description="error")
    def short_error(self, obj):
        return obj.error if len(obj.error) <= 80 else obj.error[:79] + "…"

    @admin.display(description="payload (as received)")
    def payload_pretty(self, obj):
        return pretty_json(obj.payload)

    @admin.action(description="Reprocess the selected events", permissions=["change"])
    def reprocess(self, request, queryset):
        count = events_reprocess(queryset)
        self.message_user(
            request,
            f"{count} event(s) queued again; a message already recorded is not recorded twice.",
            messages.SUCCESS,
        )
