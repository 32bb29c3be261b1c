"""check_stock: the LLM reply engine's look at the catalogue (registered in CatalogConfig.ready()).

The model passes the customer's words; the question matcher (catalog.matching, the same one the
offline engine uses) picks the variants, and the model reads their `available` figure (stock less
active holds, catalog.selectors): never `stock`, which holds may have promised to someone else.
Only the shop the reply is for is read.
"""

from __future__ import annotations

from catalog.matching import Item, Match, match_question
from catalog.selectors import shop_catalogue
from webhooks.llm_tools import ToolError, register_tool

NAME = "check_stock"
# Enough for a product's sizes; an answer longer than that would not fit in an SMS anyway.
MAX_VARIANTS = 10
_MAX_ARGUMENT_CHARS = 100

DESCRIPTION = (
    "Look up what the shop can sell right now. Call it before saying anything about availability, "
    "sizes in stock or quantities. Returns the matching variants (sku, product, size, color, price, "
    "available = units that can be sold now), or found=false with the reason."
)
SCHEMA = {
    "type": "object",
    "properties": {
        "product": {"type": "string", "description": "The product, in the customer's own words"},
        "size": {"type": "string", "description": "The size asked for, if any"},
        "color": {"type": "string", "description": "The colour asked for, if any"},
    },
    "required": ["product"],
    "additionalProperties": False,
}

_NOT_FOUND = {
    "none": "the shop does not sell this",
    "not_a_stock_question": "no product of the shop matches these words",
}


def check_stock(shop, arguments: dict) -> dict:
    product, size, color = (_word(arguments, key) for key in ("product", "size", "color"))
    if not product:
        raise ToolError("product is required: the product in the customer's words")
    question = " ".join(part for part in (product, color, size) if part)
    return _result(match_question(question, shop_catalogue(shop=shop)))


def _word(arguments: dict, key: str) -> str:
    value = arguments.get(key)
    return " ".join(value.split())[:_MAX_ARGUMENT_CHARS] if isinstance(value, str) else ""


def _result(match: Match) -> dict:
    if match.kind in _NOT_FOUND:
        return {"found": False, "reason": _NOT_FOUND[match.kind]}
    items = (match.item,) if match.kind == "variant" and match.item else match.items
    if not items:
        return {"found": False, "reason": _NOT_FOUND["not_a_stock_question"]}
    result = {"found": True, "match": match.kind, "variants": [_variant(i) for i in items[:MAX_VARIANTS]]}
    if len(items) > MAX_VARIANTS:
        result["more_variants"] = len(items) - MAX_VARIANTS
    if match.kind == "product" and match.ask:
        result["ask_customer"] = match.ask  # the size or colour the customer has not said
    if match.kind == "ambiguous":
        result["note"] = "several products fit: ask the customer which one"
    return result


def _variant(item: Item) -> dict:
    return {
        "sku": item.sku,
        "product": item.product,
        "size": item.size,
        "color": item.color,
        "price": str(item.price),
        "available": item.available,
    }


def register() -> None:
    register_tool(NAME, DESCRIPTION, SCHEMA, check_stock, looks_up_stock=True)
