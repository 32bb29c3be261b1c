"""Admin for e-shop connections (owners of the row's shop only) and the webhooks received (read-only).

Secrets are write-only: typed into password fields, stored encrypted, shown back as "set" only.
"Sync now" queues a task; nothing talks to the e-shop from the request.
"""

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from crm_backends import crypto
from customers.admin import OWNER, READ, ShopScopedAdmin
from eshops.models import EshopConnection, EshopEvent
from eshops.services import events_retry
from eshops.tasks import sync_connection

SECRET_FIELDS = {
    "access_token": "Shopify Admin API access token",
    "consumer_key": "WooCommerce consumer key",
    "consumer_secret": "WooCommerce consumer secret",
    "webhook_secret": "Webhook secret (Shopify: the app's client secret; WooCommerce: the webhook's secret)",
}


def _secret_field(label):
    return forms.CharField(
        label=label, required=False, widget=forms.PasswordInput(), help_text="Empty keeps the stored value."
    )


class EshopConnectionForm(forms.ModelForm):
    secret_access_token = _secret_field(SECRET_FIELDS["access_token"])
    secret_consumer_key = _secret_field(SECRET_FIELDS["consumer_key"])
    secret_consumer_secret = _secret_field(SECRET_FIELDS["consumer_secret"])
    secret_webhook_secret = _secret_field(SECRET_FIELDS["webhook_secret"])
    clear_secrets = forms.BooleanField(required=False, label="Forget all stored credentials")

    class Meta:
        model = EshopConnection
        fields = ["shop", "provider", "enabled", "shopify_domain", "api_version", "site_url"]

    def save(self, commit=True):
        connection = super().save(commit=False)
        current = {} if self.cleaned_data.get("clear_secrets") else connection.secrets
        typed = {name: self.cleaned_data.get(f"secret_{name}", "").strip() for name in SECRET_FIELDS}
        connection.set_secrets({**current, **{k: v for k, v in typed.items() if v}})
        if commit:
            connection.save()
        return connection


@admin.register(EshopConnection)
class EshopConnectionAdmin(ShopScopedAdmin):
    form = EshopConnectionForm
    role_permissions = {OWNER: frozenset({"view", "add", "change", "delete"})}  # staff: nothing
    list_display = ["shop", "provider", "enabled", "last_sync_at", "last_sync"]
    list_select_related = ["shop"]
    readonly_fields = ["stored_credentials", "webhook_url", "last_sync_at", "last_sync"]
    actions = ["sync_now"]

    def get_fieldsets(self, request, obj=None):
        secrets = [f"secret_{name}" for name in SECRET_FIELDS] + ["clear_secrets"]
        return [
            (None, {"fields": ["shop", "provider", "enabled", "shopify_domain", "api_version", "site_url"]}),
            ("Credentials (stored encrypted)", {"fields": ["stored_credentials", *secrets]}),
            ("Webhooks and sync", {"fields": ["webhook_url", "last_sync_at", "last_sync"]}),
        ]

    @admin.display(description=_("Stored credentials"))
    def stored_credentials(self, obj):
        try:
            stored = obj.secrets
        except crypto.SecretsUnreadable as exc:
            return str(exc)
        return ", ".join(f"{name}: set" for name in SECRET_FIELDS if stored.get(name)) or "none"

    @admin.display(description=_("Webhook URL"))
    def webhook_url(self, obj):
        if not obj.pk:
            return "shown once saved"
        return reverse("eshops:webhook", args=[obj.provider, obj.webhook_token])

    @admin.display(description=_("Last sync"))
    def last_sync(self, obj):
        return obj.last_sync_report or "never"

    @admin.action(description=_("Sync now"), permissions=["change"])
    def sync_now(self, request, queryset):
        rows = (
            queryset
            if request.user.is_superuser
            else queryset.filter(shop__in=self.shops_where(request, "change"))
        )
        ids = list(rows.filter(enabled=True).values_list("pk", flat=True))
        for pk in ids:
            transaction.on_commit(lambda pk=pk: sync_connection.delay(pk), robust=True)
        self.message_user(request, f"{len(ids)} sync(s) queued.", messages.SUCCESS)


@admin.register(EshopEvent)
class EshopEventAdmin(ShopScopedAdmin):
    shop_path = "connection__shop"
    role_permissions = {OWNER: READ | {"change"}}
    list_display = ["received_at", "connection", "topic", "state", "attempts", "error"]
    list_filter = ["state", "topic"]
    list_select_related = ["connection__shop"]
    readonly_fields = [f.name for f in EshopEvent._meta.fields]
    actions = ["process_again"]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Process again"), permissions=["change"])
    def process_again(self, request, queryset):
        """Queue them again; a worker applies them (nothing is applied from this request)."""
        rows = (
            queryset
            if request.user.is_superuser
            else queryset.filter(connection__shop__in=self.shops_where(request, "change"))
        )
        count = events_retry(rows)
        self.message_user(request, f"{count} event(s) queued again.", messages.SUCCESS)
