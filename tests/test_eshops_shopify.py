"""Full sync from Shopify's Admin GraphQL API (a local fake speaking its protocol): pagination, option
names, SKUs, stock, deactivation, idempotence, throttling, errors in a 200, and where the token goes."""

import logging

import pytest

from catalog.models import Product, Variant
from eshops import shopify, transport
from eshops.models import EshopConnection, VariantLink
from eshops.services import connection_save, connection_sync
from tests.fakes.shopify import FakeShopify, order_node, variant_node

TOKEN = "shpat_test_token"


@pytest.fixture
def fake(settings):
    with FakeShopify(token=TOKEN) as server:
        settings.ESHOPS_SHOPIFY_BASE_URL = server.url
        settings.ESHOPS_ALLOWED_HOSTS = ["127.0.0.1"]
        yield server


@pytest.fixture(autouse=True)
def _no_waiting(monkeypatch):
    waits = []
    monkeypatch.setattr(shopify, "sleep", waits.append)
    return waits


@pytest.fixture
def connection(shop):
    return connection_save(
        shop=shop,
        provider="shopify",
        fields={"shopify_domain": "coccinelle-test.myshopify.com"},
        secrets={"access_token": TOKEN, "webhook_secret": "whsec"},
    )


def catalogue(shop):
    return {
        v.sku: (v.product.name, v.size, v.color, str(v.price), v.stock, v.active)
        for v in Variant.objects.filter(shop=shop).select_related("product")
    }


def test_full_sync_reads_every_page_maps_options_and_generates_missing_skus(
    fake, connection, shop, monkeypatch
):
    monkeypatch.setattr(shopify, "PAGE_SIZE", 2)
    fake.variants = [
        variant_node(
            11,
            product_id=1,
            title="Robe portefeuille",
            sku="ROB-38",
            options=[("Taille", "38"), ("Couleur", "Bleu")],
        ),
        variant_node(
            12,
            product_id=1,
            title="Robe portefeuille",
            sku="ROB-40",
            quantity=0,
            options=[("Size", "40"), ("Colour", "Bleu")],
        ),
        variant_node(
            21,
            product_id=2,
            title="Jean droit",
            sku=None,
            price="79.50",
            options=[("Talla", "M"), ("Color", "Negro")],
        ),
        variant_node(
            31,
            product_id=3,
            title="Foulard",
            sku="",
            quantity=None,
            tracked=False,
            options=[("Title", "Default Title")],
        ),
        variant_node(41, product_id=4, title="Veste", sku="VES-1", status="DRAFT", quantity=-2),
    ]

    report = connection_sync(connection)

    assert report.error == "" and report.variants == 5 and report.created == 5
    assert catalogue(shop) == {
        "ROB-38": ("Robe portefeuille", "38", "Bleu", "89.00", 3, True),
        "ROB-40": ("Robe portefeuille", "40", "Bleu", "89.00", 0, True),
        "SHOPIFY-21": ("Jean droit", "M", "Negro", "79.50", 3, True),
        "SHOPIFY-31": ("Foulard", "", "", "89.00", shopify.UNTRACKED_STOCK, True),
        "VES-1": ("Veste", "38", "", "89.00", 0, False),  # a draft: not on sale; negative stock read as 0
    }
    variant_queries = [q for q in fake.queries() if "productVariants(" in q["query"]]
    assert len(variant_queries) == 3  # 5 variants, 2 a page
    assert [q["variables"]["cursor"] is None for q in variant_queries] == [True, False, False]
    assert Product.objects.get(shop=shop, name="Veste").active is False
    assert VariantLink.objects.get(connection=connection, external_id="11").inventory_item_id == "1011"
    connection.refresh_from_db()
    assert connection.last_sync_at is not None and '"variants": 5' in connection.last_sync_report


def test_a_second_sync_changes_nothing_and_what_disappeared_becomes_inactive(fake, connection, shop):
    fake.variants = [
        variant_node(11, product_id=1, title="Robe", sku="ROB-38"),
        variant_node(12, product_id=1, title="Robe", sku="ROB-40"),
        variant_node(21, product_id=2, title="Jean", sku="JEA-1"),
    ]
    connection_sync(connection)
    stamps = dict(Variant.objects.values_list("sku", "updated_at"))

    connection_sync(connection)
    assert dict(Variant.objects.values_list("sku", "updated_at")) == stamps  # nothing saved

    fake.variants = [variant_node(11, product_id=1, title="Robe", sku="ROB-38", quantity=1)]
    report = connection_sync(connection)

    assert report.deactivated == 2
    state = {v.sku: (v.active, v.stock) for v in Variant.objects.filter(shop=shop)}
    assert state == {"ROB-38": (True, 1), "ROB-40": (False, 3), "JEA-1": (False, 3)}
    assert Product.objects.get(shop=shop, name="Jean").active is False  # kept, not deleted
    assert Product.objects.get(shop=shop, name="Robe").active is True


