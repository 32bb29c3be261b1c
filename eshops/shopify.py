"""Shopify: the Admin GraphQL API (catalogue and stock) and the webhooks (products, inventory levels,
orders), read into eshops.values.

The API answers 200 with an `errors` key for query errors and for throttling (code THROTTLED, with the
bucket in `extensions.cost.throttleStatus`); both are handled here. A variant without a SKU gets
`SHOPIFY-<variant id>`, stable across syncs. A variant whose inventory is not tracked counts as
UNTRACKED_STOCK units (the e-shop sells it without counting).
"""

import base64
import hashlib
import hmac
import logging
import time
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from django.conf import settings

from eshops import transport
from eshops.transport import EshopError
from eshops.values import ExternalOrder, ExternalProduct, ExternalVariant, StockLevel, size_and_color

logger = logging.getLogger(__name__)

PROVIDER = "shopify"
SIGNATURE_HEADER, TOPIC_HEADER, DELIVERY_HEADER = (
    "X-Shopify-Hmac-Sha256",
    "X-Shopify-Topic",
    "X-Shopify-Webhook-Id",
)
# What each webhook topic is, for eshops.services (others are stored and ignored).
TOPICS = {
    "products/create": "product",
    "products/update": "product",
    "products/delete": "product_delete",
    "inventory_levels/update": "stock",
    "orders/create": "order",
    "orders/updated": "order",
    "orders/cancelled": "order",
}
UNTRACKED_STOCK = 1
PAGE_SIZE = 100  # variants a page: ~3 cost points each, well under the 1,000 a query may cost
MAX_THROTTLE_RETRIES = 5
MAX_THROTTLE_WAIT = 30.0
sleep = time.sleep  # tests replace it

VARIANTS_QUERY = """
query Variants($first: Int!, $cursor: String) {
  productVariants(first: $first, after: $cursor) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id sku price inventoryQuantity
      selectedOptions { name value }
      inventoryItem { id tracked }
      product { id title handle status productType }
    }
  }
}
"""

# Customer contact fields of API versions 2025-01+: defaultEmailAddress/defaultPhoneNumber (the older
# customer.email/phone are deprecated). Reading them needs Shopify's protected customer data access.
ORDERS_QUERY = """
query Orders($first: Int!, $cursor: String, $query: String) {
  orders(first: $first, after: $cursor, query: $query, sortKey: UPDATED_AT) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id name createdAt cancelledAt email phone
      currentTotalPriceSet { shopMoney { amount currencyCode } }
      customer {
        firstName lastName
        defaultEmailAddress { emailAddress }
        defaultPhoneNumber { phoneNumber }
      }
      billingAddress { firstName lastName phone }
    }
  }
}
"""
ORDERS_PAGE_SIZE = 50

INVENTORY_QUERY = """
query Inventory($id: ID!) {
  inventoryItem(id: $id) { id tracked variant { id inventoryQuantity } }
}
"""


# --- webhooks -----------------------------------------------------------------------------------------


def verify(*, raw_body: bytes, header: str, secret: str) -> bool:
    """X-Shopify-Hmac-Sha256: base64 HMAC-SHA256 of the raw body with the app's client secret."""
    if not secret or not header:
        return False
    expected = base64.b64encode(hmac.new(secret.encode(), raw_body, hashlib.sha256).digest()).decode()
    return hmac.compare_digest(expected, header.strip())


def product_from_webhook(connection, payload: dict) -> ExternalProduct:
    """`products/create|update`: the REST shape (variants with option1..3, named by `options`)."""
    names = {o.get("position"): o.get("name", "") for o in payload.get("options") or []}
    variants = []
    for item in payload.get("variants") or []:
        options = [(names.get(i, ""), item.get(f"option{i}")) for i in (1, 2, 3)]
        stock = _webhook_stock(item)
        variants.append(
            _variant(
                variant_id=str(item["id"]),
                sku=item.get("sku"),
                price=item.get("price"),
                stock=stock,
                options=options,
                inventory_item_id=str(item.get("inventory_item_id") or ""),
                active=True,
            )
        )
    return ExternalProduct(
        external_id=str(payload["id"]),
        title=str(payload.get("title") or "").strip(),
        handle=str(payload.get("handle") or payload["id"]),
        active=str(payload.get("status", "active")).lower() == "active",
        category=str(payload.get("product_type") or "")[:100],
        variants=tuple(variants),
    )


def deleted_product_id(payload: dict) -> str:
    return str(payload["id"])


def stock_from_webhook(payload: dict) -> StockLevel:
    """`inventory_levels/update` names one location's level; the variant's total is asked for."""
    return StockLevel(inventory_item_id=str(payload["inventory_item_id"]))


