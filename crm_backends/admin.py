"""Admin for CRM connections (owners), the sync queue, and each customer's sync state.

Secrets are write-only here: typed into password fields, stored encrypted, shown back masked.
"""

import json

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.utils import timezone
from django.utils.html import format_html

from crm_backends import crypto
from crm_backends.models import CrmConnection, CustomerSync, SyncItem
from crm_backends.registry import backend_for
from crm_backends.services import sync_retry_failed
from customers.admin import OWNER, READ, CustomerAdmin, ScopedInline, ShopScopedAdmin, pretty_json

SECRET_FIELDS = {
    "token": "HubSpot private-app token",
    "client_id": "OAuth client id / Salesforce consumer key",
    "client_secret": "OAuth client secret",
    "refresh_token": "OAuth refresh token",
    "username": "Salesforce username (JWT bearer flow)",
    "private_key": "Salesforce private key, PEM (JWT bearer flow)",
}


def _secret_field(name, label):
    widget = forms.Textarea(attrs={"rows": 3}) if name == "private_key" else forms.PasswordInput()
    return forms.CharField(
        label=label, required=False, widget=widget, help_text="Empty keeps the stored value."
    )


class CrmConnectionForm(forms.ModelForm):
    secret_token = _secret_field("token", SECRET_FIELDS["token"])
    secret_client_id = _secret_field("client_id", SECRET_FIELDS["client_id"])
    secret_client_secret = _secret_field("client_secret", SECRET_FIELDS["client_secret"])
    secret_refresh_token = _secret_field("refresh_token", SECRET_FIELDS["refresh_token"])
    secret_username = _secret_field("username", SECRET_FIELDS["username"])
    secret_private_key = _secret_field("private_key", SECRET_FIELDS["private_key"])
    clear_secrets = forms.BooleanField(required=False, label="Forget all stored credentials")
    options = forms.JSONField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 8, "cols": 80}),
        help_text=(
            "HubSpot: api_base, auth (private_app|oauth), rate_limit, rate_window_seconds, "
            "lead_status_by_segment, lifecycle_by_segment, language_property, tags_property. "
            "Salesforce: login_url, auth (refresh_token|client_credentials|jwt), api_version, "
            "external_id_field, segment_field, language_field, tags_field. See the README."
        ),
    )

    class Meta:
        model = CrmConnection
        fields = ["shop", "backend", "enabled", "options"]

    def save(self, commit=True):
        connection = super().save(commit=False)
        current = {} if self.cleaned_data.get("clear_secrets") else connection.secrets
        typed = {name: self.cleaned_data.get(f"secret_{name}", "").strip() for name in SECRET_FIELDS}
        connection.set_secrets({**current, **{k: v for k, v in typed.items() if v}})
        if any(typed.values()) or self.cleaned_data.get("clear_secrets"):
            connection.token_encrypted, connection.token_expires_at = "", None  # new credentials, new session
        if commit:
            connection.save()
        return connection


@admin.register(CrmConnection)
class CrmConnectionAdmin(ShopScopedAdmin):
    form = CrmConnectionForm
    role_permissions = {OWNER: frozenset({"view", "add", "change", "delete"})}  # staff: nothing
    list_display = ["shop", "backend", "enabled", "last_test_at", "pending", "failed"]
    readonly_fields = ["stored_credentials", "last_test_at", "test_report"]
    actions = ["test_connection"]

    def get_fieldsets(self, request, obj=None):
        secrets = [f"secret_{name}" for name in SECRET_FIELDS] + ["clear_secrets"]
        return [
            (None, {"fields": ["shop", "backend", "enabled", "options"]}),
            ("Credentials (stored encrypted)", {"fields": ["stored_credentials", *secrets]}),
            ("Last connection test", {"fields": ["last_test_at", "test_report"]}),
        ]

    @admin.display(description="Stored credentials")
    def stored_credentials(self, obj):
        try:
            secrets = obj.secrets
        except crypto.SecretsUnreadable as exc:
            return str(exc)
        return ", ".join(f"{k}: {crypto.mask(v)}" for k, v in sorted(secrets.items())) or "none"

    @admin.display(description="Report")
    def test_report(self, obj):
        return pretty_json(json.loads(obj.last_test_report)) if obj.last_test_report else "never tested"

    @admin.display(description="Pending")
    def pending(self, obj):
        return obj.items.filter(state=SyncItem.State.PENDING).count()

    @admin.display(description="Failed")
    def failed(self, obj):
        return obj.items.filter(state=SyncItem.State.FAILED).count()

    @admin.action(description="Test connection")
    def test_connection(self, request, queryset):
        for connection in queryset:
            checks = _run_checks(connection)
            connection.last_test_at = timezone.now()
            connection.last_test_report = json.dumps([c.__dict__ for c in checks])
            connection.save(update_fields=["last_test_at", "last_test_report"])
            summary = "; ".join(f"{'✓' if c.ok else '✗'} {c.name}: {c.detail}" for c in checks)
            level = messages.SUCCESS if all(c.ok for c in checks) else messages.ERROR
            self.message_user(request, f"{connection}: {summary}", level)


