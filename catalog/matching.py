"""Which product and variant a customer's message asks about, in the shop's own words.

Pure Python (no Django, database or network): the caller builds a `Catalogue` from the shop's variants
(catalog.selectors) or from a JSON file (the evaluation, scripts/eval_products.py) and asks
`match_question`. INTERFACE STUB: the matching itself is written next (issue 15, item 3).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

Kind = Literal["variant", "product", "ambiguous", "none", "not_a_stock_question"]


@dataclass(frozen=True)
class Item:
    """One variant as the matcher sees it."""

    sku: str
    product: str  # the product's name, as the shop wrote it
    size: str = ""
    color: str = ""
    price: Decimal = Decimal("0")
    available: int = 0  # stock less active holds
    category: str = ""
    variant_id: int | None = None  # the database row, when built from one
    product_id: int | None = None


@dataclass(frozen=True)
class Catalogue:
    items: tuple[Item, ...]

    def products(self) -> dict[str, tuple[Item, ...]]:
        """Variants by product name, in catalogue order."""
        grouped: dict[str, list[Item]] = {}
        for item in self.items:
            grouped.setdefault(item.product, []).append(item)
        return {name: tuple(items) for name, items in grouped.items()}


@dataclass(frozen=True)
class Match:
    """What the message asks about.

    - variant: `item` is the one variant meant (product, and size and colour where the product has more
      than one).
    - product: one product, but the size or colour it has several of is missing (`ask`: "size" or
      "color"); `items` are that product's variants.
    - ambiguous: several products fit (`items`: one representative variant per product, best first).
    - none: a stock question about something the shop does not sell.
    - not_a_stock_question: the message asks something else (opening hours, an order's delivery...).
    `size` / `color` are what the customer asked for, in the shop's spelling when the shop has it.
    """

    kind: Kind
    item: Item | None = None
    items: tuple[Item, ...] = field(default_factory=tuple)
    ask: str = ""
    size: str = ""
    color: str = ""


def match_question(text: str, catalogue: Catalogue, *, language: str | None = None) -> Match:
    """The product and variant `text` asks about. Never raises on odd input."""
    return Match("not_a_stock_question")
