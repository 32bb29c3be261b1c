"""A local WooCommerce REST API v3: `GET /wp-json/wc/v3/products?per_page=&page=` and
`/products/{id}/variations`, HTTP Basic with the consumer key and secret, `X-WP-Total` and
`X-WP-TotalPages` headers, errors as `{code, message, data: {status}}`; prices as strings ("" when
unset), `stock_quantity` null when the stock is not managed, as WooCommerce's documented examples."""

import base64

from tests.fakes import FakeServer

PREFIX = "/wp-json/wc/v3/"


def product(
    product_id,
    name,
    *,
    type="simple",
    status="publish",
    sku="",
    price="49.00",
    manage_stock=True,
    stock_quantity=4,
    stock_status="instock",
    variations=(),
    category="Robes",
    attributes=(),
):
    return {
        "id": product_id,
        "name": name,
        "slug": name.lower().replace(" ", "-"),
        "type": type,
        "status": status,
        "sku": sku,
        "price": price,
        "regular_price": price,
        "sale_price": "",
        "purchasable": price != "",
        "manage_stock": manage_stock,
        "stock_quantity": stock_quantity if manage_stock else None,
        "stock_status": stock_status,
        "categories": [{"id": 9, "name": category, "slug": category.lower()}],
        "attributes": list(attributes),
        "variations": list(variations),
    }


def variation(
    variation_id, *, sku, price="79.00", stock_quantity=2, manage_stock=True, attributes=(), status="publish"
):
    return {
        "id": variation_id,
        "sku": sku,
        "status": status,
        "price": price,
        "regular_price": price,
        "sale_price": "",
        "purchasable": price != "",
        "manage_stock": manage_stock,
        "stock_quantity": stock_quantity if manage_stock is True else None,
        "stock_status": "instock" if (stock_quantity or 0) > 0 or manage_stock is not True else "outofstock",
        "attributes": [{"id": 0, "name": name, "option": option} for name, option in attributes],
    }


class FakeWooCommerce(FakeServer):
    def __init__(self, *, key="ck_test", secret="cs_test", products=(), variations=None):
        super().__init__()
        self.key, self.secret = key, secret
        self.products = list(products)
        self.variations = dict(variations or {})
        self.orders: list[dict] = []  # REST orders, as GET /orders returns them

    def handle(self, request):
        expected = "Basic " + base64.b64encode(f"{self.key}:{self.secret}".encode()).decode()
        if request.headers.get("Authorization") != expected:
            return 401, _error("woocommerce_rest_cannot_view", "Sorry, you cannot list resources.", 401), {}
        if request.method != "GET" or not request.path.startswith(PREFIX):
            return (
                404,
                _error("rest_no_route", "No route was found matching the URL and request method.", 404),
                {},
            )
        parts = request.path[len(PREFIX) :].strip("/").split("/")
        if parts == ["orders"]:
            return self._page(request, self.orders)
        if parts == ["products"]:
            return self._page(request, self.products)
        if len(parts) == 2 and parts[0] == "products":
            found = [p for p in self.products if str(p["id"]) == parts[1]]
            if found:
                return 200, found[0], {}
            return 404, _error("woocommerce_rest_product_invalid_id", "Invalid ID.", 404), {}
        if len(parts) == 3 and parts[0] == "products" and parts[2] == "variations":
            return self._page(request, self.variations.get(int(parts[1]), []))
        return (
            404,
            _error("rest_no_route", "No route was found matching the URL and request method.", 404),
            {},
        )

    def _page(self, request, items):
        per_page = int(request.query.get("per_page", ["10"])[0])
        page = int(request.query.get("page", ["1"])[0])
        if per_page > 100:
            return 400, _error("rest_invalid_param", "Invalid parameter(s): per_page", 400), {}
        total_pages = max((len(items) + per_page - 1) // per_page, 1) if items else 0
        chunk = items[(page - 1) * per_page : page * per_page]
        return 200, chunk, {"X-WP-Total": str(len(items)), "X-WP-TotalPages": str(total_pages)}


def _error(code, message, status):
    return {"code": code, "message": message, "data": {"status": status}}
