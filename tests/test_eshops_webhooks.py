"""Shopify and WooCommerce webhooks through the URL: signatures, topics, duplicates, the WooCommerce ping,
orders on the right customer, and one shop's webhook never touching another shop."""

import base64
import hashlib
import hmac
import json
import logging
from decimal import Decimal
from pathlib import Path

import pytest

from catalog.models import Product, Variant
from customers.models import Customer, Order
from eshops.models import EshopEvent
from eshops.services import connection_save, connection_sync
from tests.fakes.shopify import FakeShopify, variant_node
from tests.fakes.woocommerce import FakeWooCommerce, variation

FIXTURES = Path(__file__).parent / "fixtures"
SHOPIFY_SECRET = "shopify-client-secret"
WC_SECRET = "wc-webhook-secret"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def sign(body: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


@pytest.fixture
def shopify_fake(settings):
    with FakeShopify(token="shpat_x") as server:
        settings.ESHOPS_SHOPIFY_BASE_URL = server.url
        settings.ESHOPS_ALLOWED_HOSTS = ["127.0.0.1"]
        yield server


@pytest.fixture
def shopify_conn(shop, shopify_fake):
    return connection_save(
        shop=shop,
        provider="shopify",
        fields={"shopify_domain": "coccinelle-test.myshopify.com"},
        secrets={"access_token": "shpat_x", "webhook_secret": SHOPIFY_SECRET},
    )


@pytest.fixture
def wc_fake(settings):
    with FakeWooCommerce(key="ck", secret="cs") as server:
        settings.ESHOPS_ALLOWED_HOSTS = ["127.0.0.1"]
        yield server


@pytest.fixture
def wc_conn(shop, wc_fake):
    return connection_save(
        shop=shop,
        provider="woocommerce",
        fields={"site_url": wc_fake.url},
        secrets={"consumer_key": "ck", "consumer_secret": "cs", "webhook_secret": WC_SECRET},
    )


@pytest.fixture
def post(client, django_capture_on_commit_callbacks):
    """Post as the e-shop would; the task queued after commit runs (eagerly) before this returns."""

    def send(
        connection,
        body: bytes,
        topic: str,
        *,
        delivery="d-1",
        signature=None,
        content_type="application/json",
    ):
        if connection.provider == "shopify":
            headers = {
                "HTTP_X_SHOPIFY_TOPIC": topic,
                "HTTP_X_SHOPIFY_HMAC_SHA256": signature
                if signature is not None
                else sign(body, SHOPIFY_SECRET),
                "HTTP_X_SHOPIFY_WEBHOOK_ID": delivery,
                "HTTP_X_SHOPIFY_SHOP_DOMAIN": connection.shopify_domain,
                "HTTP_X_SHOPIFY_API_VERSION": "2026-10",
            }
        else:
            headers = {
                "HTTP_X_WC_WEBHOOK_TOPIC": topic,
                "HTTP_X_WC_WEBHOOK_SIGNATURE": signature if signature is not None else sign(body, WC_SECRET),
                "HTTP_X_WC_WEBHOOK_DELIVERY_ID": delivery,
                "HTTP_X_WC_WEBHOOK_SOURCE": "https://boutique.example/",
            }
        headers = {k: v for k, v in headers.items() if v is not None}
        url = f"/eshops/{connection.provider}/{connection.webhook_token}/"
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url, body, content_type=content_type, **headers)

    return send


# --- Shopify ------------------------------------------------------------------------------------------


def test_shopify_products_update_creates_the_product_and_its_variants(post, shopify_conn, shop):
    response = post(shopify_conn, fixture("shopify/products_update.json"), "products/update")

    assert response.status_code == 200
    variants = {
        v.sku: (v.product.name, v.size, v.color, v.price, v.stock, v.external_id)
        for v in Variant.objects.filter(shop=shop).select_related("product")
    }
    assert variants == {
        "ROB-PF-BLE-38": ("Robe portefeuille", "38", "Bleu", Decimal("89.00"), 5, "9101"),
        "SHOPIFY-9102": ("Robe portefeuille", "40", "Bleu", Decimal("89.00"), 0, "9102"),
    }
    event = EshopEvent.objects.get()
    assert (event.topic, event.state, event.delivery_id) == ("products/update", "processed", "d-1")


