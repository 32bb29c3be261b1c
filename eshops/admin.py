"""Admin for e-shop connections (owners of the row's shop only) and the webhooks received (read-only).

Secrets are write-only: typed into password fields, stored encrypted, shown back as "set" only.
"Sync now" queues a task; nothing talks to the e-shop from the request.
"""

from contextvars import ContextVar

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db import transaction
from django.templatetags.static import static
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from crm_backends import crypto
from customers.admin import OWNER, READ, ShopScopedAdmin
from eshops.models import EshopConnection, EshopEvent
from eshops.services import events_retry
from eshops.status import sync_details, sync_status
from eshops.tasks import sync_connection

SECRET_FIELDS = {
    "access_token": _("Shopify Admin API access token"),
    "consumer_key": _("WooCommerce consumer key"),
    "consumer_secret": _("WooCommerce consumer secret"),
    "webhook_secret": _(
        "Webhook secret (Shopify: the app's client secret; WooCommerce: the webhook's secret)"
    ),
}
# How "Stored credentials" names each secret (short: they are listed on one line).
SECRET_NAMES = {
    "access_token": _("access token"),
    "consumer_key": _("consumer key"),
    "consumer_secret": _("consumer secret"),
    "webhook_secret": _("webhook secret"),
}
# The request of the change page being rendered: a read-only field has only the row, and the absolute
# webhook URL needs the host the owner came to. A ContextVar, because one ModelAdmin serves all threads.
_current_request = ContextVar("eshops_admin_request", default=None)


def _secret_field(label):
    return forms.CharField(
        label=label,
        required=False,
        widget=forms.PasswordInput(),
        help_text=_("Leave empty to keep the stored value."),
    )


class EshopConnectionForm(forms.ModelForm):
    secret_access_token = _secret_field(SECRET_FIELDS["access_token"])
    secret_consumer_key = _secret_field(SECRET_FIELDS["consumer_key"])
    secret_consumer_secret = _secret_field(SECRET_FIELDS["consumer_secret"])
    secret_webhook_secret = _secret_field(SECRET_FIELDS["webhook_secret"])
    clear_secrets = forms.BooleanField(required=False, label=_("Forget all stored credentials"))

    class Meta:
        model = EshopConnection
        fields = ["shop", "provider", "enabled", "shopify_domain", "api_version", "site_url"]

    def full_clean(self):
        """A refused form comes back with its password fields empty (secrets are never written back into
        the page): say so, or the owner saves the corrected form believing the secrets were kept."""
        super().full_clean()
        typed = any(self.data.get(self.add_prefix(f"secret_{name}"), "").strip() for name in SECRET_FIELDS)
        if self._errors and typed:
            self.add_error(None, _("The secrets you typed were not kept: type them again before saving."))

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
    list_display = ["shop", "provider", "enabled", "last_sync"]
    list_select_related = ["shop"]
    readonly_fields = ["stored_credentials", "webhook_url", "last_sync_details"]
    actions = ["sync_now"]

    class Media:
        # The webhook URL's Copy button: static files, no inline script or style (fine under the CSP).
        js = ["dashboard/copy.js"]
        css = {"all": ["eshops/admin.css"]}

    def get_fieldsets(self, request, obj=None):
        secrets = [f"secret_{name}" for name in SECRET_FIELDS] + ["clear_secrets"]
        return [
            (None, {"fields": ["shop", "provider", "enabled", "shopify_domain", "api_version", "site_url"]}),
            (_("Credentials (stored encrypted)"), {"fields": ["stored_credentials", *secrets]}),
            (_("Webhooks and sync"), {"fields": ["webhook_url", "last_sync_details"]}),
        ]

    def changeform_view(self, request, *args, **kwargs):
        token = _current_request.set(request)
        try:
            response = super().changeform_view(request, *args, **kwargs)
            if hasattr(response, "render"):  # a TemplateResponse renders later, after the reset below
                response.render()
            return response
        finally:
            _current_request.reset(token)

    def get_actions(self, request):
        # Django's French "Supprimer les %(verbose_name_plural)s sélectionnés" is masculine only; a
        # connexion is feminine, and "connexion" is the word the owner knows (like "Connexions CRM").
        actions = super().get_actions(request)
        if "delete_selected" in actions:
            func, name, _description = actions["delete_selected"]
            actions["delete_selected"] = (func, name, _("Delete selected e-shop connections"))
        return actions

    @admin.display(description=_("Stored credentials"))
    def stored_credentials(self, obj):
        try:
            stored = obj.secrets
        except crypto.SecretsUnreadable:
            return gettext("cannot be read with the current encryption keys: type them again")
        names = [SECRET_NAMES[name] for name in SECRET_FIELDS if stored.get(name)]
        if not names:
            return gettext("none")
        return gettext("%(names)s: stored") % {"names": ", ".join(str(n) for n in names)}

    @admin.display(description=_("Webhook URL"))
    def webhook_url(self, obj):
        if not obj.pk:
            return gettext("shown once saved")
        url = absolute_url(reverse("eshops:webhook", args=[obj.provider, obj.webhook_token]))
        return format_html(
            '<input id="eshop-webhook-url" type="text" readonly value="{}"> '
            '<button type="button" class="button" data-copy="eshop-webhook-url" data-copied="{}">{}</button>',
            url,
            gettext("Copied"),
            gettext("Copy"),
        )

    @admin.display(description=_("Last sync"), ordering="last_sync_at")
    def last_sync(self, obj):
        succeeded, text = sync_status(obj)
        if succeeded is None:
            return text
        icon = static("admin/img/icon-yes.svg" if succeeded else "admin/img/icon-no.svg")
        alt = gettext("Succeeded") if succeeded else gettext("Failed")
        when = formats.date_format(timezone.localtime(obj.last_sync_at), "SHORT_DATETIME_FORMAT")
        return format_html('<img src="{}" alt="{}"> {} — {}', icon, alt, when, text)

    @admin.display(description=_("Last sync"))
    def last_sync_details(self, obj):
        head = self.last_sync(obj)
        details = format_html_join("", "<br>{}", ((line,) for line in sync_details(obj)))
        return format_html("{}{}", head, details) if obj.last_sync_at else head

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
        message = ngettext(
            "%(count)d sync queued: refresh this page in a minute to see its result.",
            "%(count)d syncs queued: refresh this page in a minute to see their results.",
            len(ids),
        )
        self.message_user(request, message % {"count": len(ids)}, messages.SUCCESS)


def absolute_url(path: str) -> str:
    """What to paste into Shopify or WooCommerce: the public address when PUBLIC_BASE_URL says it (the
    admin may be reached through another host), else the host of the page being shown."""
    if settings.PUBLIC_BASE_URL:
        return settings.PUBLIC_BASE_URL.rstrip("/") + path
    request = _current_request.get()
    return request.build_absolute_uri(path) if request is not None else path


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
        message = ngettext("%(count)d event queued again.", "%(count)d events queued again.", count)
        self.message_user(request, message % {"count": count}, messages.SUCCESS)
