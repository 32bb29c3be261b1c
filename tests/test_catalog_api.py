"""/api/v1/products/ and /api/v1/variants/: read with any key, write with the write scope, another
shop's rows a 404 everywhere, and the by-SKU push idempotent."""

from decimal import Decimal

import pytest

from catalog.models import Product, Variant
from catalog.services import product_upsert, variant_upsert_by_sku

pytestmark = pytest.mark.django_db
PRODUCTS, VARIANTS = "/api/v1/products/", "/api/v1/variants/"


def make_variant(shop, sku="RB-38", *, name="Robe bleue", stock=2, **fields):
    product, _ = product_upsert(shop=shop, name=name)
    fields = {
        "product": product,
        "size": "38",
        "color": "bleu",
        "price": Decimal("89.00"),
        "stock": stock,
        **fields,
    }
    return variant_upsert_by_sku(shop=shop, sku=sku, fields=fields)[0]


def test_list_and_retrieve_products_with_their_variants_and_filters(shop, api_client):
    variant = make_variant(shop)
    make_variant(shop, "JE-40", name="Jean droit", stock=0)
    client = api_client(shop, "read")
    page = client.get(PRODUCTS).json()
    assert [p["name"] for p in page["results"]] == ["Jean droit", "Robe bleue"]  # newest first
    robe = client.get(f"{PRODUCTS}{variant.product_id}/").json()
    [listed] = robe["variants"]
    assert (listed["sku"], listed["stock"], listed["available"], listed["price"]) == ("RB-38", 2, 2, "89.00")
    assert listed["url"].endswith(f"/api/v1/variants/{variant.pk}/")
    assert [p["name"] for p in client.get(PRODUCTS, {"in_stock": "true"}).json()["results"]] == ["Robe bleue"]
    assert [p["name"] for p in client.get(PRODUCTS, {"search": "je-40"}).json()["results"]] == ["Jean droit"]
    assert client.get(PRODUCTS, {"active": "false"}).json()["results"] == []
    assert client.get(PRODUCTS, {"in_stock": "maybe"}).json()["error"] == "invalid"