def test_shopify_product_update_without_quantities_keeps_the_stock_known_here(post, shopify_conn, shop):
    body = json.loads(fixture("shopify/products_update.json"))
    post(shopify_conn, json.dumps(body).encode(), "products/update", delivery="1")
    for item in body["variants"]:  # newer API versions leave quantities to inventory_levels/update
        del item["inventory_quantity"], item["old_inventory_quantity"], item["inventory_management"]
        item["price"] = "95.00"
    post(shopify_conn, json.dumps(body).encode(), "products/update", delivery="2")

    assert {v.sku: (v.stock, v.price) for v in Variant.objects.filter(shop=shop)} == {
        "ROB-PF-BLE-38": (5, Decimal("95.00")),
        "SHOPIFY-9102": (0, Decimal("95.00")),
    }


def test_shopify_duplicate_delivery_is_stored_once(post, shopify_conn, shop):
    body = fixture("shopify/products_update.json")
    first = post(shopify_conn, body, "products/update", delivery="same-id")
    second = post(shopify_conn, body, "products/update", delivery="same-id")

    assert (first.status_code, second.status_code) == (200, 200)
    assert second.content == b"Already received."
    assert EshopEvent.objects.count() == 1 and Variant.objects.filter(shop=shop).count() == 2


def test_shopify_products_delete_makes_the_product_inactive(post, shopify_conn, shop):
    post(shopify_conn, fixture("shopify/products_update.json"), "products/update", delivery="a")
    post(shopify_conn, fixture("shopify/products_delete.json"), "products/delete", delivery="b")

    assert Product.objects.get(shop=shop).active is False
    assert not Variant.objects.filter(shop=shop, active=True).exists()
    assert Variant.objects.filter(shop=shop).count() == 2  # kept: holds and orders point at them


def test_shopify_inventory_level_update_sets_the_variant_total_from_the_api(
    post, shopify_conn, shopify_fake, shop
):
    # The full sync learnt inventory item 8101 (variant 7101's item in the fake: id + 1000).
    shopify_fake.variants = [variant_node(7101, product_id=1, title="Robe", sku="ROB-38", quantity=5)]
    connection_sync(shopify_conn)
    shopify_fake.variants[0]["inventoryQuantity"] = 3  # what Shopify now counts over all locations

    response = post(shopify_conn, fixture("shopify/inventory_levels_update.json"), "inventory_levels/update")

    assert response.status_code == 200
    assert Variant.objects.get(shop=shop, sku="ROB-38").stock == 3
    query = shopify_fake.queries()[-1]
    assert (
        "inventoryItem(" in query["query"] and query["variables"]["id"] == "gid://shopify/InventoryItem/8101"
    )


def test_shopify_inventory_update_for_an_unknown_item_is_ignored(post, shopify_conn, shopify_fake):
    post(shopify_conn, fixture("shopify/inventory_levels_update.json"), "inventory_levels/update")

    assert EshopEvent.objects.get().state == "ignored"
    assert shopify_fake.requests == []


def test_shopify_order_lands_on_the_customer_with_that_phone(post, shopify_conn, shop, make_customer):
    julie = make_customer(shop, phone="+33612345678", email="")  # billing phone "06 12 34 56 78"

    post(shopify_conn, fixture("shopify/orders_create.json"), "orders/create")

    order = Order.objects.get(shop=shop)
    assert (order.reference, order.amount, order.currency, order.customer_id) == (
        "SHOPIFY-#1001",
        Decimal("183.90"),
        "EUR",
        julie.pk,
    )
    assert order.placed_at.isoformat() == "2026-12-02T09:30:00+00:00"
    julie.refresh_from_db()
    assert julie.orders_count == 1 and julie.total_spent == Decimal("183.90")