def order_from_webhook(payload: dict) -> ExternalOrder:
    """`orders/create|updated|cancelled`: the REST order. `current_total_price` is after refunds and
    edits, so a refund lowers the order rather than adding a negative one."""
    customer = payload.get("customer") or {}
    billing = payload.get("billing_address") or {}
    shipping = payload.get("shipping_address") or {}
    phones = [
        p
        for p in (payload.get("phone"), customer.get("phone"), billing.get("phone"), shipping.get("phone"))
        if p
    ]
    return ExternalOrder(
        reference=f"SHOPIFY-{payload.get('name') or payload['id']}"[:64],
        amount=_money(payload.get("current_total_price") or payload.get("total_price")) or Decimal("0"),
        currency=str(payload.get("currency") or "EUR")[:3],
        placed_at=_datetime(payload.get("created_at")),
        cancelled=bool(payload.get("cancelled_at")),
        phones=tuple(str(p) for p in phones),
        email=str(payload.get("email") or payload.get("contact_email") or customer.get("email") or ""),
        first_name=str(customer.get("first_name") or billing.get("first_name") or ""),
        last_name=str(customer.get("last_name") or billing.get("last_name") or ""),
    )


# --- the Admin GraphQL API ----------------------------------------------------------------------------


def graphql_url(connection) -> str:
    base = settings.ESHOPS_SHOPIFY_BASE_URL or f"https://{connection.shopify_domain}"
    return f"{base.rstrip('/')}/admin/api/{connection.api_version}/graphql.json"


def fetch_products(connection):
    """Every product of the store with its variants (one GraphQL page of variants at a time)."""
    products: dict[str, dict] = {}
    cursor = None
    while True:
        data = graphql(connection, VARIANTS_QUERY, {"first": PAGE_SIZE, "cursor": cursor})["productVariants"]
        for node in data["nodes"]:
            _collect(products, node)
        if not data["pageInfo"]["hasNextPage"]:
            break
        cursor = data["pageInfo"]["endCursor"]
    for entry in products.values():
        yield ExternalProduct(**entry["product"], variants=tuple(entry["variants"]))


def fetch_orders(connection, since: datetime):
    """The orders created or changed since `since` (without read_all_orders, Shopify gives the last 60
    days at most), read into ExternalOrder."""
    cursor, search = None, f"updated_at:>='{since.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}'"
    while True:
        variables = {"first": ORDERS_PAGE_SIZE, "cursor": cursor, "query": search}
        data = graphql(connection, ORDERS_QUERY, variables)["orders"]
        for node in data["nodes"]:
            yield _order_from_node(node)
        if not data["pageInfo"]["hasNextPage"]:
            return
        cursor = data["pageInfo"]["endCursor"]


def _order_from_node(node: dict) -> ExternalOrder:
    customer = node.get("customer") or {}
    billing = node.get("billingAddress") or {}
    money = ((node.get("currentTotalPriceSet") or {}).get("shopMoney")) or {}
    customer_phone = (customer.get("defaultPhoneNumber") or {}).get("phoneNumber")
    customer_email = (customer.get("defaultEmailAddress") or {}).get("emailAddress")
    phones = [p for p in (node.get("phone"), customer_phone, billing.get("phone")) if p]
    return ExternalOrder(
        reference=f"SHOPIFY-{node.get('name') or _numeric_id(node['id'])}"[:64],
        amount=_money(money.get("amount")) or Decimal("0"),
        currency=str(money.get("currencyCode") or "EUR")[:3],
        placed_at=_datetime(node.get("createdAt")),
        cancelled=bool(node.get("cancelledAt")),
        phones=tuple(str(p) for p in phones),
        email=str(node.get("email") or customer_email or ""),
        first_name=str(customer.get("firstName") or billing.get("firstName") or ""),
        last_name=str(customer.get("lastName") or billing.get("lastName") or ""),
    )


def fetch_stock(connection, inventory_item_id: str) -> int | None:
    """The variant's sellable quantity over all locations, or None when Shopify has no such item."""
    data = graphql(connection, INVENTORY_QUERY, {"id": f"gid://shopify/InventoryItem/{inventory_item_id}"})
    item = data.get("inventoryItem")
    if not item or not item.get("variant"):
        return None
    if not item.get("tracked"):
        return UNTRACKED_STOCK
    return max(int(item["variant"].get("inventoryQuantity") or 0), 0)


