"""Reads of the catalogue. Whoever needs what can be sold (the API, the admin, the reply engine)
asks here, so that holds change one place."""

from django.db.models import Case, Exists, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce, Greatest

from catalog.matching import Catalogue, Item
from catalog.models import Hold, Product, StockAlert, Variant
from customers.models import Shop


def variants_with_available(queryset: QuerySet[Variant] | None = None) -> QuerySet[Variant]:
    """Variants annotated with `available`: what can still be sold or promised.

    The stock less the units in active holds (never below 0: a count taken in the shop may drop under
    what is held). Only here: every reader of `available` follows."""
    queryset = Variant.objects.all() if queryset is None else queryset
    held = (
        Hold.objects.filter(variant=OuterRef("pk"), state=Hold.State.ACTIVE)
        .order_by()
        .values("variant")
        .annotate(total=Sum("quantity"))
        .values("total")
    )
    held_units = Coalesce(Subquery(held, output_field=IntegerField()), Value(0))
    return queryset.annotate(available=Greatest(F("stock") - held_units, Value(0)))


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


def shop_holds(*, shop: Shop, customer=None) -> QuerySet[Hold]:
    """The shop's holds, active first (soonest to expire first), then the others, latest change first."""
    holds = Hold.objects.filter(shop=shop).select_related("customer", "variant__product", "order")
    if customer is not None:
        holds = holds.filter(customer=customer)
    still_active = Case(When(state=Hold.State.ACTIVE, then=Value(0)), default=Value(1))
    return holds.annotate(rank=still_active).order_by("rank", "expires_at", "-updated_at", "-id")


def shop_catalogue(*, shop: Shop) -> Catalogue:
    """What the reply engine matches questions against: the active variants of the shop's active
    products, with what is available of each (holds subtracted), out of stock ones included (the
    answer then says so and offers the nearest sizes)."""
    variants = (
        shop_variants(shop=shop).filter(active=True, product__active=True).order_by("product__name", "id")
    )
    return Catalogue(tuple(_item(variant) for variant in variants))


def _item(variant: Variant) -> Item:
    return Item(
        sku=variant.sku,
        product=variant.product.name,
        size=variant.size,
        color=variant.color,
        price=variant.price,
        available=variant.available,
        category=variant.product.category,
        variant_id=variant.pk,
        product_id=variant.product_id,
    )


def shop_stock_alerts(*, shop: Shop, customer=None) -> QuerySet[StockAlert]:
    """The shop's customers waiting for a variant to be back, longest waiting first."""
    alerts = StockAlert.objects.filter(shop=shop, state=StockAlert.State.WAITING)
    if customer is not None:
        alerts = alerts.filter(customer=customer)
    return alerts.select_related("customer", "variant__product").order_by("created_at", "id")
