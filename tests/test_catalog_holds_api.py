"""/api/v1/holds/: read with any key, create and act with the write scope, 409 `out_of_stock` on the last
unit, another shop's holds, customers and variants a 404 (or a 400 naming the field in a body)."""

import pytest

from catalog.models import Hold
from tests.test_catalog import make_variant

pytestmark = pytest.mark.django_db
HOLDS = "/api/v1/holds/"


def test_create_by_sku_then_again_extends_then_409_for_another_customer(shop, api_client, make_customer):
    variant = make_variant(shop, stock=1)
    first, second = make_customer(shop), make_customer(shop)
    client = api_client(shop, "write")
    created = client.post(HOLDS, {"customer": first.pk, "sku": "RB-38"}, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert created["Location"] == body["url"] and body["state"] == "active" and body["variant"] == variant.pk
    again = client.post(HOLDS, {"customer": first.pk, "variant": variant.pk}, format="json")
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    refused = client.post(HOLDS, {"customer": second.pk, "sku": "RB-38"}, format="json")
    assert refused.status_code == 409 and refused.json()["error"] == "out_of_stock"
    assert client.get("/api/v1/variants/").json()["results"][0]["available"] == 0


def test_bad_bodies_are_400s_naming_the_field(shop, other_shop, api_client, make_customer):
    make_variant(shop)
    theirs = make_customer(other_shop)
    client = api_client(shop, "write")
    both = client.post(
        HOLDS, {"customer": make_customer(shop).pk, "sku": "RB-38", "variant": 1}, format="json"
    )
    assert both.status_code == 400 and "variant" in both.json()["fields"]
    other = client.post(HOLDS, {"customer": theirs.pk, "sku": "RB-38"}, format="json")
    assert other.status_code == 400 and "customer" in other.json()["fields"]


def test_list_filters_and_actions(shop, api_client, make_customer):
    variant = make_variant(shop, stock=3)
    customer = make_customer(shop)
    client = api_client(shop, "write")
    hold_id = client.post(HOLDS, {"customer": customer.pk, "variant": variant.pk}, format="json").json()["id"]
    other = client.post(HOLDS, {"customer": make_customer(shop).pk, "variant": variant.pk}, format="json")
    assert [h["id"] for h in client.get(HOLDS, {"customer": customer.pk}).json()["results"]] == [hold_id]
    assert client.get(HOLDS, {"state": "converted"}).json()["results"] == []
    assert client.get(HOLDS, {"state": "nope"}).status_code == 400
    assert client.post(f"{HOLDS}{hold_id}/extend/", {"hours": 48}, format="json").status_code == 200
    converted = client.post(f"{HOLDS}{hold_id}/convert/").json()
    assert converted["state"] == "converted" and converted["order"] is not None
    again = client.post(f"{HOLDS}{hold_id}/release/")
    assert again.status_code == 409 and again.json()["error"] == "not_active"
    released = client.post(f"{HOLDS}{other.json()['id']}/release/")
    assert released.json()["state"] == "released"
    variant.refresh_from_db()
    assert variant.stock == 2


def test_a_read_key_cannot_write_and_another_shops_hold_is_a_404(shop, other_shop, api_client, make_customer):
    from catalog.holds import hold_create

    mine = hold_create(customer=make_customer(shop), variant=make_variant(shop))
    theirs = hold_create(customer=make_customer(other_shop), variant=make_variant(other_shop))
    reader = api_client(shop, "read")
    assert reader.get(f"{HOLDS}{mine.pk}/").status_code == 200
    assert reader.post(f"{HOLDS}{mine.pk}/release/").status_code == 403
    assert (
        reader.post(HOLDS, {"customer": mine.customer_id, "sku": "RB-38"}, format="json").status_code == 403
    )
    writer = api_client(shop, "write")
    assert writer.get(f"{HOLDS}{theirs.pk}/").status_code == 404
    assert writer.post(f"{HOLDS}{theirs.pk}/release/").status_code == 404
    assert [h["id"] for h in writer.get(HOLDS).json()["results"]] == [mine.pk]
    assert Hold.objects.get(pk=theirs.pk).state == "active"