def test_two_products_with_one_title_stay_two_products(fake, connection, shop):
    fake.variants = [
        variant_node(11, product_id=1, title="Robe", sku="A-1", handle="robe"),
        variant_node(21, product_id=2, title="Robe", sku="B-1", handle="robe-1"),
    ]
    connection_sync(connection)
    connection_sync(connection)  # stable names across runs

    names = {v.sku: v.product.name for v in Variant.objects.filter(shop=shop).select_related("product")}
    assert names == {"A-1": "Robe", "B-1": "Robe (robe-1)"}


def test_a_product_made_here_with_the_same_name_and_sku_is_adopted(fake, connection, shop):
    from catalog.services import product_upsert, variant_upsert_by_sku

    product, _ = product_upsert(shop=shop, name="Robe")
    variant_upsert_by_sku(shop=shop, sku="ROB-38", fields={"product": product, "price": 80, "stock": 9})
    fake.variants = [variant_node(11, product_id=1, title="Robe", sku="ROB-38", quantity=4)]

    connection_sync(connection)

    variant = Variant.objects.get(shop=shop)
    assert (variant.product_id, variant.stock, variant.external_source, variant.external_id) == (
        product.pk,
        4,
        "shopify",
        "11",
    )


def test_throttled_queries_wait_for_the_bucket_then_run_again(fake, connection, shop, _no_waiting):
    fake.variants = [variant_node(11, product_id=1, title="Robe", sku="ROB-38")]
    fake.throttle_next = 2

    report = connection_sync(connection)

    assert report.error == "" and Variant.objects.filter(shop=shop).count() == 1
    assert _no_waiting == [3.0, 3.0]  # (302 requested - 2 available) / 100 a second
    assert len(fake.requests) == 4  # twice throttled, then the variants, then the orders


def test_an_http_429_waits_and_tries_again_like_a_throttled_query(fake, connection, shop, _no_waiting):
    fake.variants = [variant_node(11, product_id=1, title="Robe", sku="ROB-38")]
    fake.too_many_next = 1

    report = connection_sync(connection)

    assert report.error == "" and Variant.objects.filter(shop=shop).count() == 1
    assert len(_no_waiting) == 1


def test_throttling_gives_up_after_a_bounded_number_of_tries(fake, connection, shop):
    fake.variants = [variant_node(11, product_id=1, title="Robe", sku="ROB-38")]
    fake.throttle_next = 100

    report = connection_sync(connection)

    assert "Throttled" in report.error
    assert len(fake.requests) == shopify.MAX_THROTTLE_RETRIES + 1


def test_an_error_in_a_200_stops_the_sync_without_deactivating_anything(fake, connection, shop):
    fake.variants = [variant_node(11, product_id=1, title="Robe", sku="ROB-38")]
    connection_sync(connection)
    fake.error_next = (
        "Access denied for productVariants field. Required access: `read_products` access scope."
    )

    report = connection_sync(connection)

    assert "Access denied" in report.error
    assert Variant.objects.get(shop=shop).active is True


def test_a_wrong_token_is_an_error_that_never_shows_the_token(fake, connection, caplog):
    connection.set_secrets({"access_token": "shpat_WRONG_secret_value"})
    connection.save()
    caplog.set_level(logging.DEBUG)

    report = connection_sync(connection)

    assert "HTTP 401" in report.error
    connection.refresh_from_db()
    for text in (report.error, caplog.text, connection.last_sync_report):
        assert "shpat_WRONG_secret_value" not in text
    assert (
        fake.requests[0].headers["X-Shopify-Access-Token"] == "shpat_WRONG_secret_value"
    )  # sent, to the fake


def test_the_token_only_goes_to_the_store_s_myshopify_host(settings, connection):
    settings.ESHOPS_SHOPIFY_BASE_URL = ""
    settings.ESHOPS_ALLOWED_HOSTS = []
    assert (
        shopify.graphql_url(connection)
        == "https://coccinelle-test.myshopify.com/admin/api/2026-10/graphql.json"
    )

    with FakeShopify(token=TOKEN) as elsewhere:
        # A domain stored by going around the form (or an override left in place) is refused at call time.
        EshopConnection.objects.filter(pk=connection.pk).update(shopify_domain="127.0.0.1")
        connection.refresh_from_db()
        settings.ESHOPS_SHOPIFY_BASE_URL = elsewhere.url  # 127.0.0.1 is not in ESHOPS_ALLOWED_HOSTS
        report = connection_sync(connection)

        assert "refused to call 127.0.0.1" in report.error
        assert elsewhere.requests == []
    problem = transport.url_problem("https://evil.example/admin/api/2026-10/graphql.json", "shopify")
    assert problem == "a Shopify token only goes to https://<store>.myshopify.com"


