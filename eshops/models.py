"""A shop's e-shop connections (Shopify, WooCommerce), what the sync matched, and the webhooks received.

catalog.Variant carries one external id; what else the sync must remember of an e-shop (Shopify's
inventory item id, which catalogue product an e-shop product became) lives in eshops' own link tables,
so that catalog does not learn each vendor's ids.
"""

import secrets

from django.db import models
from django.utils.translation import gettext_lazy as _

from crm_backends import crypto
from customers.models import Shop

DEFAULT_SHOPIFY_API_VERSION = "2026-10"


def _webhook_token() -> str:
    return secrets.token_urlsafe(24)


class EshopConnection(models.Model):
    """One shop, one e-shop. Credentials live encrypted in `secrets_encrypted` (Shopify: access_token,
    webhook_secret; WooCommerce: consumer_key, consumer_secret, webhook_secret)."""

    class Provider(models.TextChoices):
        SHOPIFY = "shopify", "Shopify"
        WOOCOMMERCE = "woocommerce", "WooCommerce"

    shop = models.ForeignKey(
        Shop, on_delete=models.CASCADE, related_name="eshop_connections", verbose_name=_("shop")
    )
    provider = models.CharField(_("e-shop platform"), max_length=16, choices=Provider.choices)
    enabled = models.BooleanField(_("enabled"), default=True)
    shopify_domain = models.CharField(
        _("Shopify domain"),
        max_length=255,
        blank=True,
        help_text=_("The store's xxx.myshopify.com domain (Shopify)."),
    )
    api_version = models.CharField(
        _("Shopify API version"), max_length=10, blank=True, default=DEFAULT_SHOPIFY_API_VERSION
    )
    site_url = models.CharField(
        _("site address"),
        max_length=200,
        blank=True,
        help_text=_("The WordPress site's https:// address (WooCommerce)."),
    )
    secrets_encrypted = models.TextField(blank=True, editable=False)
    # The webhook URL's last part: unguessable, so a URL names one connection and nothing else.
    webhook_token = models.CharField(max_length=64, unique=True, default=_webhook_token, editable=False)
    last_sync_at = models.DateTimeField(_("last sync"), null=True, blank=True, editable=False)
    last_sync_report = models.TextField(blank=True, editable=False)
    # Orders changed since then are read at the next full sync (set only when reading them succeeded).
    orders_synced_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("e-shop connection")
        verbose_name_plural = _("e-shop connections")
        constraints = [models.UniqueConstraint(fields=["shop", "provider"], name="eshop_one_per_provider")]

    def __str__(self):
        return f"{self.shop} ← {self.get_provider_display()}"

    def clean(self):
        from eshops.transport import connection_errors

        self.shopify_domain = (self.shopify_domain or "").strip().lower()
        self.site_url = (self.site_url or "").strip()

        errors = connection_errors(self)
        if errors:
            from django.core.exceptions import ValidationError

            raise ValidationError(errors)

    @property
    def secrets(self) -> dict:
        return crypto.decrypt(self.secrets_encrypted)

    def set_secrets(self, values: dict) -> None:
        self.secrets_encrypted = crypto.encrypt({k: v for k, v in values.items() if v})


class ProductLink(models.Model):
    """Which catalogue product an e-shop product became (its title may have needed a suffix)."""

    connection = models.ForeignKey(EshopConnection, on_delete=models.CASCADE, related_name="product_links")
    external_id = models.CharField(max_length=100)
    product = models.ForeignKey("catalog.Product", on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["connection", "external_id"], name="eshop_product_link_unique")
        ]

    def __str__(self):
        return f"{self.external_id} → {self.product_id}"


class VariantLink(models.Model):
    """An e-shop variant and its catalogue variant; Shopify's inventory item id, which its
    `inventory_levels/update` webhook names instead of the variant."""

    connection = models.ForeignKey(EshopConnection, on_delete=models.CASCADE, related_name="variant_links")
    external_id = models.CharField(max_length=100)
    inventory_item_id = models.CharField(max_length=100, blank=True)
    variant = models.ForeignKey("catalog.Variant", on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["connection", "external_id"], name="eshop_variant_link_unique")
        ]
        indexes = [models.Index(fields=["connection", "inventory_item_id"], name="eshop_inventory_item_idx")]

    def __str__(self):
        return f"{self.external_id} → {self.variant_id}"


class EshopEvent(models.Model):
    """A verified webhook as received: stored in one INSERT (unique per connection and delivery id, so a
    vendor's retry is a no-op), then processed by a task; the outcome stays visible in the admin."""

    class State(models.TextChoices):
        PENDING = "pending", _("pending")
        PROCESSED = "processed", _("processed")
        IGNORED = "ignored", _("ignored")
        FAILED = "failed", _("failed")

    connection = models.ForeignKey(
        EshopConnection, on_delete=models.CASCADE, related_name="events", verbose_name=_("e-shop connection")
    )
    topic = models.CharField(_("topic"), max_length=64)
    delivery_id = models.CharField(_("delivery id"), max_length=100)
    payload = models.TextField(_("content"))  # the raw body, as signed
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.PENDING)
    error = models.TextField(_("error"), blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)
    processed_at = models.DateTimeField(_("processed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("e-shop event")
        verbose_name_plural = _("e-shop events")
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["connection", "delivery_id"], name="eshop_event_delivery_unique")
        ]

    def __str__(self):
        return f"{self.topic} {self.delivery_id}"
