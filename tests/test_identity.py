from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from customers.models import AuditEntry, Customer, Interaction, Note, Order
from customers.selectors import customer_search_filter, duplicate_groups
from customers.services import customer_get_or_create, customer_merge, customers_add_tag, tags_get_or_create
from tests.concurrency import run_concurrently


def test_get_or_create_finds_by_phone_then_creates(shop):
    customer, created = customer_get_or_create(shop=shop, phone="+33698765432", defaults={"source": "sms"})
    again, created_again = customer_get_or_create(shop=shop, phone="+33698765432")
    assert created and not created_again
    assert again.pk == customer.pk
    assert customer.source == "sms"


def test_get_or_create_by_whatsapp_user_id_without_phone(shop):
    customer, created = customer_get_or_create(shop=shop, whatsapp_user_id="FR.abc123")
    again, _ = customer_get_or_create(shop=shop, whatsapp_user_id="FR.abc123")
    assert created and again.pk == customer.pk and customer.phone is None


def test_get_or_create_by_email_ignores_case(shop):
    customer, _ = customer_get_or_create(shop=shop, email="Julie@Example.com")
    again, created = customer_get_or_create(shop=shop, email="julie@example.com")
    assert not created and again.pk == customer.pk
    assert customer.email == "julie@example.com"


def test_same_phone_in_two_shops_is_two_customers(shop, other_shop):
    a, _ = customer_get_or_create(shop=shop, phone="+33698765432")
    b, created = customer_get_or_create(shop=other_shop, phone="+33698765432")
    assert created and a.pk != b.pk


def test_database_enforces_one_customer_per_phone_and_email(shop, make_customer):
    make_customer(shop, phone="+33698765432", email="a@example.com")
    with pytest.raises(IntegrityError), transaction.atomic():
        Customer.objects.create(shop=shop, phone="+33698765432")
    with pytest.raises(IntegrityError), transaction.atomic():
        Customer.objects.create(shop=shop, email="A@example.com", phone=None)


def test_many_customers_without_phone_or_email_are_allowed(shop):
    Customer.objects.create(shop=shop, first_name="A", phone=None, email=None)
    Customer.objects.create(shop=shop, first_name="B", phone=None, email=None)
    assert Customer.objects.filter(shop=shop).count() == 2


def test_clean_normalises_phone_with_shop_country(shop):
    customer = Customer(shop=shop, first_name="Julie", phone="06 98 76 54 32", email="")
    customer.full_clean()
    assert customer.phone == "+33698765432"
    assert customer.email is None


def test_clean_rejects_garbage_phone_with_a_message(shop):
    customer = Customer(shop=shop, first_name="Julie", phone="SUPPORT")
    with pytest.raises(ValidationError) as excinfo:
        customer.full_clean()
    assert "phone" in excinfo.value.message_dict


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_first_contact_creates_one_customer(shop):
    """Two (here eight) first messages from one number at the same instant: one customer."""
    results, errors = run_concurrently(8, lambda: customer_get_or_create(shop=shop, phone="+33698765432"))
    assert errors == []
    assert Customer.objects.filter(shop=shop, phone="+33698765432").count() == 1
    assert len({customer.pk for customer, _ in results}) == 1
    assert sum(created for _, created in results) == 1


# --- merge ------------------------------------------------------------------------------------------


def test_merge_loses_nothing(shop, make_customer, owner):
    now = timezone.now()
    keep = make_customer(shop, first_name="Julie", last_name="", email=None, first_contact_at=now)
    other = make_customer(
        shop,
        phone=None,
        first_name="Julie",
        last_name="Martin",
        email="julie@example.com",
        city="Lyon",
        needs_attention=True,
        opted_out_at=now - timedelta(days=1),
        first_contact_at=now - timedelta(days=30),
    )
    keep.tags.add(*tags_get_or_create(shop=shop, names=["vip"]))
    other.tags.add(*tags_get_or_create(shop=shop, names=["vip", "mariage"]))
    Interaction.objects.create(customer=keep, channel="sms", direction="inbound", body="a")
    Interaction.objects.create(customer=other, channel="whatsapp", direction="inbound", body="b")
    Note.objects.create(customer=other, body="likes red")
    Order.objects.create(shop=shop, customer=other, reference="R1", amount=Decimal("120.00"))

    result = customer_merge(keep=keep, others=[other], actor=owner)

    kept = Customer.objects.get(pk=keep.pk)
    assert not Customer.objects.filter(pk=other.pk).exists()
    assert result.merged_ids == [other.pk]
    assert kept.last_name == "Martin" and kept.email == "julie@example.com" and kept.city == "Lyon"
    assert kept.phone == keep.phone  # the kept record's own values win
    assert kept.needs_attention and kept.opted_out_at is not None
    assert kept.first_contact_at == now - timedelta(days=30)
    assert sorted(kept.interactions.values_list("body", flat=True)) == ["a", "b"]
    assert list(kept.notes.values_list("body", flat=True)) == ["likes red"]
    assert list(kept.orders.values_list("reference", flat=True)) == ["R1"]
    assert sorted(kept.tags.values_list("name", flat=True)) == ["mariage", "vip"]
    audit = AuditEntry.objects.get(customer=kept, action=AuditEntry.Action.MERGE)
    assert audit.actor == owner
    assert audit.details["merged_customer"]["email"] == "julie@example.com"
    assert audit.details["moved"] == {"interactions": 1, "notes": 1, "orders": 1, "tags": 1}


def test_merge_takes_the_phone_of_the_merged_record_when_kept_has_none(shop, make_customer):
    keep = make_customer(shop, phone=None, email="julie@example.com")
    other = make_customer(shop, phone="+33698765432")
    customer_merge(keep=keep, others=[other])
    assert Customer.objects.get(pk=keep.pk).phone == "+33698765432"


def test_merge_refuses_customers_of_two_shops(shop, other_shop, make_customer):
    a, b = make_customer(shop), make_customer(other_shop)
    with pytest.raises(ValueError, match="different shops"):
        customer_merge(keep=a, others=[b])
    assert Customer.objects.filter(pk=b.pk).exists()


def test_duplicate_groups_by_name_without_conflicts(shop, make_customer):
    a = make_customer(shop, first_name="Hélène", last_name="Le Roux")
    b = make_customer(shop, first_name="helene", last_name="le roux", phone=None, email="h@example.com")
    make_customer(shop, first_name="Hélène", last_name="Le Roux", email="other@example.com")  # other phone
    make_customer(shop, first_name="Julie", last_name="")
    make_customer(shop, first_name="Julie", last_name="")
    groups = duplicate_groups(shop=shop)
    assert [[c.pk for c in group] for group in groups] == [[a.pk, b.pk]]


def test_add_tag_is_idempotent(shop, make_customer):
    customers = [make_customer(shop), make_customer(shop)]
    assert customers_add_tag(shop=shop, customers=customers, name="mariage") == 2
    assert customers_add_tag(shop=shop, customers=customers, name="mariage") == 0


# --- search -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    ["06 98 76 54 32", "+33 6 98 76 54 32", "0033698765432", "98 76 54", "Julie", "MARTIN", "julie@exa"],
)
def test_search_finds_a_customer_by_any_phone_format_name_or_email(shop, make_customer, query):
    julie = make_customer(
        shop, first_name="Julie", last_name="Martin", phone="+33698765432", email="julie@example.com"
    )
    make_customer(shop, first_name="Paul", last_name="Durand")
    found = list(Customer.objects.filter(customer_search_filter(query, ["FR"])))
    assert found == [julie]