def test_create_patch_and_delete_a_product_with_the_write_scope(shop, api_client):
    client = api_client(shop, "write")
    created = client.post(PRODUCTS, {"name": "Trench", "category": "Manteaux"}, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert created["Location"] == body["url"] and body["variants"] == []
    again = client.post(PRODUCTS, {"name": "Trench"}, format="json")
    assert again.status_code == 409 and again.json()["existing"] == body["url"]
    patched = client.patch(f"{PRODUCTS}{body['id']}/", {"active": False}, format="json")
    assert patched.status_code == 200 and patched.json()["active"] is False
    client.post(PRODUCTS, {"name": "Jupe"}, format="json")
    taken = client.patch(f"{PRODUCTS}{body['id']}/", {"name": "Jupe"}, format="json")
    assert taken.status_code == 409 and taken.json()["error"] == "conflict"
    assert client.delete(f"{PRODUCTS}{body['id']}/").status_code == 204
    assert not Product.objects.filter(pk=body["id"]).exists()


def test_a_read_key_cannot_write(shop, api_client):
    variant = make_variant(shop)
    client = api_client(shop, "read")
    calls = [
        client.post(PRODUCTS, {"name": "X"}, format="json"),
        client.patch(f"{PRODUCTS}{variant.product_id}/", {"active": False}, format="json"),
        client.delete(f"{PRODUCTS}{variant.product_id}/"),
        client.patch(f"{VARIANTS}{variant.pk}/", {"stock": 0}, format="json"),
        client.put(f"{VARIANTS}by-sku/RB-38/", {"stock": 0}, format="json"),
    ]
    assert [c.status_code for c in calls] == [403] * 5
    assert {c.json()["error"] for c in calls} == {"permission_denied"}
    variant.refresh_from_db()
    assert variant.stock == 2 and variant.product.active


def test_another_shops_products_and_variants_are_404_everywhere(shop, other_shop, api_client):
    theirs = make_variant(other_shop, "SECRET-1", name="Secret")
    client = api_client(shop, "write")
    calls = [
        client.get(f"{PRODUCTS}{theirs.product_id}/"),
        client.patch(f"{PRODUCTS}{theirs.product_id}/", {"active": False}, format="json"),
        client.delete(f"{PRODUCTS}{theirs.product_id}/"),
        client.get(f"{VARIANTS}{theirs.pk}/"),
        client.patch(f"{VARIANTS}{theirs.pk}/", {"stock": 0}, format="json"),
    ]
    assert [c.status_code for c in calls] == [404] * 5
    assert client.get(PRODUCTS).json()["results"] == [] and client.get(VARIANTS).json()["results"] == []
    assert client.get(PRODUCTS, {"search": "SECRET"}).json()["results"] == []
    # Their product in a push is no product; their SKU is a new one of ours.
    refused = client.put(
        f"{VARIANTS}by-sku/NEW/", {"product": theirs.product_id, "price": "1"}, format="json"
    )
    assert refused.status_code == 400 and list(refused.json()["fields"]) == [
        "product"
    ]  # another shop's: no such product
    ours = client.put(f"{VARIANTS}by-sku/SECRET-1/", {"product_name": "Mine", "price": "1"}, format="json")
    assert ours.status_code == 201
    theirs.refresh_from_db()
    assert theirs.stock == 2 and theirs.product.active and theirs.product.name == "Secret"


def test_patch_a_variant_stock_price_and_active(shop, api_client):
    variant = make_variant(shop)
    client = api_client(shop, "write")
    response = client.patch(
        f"{VARIANTS}{variant.pk}/", {"stock": 0, "price": "79.50", "active": False}, format="json"
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["stock"], body["available"], body["price"], body["active"]) == (0, 0, "79.50", False)
    assert client.patch(f"{VARIANTS}{variant.pk}/", {"stock": -1}, format="json").status_code == 400
    assert client.get(VARIANTS, {"in_stock": "true"}).json()["results"] == []


def test_the_by_sku_push_is_idempotent_201_then_200(shop, api_client):
    client = api_client(shop, "write")
    push = {
        "product_name": "Robe portefeuille",
        "size": "38",
        "color": "bleu",
        "price": "89.00",
        "stock": 2,
        "external_source": "shopify",
        "external_id": "4401",
    }
    first = client.put(f"{VARIANTS}by-sku/ROB-38/", push, format="json")
    second = client.put(f"{VARIANTS}by-sku/ROB-38/", push, format="json")
    assert (first.status_code, second.status_code) == (201, 200), first.json()
    assert first["Location"] == first.json()["url"]
    assert first.json() == second.json()
    assert (Product.objects.count(), Variant.objects.count()) == (1, 1)
    count = client.put(f"{VARIANTS}by-sku/ROB-38/", {"stock": 1}, format="json")
    assert count.status_code == 200 and count.json()["stock"] == 1 and count.json()["price"] == "89.00"


def test_the_by_sku_push_refuses_what_it_cannot_make(shop, api_client):
    make_variant(shop, "TAKEN", external_source="shopify", external_id="4401")
    client = api_client(shop, "write")
    new = client.put(f"{VARIANTS}by-sku/NEW-1/", {"stock": 2}, format="json")
    assert new.status_code == 400 and set(new.json()["fields"]) == {"product", "price"}
    clash = client.put(
        f"{VARIANTS}by-sku/NEW-1/",
        {"product_name": "Jean", "price": "1", "external_source": "shopify", "external_id": "4401"},
        format="json",
    )
    assert clash.status_code == 409 and clash.json()["fields"] == {"external_id": [clash.json()["detail"]]}
    assert not Product.objects.filter(name="Jean").exists()  # the refused push made nothing
    too_long = client.put(f"{VARIANTS}by-sku/{'X' * 65}/", {"stock": 1}, format="json")
    assert too_long.status_code == 400 and "sku" in too_long.json()["fields"]
