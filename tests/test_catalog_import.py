"""manage.py import_products: columns in any order, bad lines reported by number, safe to run again."""

import io

import pytest
from django.core.management import CommandError, call_command

from catalog.models import Product, Variant

pytestmark = pytest.mark.django_db

GOOD = """name,sku,price,stock,size,color,category,supplier
Robe portefeuille,ROB-38,89.00,2,38,bleu,Robes,Atelier A
Robe portefeuille,ROB-40,"89,00",0,40,bleu,Robes,Atelier A
Jean droit,JEA-38,79,4,38,brut,,
"""


def run(tmp_path, text, shop_slug):
    path = tmp_path / "products.csv"
    path.write_text(text, encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import_products", str(path), "--shop", shop_slug, stdout=out, stderr=err)
    except CommandError as exc:
        return out.getvalue(), err.getvalue(), exc
    return out.getvalue(), err.getvalue(), None


def test_a_good_file_groups_lines_by_name_into_products(tmp_path, shop):
    out, err, error = run(tmp_path, GOOD, shop.slug)
    assert error is None and err == ""
    assert out.strip() == "3 created, 0 updated, 0 unchanged, 0 rejected"
    robe = Product.objects.get(shop=shop, name="Robe portefeuille")
    assert robe.category == "Robes"
    assert sorted(robe.variants.values_list("sku", "size", "stock")) == [
        ("ROB-38", "38", 2),
        ("ROB-40", "40", 0),
    ]
    assert str(Variant.objects.get(sku="ROB-40").price) == "89.00"


def test_running_it_again_changes_nothing_and_a_new_count_updates_by_sku(tmp_path, shop):
    run(tmp_path, GOOD, shop.slug)
    out, _, error = run(tmp_path, GOOD, shop.slug)
    assert error is None and out.strip() == "0 created, 0 updated, 3 unchanged, 0 rejected"
    out, _, _ = run(tmp_path, GOOD.replace("ROB-38,89.00,2", "ROB-38,85.00,1"), shop.slug)
    assert out.strip() == "0 created, 1 updated, 2 unchanged, 0 rejected"
    variant = Variant.objects.get(shop=shop, sku="ROB-38")
    assert (str(variant.price), variant.stock) == ("85.00", 1)
    assert (Product.objects.count(), Variant.objects.count()) == (2, 3)


def test_bad_lines_are_reported_by_number_and_the_others_go_in(tmp_path, shop):
    text = (
        "sku,name,size,color,price,stock\n"
        "OK-1,Robe,38,bleu,10,1\n"  # line 2
        ",Robe,40,bleu,10,1\n"  # 3: no SKU
        "BAD-P,Robe,40,bleu,dix,1\n"  # 4
        "BAD-S,Robe,40,bleu,10,-2\n"  # 5
        "BAD-C,Robe,40,bleu,10,1,extra\n"  # 6
        "OK-2,Jean,40,noir,10.5,0\n"  # 7
    )
    out, err, error = run(tmp_path, text, shop.slug)
    assert out.strip() == "2 created, 0 updated, 0 unchanged, 4 rejected"
    lines = err.strip().splitlines()
    assert [line.split(":")[0] for line in lines] == ["line 3", "line 4", "line 5", "line 6"]
    assert (
        "sku: empty" in lines[0] and "price" in lines[1] and "stock" in lines[2] and "more cells" in lines[3]
    )
    assert error is not None and error.returncode == 2
    assert sorted(Variant.objects.values_list("sku", flat=True)) == ["OK-1", "OK-2"]


def test_a_header_without_the_columns_is_refused_on_line_1(tmp_path, shop):
    out, err, error = run(tmp_path, "sku,name,price\nA,Robe,10\n", shop.slug)
    assert "line 1: rejected: missing column(s) in the header: size, color, stock" in err
    assert error is not None and not Variant.objects.exists()


def test_a_bad_slug_names_the_known_shops(tmp_path, shop):
    with pytest.raises(CommandError, match="No shop with slug “nope”. Known shops: "):
        path = tmp_path / "p.csv"
        path.write_text(GOOD)
        call_command("import_products", str(path), "--shop", "nope")


def test_the_import_only_touches_its_shop(tmp_path, shop, other_shop):
    run(tmp_path, GOOD, other_shop.slug)
    run(tmp_path, GOOD.replace(",2,38", ",9,38"), shop.slug)
    assert Variant.objects.get(shop=other_shop, sku="ROB-38").stock == 2
    assert Variant.objects.get(shop=shop, sku="ROB-38").stock == 9