def graphql(connection, query: str, variables: dict) -> dict:
    """The query's `data`; throttled queries wait for the bucket to refill and run again (bounded)."""
    token = connection.secrets.get("access_token", "")
    if not token:
        raise EshopError("shopify: no access token stored for this connection", permanent=True)
    for attempt in range(MAX_THROTTLE_RETRIES + 1):
        body = _post(connection, token, query, variables)
        errors = body.get("errors")
        if not errors:
            return body.get("data") or {}
        if not _throttled(errors) or attempt == MAX_THROTTLE_RETRIES:
            raise EshopError(f"shopify: {_error_text(errors)}", permanent=not _throttled(errors))
        wait = _throttle_wait(body)
        logger.info("Shopify %s throttled: waiting %.1fs", connection.shopify_domain, wait)
        sleep(wait)
    raise AssertionError("unreachable")


def _post(connection, token: str, query: str, variables: dict) -> dict:
    try:
        response = transport.request(
            PROVIDER,
            "POST",
            graphql_url(connection),
            json={"query": query, "variables": variables},
            headers={"X-Shopify-Access-Token": token, "Accept": "application/json"},
            timeout=30,
        )
    except EshopError as exc:
        if exc.status == 429:  # HTTP-level throttling: the same bounded wait, by the caller's loop
            return {"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}]}
        raise
    try:
        body = response.json()
    except ValueError:
        raise EshopError("shopify: the answer is not JSON", permanent=True) from None
    if not isinstance(body, dict):
        raise EshopError("shopify: unexpected answer", permanent=True)
    return body


def _throttled(errors) -> bool:
    if not isinstance(errors, list):
        return False
    return any((e.get("extensions") or {}).get("code") == "THROTTLED" for e in errors if isinstance(e, dict))


def _throttle_wait(body: dict) -> float:
    """Seconds until the bucket holds what the query asked for (requested - available) / restore rate."""
    cost = (body.get("extensions") or {}).get("cost") or {}
    status = cost.get("throttleStatus") or {}
    try:
        missing = float(cost.get("requestedQueryCost") or 0) - float(status.get("currentlyAvailable") or 0)
        wait = missing / float(status.get("restoreRate") or 50)
    except (TypeError, ValueError, ZeroDivisionError):
        wait = 1.0
    return min(max(wait, 1.0), MAX_THROTTLE_WAIT)


def _error_text(errors) -> str:
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return str(errors[0].get("message") or errors[0])[:300]
    return str(errors)[:300]


def _collect(products: dict, node: dict) -> None:
    product = node["product"]
    product_id = _numeric_id(product["id"])
    entry = products.setdefault(
        product_id,
        {
            "product": {
                "external_id": product_id,
                "title": str(product.get("title") or "").strip(),
                "handle": str(product.get("handle") or product_id),
                "active": product.get("status") == "ACTIVE",
                "category": str(product.get("productType") or "")[:100],
            },
            "variants": [],
        },
    )
    item = node.get("inventoryItem") or {}
    quantity = node.get("inventoryQuantity")
    tracked = item.get("tracked", True)
    entry["variants"].append(
        _variant(
            variant_id=_numeric_id(node["id"]),
            sku=node.get("sku"),
            price=node.get("price"),
            stock=max(int(quantity or 0), 0) if tracked else UNTRACKED_STOCK,
            options=[(o.get("name"), o.get("value")) for o in node.get("selectedOptions") or []],
            inventory_item_id=_numeric_id(item.get("id") or ""),
            active=True,
        )
    )


def _webhook_stock(item: dict) -> int | None:
    """A product webhook's variant stock: None when the payload has no quantity (recent API versions
    leave it to `inventory_levels/update`), so the stock known here is kept; an explicit null
    `inventory_management` means Shopify does not count it."""
    quantity = item.get("inventory_quantity")
    if "inventory_management" in item and item["inventory_management"] is None:
        return UNTRACKED_STOCK
    return None if quantity is None else max(int(quantity), 0)


def _variant(*, variant_id, sku, price, stock, options, inventory_item_id, active) -> ExternalVariant:
    size, color = size_and_color(options)
    return ExternalVariant(
        external_id=variant_id,
        sku=(str(sku).strip() if sku else "") or f"SHOPIFY-{variant_id}",
        price=_money(price),
        stock=stock,
        active=active,
        size=size,
        color=color,
        inventory_item_id=inventory_item_id,
    )


def _numeric_id(gid: str) -> str:
    """`gid://shopify/ProductVariant/123` → `123`: the id webhooks use (REST ids are the same number)."""
    return str(gid).rsplit("/", 1)[-1]


def _money(value) -> Decimal | None:
    if isinstance(value, dict):  # MoneyV2 {amount, currencyCode}
        value = value.get("amount")
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return amount if amount.is_finite() and amount >= 0 else None


def _datetime(value) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")) if value else None
    except ValueError:
        return None
