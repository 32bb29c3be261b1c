"""Security regressions of what people type (issue #8): tags in CSV (10), text lengths (14), invisible
characters in names (15)."""

import csv
import io

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from customers.csv_io import customers_csv_text, import_customers_csv
from customers.models import Customer, Note, Shop
from customers.services import (
    customer_get_or_create,
    customer_update,
    customers_add_tag,
    note_add,
    shop_create,
    shop_update,
    tags_get_or_create,
)
from customers.text import clean_name
from webhooks.names import name_from_profile, name_from_text

pytestmark = pytest.mark.django_db

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
RLO, PDF, ZWSP, ZWNJ, ZWJ, LRI, PDI, BOM = (
    "\u202e",
    "\u202c",
    "\u200b",
    "\u200c",
    "\u200d",
    "\u2066",
    "\u2069",
    "\ufeff",
)


def exported(customer) -> dict:
    (row,) = csv.DictReader(io.StringIO(customers_csv_text(Customer.objects.filter(pk=customer.pk))))
    return row


def import_text(shop, text):
    return import_customers_csv(shop=shop, stream=io.StringIO(text))


# --- 10. every tag of an export is neutralised ------------------------------------------------------


def test_export_neutralises_every_tag_not_only_the_first(shop, make_customer):
    customer = make_customer(shop, first_name="Alice")
    for name in ("+x", "=cmd|' /C calc'!A0", "@SUM(1+1)", "fidèle"):
        customers_add_tag(shop=shop, customers=[customer], name=name)
    cell = exported(customer)["tags"]
    # What a spreadsheet told to split on ";" makes of the cell: one cell per tag, none a formula.
    assert cell.split(";") == ["'+x", "'=cmd|' /C calc'!A0", "'@SUM(1+1)", "fidèle"]
    assert not any(part.startswith(FORMULA_STARTS) for part in cell.split(";"))


def test_import_removes_the_quote_of_each_tag(shop):
    report = import_text(shop, "phone,tags\n0611223344,'+x;'=cmd;fidèle\n")
    assert report.created == 1
    customer = Customer.objects.get(phone="+33611223344")
    assert sorted(customer.tags.values_list("name", flat=True)) == ["+x", "=cmd", "fidèle"]


def test_tags_round_trip_through_export_and_import(shop, other_shop, make_customer):
    customer = make_customer(shop, first_name="Alice", phone="+33611223344")
    names = ["+x", "-10%", "=cmd", "@home", "vip"]
    for name in names:
        customers_add_tag(shop=shop, customers=[customer], name=name)
    report = import_text(other_shop, customers_csv_text(Customer.objects.filter(pk=customer.pk)))
    assert report.created == 1
    twin = Customer.objects.get(shop=other_shop)
    assert sorted(twin.tags.values_list("name", flat=True)) == names


# --- 14. lengths --------------------------------------------------------------------------------------


def test_a_note_over_5000_characters_is_refused_on_the_page(client, owner, shop, make_customer):
    customer = make_customer(shop, first_name="Alice")
    client.force_login(owner)
    url = reverse("dashboard:customer-note-add", args=[customer.pk])
    response = client.post(url, {"body": "x" * 5001})
    assert response.status_code == 400 and response.context["note_form"].errors["body"]
    assert not Note.objects.exists()
    assert client.post(url, {"body": "x" * 5000}).status_code == 302
    assert Note.objects.get().body == "x" * 5000


def test_the_admin_refuses_an_over_long_note(client, owner, shop, make_customer):
    customer = make_customer(shop, first_name="Alice")
    client.force_login(owner)
    response = client.post(reverse("admin:customers_note_add"), {"customer": customer.pk, "body": "x" * 5001})
    assert response.status_code == 200 and response.context["adminform"].form.errors["body"]
    assert not Note.objects.exists()
    page = client.get(reverse("admin:customers_customer_change", args=[customer.pk]))
    note_inline = next(f for f in page.context["inline_admin_formsets"] if f.formset.model is Note)
    assert note_inline.formset.forms[0].fields["body"].max_length == 5000


def test_the_shop_settings_refuse_an_over_long_address(client, owner, shop):
    client.force_login(owner)
    data = {**client.get("/dashboard/shop/").context["form"].initial, "address": "x" * 1001}
    data = {k: "" if v is None else v for k, v in data.items() if k != "id"}
    response = client.post("/dashboard/shop/", data)
    assert response.status_code == 400 and "address" in response.context["form"].errors
    shop.refresh_from_db()
    assert shop.address == ""


