"""Reads of the catalogue. Whoever needs what can be sold (the API, the admin, later the reply engine)
asks here, so that holds change one place when they come."""

from django.db.models import Exists, F, OuterRef, Q, QuerySet

from catalog.models import Product, Variant
from customers.models import Shop


def variants_with_available(queryset: QuerySet[Variant] | None = None) -> QuerySet[Variant]:
    """Variants annotated with `available`: what can still be sold or promised.

    Today it equals `stock`. The holds of issue 15 (a `Hold` model) will subtract their active holds
    here, and only here: every reader of `available` then follows without a change of its own."""
    queryset = Variant.objects.all() if queryset is None else queryset
    return queryset.annotate(available=F("stock"))


def shop_variants(*, shop: Shop) -> QuerySet[Variant]:
    return variants_with_available(Variant.objects.filter(shop=shop)).select_related("product")


def shop_products(
    *,
    shop: Shop,
    search: str = "",
    active: bool | None = None,
    in_stock: bool | None = None,
) -> QuerySet[Product]:
    """The shop's products: `search` in the name or a variant's SKU (case-insensitive), `active`, and
    `in_stock` (some active variant has units available)."""
    products = Product.objects.filter(shop=shop)
    if search:
        sku_match = Variant.objects.filter(product=OuterRef("pk"), sku__icontains=search)
        products = products.filter(Q(name__icontains=search) | Exists(sku_match))
    if active is not None:
        products = products.filter(active=active)
    if in_stock is not None:
        selling = variants_with_available(Variant.objects.filter(product=OuterRef("pk"), active=True))
        has_stock = Exists(selling.filter(available__gt=0))
        products = products.filter(has_stock if in_stock else ~has_stock)
    return products
