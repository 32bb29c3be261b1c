"""The catalogue (issue 15, item 1): products and variants per shop, their constraints, the idempotent
services, the available-stock selector, the admin scoped per shop, and the demo catalogue."""

import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.db.models.signals import post_save
from django.urls import reverse

from catalog.models import Product, Variant
from catalog.selectors import shop_products, shop_variants
from catalog.services import product_upsert, stock_set, variant_upsert_by_sku
from customers.models import Shop

pytestmark = pytest.mark.django_db


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


# --- models and constraints --------------------------------------------------------------------------


def test_a_sku_is_unique_per_shop_but_two_shops_may_share_it(shop, other_shop):
    variant = make_variant(shop)
    make_variant(other_shop)  # another shop's SKU space
    with pytest.raises(IntegrityError), transaction.atomic():
        Variant.objects.create(shop=shop, product=variant.product, sku="RB-38", price=1)


def test_an_external_id_is_unique_per_shop_and_source_when_set(shop, other_shop):
    make_variant(shop, "A", external_source="shopify", external_id="4401")
    make_variant(shop, "B")  # blank ids never clash
    make_variant(shop, "C")
    make_variant(shop, "D", external_source="woocommerce", external_id="4401")  # another source
    make_variant(other_shop, "A", external_source="shopify", external_id="4401")  # another shop
    with pytest.raises(IntegrityError), transaction.atomic():
        make_variant(shop, "E", external_source="shopify", external_id="4401")


def test_a_product_name_is_unique_per_shop_and_a_price_never_negative(shop):
    variant = make_variant(shop)
    with pytest.raises(IntegrityError), transaction.atomic():
        Product.objects.create(shop=shop, name="Robe bleue")
    with pytest.raises(IntegrityError), transaction.atomic():
        Variant.objects.create(shop=shop, product=variant.product, sku="NEG", price=Decimal("-1"))


# --- services ---------------------------------------------------------------------------------------


def test_upserts_are_idempotent_and_the_same_values_save_nothing(shop):
    first = make_variant(shop)
    saves = []

    def count(sender, instance, **kwargs):
        saves.append(instance.pk)

    post_save.connect(count, sender=Variant, dispatch_uid="test-count-variant-saves")
    try:
        again = make_variant(shop)
        assert saves == []
        changed = make_variant(shop, stock=5, price=Decimal("79.00"))
    finally:
        post_save.disconnect(sender=Variant, dispatch_uid="test-count-variant-saves")
    assert first.pk == again.pk == changed.pk and saves == [first.pk]
    assert (Product.objects.count(), Variant.objects.count()) == (1, 1)
    changed.refresh_from_db()
    assert (changed.stock, changed.price) == (5, Decimal("79.00"))


def test_variant_upsert_refuses_another_shops_product_and_unknown_fields(shop, other_shop):
    theirs, _ = product_upsert(shop=other_shop, name="Jean")
    with pytest.raises(ValueError, match="another shop"):
        variant_upsert_by_sku(shop=shop, sku="X", fields={"product": theirs, "price": Decimal("1")})
    with pytest.raises(ValueError, match="cannot set"):
        variant_upsert_by_sku(shop=shop, sku="X", fields={"shop": shop})


def test_stock_set_and_available_equals_stock_until_holds_exist(shop):
    variant = make_variant(shop, stock=2)
    stock_set(variant=variant, stock=0)
    assert shop_variants(shop=shop).get(pk=variant.pk).available == 0
    with pytest.raises(ValueError):
        stock_set(variant=variant, stock=-1)


def test_product_filters_search_name_or_sku_active_and_in_stock(shop, other_shop):
    make_variant(shop, "RB-38", name="Robe bleue", stock=2)
    make_variant(shop, "JE-40", name="Jean droit", stock=0)
    make_variant(shop, "JE-42", name="Jean droit", stock=3, active=False)  # not on sale: not in stock
    make_variant(other_shop, "RB-38", name="Robe bleue")

    def names(**filters):
        return sorted(shop_products(shop=shop, **filters).values_list("name", flat=True))

    assert names() == ["Jean droit", "Robe bleue"]
    assert names(search="robe") == ["Robe bleue"] and names(search="je-4") == ["Jean droit"]
    assert names(in_stock=True) == ["Robe bleue"] and names(in_stock=False) == ["Jean droit"]
    Product.objects.filter(name="Jean droit").update(active=False)
    assert names(active=True) == ["Robe bleue"]


# --- admin ------------------------------------------------------------------------------------------


def test_staff_sees_and_edits_their_shops_products_only(client, shop, staff, other_shop):
    mine = make_variant(shop).product
    theirs = make_variant(other_shop, "OTHER-1", name="Secret").product
    client.force_login(staff)
    listed = client.get(reverse("admin:catalog_product_changelist"))
    assert listed.status_code == 200
    assert list(listed.context["cl"].result_list) == [mine]
    assert client.get(reverse("admin:catalog_product_change", args=[theirs.pk])).status_code == 404
    assert (
        client.get(reverse("admin:catalog_variant_change", args=[theirs.variants.get().pk])).status_code
        == 404
    )
    found = client.get(reverse("admin:catalog_product_changelist") + "?q=OTHER")
    assert list(found.context["cl"].result_list) == []
    assert (
        client.get(reverse("admin:catalog_product_changelist") + "?q=RB-38").context["cl"].result_list[0]
        == mine
    )
    assert client.get(reverse("admin:catalog_product_change", args=[mine.pk])).status_code == 200


