"""WooCommerce: the REST API v3 (products, their variations) and the webhooks (products, orders), read
into eshops.values.

Authentication is HTTP Basic with the consumer key and secret, which WooCommerce accepts over HTTPS
only (the site URL is checked to be https). Prices are strings, "" when none is set; `stock_quantity` is
null when the stock is not managed, and then `stock_status` says whether it sells (UNTRACKED_STOCK
units). A variation may manage its stock at the parent's level (`manage_stock: "parent"`). Only
`publish` is on sale. A product or variation without a SKU gets `WC-<id>`, stable across syncs.
"""

import base64
import hashlib
import hmac
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from urllib.parse import parse_qs

from eshops import transport
from eshops.transport import EshopError
from eshops.values import ExternalOrder, ExternalProduct, ExternalVariant, size_and_color

PROVIDER = "woocommerce"
SIGNATURE_HEADER, TOPIC_HEADER, DELIVERY_HEADER = (
    "X-WC-Webhook-Signature",
    "X-WC-Webhook-Topic",
    "X-WC-Webhook-Delivery-ID",
)
TOPICS = {
    "product.created": "product",
    "product.updated": "product",
    "product.restored": "product",
    "product.deleted": "product_delete",
    "order.created": "order",
    "order.updated": "order",
    "order.restored": "order",
}
UNTRACKED_STOCK = 1
PER_PAGE = 100
MAX_PAGES = 1000  # a safety stop: 100,000 products
# Orders that bring in nothing: not counted (their row is removed if an earlier webhook made it).
VOID_STATUSES = {"cancelled", "refunded", "failed", "trash", "checkout-draft"}


# --- webhooks -----------------------------------------------------------------------------------------


def verify(*, raw_body: bytes, header: str, secret: str) -> bool:
    """X-WC-Webhook-Signature: base64 HMAC-SHA256 of the raw body with the webhook's secret."""
    if not secret or not header:
        return False
    expected = base64.b64encode(hmac.new(secret.encode(), raw_body, hashlib.sha256).digest()).decode()
    return hmac.compare_digest(expected, header.strip())


def is_ping(raw_body: bytes, topic: str) -> bool:
    """WooCommerce checks a new webhook's URL with `webhook_id=N`, form-encoded, before any topic."""
    if topic:
        return False
    try:
        form = parse_qs(raw_body.decode("utf-8"), strict_parsing=True)
    except (UnicodeDecodeError, ValueError):
        return False
    return list(form) == ["webhook_id"]


def product_from_webhook(connection, payload: dict) -> ExternalProduct:
    """`product.created|updated|restored`: the REST product; a variable product's variations are read
    from the API (the webhook carries their ids only). WooCommerce sends the same topics for a
    variation on its own (a stock change, an edit): then its parent is read and applied whole."""
    if payload.get("type") == "variation":
        payload = _object(_get(connection, f"products/{int(payload['parent_id'])}", {}))
    return _product(payload, _variations(connection, payload))


def deleted_product_id(payload: dict) -> str:
    return str(payload["id"])


def order_from_webhook(payload: dict) -> ExternalOrder:
    """`order.created|updated`: the REST order. Refunds are listed with negative totals and lower the
    amount; a void status (cancelled, refunded, failed) marks it cancelled."""
    billing = payload.get("billing") or {}
    shipping = payload.get("shipping") or {}
    refunded = sum((_money(r.get("total")) or Decimal("0")) for r in payload.get("refunds") or [])
    amount = (_money(payload.get("total")) or Decimal("0")) - abs(refunded)
    return ExternalOrder(
        reference=f"WC-{payload.get('number') or payload['id']}"[:64],
        amount=max(amount, Decimal("0")),
        currency=str(payload.get("currency") or "EUR")[:3],
        placed_at=_datetime(payload.get("date_created_gmt"), utc=True)
        or _datetime(payload.get("date_created")),
        cancelled=str(payload.get("status") or "") in VOID_STATUSES,
        phones=tuple(p for p in (billing.get("phone"), shipping.get("phone")) if p),
        email=str(billing.get("email") or ""),
        first_name=str(billing.get("first_name") or ""),
        last_name=str(billing.get("last_name") or ""),
    )


# --- the REST API -------------------------------------------------------------------------------------