def test_shopify_order_lands_on_the_customer_with_that_email(post, shopify_conn, shop, make_customer):
    body = json.loads(fixture("shopify/orders_create.json"))
    body["billing_address"]["phone"] = None
    julie = make_customer(shop, phone="+33600000001", email="Julie.Martin@example.com")

    post(shopify_conn, json.dumps(body).encode(), "orders/create")

    assert Order.objects.get(shop=shop).customer_id == julie.pk


def test_shopify_order_from_a_new_buyer_creates_the_customer(post, shopify_conn, shop):
    post(shopify_conn, fixture("shopify/orders_create.json"), "orders/create")

    customer = Customer.objects.get(shop=shop)
    assert (customer.first_name, customer.last_name, customer.phone, customer.email) == (
        "Julie",
        "Martin",
        "+33612345678",
        "julie.martin@example.com",
    )


def test_shopify_order_updates_and_cancellation_are_not_counted_twice(post, shopify_conn, shop):
    body = json.loads(fixture("shopify/orders_create.json"))
    post(shopify_conn, json.dumps(body).encode(), "orders/create", delivery="1")
    body["current_total_price"] = "94.90"  # one dress refunded
    post(shopify_conn, json.dumps(body).encode(), "orders/updated", delivery="2")

    customer = Customer.objects.get(shop=shop)
    assert (customer.orders_count, customer.total_spent) == (1, Decimal("94.90"))

    body["cancelled_at"] = "2026-12-03T10:00:00+01:00"
    post(shopify_conn, json.dumps(body).encode(), "orders/cancelled", delivery="3")

    customer.refresh_from_db()
    assert not Order.objects.filter(shop=shop).exists()
    assert (customer.orders_count, customer.total_spent) == (0, Decimal("0"))


def test_shopify_bad_signature_is_a_401_with_a_log_line(post, shopify_conn, caplog):
    body = fixture("shopify/orders_create.json")
    response = post(shopify_conn, body, "orders/create", signature=sign(body, "not-the-secret"))

    assert response.status_code == 401
    assert "invalid X-Shopify-Hmac-Sha256" in caplog.text
    assert SHOPIFY_SECRET not in caplog.text
    assert not EshopEvent.objects.exists() and not Order.objects.exists()


def test_shopify_signature_over_other_bytes_is_refused(post, shopify_conn):
    body = fixture("shopify/orders_create.json")
    reserialised = json.dumps(json.loads(body)).encode()  # same JSON, other bytes

    assert (
        post(shopify_conn, reserialised, "orders/create", signature=sign(body, SHOPIFY_SECRET)).status_code
        == 401
    )


def test_shopify_missing_signature_is_a_401(post, shopify_conn):
    assert post(shopify_conn, b"{}", "orders/create", signature="").status_code == 401


def test_unknown_connection_is_a_404(client, shopify_conn):
    body = fixture("shopify/orders_create.json")
    response = client.post(
        "/eshops/shopify/not-a-token/",
        body,
        content_type="application/json",
        HTTP_X_SHOPIFY_HMAC_SHA256=sign(body, SHOPIFY_SECRET),
        HTTP_X_SHOPIFY_TOPIC="orders/create",
        HTTP_X_SHOPIFY_WEBHOOK_ID="x",
    )
    assert response.status_code == 404
    json_type = "application/json"
    assert client.post(f"/eshops/magento/{shopify_conn.webhook_token}/", b"{}", json_type).status_code == 404
    # A Shopify connection's token under the WooCommerce path names nothing.
    assert (
        client.post(f"/eshops/woocommerce/{shopify_conn.webhook_token}/", b"{}", json_type).status_code == 404
    )