def test_staff_adds_a_product_with_a_variant_inline_in_their_shop(client, shop, staff):
    client.force_login(staff)
    data = {
        "shop": shop.pk,
        "name": "Pull col roulé",
        "category": "Mailles",
        "description": "",
        "active": "on",
        "variants-TOTAL_FORMS": "1",
        "variants-INITIAL_FORMS": "0",
        "variants-0-sku": "PUL-M",
        "variants-0-size": "M",
        "variants-0-color": "camel",
        "variants-0-price": "69.00",
        "variants-0-stock": "3",
        "variants-0-active": "on",
        "variants-0-external_source": "",
        "variants-0-external_id": "",
    }
    response = client.post(reverse("admin:catalog_product_add"), data)
    assert response.status_code == 302, response.context["errors"] if response.context else response
    variant = Variant.objects.get(sku="PUL-M")
    assert variant.shop == shop and variant.product.shop == shop


def test_staff_cannot_add_a_product_to_another_shop(client, shop, staff, other_shop):
    client.force_login(staff)
    data = {
        "shop": other_shop.pk,
        "name": "Intrus",
        "variants-TOTAL_FORMS": "0",
        "variants-INITIAL_FORMS": "0",
    }
    response = client.post(reverse("admin:catalog_product_add"), data)
    assert response.status_code in (200, 403)
    assert not Product.objects.filter(name="Intrus").exists()


def test_the_variant_form_offers_only_the_users_products(client, shop, owner, other_shop):
    make_variant(shop)
    make_variant(other_shop, "OTHER-1", name="Secret")
    client.force_login(owner)
    page = client.get(reverse("admin:catalog_variant_add"))
    assert list(page.context["adminform"].form.fields["product"].queryset) == list(
        Product.objects.filter(shop=shop)
    )


@pytest.mark.parametrize(
    "query", ["?active__exact=maybe", "?product__category=%00", "?q=" + "robe+" * 3000, "?o=99", "?id__gt=x"]
)
@pytest.mark.parametrize("model", ["product", "variant"])
def test_bad_list_input_is_never_a_500(client, owner, shop, model, query):
    make_variant(shop)
    client.force_login(owner)
    assert client.get(reverse(f"admin:catalog_{model}_changelist") + query).status_code in (200, 302)


def test_the_variant_list_shows_what_is_available_and_edits_stock_in_place(client, owner, shop):
    variant = make_variant(shop, stock=2)
    client.force_login(owner)
    page = client.get(reverse("admin:catalog_variant_changelist"))
    assert [v.available for v in page.context["cl"].result_list] == [2]
    data = {
        "form-TOTAL_FORMS": "1",
        "form-INITIAL_FORMS": "1",
        "form-0-id": str(variant.pk),
        "form-0-stock": "5",
        "form-0-price": "89.00",
        "form-0-active": "on",
        "_save": "Save",
    }
    assert client.post(reverse("admin:catalog_variant_changelist"), data).status_code == 302
    variant.refresh_from_db()
    assert variant.stock == 5 and variant.shop == shop


# --- demo -------------------------------------------------------------------------------------------


def test_seed_demo_adds_a_catalogue_once_and_keeps_the_owners_changes(db):
    out = io.StringIO()
    call_command("seed_demo", "--customers", "20", stdout=out)
    shop = Shop.objects.get(slug="maison-coccinelle")
    products, variants = Product.objects.filter(shop=shop).count(), Variant.objects.filter(shop=shop).count()
    assert products >= 5 and variants >= 20
    assert (
        Variant.objects.filter(shop=shop, stock=0).exists() and Variant.objects.filter(stock__gt=0).exists()
    )
    variant = Variant.objects.filter(shop=shop).first()
    stock_set(variant=variant, stock=variant.stock + 7)
    call_command("seed_demo", "--customers", "20", stdout=out)
    assert Variant.objects.filter(shop=shop).count() == variants
    variant.refresh_from_db()
    assert variant.stock >= 7  # the second run left the catalogue as it was


def test_customers_does_not_import_catalog():
    import pathlib

    root = pathlib.Path(__file__).resolve().parent.parent / "customers"
    offenders = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if "import catalog" in path.read_text() or "from catalog" in path.read_text()
    ]
    assert offenders == []


def test_the_demo_catalogue_is_the_evaluations_catalogue():
    """catalog/demo_catalogue.json is a copy of the evaluation's (tests/data/catalogue-demo.json): the
    demo must answer what the evaluation measures, so the two never drift apart."""
    import json
    import pathlib

    root = pathlib.Path(__file__).resolve().parent.parent
    copy = json.loads((root / "catalog" / "demo_catalogue.json").read_text(encoding="utf-8"))
    original = json.loads((root / "tests" / "data" / "catalogue-demo.json").read_text(encoding="utf-8"))
    assert copy == original


# --- races ------------------------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_pushes_of_one_new_sku_end_with_one_product_and_one_variant():
    """Eight pushes of one new SKU (and its new product) at the same instant: one insert wins, the others
    read its row and update it (idempotency by constraint, never a pre-check)."""
    from customers.services import shop_create
    from tests.concurrency import run_concurrently

    shop = shop_create(name="Course", country="FR", language="fr")

    def push():
        product, _ = product_upsert(shop=shop, name="Robe bleue")
        fields = {"product": product, "price": Decimal("89.00"), "stock": 2}
        return variant_upsert_by_sku(shop=shop, sku="RB-38", fields=fields)

    results, errors = run_concurrently(8, push)
    assert errors == []
    assert sum(created for _, created in results) == 1
    assert (Product.objects.filter(shop=shop).count(), Variant.objects.filter(shop=shop).count()) == (1, 1)
