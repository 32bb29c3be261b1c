"""The shop's catalogue: products and their variants (the unit that has a SKU, a price and a stock).

A variant carries its shop as well as its product: the per-shop SKU and external-id constraints need it
in the same row, and every tenant filter (API, admin, reply engine) reads it without a join.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

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
        details = " ".join(part for part in (self.color, self.size) if part)
        return f"{self.sku} {details}".strip()
