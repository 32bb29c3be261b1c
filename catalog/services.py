"""Writes to the catalogue: the admin, the import, the API and the demo all call these.

Upserts are idempotent by the database's unique constraints (a product's name, a variant's SKU, per
shop): the same call twice leaves one row and saves nothing the second time; two at the same instant
both try to insert, one wins, the other reads the winner's row and updates it.
"""

from django.db import IntegrityError, transaction

from catalog.models import Product, Variant
from customers.models import Shop

PRODUCT_FIELDS = ("category", "description", "active")
VARIANT_FIELDS = ("product", "size", "color", "price", "stock", "active", "external_source", "external_id")


def product_upsert(*, shop: Shop, name: str, fields: dict | None = None) -> tuple[Product, bool]:
    """The shop's product `name`, created with `fields` or updated to them; (product, created)."""
    fields = _only(fields or {}, PRODUCT_FIELDS, "product_upsert")
    return _upsert(Product, lookup={"shop": shop, "name": name}, fields=fields)


def variant_upsert_by_sku(*, shop: Shop, sku: str, fields: dict) -> tuple[Variant, bool]:
    """The shop's variant `sku`, created with `fields` (a `product` and a `price` at least) or updated to
    them; (variant, created). A product of another shop is refused."""
    fields = _only(fields, VARIANT_FIELDS, "variant_upsert_by_sku")
    product = fields.get("product")
    if product is not None and product.shop_id != shop.pk:
        raise ValueError("variant_upsert_by_sku: the product belongs to another shop")
    return _upsert(Variant, lookup={"shop": shop, "sku": sku}, fields=fields)


def product_update(*, product: Product, fields: dict) -> Product:
    """Change a product's name, category, description or active flag (saved only if one changed). A name
    another product of the shop has raises IntegrityError (its unique constraint)."""
    _apply(product, _only(fields, ("name", *PRODUCT_FIELDS), "product_update"))
    return product


def variant_update(*, variant: Variant, fields: dict) -> Variant:
    """Change some of a variant's fields (saved only if one changed)."""
    _apply(variant, _only(fields, VARIANT_FIELDS, "variant_update"))
    return variant


def stock_set(*, variant: Variant, stock: int) -> Variant:
    """Set what the shop holds of `variant` (a count taken in the shop, an e-shop's inventory level)."""
    if stock < 0:
        raise ValueError("stock_set: a stock cannot be negative")
    if variant.stock != stock:
        variant.stock = stock
        variant.save(update_fields=["stock", "updated_at"])
    return variant


def product_delete(*, product: Product) -> None:
    """Delete a product with its variants."""
    product.delete()


def _only(fields: dict, allowed: tuple[str, ...], caller: str) -> dict:
    unknown = set(fields) - set(allowed)
    if unknown:
        raise ValueError(f"{caller} cannot set {sorted(unknown)}")
    return fields


def _upsert(model, *, lookup: dict, fields: dict):
    with transaction.atomic():
        row = model.objects.select_for_update().filter(**lookup).first()
        if row is None:
            try:
                with transaction.atomic():  # a savepoint: the loser of a race carries on below
                    return model.objects.create(**lookup, **fields), True
            except IntegrityError:
                row = model.objects.select_for_update().filter(**lookup).first()
                if row is None:  # another constraint (an external id already taken): the caller's
                    raise
        _apply(row, fields)
    return row, False


def _apply(row, fields: dict) -> None:
    changed = [name for name, value in fields.items() if getattr(row, name) != value]
    if changed:
        for name in changed:
            setattr(row, name, fields[name])
        row.save(update_fields=[*changed, "updated_at"])
