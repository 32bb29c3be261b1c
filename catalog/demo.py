"""The demo boutique's catalogue, added when seed_demo tells that its shop exists
(customers.events.DEMO_SHOP_SEEDED; see apps.py).

demo_catalogue.json is a copy of tests/data/catalogue-demo.json, the catalogue the product-question
evaluation (issue 15) is written against: the demo answers what the evaluation measures. It is copied
rather than read from tests/, which a deployed image need not carry."""

import json
from decimal import Decimal
from pathlib import Path

from django.db import transaction

from catalog.models import Product
from catalog.services import product_upsert, variant_upsert_by_sku
from customers.models import Shop

DEMO_CATALOGUE = Path(__file__).with_name("demo_catalogue.json")


def demo_catalogue_seed(*, shop_id: int) -> int:
    """Give the shop the demo catalogue, unless it has products already (seed_demo runs at every start:
    the owner's own changes to stock and prices stay). Return how many products were added."""
    shop = Shop.objects.get(pk=shop_id)
    if Product.objects.filter(shop=shop).exists():
        return 0
    data = json.loads(DEMO_CATALOGUE.read_text(encoding="utf-8"))
    with transaction.atomic():
        for item in data:
            product, _ = product_upsert(
                shop=shop,
                name=item["name"],
                fields={"category": item.get("category", ""), "description": item.get("description", "")},
            )
            for variant in item["variants"]:
                fields = {key: variant[key] for key in ("size", "color") if key in variant}
                fields.update(product=product, price=Decimal(str(variant["price"])), stock=variant["stock"])
                variant_upsert_by_sku(shop=shop, sku=variant["sku"], fields=fields)
    return len(data)