def _run_checks(connection):
    from crm_backends.base import Check, CrmError

    try:
        return backend_for(connection).test_connection()
    except (CrmError, crypto.SecretsUnreadable) as exc:
        return [Check("configuration", False, str(exc))]


@admin.register(SyncItem)
class SyncItemAdmin(ShopScopedAdmin):
    shop_path = "connection__shop"
    role_permissions = {OWNER: READ | {"change"}}
    list_display = [
        "kind",
        "customer",
        "interaction_id",
        "state",
        "attempts",
        "next_attempt_at",
        "short_error",
    ]
    list_filter = ["state", "kind"]
    list_select_related = ["customer", "connection__shop"]
    readonly_fields = [f.name for f in SyncItem._meta.fields]
    actions = ["retry"]

    def has_add_permission(self, request):
        return False

    @admin.display(description="Last error")
    def short_error(self, obj):
        return obj.last_error[:120]

    @admin.action(description="Retry selected failed items now")
    def retry(self, request, queryset):
        count = 0
        for connection_id in set(queryset.values_list("connection_id", flat=True)):
            connection = CrmConnection.objects.get(pk=connection_id)
            customers = queryset.filter(connection_id=connection_id).values_list("customer_id", flat=True)
            with transaction.atomic():
                count += sync_retry_failed(connection, customer_ids=set(customers))
        self.message_user(request, f"{count} item(s) queued again.", messages.SUCCESS)


class CustomerSyncInline(ScopedInline, admin.TabularInline):
    """On the customer page: pushed when, to which CRM, under which id, or why not."""

    model = CustomerSync
    extra = 0
    can_delete = False
    fields = ["crm", "status", "synced_at", "external_link", "last_error"]
    readonly_fields = fields
    verbose_name_plural = "CRM sync"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="CRM")
    def crm(self, obj):
        return obj.connection.get_backend_display()

    @admin.display(description="External id")
    def external_link(self, obj):
        url = _external_url(obj)
        if not url:
            return obj.external_id
        return format_html('<a href="{}" rel="noopener" target="_blank">{}</a>', url, obj.external_id)


def _external_url(sync: CustomerSync) -> str:
    try:
        return backend_for(sync.connection).external_url(sync.external_id)
    except Exception:  # noqa: BLE001 - a link is a convenience; a misconfigured backend must not break the page
        return ""


# The customer page lives in `customers`, which must not know about CRMs: the inline is added from here.
@admin.action(description="Retry the CRM sync of selected customers")
def retry_crm_sync(modeladmin, request, queryset):
    count = 0
    for connection in CrmConnection.objects.filter(shop__in=queryset.values("shop")):
        ids = set(queryset.filter(shop=connection.shop).values_list("pk", flat=True))
        count += sync_retry_failed(connection, customer_ids=ids)
    modeladmin.message_user(request, f"{count} failed push(es) queued again.", messages.SUCCESS)


CustomerAdmin.inlines = [*CustomerAdmin.inlines, CustomerSyncInline]
CustomerAdmin.actions = [*CustomerAdmin.actions, retry_crm_sync]