@pytest.mark.parametrize(
    ("body", "topic", "delivery"),
    [
        (b"not json", "orders/create", "1"),
        (b"[1, 2]", "orders/create", "2"),
        (b"{}", "", "3"),
        (b"{}", "orders/create", ""),
    ],
)
def test_malformed_shopify_webhooks_are_400(post, shopify_conn, body, topic, delivery, caplog):
    response = post(shopify_conn, body, topic, delivery=delivery)

    assert response.status_code == 400
    assert "malformed" in caplog.text
    assert not EshopEvent.objects.exists()


def test_a_valid_webhook_with_an_unreadable_payload_fails_in_the_worker_not_the_request(
    post, shopify_conn, caplog
):
    response = post(shopify_conn, b'{"id": 1}', "orders/create")  # no name, no customer, no total

    assert response.status_code == 200
    event = EshopEvent.objects.get()
    assert event.state == "ignored"
    assert not Order.objects.exists()


def test_a_webhook_for_shop_a_cannot_touch_shop_b(
    post, shopify_conn, shop, other_shop, make_customer, settings
):
    # Shop B has the same buyer and the same SKU; shop A's webhook changes only shop A.
    from catalog.services import product_upsert, variant_upsert_by_sku

    julie_b = make_customer(other_shop, phone="+33612345678")
    product_b, _ = product_upsert(shop=other_shop, name="Robe portefeuille")
    variant_upsert_by_sku(
        shop=other_shop, sku="ROB-PF-BLE-38", fields={"product": product_b, "price": 1, "stock": 42}
    )
    other_conn = connection_save(
        shop=other_shop,
        provider="shopify",
        fields={"shopify_domain": "other-shop.myshopify.com"},
        secrets={"access_token": "shpat_b", "webhook_secret": "secret-of-b"},
    )

    post(shopify_conn, fixture("shopify/products_update.json"), "products/update", delivery="p")
    post(shopify_conn, fixture("shopify/orders_create.json"), "orders/create", delivery="o")

    b_variant = Variant.objects.get(shop=other_shop)
    assert (b_variant.stock, b_variant.price, b_variant.external_id) == (42, Decimal("1.00"), "")
    assert not Order.objects.filter(shop=other_shop).exists()
    julie_b.refresh_from_db()
    assert julie_b.orders_count == 0
    # Shop A's secret does not open shop B's URL; B's own secret does, and lands in B only.
    body = fixture("shopify/orders_create.json")
    assert post(other_conn, body, "orders/create", signature=sign(body, SHOPIFY_SECRET)).status_code == 401
    response = post(other_conn, body, "orders/create", delivery="y", signature=sign(body, "secret-of-b"))
    assert response.status_code == 200 and Order.objects.filter(shop=other_shop).count() == 1


def test_a_store_domain_header_of_another_store_is_refused(client, shopify_conn):
    body = fixture("shopify/orders_create.json")
    response = client.post(
        f"/eshops/shopify/{shopify_conn.webhook_token}/",
        body,
        content_type="application/json",
        HTTP_X_SHOPIFY_HMAC_SHA256=sign(body, SHOPIFY_SECRET),
        HTTP_X_SHOPIFY_TOPIC="orders/create",
        HTTP_X_SHOPIFY_WEBHOOK_ID="x",
        HTTP_X_SHOPIFY_SHOP_DOMAIN="someone-else.myshopify.com",
    )
    assert response.status_code == 400


# --- WooCommerce --------------------------------------------------------------------------------------


