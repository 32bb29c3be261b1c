import json
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from customers.models import AuditEntry, Customer, Interaction, Note, Order
from customers.privacy import customer_erase, customer_export_data
from customers.segments import segments_refresh
from customers.services import customer_merge, customers_set_segment, tags_get_or_create


def _order(shop, customer, amount, days_ago=10, ref=None):
    return Order.objects.create(
        shop=shop,
        customer=customer,
        reference=ref or f"R{Order.objects.count() + 1}",
        amount=Decimal(amount),
        placed_at=timezone.now() - timedelta(days=days_ago),
    )


def test_segments_follow_orders_and_activity(shop, make_customer):
    now = timezone.now()
    prospect = make_customer(shop, last_contact_at=now)
    active = make_customer(shop, last_contact_at=now)
    _order(shop, active, "120")
    vip_by_spend = make_customer(shop)
    _order(shop, vip_by_spend, "1000")
    vip_by_count = make_customer(shop)
    for _ in range(5):
        _order(shop, vip_by_count, "20")
    gone = make_customer(shop, last_contact_at=now - timedelta(days=400))
    _order(shop, gone, "5000", days_ago=500)

    changed = segments_refresh(shop=shop)

    segments = dict(Customer.objects.values_list("pk", "segment"))
    assert segments[prospect.pk] == "prospect"
    assert segments[active.pk] == "active"
    assert segments[vip_by_spend.pk] == "vip"
    assert segments[vip_by_count.pk] == "vip"
    assert segments[gone.pk] == "inactive"
    assert changed == 4  # everyone starts as prospect


def test_segment_thresholds_are_per_shop(shop, make_customer):
    shop.vip_min_spent = Decimal("100")
    shop.save()
    customer = make_customer(shop)
    _order(shop, customer, "150")
    segments_refresh(shop=shop)
    assert Customer.objects.get(pk=customer.pk).segment == "vip"


def test_segment_set_by_hand_survives_recomputation(shop, make_customer, owner):
    customer = make_customer(shop)
    customers_set_segment(customers=[customer], segment="vip", actor=owner)
    segments_refresh(shop=shop)
    customer.refresh_from_db()
    assert customer.segment == "vip" and customer.segment_manual
    assert AuditEntry.objects.filter(customer=customer, action="segment").exists()


def test_export_holds_everything_and_is_json(shop, make_customer, owner):
    customer = make_customer(shop, first_name="Julie", email="julie@example.com")
    customer.tags.add(*tags_get_or_create(shop=shop, names=["mariage"]))
    Interaction.objects.create(customer=customer, channel="sms", direction="inbound", body="Bonjour")
    Note.objects.create(customer=customer, author=owner, body="taille 38")
    _order(shop, customer, "89.90", ref="MC-1")

    data = json.loads(json.dumps(customer_export_data(customer=customer)))

    assert data["profile"]["email"] == "julie@example.com"
    assert data["tags"] == ["mariage"]
    assert [i["body"] for i in data["interactions"]] == ["Bonjour"]
    assert data["notes"][0] == {
        "created_at": data["notes"][0]["created_at"],
        "body": "taille 38",
        "author": "owner",
    }
    assert data["orders"][0]["amount"] == "89.90"


def test_erase_leaves_no_personal_data_and_keeps_order_totals(shop, make_customer):
    customer = make_customer(
        shop, first_name="Julie", last_name="Martin", phone="+33698765432", email="j@example.com"
    )
    twin = make_customer(shop, first_name="Julie", last_name="Martin", phone=None)
    Interaction.objects.create(
        customer=customer, channel="sms", direction="inbound", body="je suis Julie Martin"
    )
    Note.objects.create(customer=customer, body="habite rue des Martyrs")
    _order(shop, customer, "120.00", ref="MC-7")
    customer_merge(keep=customer, others=[twin])  # the audit snapshot holds personal data too

    entry = customer_erase(customer=customer)

    assert not Customer.objects.filter(pk=customer.pk).exists()
    assert not Interaction.objects.exists() and not Note.objects.exists()
    order = Order.objects.get(reference="MC-7")
    assert order.customer is None and order.amount == Decimal("120.00") and order.shop == shop
    remaining = json.dumps(list(AuditEntry.objects.values("details")))
    for personal in ("Julie", "Martin", "+33698765432", "j@example.com"):
        assert personal not in remaining
    assert entry.details == {"customer_id": customer.pk, "orders_kept_anonymously": 1}