def test_services_refuse_over_long_text_whoever_calls(shop, make_customer):
    customer = make_customer(shop, first_name="Alice")
    with pytest.raises(ValidationError, match="5,000"):
        note_add(customer=customer, body="x" * 5001)
    with pytest.raises(ValidationError) as refused:
        customer_update(customer=customer, fields={"first_name": "x" * 101, "city": "y" * 101})
    assert set(refused.value.message_dict) == {"first_name", "city"}
    with pytest.raises(ValidationError):
        shop_update(shop=shop, fields={"opening_hours": "x" * 1001})
    with pytest.raises(ValidationError):
        tags_get_or_create(shop=shop, names=["x" * 65])
    with pytest.raises(ValidationError):
        shop_create(name="x" * 201, country="FR")
    customer.refresh_from_db()
    assert customer.first_name == "Alice" and not customer.notes.exists()


def test_import_rejects_a_line_with_an_over_long_value(shop):
    report = import_text(
        shop,
        f"first_name,phone,tags\n{'x' * 101},0611223344,\nAlice,0611223355,{'t' * 65}\nBob,0611223366,ok\n",
    )
    assert report.created == 1
    assert [line for line, _ in report.rejected] == [2, 3]
    assert "first_name: at most 100 characters" in report.rejected[0][1]
    assert "tags: at most 64 characters" in report.rejected[1][1]


# --- 15. names without invisible characters -----------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        (f"{RLO}enilA{PDF}", "enilA"),  # shown as "Aline" by the override
        (f"Ju{ZWSP}lie", "Julie"),
        (f"{BOM}Martin{LRI}x{PDI}", "Martinx"),
        (f"Ju{ZWJ}lie", "Julie"),  # a joiner between Latin letters only hides a difference
        (f"{ZWNJ}Julie{ZWJ}", "Julie"),
        ("  Jean \n Paul\x00 ", "Jean Paul"),
        (f"علی{ZWNJ}رضا", f"علی{ZWNJ}رضا"),  # Persian: the ZWNJ is part of the spelling
        (f"क्{ZWJ}ष", f"क्{ZWJ}ष"),  # Devanagari: the ZWJ chooses the conjunct's form
        ("Élodie O'Brien-Dupont", "Élodie O'Brien-Dupont"),
    ],
)
def test_clean_name(raw, clean):
    assert clean_name(raw) == clean


def test_the_edit_page_stores_names_without_invisible_characters(client, owner, shop, make_customer):
    customer = make_customer(shop, first_name="Alice", phone="+33698765432")
    client.force_login(owner)
    data = {"first_name": f"{RLO}Julie{PDF}", "last_name": f"Mar{ZWSP}tin", "phone": "0698765432",
            "segment": "prospect", "tags": ""}  # fmt: skip
    response = client.post(reverse("dashboard:customer-edit", args=[customer.pk]), data)
    assert response.status_code == 302
    customer.refresh_from_db()
    assert (customer.first_name, customer.last_name) == ("Julie", "Martin")


def test_the_admin_stores_names_without_invisible_characters(client, owner, shop):
    client.force_login(owner)
    url = reverse("admin:customers_customer_add")
    data = {"shop": shop.pk, "first_name": f"{RLO}Julie", "last_name": f"Martin{LRI}",
            "phone": "0611223344", "segment": "prospect"}  # fmt: skip
    for inline in client.get(url).context["inline_admin_formsets"]:
        management = inline.formset.management_form
        data.update({management.add_prefix(name): "0" for name in ("TOTAL_FORMS", "INITIAL_FORMS")})
    response = client.post(url, data)
    assert response.status_code == 302
    customer = Customer.objects.get(phone="+33611223344")
    assert (customer.first_name, customer.last_name) == ("Julie", "Martin")


def test_services_and_import_store_names_without_invisible_characters(shop, make_customer):
    customer = make_customer(shop, first_name="Alice")
    customer_update(customer=customer, fields={"first_name": f"Ju{ZWSP}lie{RLO}"})
    assert Customer.objects.get(pk=customer.pk).first_name == "Julie"
    created, _ = customer_get_or_create(shop=shop, phone="+33611223399", defaults={"last_name": f"{BOM}Roy"})
    assert created.last_name == "Roy"
    import_text(shop, f"first_name,last_name,phone\n{RLO}Paul,Du{ZWJ}pont,0611223388\n")
    imported = Customer.objects.get(phone="+33611223388")
    assert (imported.first_name, imported.last_name) == ("Paul", "Dupont")
    shop_update(shop=shop, fields={"name": f"{RLO}Maison"})
    assert Shop.objects.get(pk=shop.pk).name == "Maison"


def test_names_read_from_messages_drop_invisible_characters():
    found = name_from_text(f"Bonjour, je m'appelle Ju{ZWSP}lie Mar{ZWJ}tin")
    assert (found.first_name, found.last_name) == ("Julie", "Martin")
    found = name_from_profile(f"{RLO}Julie Mar{ZWSP}tin{PDF}")
    assert (found.first_name, found.last_name) == ("Julie", "Martin")


def test_message_bodies_keep_their_characters(shop, make_customer):
    """Only names are cleaned: a message is shown escaped, exactly as sent."""
    customer = make_customer(shop, first_name="Alice")
    note = note_add(customer=customer, body=f"{RLO}txet")
    assert note.body == f"{RLO}txet"