def test_woocommerce_ping_gets_a_200_and_stores_nothing(post, wc_conn):
    response = post(
        wc_conn,
        b"webhook_id=15",
        "",
        signature="",
        delivery="",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 200
    assert not EshopEvent.objects.exists()


def test_woocommerce_product_updated_reads_its_variations(post, wc_conn, wc_fake, shop):
    wc_fake.variations = {
        501: [
            variation(
                601, sku="JEA-DR-NOI-38", stock_quantity=2, attributes=[("Taille", "38"), ("Couleur", "Noir")]
            ),
            variation(602, sku="", price="", attributes=[("Taille", "40"), ("Couleur", "Noir")]),
        ]
    }

    response = post(wc_conn, fixture("woocommerce/product_updated.json"), "product.updated")

    assert response.status_code == 200
    variant = Variant.objects.get(shop=shop)  # 602 has no price: not sold here
    assert (variant.sku, variant.product.name, variant.size, variant.color, variant.stock, variant.price) == (
        "JEA-DR-NOI-38",
        "Jean droit",
        "38",
        "Noir",
        2,
        Decimal("79.00"),
    )
    assert variant.product.category == "Pantalons"
    assert wc_fake.requests[0].path == "/wp-json/wc/v3/products/501/variations"


def test_woocommerce_order_created_lands_on_the_right_customer(post, wc_conn, shop, make_customer):
    chloe = make_customer(shop, phone="+33698765432")

    response = post(wc_conn, fixture("woocommerce/order_created.json"), "order.created")

    assert response.status_code == 200
    order = Order.objects.get(shop=shop)
    assert (order.reference, order.amount, order.customer_id) == ("WC-727", Decimal("84.90"), chloe.pk)
    assert order.placed_at.isoformat() == "2026-12-02T10:30:00+00:00"


def test_woocommerce_order_by_email_then_refund_and_cancel(post, wc_conn, shop, make_customer):
    body = json.loads(fixture("woocommerce/order_created.json"))
    body["billing"]["phone"] = ""
    chloe = make_customer(shop, phone="+33600000002", email="chloe.bernard@example.com")
    post(wc_conn, json.dumps(body).encode(), "order.created", delivery="1")
    body["refunds"] = [{"id": 730, "reason": "", "total": "-20.00"}]
    post(wc_conn, json.dumps(body).encode(), "order.updated", delivery="2")

    chloe.refresh_from_db()
    assert (chloe.orders_count, chloe.total_spent) == (1, Decimal("64.90"))

    body["status"] = "cancelled"
    post(wc_conn, json.dumps(body).encode(), "order.updated", delivery="3")
    chloe.refresh_from_db()
    assert (chloe.orders_count, chloe.total_spent) == (0, Decimal("0"))


def test_woocommerce_bad_signature_is_a_401(post, wc_conn, caplog):
    caplog.set_level(logging.WARNING)
    body = fixture("woocommerce/order_created.json")

    response = post(wc_conn, body, "order.created", signature=sign(body, SHOPIFY_SECRET))

    assert response.status_code == 401
    assert "invalid X-WC-Webhook-Signature" in caplog.text
    assert not Order.objects.exists()


def test_woocommerce_duplicate_delivery_is_stored_once(post, wc_conn, shop):
    body = fixture("woocommerce/order_created.json")
    post(wc_conn, body, "order.created", delivery="abc")
    response = post(wc_conn, body, "order.created", delivery="abc")

    assert response.content == b"Already received."
    assert EshopEvent.objects.count() == 1 and Order.objects.filter(shop=shop).count() == 1


def test_a_get_is_refused_without_a_500(client, wc_conn):
    assert client.get(f"/eshops/woocommerce/{wc_conn.webhook_token}/").status_code == 405


def test_an_event_the_e_shop_could_not_answer_stays_pending_and_the_sweep_applies_it(
    post, shopify_conn, shopify_fake, shop, monkeypatch
):
    from datetime import timedelta

    from django.utils import timezone

    from eshops import shopify
    from eshops.tasks import sweep_events

    monkeypatch.setattr(shopify, "sleep", lambda seconds: None)
    shopify_fake.variants = [variant_node(7101, product_id=1, title="Robe", sku="ROB-38", quantity=5)]
    connection_sync(shopify_conn)
    shopify_fake.variants[0]["inventoryQuantity"] = 3
    shopify_fake.throttle_next = 100  # Shopify keeps throttling for now

    post(shopify_conn, fixture("shopify/inventory_levels_update.json"), "inventory_levels/update")

    event = EshopEvent.objects.get()
    assert (event.state, event.attempts) == ("pending", 1) and "Throttled" in event.error
    assert Variant.objects.get(shop=shop).stock == 5

    shopify_fake.throttle_next = 0
    EshopEvent.objects.filter(pk=event.pk).update(processed_at=timezone.now() - timedelta(minutes=6))
    assert sweep_events() == 1

    event.refresh_from_db()
    assert (event.state, event.attempts) == ("processed", 2)
    assert Variant.objects.get(shop=shop).stock == 3


def test_process_again_in_the_admin_requeues_a_failed_event(
    client, owner, post, shopify_conn, shop, django_capture_on_commit_callbacks
):
    body = json.loads(fixture("shopify/orders_create.json"))
    del body["id"], body["name"]  # an order this code cannot name
    post(shopify_conn, json.dumps(body).encode(), "orders/create")
    event = EshopEvent.objects.get()
    assert event.state == "failed"

    EshopEvent.objects.filter(pk=event.pk).update(payload=fixture("shopify/orders_create.json").decode())
    client.force_login(owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/eshops/eshopevent/", {"action": "process_again", "_selected_action": [event.pk]}
        )

    assert response.status_code == 302
    event.refresh_from_db()
    assert event.state == "processed"
    assert Order.objects.filter(shop=shop, reference="SHOPIFY-#1001").exists()


def test_woocommerce_variation_update_applies_its_parent_and_variation_delete_retires_it(
    post, wc_conn, wc_fake, shop
):
    from tests.fakes.woocommerce import product

    parent = json.loads(fixture("woocommerce/product_updated.json"))
    wc_fake.products = [parent]
    wc_fake.variations = {
        501: [variation(601, sku="JEA-38", stock_quantity=1, attributes=[("Taille", "38")])]
    }
    as_product = {**product(601, "Jean droit - 38", type="variation", sku="JEA-38"), "parent_id": 501}

    post(wc_conn, json.dumps(as_product).encode(), "product.updated", delivery="1")

    variant = Variant.objects.get(shop=shop)
    assert (variant.sku, variant.product.name, variant.size, variant.stock) == (
        "JEA-38",
        "Jean droit",
        "38",
        1,
    )
    assert not Product.objects.filter(shop=shop, name="Jean droit - 38").exists()

    post(wc_conn, fixture("woocommerce/product_deleted.json"), "product.deleted", delivery="2")
    variant.refresh_from_db()
    assert variant.active is False and variant.product.active is True


def test_a_body_over_the_limit_is_refused_before_it_is_read(client, shopify_conn, settings):
    settings.WEBHOOK_MAX_BODY_BYTES = 100
    body = b'{"id": 1, "padding": "' + b"x" * 200 + b'"}'

    response = client.post(
        f"/eshops/shopify/{shopify_conn.webhook_token}/",
        body,
        content_type="application/json",
        HTTP_X_SHOPIFY_HMAC_SHA256=sign(body, SHOPIFY_SECRET),
        HTTP_X_SHOPIFY_TOPIC="products/update",
        HTTP_X_SHOPIFY_WEBHOOK_ID="big",
    )

    assert response.status_code == 413
    assert not EshopEvent.objects.exists()


def test_the_sweep_removes_applied_events_after_30_days_and_keeps_failed_ones(post, shopify_conn):
    from datetime import timedelta

    from django.utils import timezone

    from eshops.tasks import sweep_events

    post(shopify_conn, fixture("shopify/orders_create.json"), "orders/create", delivery="old")
    post(shopify_conn, b'{"id": 1}', "orders/create", delivery="old-ignored")
    post(shopify_conn, fixture("shopify/orders_create.json"), "orders/create", delivery="recent")
    EshopEvent.objects.create(
        connection=shopify_conn, topic="orders/create", delivery_id="f", payload="{}", state="failed"
    )
    EshopEvent.objects.exclude(delivery_id="recent").update(received_at=timezone.now() - timedelta(days=31))

    sweep_events()

    assert sorted(EshopEvent.objects.values_list("delivery_id", flat=True)) == ["f", "recent"]
