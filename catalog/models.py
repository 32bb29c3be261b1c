"""The shop's catalogue: products and their variants (the unit that has a SKU, a price and a stock).

A variant carries its shop as well as its product: the per-shop SKU and external-id constraints need it
in the same row, and every tenant filter (API, admin, reply engine) reads it without a join.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from customers.models import Shop


class Product(models.Model):
    shop = models.ForeignKey(Shop, verbose_name=_("shop"), on_delete=models.CASCADE, related_name="products")
    name = models.CharField(verbose_name=_("name"), max_length=200)
    category = models.CharField(verbose_name=_("category"), max_length=100, blank=True)
    description = models.TextField(verbose_name=_("description"), blank=True)
    active = models.BooleanField(verbose_name=_("active"), default=True)
    created_at = models.DateTimeField(verbose_name=_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(verbose_name=_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["name", "id"]
        # The import groups its rows by name into products: a name names one product of the shop.
        constraints = [models.UniqueConstraint(fields=["shop", "name"], name="product_name_unique_per_shop")]

    def __str__(self):
        return self.name


class Variant(models.Model):
    class Source(models.TextChoices):
        SHOPIFY = "shopify", "Shopify"
        WOOCOMMERCE = "woocommerce", "WooCommerce"

    shop = models.ForeignKey(Shop, verbose_name=_("shop"), on_delete=models.CASCADE, related_name="variants")
    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.CASCADE, related_name="variants"
    )
    sku = models.CharField(verbose_name=_("SKU"), max_length=64)
    size = models.CharField(verbose_name=_("size"), max_length=32, blank=True)
    color = models.CharField(verbose_name=_("colour"), max_length=50, blank=True)
    price = models.DecimalField(verbose_name=_("price"), max_digits=10, decimal_places=2)
    stock = models.PositiveIntegerField(verbose_name=_("stock"), default=0)
    active = models.BooleanField(verbose_name=_("active"), default=True)
    # Where the e-shop sync (issue 15, item 2) found it; blank for a variant made here.
    external_source = models.CharField(
        verbose_name=_("external source"), max_length=20, choices=Source.choices, blank=True
    )
    external_id = models.CharField(verbose_name=_("external id"), max_length=100, blank=True)
    created_at = models.DateTimeField(verbose_name=_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(verbose_name=_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("variant")
        verbose_name_plural = _("variants")
        ordering = ["product_id", "size", "color", "id"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "sku"], name="variant_sku_unique_per_shop"),
            # Only when set: variants made here all have blank ids.
            models.UniqueConstraint(
                fields=["shop", "external_source", "external_id"],
                condition=~Q(external_id=""),
                name="variant_external_id_unique_per_shop",
            ),
            models.CheckConstraint(condition=Q(price__gte=0), name="variant_price_not_negative"),
        ]

    def __str__(self):
        # What a person recognises first (the product), then what tells the variant apart, then the SKU.
        parts = [self.product.name, self.size, self.color]
        return f"{' · '.join(part for part in parts if part)} ({self.sku})"


class CatalogSettings(models.Model):
    """The catalogue's own settings of a shop. customers.Shop is the CRM's and must not learn about
    catalogues; a shop without a row takes the defaults (HOLD_HOURS_DEFAULT)."""

    HOLD_HOURS_DEFAULT = 24

    shop = models.OneToOneField(
        Shop, verbose_name=_("shop"), on_delete=models.CASCADE, related_name="catalog_settings"
    )
    hold_hours = models.PositiveSmallIntegerField(
        verbose_name=_("hold duration (hours)"),
        default=HOLD_HOURS_DEFAULT,
        help_text=_("How long a variant stays set aside for a customer."),
    )

    class Meta:
        verbose_name = _("catalogue settings")
        verbose_name_plural = _("catalogue settings")
        constraints = [models.CheckConstraint(condition=Q(hold_hours__gte=1), name="hold_hours_at_least_one")]

    def __str__(self):
        return str(self.shop)


class Hold(models.Model):
    """Units of a variant set aside for a customer until `expires_at`. Active holds are subtracted from
    the variant's stock in `available` (catalog.selectors); only catalog.holds changes them."""

    class State(models.TextChoices):
        ACTIVE = "active", _("active")
        RELEASED = "released", _("released")
        EXPIRED = "expired", _("expired")
        CONVERTED = "converted", _("converted")

    shop = models.ForeignKey(Shop, verbose_name=_("shop"), on_delete=models.CASCADE, related_name="holds")
    variant = models.ForeignKey(
        Variant, verbose_name=_("variant"), on_delete=models.CASCADE, related_name="holds"
    )
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.CASCADE, related_name="holds"
    )
    quantity = models.PositiveIntegerField(verbose_name=_("quantity"), default=1)
    state = models.CharField(
        verbose_name=_("state"), max_length=10, choices=State.choices, default=State.ACTIVE
    )
    expires_at = models.DateTimeField(verbose_name=_("expires"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reminder_sent_at = models.DateTimeField(verbose_name=_("reminder sent"), null=True, blank=True)
    order = models.ForeignKey(
        "customers.Order",
        verbose_name=_("order"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(verbose_name=_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(verbose_name=_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("hold")
        verbose_name_plural = _("holds")
        ordering = ["expires_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="hold_quantity_positive"),
            # One active hold per customer and variant: holding again extends it (catalog.holds).
            models.UniqueConstraint(
                fields=["customer", "variant"],
                condition=Q(state="active"),
                name="hold_one_active_per_customer",
            ),
        ]
        indexes = [models.Index(fields=["state", "expires_at"], name="hold_due_idx")]

    def __str__(self):
        return f"{self.variant} × {self.quantity} ({self.get_state_display()})"


class StockAlert(models.Model):
    """A customer waiting for a variant to be back: they asked for it when it was out and said yes to
    being told. One message goes out when it is available again (catalog.alerts), then the alert is
    done; an alert nobody could send within ALERT_DAYS lapses."""

    class State(models.TextChoices):
        WAITING = "waiting", _("waiting")
        SENT = "sent", pgettext_lazy("stock alert state", "sent")
        CANCELLED = "cancelled", _("cancelled")
        LAPSED = "lapsed", _("lapsed")

    shop = models.ForeignKey(
        Shop, verbose_name=_("shop"), on_delete=models.CASCADE, related_name="stock_alerts"
    )
    variant = models.ForeignKey(
        Variant, verbose_name=_("variant"), on_delete=models.CASCADE, related_name="stock_alerts"
    )
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="stock_alerts",
    )
    state = models.CharField(
        verbose_name=_("state"), max_length=10, choices=State.choices, default=State.WAITING
    )
    created_at = models.DateTimeField(verbose_name=_("asked"), auto_now_add=True)
    sent_at = models.DateTimeField(verbose_name=_("sent"), null=True, blank=True)
    # When the message could not go out yet (no channel open, replies off): such alerts go to the back
    # of the queue, so that they never hold up the others (catalog.alerts).
    tried_at = models.DateTimeField(verbose_name=_("last tried"), null=True, blank=True)
    message = models.ForeignKey(
        "customers.Interaction",
        verbose_name=_("message"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("back-in-stock alert")
        verbose_name_plural = _("back-in-stock alerts")
        ordering = ["-created_at", "-id"]
        constraints = [
            # Asking twice is one wait: one message when it is back.
            models.UniqueConstraint(
                fields=["customer", "variant"],
                condition=Q(state="waiting"),
                name="stock_alert_one_waiting_per_customer",
            ),
        ]
        indexes = [models.Index(fields=["state", "variant"], name="stock_alert_waiting_idx")]

    def __str__(self):
        return f"{self.variant} → {self.customer_id} ({self.get_state_display()})"
