"""Full sync from WooCommerce's REST API v3 (a local fake): pages by X-WP-TotalPages, variations,
attributes, unmanaged stock, statuses, deactivation, idempotence, Basic auth, https only."""

import logging

import pytest
from django.core.exceptions import ValidationError

from catalog.models import Product, Variant
from eshops import woocommerce
from eshops.services import connection_save, connection_sync
from tests.fakes.woocommerce import FakeWooCommerce, product, variation


@pytest.fixture
def fake(settings):
    with FakeWooCommerce(key="ck_live_key", secret="cs_live_secret") as server:
        settings.ESHOPS_ALLOWED_HOSTS = ["127.0.0.1"]
        yield server


@pytest.fixture
def connection(shop, fake):
    return connection_save(
        shop=shop,
        provider="woocommerce",
        fields={"site_url": fake.url},
        secrets={
            "consumer_key": "ck_live_key",
            "consumer_secret": "cs_live_secret",
            "webhook_secret": "wcsec",
        },
    )


def catalogue(shop):
    return {
        v.sku: (v.product.name, v.size, v.color, str(v.price), v.stock, v.active)
        for v in Variant.objects.filter(shop=shop).select_related("product")
    }


def test_full_sync_reads_pages_variations_and_attributes(fake, connection, shop, monkeypatch):
    monkeypatch.setattr(woocommerce, "PER_PAGE", 2)
    fake.products = [
        product(
            501,
            "Jean droit",
            type="variable",
            variations=[601, 602, 603],
            price="79.00",
            category="Pantalons",
        ),
        product(502, "Foulard", sku="FOU-1", price="25.00", manage_stock=False, stock_status="instock"),
        product(503, "Veste", sku="", price="120.00", stock_quantity=2, status="draft"),
        product(504, "Bonnet", sku="BON-1", price="", stock_quantity=1),  # no price: cannot be sold here
    ]
    fake.variations = {
        501: [
            variation(601, sku="JEA-38", attributes=[("Taille", "38"), ("Couleur", "Noir")]),
            variation(602, sku="", stock_quantity=0, attributes=[("pa_size", "40"), ("Colour", "Noir")]),
            variation(603, sku="JEA-42", manage_stock="parent", attributes=[("Size", "42")]),
        ]
    }
    fake.products[0]["manage_stock"], fake.products[0]["stock_quantity"] = True, 7

    report = connection_sync(connection)

    assert report.error == "" and report.rejected == 1
    assert catalogue(shop) == {
        "JEA-38": ("Jean droit", "38", "Noir", "79.00", 2, True),
        "WC-602": ("Jean droit", "40", "Noir", "79.00", 0, True),
        "JEA-42": ("Jean droit", "42", "", "79.00", 7, True),  # the parent's stock
        "FOU-1": ("Foulard", "", "", "25.00", woocommerce.UNTRACKED_STOCK, True),
        "WC-503": ("Veste", "", "", "120.00", 2, False),  # a draft is not on sale
    }
    assert Product.objects.get(shop=shop, name="Jean droit").category == "Pantalons"
    product_pages = [r for r in fake.requests if r.path.endswith("/products")]
    assert [r.query["page"] for r in product_pages] == [["1"], ["2"]]
    assert all(r.query["per_page"] == ["2"] for r in fake.requests)


def test_a_second_sync_changes_nothing_and_missing_products_become_inactive(fake, connection, shop):
    fake.products = [product(502, "Foulard", sku="FOU-1"), product(505, "Ceinture", sku="CEI-1")]
    connection_sync(connection)
    stamps = dict(Variant.objects.values_list("sku", "updated_at"))
    connection_sync(connection)
    assert dict(Variant.objects.values_list("sku", "updated_at")) == stamps

    fake.products = [product(502, "Foulard", sku="FOU-1", stock_quantity=0, manage_stock=True)]
    report = connection_sync(connection)

    assert report.deactivated == 1
    assert {v.sku: (v.active, v.stock) for v in Variant.objects.filter(shop=shop)} == {
        "FOU-1": (True, 0),
        "CEI-1": (False, 4),
    }
    assert Product.objects.get(shop=shop, name="Ceinture").active is False


def test_wrong_keys_stop_the_sync_and_never_appear_in_the_report(fake, connection, shop, caplog):
    connection.set_secrets({"consumer_key": "ck_live_key", "consumer_secret": "cs_WRONG_value"})
    connection.save()
    caplog.set_level(logging.DEBUG)

    report = connection_sync(connection)

    assert "HTTP 401" in report.error and "cannot list resources" in report.error
    connection.refresh_from_db()
    for text in (report.error, caplog.text, connection.last_sync_report):
        assert "cs_WRONG_value" not in text
    assert not Variant.objects.filter(shop=shop).exists()


@pytest.mark.parametrize("url", ["http://boutique.example", "ftp://boutique.example", "boutique.example", ""])
def test_the_site_must_be_https_except_allowed_local_hosts(shop, settings, url):
    settings.ESHOPS_ALLOWED_HOSTS = ["127.0.0.1"]
    with pytest.raises(ValidationError) as error:
        connection_save(shop=shop, provider="woocommerce", fields={"site_url": url}, secrets={})
    assert "site_url" in error.value.message_dict


def test_an_https_site_is_accepted(shop):
    connection = connection_save(
        shop=shop, provider="woocommerce", fields={"site_url": "https://boutique.example"}, secrets={}
    )
    assert woocommerce.api_url(connection, "products") == "https://boutique.example/wp-json/wc/v3/products"


def test_full_sync_reads_orders_changed_since_the_last_one(fake, connection, shop, make_customer):
    import json
    from pathlib import Path

    from customers.models import Order

    order = json.loads((Path(__file__).parent / "fixtures/woocommerce/order_created.json").read_text())
    chloe = make_customer(shop, phone="+33698765432")
    fake.orders = [order, {**order, "id": 728, "number": "728", "status": "cancelled"}]

    report = connection_sync(connection)

    assert (report.error, report.orders) == ("", 2)
    assert list(Order.objects.filter(shop=shop).values_list("reference", "customer_id")) == [
        ("WC-727", chloe.pk)
    ]
    request = [r for r in fake.requests if r.path.endswith("/orders")][0]
    assert request.query["status"] == ["any"] and request.query["dates_are_gmt"] == ["true"]
    assert "modified_after" in request.query
