"""Admin for outgoing webhooks: endpoints and deliveries, read-only, owners only and per shop (decided
by the role in each row's own shop, like the CRM connections). The secret is never shown here: owners
read it on the endpoint's page. Actions call the services: enable an endpoint, replay deliveries.
"""

from django.contrib import admin, messages
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from crm_backends.admin import OwnerOnlyRows
from crm_backends.outgoing.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from crm_backends.outgoing.services import deliveries_requeue, endpoint_enable
from crm_backends.transport import shorten
from customers.admin import OWNER, READ, ShopScopedAdmin, pretty_json


class ReadOnlyRows:
    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ReadOnlyRows, OwnerOnlyRows, ShopScopedAdmin):
    role_permissions = {OWNER: READ | {"change"}}  # change: the actions only; every field is read-only
    list_display = ["url", "shop", "event_list", "enabled", "disabled_reason", "consecutive_failures"]
    list_filter = ["enabled"]
    list_select_related = ["shop"]
    fields = [
        "shop", "url", "events", "enabled", "disabled_reason", "disabled_at",
        "consecutive_failures", "failing_since", "created_at",
    ]  # fmt: skip
    readonly_fields = fields
    actions = ["enable"]

    @admin.display(description=_("events"))
    def event_list(self, obj):
        return ", ".join(obj.events)

    @admin.action(
        description=_("Enable the selected endpoints (failure counters reset)"), permissions=["change"]
    )
    def enable(self, request, queryset):
        rows = list(self.rows_where(request, queryset, "change"))
        for endpoint in rows:
            endpoint_enable(endpoint=endpoint, actor=request.user)
        self.message_user(
            request, _("%(count)s endpoint(s) enabled.") % {"count": len(rows)}, messages.SUCCESS
        )


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    fields = ["started_at", "status_code", "error", "duration_ms", "short_response"]
    readonly_fields = fields
    ordering = ["-pk"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("response"))
    def short_response(self, obj):
        return shorten(obj.response_body, 200)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyRows, OwnerOnlyRows, ShopScopedAdmin):
    shop_path = "endpoint__shop"
    role_permissions = {OWNER: READ | {"change"}}
    list_display = [
        "uid",
        "event_type",
        "endpoint",
        "state",
        "attempts",
        "last_status_code",
        "next_attempt_at",
    ]
    list_filter = ["state", "event__type"]
    list_select_related = ["event", "endpoint__shop"]
    fields = [
        "uid", "endpoint", "event_type", "event_uid", "state", "attempts", "last_status_code", "last_error",
        "next_attempt_at", "delivered_at", "created_at", "payload",
    ]  # fmt: skip
    readonly_fields = fields
    inlines = [WebhookAttemptInline]
    actions = ["replay"]

    @admin.display(description=_("type"))
    def event_type(self, obj):
        return obj.event.type

    @admin.display(description=_("event"))
    def event_uid(self, obj):
        return obj.event.uid

    @admin.display(description=_("payload"))
    def payload(self, obj):
        return pretty_json(obj.event.payload)

    @admin.action(description=_("Replay the selected deliveries"), permissions=["change"])
    def replay(self, request, queryset):
        """Queue them again; a worker sends them (nothing is sent from this request)."""
        rows = self.rows_where(request, queryset, "change")
        with transaction.atomic():
            count = deliveries_requeue(WebhookDelivery.objects.filter(pk__in=rows.values("pk")))
        self.message_user(
            request, _("%(count)s delivery(ies) queued again.") % {"count": count}, messages.SUCCESS
        )
