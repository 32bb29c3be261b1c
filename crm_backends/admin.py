"""Admin for CRM connections and the sync queue (owners only, decided by the role in each row's own
shop), and each customer's sync state (owners and staff).

Secrets are write-only here: typed into password fields, stored encrypted, shown back masked.
Nothing here pushes to a CRM: retries write outbox rows and a worker does the rest.
"""

import json

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from crm_backends import crypto
from crm_backends.models import CrmConnection, CustomerSync, SyncItem
from crm_backends.selectors import contact_link
from crm_backends.services import connection_test, sync_retry_failed
from crm_backends.transport import shorten
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
            "lead_status_by_segment, lifecycle_by_segment, language_property, tags_property, "
            "id_property (coccinelle_id; filled in by Coccinelle: portal_id, ui_domain, "
            "id_property_ready). "
            "Salesforce: login_url, auth (refresh_token|client_credentials|jwt), api_version, "
            "external_id_field, segment_field, language_field, tags_field. Both: on_erase "
            "(delete|anonymise: what a GDPR erasure does to the contact). api_base and login_url "
            "must be https on the vendor's hosts (or a host in CRM_ALLOWED_HOSTS). See the README."
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


class OwnerOnlyRows:
    """Rows of the shops where the user's role *in that shop* allows viewing them.

    ShopScopedAdmin lists the rows of every shop the user belongs to; here a member who is an owner
    elsewhere but staff in this row's shop must not see it, nor select it for an action (Django runs
    actions on this queryset)."""

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(**{f"{self.shop_path}__in": self.shops_where(request, "view")})

    def rows_where(self, request, queryset, perm):
        """The selected rows this user may `perm` (actions check again: defence in depth)."""
        if request.user.is_superuser:
            return queryset
        return queryset.filter(**{f"{self.shop_path}__in": self.shops_where(request, perm)})


@admin.register(CrmConnection)
class CrmConnectionAdmin(OwnerOnlyRows, ShopScopedAdmin):
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

    @admin.action(description="Test connection", permissions=["change"])
    def test_connection(self, request, queryset):
        for connection in self.rows_where(request, queryset, "change"):
            checks = connection_test(connection)
            summary = "; ".join(f"{'✓' if c.ok else '✗'} {c.name}: {c.detail}" for c in checks)
            level = messages.SUCCESS if all(c.ok for c in checks) else messages.ERROR
            self.message_user(request, f"{connection}: {summary}", level)


@admin.register(SyncItem)
class SyncItemAdmin(OwnerOnlyRows, ShopScopedAdmin):
    shop_path = "connection__shop"
    role_permissions = {OWNER: READ | {"change"}}
    list_display = [
        "kind",
        "customer",
        "interaction_id",
        "external_id",
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
        return shorten(obj.last_error, 120)

    @admin.action(description="Retry selected failed items", permissions=["change"])
    def retry(self, request, queryset):
        """Queue them again; a worker pushes them (nothing is sent from this request)."""
        queryset = self.rows_where(request, queryset, "change")
        count = 0
        for connection_id in set(queryset.values_list("connection_id", flat=True)):
            connection = CrmConnection.objects.get(pk=connection_id)
            items = queryset.filter(connection_id=connection_id).values_list("pk", flat=True)
            with transaction.atomic():
                count += sync_retry_failed(connection, item_ids=set(items))
        self.message_user(request, f"{count} item(s) queued again.", messages.SUCCESS)


class CustomerSyncInline(ScopedInline, admin.TabularInline):
    """On the customer page: pushed when, to which CRM, under which id, or why not."""

    model = CustomerSync
    extra = 0
    can_delete = False
    fields = ["crm", "status", "synced_at", "external_link", "short_error"]
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
        url = contact_link(obj)  # https on the CRM's own hosts, or no link at all
        if not url:
            return obj.external_id
        return format_html(
            '<a href="{}" rel="noopener noreferrer" target="_blank">{}</a>', url, obj.external_id
        )

    @admin.display(description="Last error")
    def short_error(self, obj):
        return shorten(obj.last_error, 300)


# The customer page lives in `customers`, which must not know about CRMs: the inline is added from here.
# Owners and staff may retry their customers' pushes (the queryset is the customers they may see); it
# only queues them again.
@admin.action(description=_("Retry the CRM sync of selected customers"))
def retry_crm_sync(modeladmin, request, queryset):
    count = 0
    for connection in CrmConnection.objects.filter(shop__in=queryset.values("shop")):
        ids = set(queryset.filter(shop=connection.shop).values_list("pk", flat=True))
        count += sync_retry_failed(connection, customer_ids=ids)
    modeladmin.message_user(request, f"{count} failed push(es) queued again.", messages.SUCCESS)


CustomerAdmin.inlines = [*CustomerAdmin.inlines, CustomerSyncInline]
CustomerAdmin.actions = [*CustomerAdmin.actions, retry_crm_sync]

# Outgoing webhooks' admin lives beside their code; imported here so that the admin site registers it.
from crm_backends.outgoing import admin as outgoing_admin  # noqa: E402, F401