def api_url(connection, path: str) -> str:
    return f"{connection.site_url.rstrip('/')}/wp-json/wc/v3/{path.lstrip('/')}"


def fetch_products(connection):
    """Every product (any status: a draft must turn its variants off), page by page as X-WP-TotalPages
    says, a variable product's variations read from its own endpoint."""
    for payload in _pages(connection, "products", {}):
        yield _product(payload, _variations(connection, payload))


def fetch_orders(connection, since: datetime):
    """The orders changed since `since` (`modified_after`, WooCommerce 5.8+), any status: a cancelled
    one must be removed here too."""
    after = since.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds")
    params = {"modified_after": after, "dates_are_gmt": "true", "status": "any"}
    for payload in _pages(connection, "orders", params):
        yield order_from_webhook(payload)


def _pages(connection, path: str, params: dict):
    page = 1
    while page <= MAX_PAGES:
        response = _get(connection, path, {**params, "per_page": PER_PAGE, "page": page})
        items = _list(response)
        yield from items
        try:
            total_pages = int(response.headers.get("X-WP-TotalPages") or 0)
        except ValueError:
            total_pages = 0
        if page >= total_pages or not items:
            return
        page += 1


def _variations(connection, payload: dict) -> list[dict]:
    if payload.get("type") != "variable":
        return []
    return list(_pages(connection, f"products/{int(payload['id'])}/variations", {}))


def _get(connection, path: str, params: dict):
    secrets = connection.secrets
    key, secret = secrets.get("consumer_key", ""), secrets.get("consumer_secret", "")
    if not (key and secret):
        raise EshopError("woocommerce: no consumer key and secret stored for this connection", permanent=True)
    return transport.request(
        PROVIDER, "GET", api_url(connection, path), params=params, auth=(key, secret), timeout=30
    )


def _object(response) -> dict:
    try:
        body = response.json()
    except ValueError:
        raise EshopError("woocommerce: the answer is not JSON", permanent=True) from None
    if not isinstance(body, dict) or "id" not in body:
        raise EshopError("woocommerce: expected a product", permanent=True)
    return body


def _list(response) -> list[dict]:
    try:
        body = response.json()
    except ValueError:
        raise EshopError("woocommerce: the answer is not JSON", permanent=True) from None
    if not isinstance(body, list):
        raise EshopError("woocommerce: expected a list", permanent=True)
    return [item for item in body if isinstance(item, dict)]


def _product(payload: dict, variations: list[dict]) -> ExternalProduct:
    product_id = str(payload["id"])
    active = payload.get("status") == "publish"
    if payload.get("type") == "variable":
        variants = [_variant(v, parent=payload, prefix_active=active) for v in variations]
    else:
        variants = [_variant(payload, parent=None, prefix_active=active)]
    categories = payload.get("categories") or []
    return ExternalProduct(
        external_id=product_id,
        title=str(payload.get("name") or "").strip(),
        handle=str(payload.get("slug") or product_id),
        active=active,
        category=str(categories[0].get("name") if categories else "")[:100],
        variants=tuple(variants),
    )


def _variant(item: dict, *, parent: dict | None, prefix_active: bool) -> ExternalVariant:
    options = [(a.get("name"), a.get("option")) for a in item.get("attributes") or [] if "option" in a]
    size, color = size_and_color(options)
    status_ok = item.get("status", "publish") == "publish"
    return ExternalVariant(
        external_id=str(item["id"]),
        sku=str(item.get("sku") or "").strip() or f"WC-{item['id']}",
        price=_money(item.get("price")) or _money(item.get("regular_price")),
        stock=_stock(item, parent),
        active=prefix_active and status_ok and item.get("purchasable", True) is not False,
        size=size,
        color=color,
    )


def _stock(item: dict, parent: dict | None) -> int:
    source = parent if item.get("manage_stock") == "parent" and parent else item
    if source.get("manage_stock") is True and source.get("stock_quantity") is not None:
        return max(int(source["stock_quantity"]), 0)
    return UNTRACKED_STOCK if item.get("stock_status") in ("instock", "onbackorder") else 0


def _money(value) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return amount if amount.is_finite() else None


def _datetime(value, *, utc: bool = False) -> datetime | None:
    """WooCommerce's dates have no offset: `date_created_gmt` is UTC, `date_created` the site's time."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    if parsed.tzinfo is None and utc:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed
