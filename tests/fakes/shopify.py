"""A local Shopify Admin GraphQL API: `POST /admin/api/{version}/graphql.json` with
`X-Shopify-Access-Token`, answering the two queries the sync sends (productVariants, inventoryItem) in
Shopify's documented shapes: `data` + `extensions.cost.throttleStatus`; query errors and throttling as
a 200 with `errors` (code THROTTLED); a wrong token as a 401 with a string `errors`; cursor pages with
`pageInfo { hasNextPage endCursor }`; `sku` null; prices as strings."""

import base64
import json

from tests.fakes import FakeServer

API_VERSION = "2026-10"
MAX_AVAILABLE, RESTORE_RATE = 2000.0, 100.0


def variant_node(
    variant_id,
    *,
    product_id,
    title,
    sku,
    price="89.00",
    quantity=3,
    options=(("Size", "38"),),
    status="ACTIVE",
    tracked=True,
    handle=None,
    product_type="Robes",
):
    """One productVariants node, product inline, as the sync's query asks for it."""
    return {
        "id": f"gid://shopify/ProductVariant/{variant_id}",
        "sku": sku,
        "price": price,
        "inventoryQuantity": quantity,
        "selectedOptions": [{"name": name, "value": value} for name, value in options],
        "inventoryItem": {"id": f"gid://shopify/InventoryItem/{variant_id + 1000}", "tracked": tracked},
        "product": {
            "id": f"gid://shopify/Product/{product_id}",
            "title": title,
            "handle": handle or title.lower().replace(" ", "-"),
            "status": status,
            "productType": product_type,
        },
    }


def order_node(number, *, total="120.00", email=None, phone=None, customer=None, cancelled_at=None):
    """One Order node as the sync's orders query asks for it (contact fields of 2025-01+ versions)."""
    return {
        "id": f"gid://shopify/Order/{5000 + number}",
        "name": f"#{number}",
        "createdAt": "2026-11-20T10:00:00Z",
        "cancelledAt": cancelled_at,
        "email": email,
        "phone": phone,
        "currentTotalPriceSet": {"shopMoney": {"amount": total, "currencyCode": "EUR"}},
        "customer": customer,
        "billingAddress": None,
    }


class FakeShopify(FakeServer):
    def __init__(self, *, token="shpat_test_token", variants=()):
        super().__init__()
        self.token = token
        self.variants = list(variants)
        self.orders: list[dict] = []  # GraphQL Order nodes (order_node)
        self.throttle_next = 0  # answer this many queries THROTTLED first
        self.error_next = ""  # answer the next query with this error message (a 200 with `errors`)
        self.too_many_next = 0  # answer this many requests with an HTTP 429 first

    def handle(self, request):
        if request.method != "POST" or request.path != f"/admin/api/{API_VERSION}/graphql.json":
            return 404, {"errors": "Not Found"}, {}
        if request.headers.get("X-Shopify-Access-Token") != self.token:
            return (
                401,
                {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"},
                {},
            )
        if self.too_many_next:
            self.too_many_next -= 1
            return (
                429,
                {"errors": "Exceeded 2 calls per second for api client. Reduce request rates."},
                {"Retry-After": "2.0"},
            )
        body = request.json()
        query, variables = body["query"], body.get("variables") or {}
        if self.throttle_next:
            self.throttle_next -= 1
            return 200, self._throttled(), {}
        if self.error_next:
            message, self.error_next = self.error_next, ""
            return 200, {"errors": [{"message": message, "locations": [{"line": 2, "column": 3}]}]}, {}
        if "productVariants(" in query:
            return 200, self._with_cost(self._variants(variables)), {}
        if "orders(" in query:
            return 200, self._with_cost(self._page("orders", self.orders, variables)), {}
        if "inventoryItem(" in query:
            return 200, self._with_cost(self._inventory_item(variables["id"])), {}
        return 200, {"errors": [{"message": "Field 'unknown' doesn't exist on type 'QueryRoot'"}]}, {}

    def _variants(self, variables):
        return self._page("productVariants", self.variants, variables)

    def _page(self, field, items, variables):
        first = int(variables.get("first") or 50)
        if first > 250:
            return {"errors": [{"message": "The first argument must be at most 250"}]}
        start = int(base64.b64decode(variables["cursor"]).decode()) if variables.get("cursor") else 0
        page = items[start : start + first]
        end = start + len(page)
        return {
            "data": {
                field: {
                    "pageInfo": {
                        "hasNextPage": end < len(items),
                        "endCursor": base64.b64encode(str(end).encode()).decode() if page else None,
                    },
                    "nodes": page,
                }
            }
        }

    def _inventory_item(self, gid):
        for node in self.variants:
            if node["inventoryItem"]["id"] == gid:
                item = {
                    "id": gid,
                    "tracked": node["inventoryItem"]["tracked"],
                    "variant": {"id": node["id"], "inventoryQuantity": node["inventoryQuantity"]},
                }
                return {"data": {"inventoryItem": item}}
        return {"data": {"inventoryItem": None}}

    def _with_cost(self, body):
        body["extensions"] = {
            "cost": {
                "requestedQueryCost": 302,
                "actualQueryCost": 302,
                "throttleStatus": {
                    "maximumAvailable": MAX_AVAILABLE,
                    "currentlyAvailable": MAX_AVAILABLE - 302,
                    "restoreRate": RESTORE_RATE,
                },
            }
        }
        return body

    def _throttled(self):
        return {
            "errors": [
                {
                    "message": "Throttled",
                    "extensions": {
                        "code": "THROTTLED",
                        "documentation": "https://shopify.dev/api/usage/rate-limits",
                    },
                }
            ],
            "extensions": {
                "cost": {
                    "requestedQueryCost": 302,
                    "actualQueryCost": None,
                    "throttleStatus": {
                        "maximumAvailable": MAX_AVAILABLE,
                        "currentlyAvailable": 2.0,
                        "restoreRate": RESTORE_RATE,
                    },
                }
            },
        }

    def queries(self) -> list[dict]:
        return [json.loads(r.body) for r in self.requests]
