"""What each provider module reads an e-shop's answers and webhooks into: frozen values that the
services apply without knowing which vendor they came from."""

import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

# Option (attribute) names as shops write them, lower-case without accents. WooCommerce's global
# attributes arrive as their slug too (`pa_taille`), hence the prefix stripped in option_kind.
SIZE_NAMES = {"size", "taille", "talla", "taglia", "grosse", "tamano", "pointure", "maat", "tam"}
COLOR_NAMES = {"color", "colour", "couleur", "colore", "farbe", "kleur", "cor"}


def option_kind(name: str) -> str | None:
    """'size', 'color' or None for an e-shop's option name ("Taille", "Colour", "pa_couleur")."""
    plain = unicodedata.normalize("NFKD", name or "").encode("ascii", "ignore").decode().strip().lower()
    plain = plain.removeprefix("pa_")
    if plain in SIZE_NAMES:
        return "size"
    if plain in COLOR_NAMES:
        return "color"
    return None


def size_and_color(options) -> tuple[str, str]:
    """(size, colour) from (name, value) pairs; other options (material, "Title") are ignored."""
    found = {"size": "", "color": ""}
    for name, value in options:
        kind = option_kind(name)
        if kind and not found[kind]:
            found[kind] = str(value or "").strip()
    return found["size"][:32], found["color"][:50]


@dataclass(frozen=True)
class ExternalVariant:
    external_id: str
    sku: str  # already the generated one when the e-shop has none
    price: Decimal | None  # None: the e-shop gives none, the variant cannot be sold here
    stock: int | None  # None: the e-shop did not say (a webhook without it); the stock known is kept
    active: bool
    size: str = ""
    color: str = ""
    inventory_item_id: str = ""


@dataclass(frozen=True)
class ExternalProduct:
    external_id: str
    title: str
    handle: str  # Shopify's handle, WooCommerce's slug: unique in the e-shop, readable
    active: bool
    category: str = ""
    variants: tuple[ExternalVariant, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class ExternalOrder:
    reference: str
    amount: Decimal  # what the customer pays after refunds
    currency: str
    placed_at: datetime | None
    cancelled: bool
    phones: tuple[str, ...] = ()  # as the e-shop wrote them, best first
    email: str = ""
    first_name: str = ""
    last_name: str = ""


@dataclass(frozen=True)
class StockLevel:
    """A stock change a webhook announces: the variant by its inventory item (Shopify) or id."""

    inventory_item_id: str = ""
    external_id: str = ""
    stock: int | None = None  # None: ask the e-shop (Shopify's level is per location)