@pytest.mark.parametrize(
    "domain",
    [
        "evil.example",
        "https://shop.myshopify.com",
        "shop.myshopify.com.evil.example",
        "shop.myshopify.com/admin",
        "user@shop.myshopify.com",
        "",
    ],
)
def test_a_store_domain_that_is_not_a_myshopify_name_is_refused(shop, domain):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as error:
        connection_save(shop=shop, provider="shopify", fields={"shopify_domain": domain}, secrets={})
    assert "shopify_domain" in error.value.message_dict
    assert not EshopConnection.objects.exists()


def test_secrets_are_stored_encrypted(connection):
    connection.refresh_from_db()
    assert TOKEN not in connection.secrets_encrypted
    assert connection.secrets == {"access_token": TOKEN, "webhook_secret": "whsec"}


def test_full_sync_reads_recent_orders_onto_the_right_customers(fake, connection, shop, make_customer):
    from datetime import timedelta

    from django.utils import timezone

    from customers.models import Customer, Order

    julie = make_customer(shop, phone="+33612345678")
    fake.orders = [
        order_node(1001, total="89.00", phone="06 12 34 56 78"),
        order_node(
            1002,
            total="45.50",
            customer={
                "firstName": "Léa",
                "lastName": "Petit",
                "defaultEmailAddress": {"emailAddress": "lea@example.com"},
                "defaultPhoneNumber": None,
            },
        ),
        order_node(1003, total="10.00"),  # no phone, no e-mail: nobody to attach it to
        order_node(1004, total="30.00", email="lea@example.com", cancelled_at="2026-11-21T10:00:00Z"),
    ]

    report = connection_sync(connection)

    assert (report.error, report.orders, report.orders_skipped) == ("", 3, 1)
    orders = dict(Order.objects.filter(shop=shop).values_list("reference", "customer__email"))
    assert orders == {"SHOPIFY-#1001": julie.email, "SHOPIFY-#1002": "lea@example.com"}
    assert Customer.objects.get(shop=shop, email="lea@example.com").first_name == "Léa"
    query = [q for q in fake.queries() if "orders(" in q["query"]][0]
    since = (timezone.now() - timedelta(days=60, hours=1)).date().isoformat()
    assert query["variables"]["query"].startswith(f"updated_at:>='{since}")

    connection.refresh_from_db()
    synced = connection.orders_synced_at
    connection_sync(connection)  # the next sync asks from the last one (less an hour), changes nothing
    next_query = [q for q in fake.queries() if "orders(" in q["query"]][-1]
    assert next_query["variables"]["query"] == (
        f"updated_at:>='{(synced - timedelta(hours=1)).strftime('%Y-%m-%dT%H:%M:%SZ')}'"
    )
    assert Order.objects.filter(shop=shop).count() == 2


def test_a_product_the_catalogue_refuses_is_skipped_and_nothing_is_switched_off(fake, connection, shop):
    fake.variants = [
        variant_node(11, product_id=1, title="Robe", sku="ROB-38"),
        variant_node(21, product_id=2, title="Jean", sku="JEA-1"),
    ]
    connection_sync(connection)
    fake.variants = [
        variant_node(11, product_id=1, title="Robe", sku="ROB-38", quantity=7),
        variant_node(21, product_id=2, title="Jean", sku="JEA-1", price="99999999999.00"),  # beyond a price
    ]

    report = connection_sync(connection)

    assert report.rejected == 1 and report.deactivated == 0
    state = {v.sku: (v.stock, v.active, str(v.price)) for v in Variant.objects.filter(shop=shop)}
    assert state == {"ROB-38": (7, True, "89.00"), "JEA-1": (3, True, "89.00")}


def test_a_sku_changed_in_shopify_retires_the_old_variant_and_makes_the_new_one(fake, connection, shop):
    fake.variants = [variant_node(11, product_id=1, title="Robe", sku="OLD-38")]
    connection_sync(connection)
    fake.variants = [variant_node(11, product_id=1, title="Robe", sku="NEW-38")]

    connection_sync(connection)

    state = {v.sku: (v.active, v.external_id) for v in Variant.objects.filter(shop=shop)}
    assert state == {"OLD-38": (False, ""), "NEW-38": (True, "11")}
    assert VariantLink.objects.get(connection=connection, external_id="11").variant.sku == "NEW-38"


def test_two_shopify_variants_with_one_sku_stay_two_variants(fake, connection, shop):
    fake.variants = [
        variant_node(11, product_id=1, title="Robe", sku="DUP"),
        variant_node(12, product_id=1, title="Robe", sku="DUP", options=[("Size", "40")]),
    ]
    connection_sync(connection)
    connection_sync(connection)  # and they do not swap at the next sync

    state = {v.sku: (v.external_id, v.size) for v in Variant.objects.filter(shop=shop)}
    assert state == {"DUP": ("11", "38"), "SHOPIFY-12": ("12", "40")}
