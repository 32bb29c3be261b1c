"""/api/v1/orders/ and /api/v1/customers/{id}/orders/ (issue 14): orders pushed by an e-shop, created or
updated by reference, idempotent even when two pushes race; the customer found or created; figures
and segment kept right; tenants apart."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models.signals import post_save
from django.utils import timezone

from crm_backends.outgoing.models import WebhookEvent
from crm_backends.outgoing.services import endpoint_create
from customers.models import Customer, Order
from customers.orders import CustomerRef, order_upsert
from customers.privacy import customer_erase
from tests.concurrency import run_concurrently

pytestmark = pytest.mark.django_db
ORDERS = "/api/v1/orders/"


def push(client, reference="CMD-1", amount="120.00", customer=None, **fields):
    body = {"reference": reference, "amount": amount, "customer": customer or {"phone": "06 12 34 56 78"}}
    return client.post(ORDERS, {**body, **fields}, format="json")


def test_a_push_creates_the_order_and_the_customer_read_with_the_shops_country(shop, api_client):
    client = api_client(shop)
    response = push(
        client, customer={"phone": "06 12 34 56 78", "first_name": "Julie", "last_name": "Martin"}
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    customer = Customer.objects.get(shop=shop, phone="+33612345678")
    assert (customer.first_name, customer.last_name, customer.source) == ("Julie", "Martin", "api")
    assert body["reference"] == "CMD-1" and body["amount"] == "120.00" and body["currency"] == "EUR"
    assert body["customer"]["id"] == customer.pk
    assert body["customer"]["orders_count"] == 1 and body["customer"]["total_spent"] == "120.00"
    assert response["Location"] == body["url"] and body["url"].endswith(f"/api/v1/orders/{body['id']}/")


def test_the_same_push_twice_is_one_order_201_then_200_and_saves_nothing_the_second_time(shop, api_client):
    client = api_client(shop)
    first = push(client, placed_at="2026-11-30T15:04:00+01:00")
    saves = []

    def count(sender, instance, **kwargs):
        saves.append(instance.pk)

    post_save.connect(count, sender=Order, dispatch_uid="test-count-order-saves")
    try:
        second = push(client, placed_at="2026-11-30T15:04:00+01:00")
    finally:
        post_save.disconnect(sender=Order, dispatch_uid="test-count-order-saves")
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json() == second.json()
    assert Order.objects.filter(shop=shop).count() == 1 and Customer.objects.filter(shop=shop).count() == 1
    assert saves == []  # nothing changed: listeners (outgoing webhooks) hear nothing
    post_save.connect(count, sender=Order, dispatch_uid="test-count-order-saves")
    try:
        assert push(client, amount="99.00", placed_at="2026-11-30T15:04:00+01:00").status_code == 200
    finally:
        post_save.disconnect(sender=Order, dispatch_uid="test-count-order-saves")
    assert saves == [first.json()["id"]]  # a change is one save(), which listeners hear


def test_subscribers_hear_one_order_created_and_one_customer_created_however_often_it_is_pushed(
    shop, api_client, settings
):
    settings.OUTGOING_WEBHOOKS_ALLOW_PRIVATE = True
    endpoint_create(shop=shop, url="http://127.0.0.1:9/hooks/", events=["order.created", "customer.created"])
    client = api_client(shop)
    for amount in ("120.00", "120.00", "99.00"):
        push(client, amount=amount)
    [order] = Order.objects.filter(shop=shop)
    created = WebhookEvent.objects.filter(type="order.created")
    assert [e.payload["data"]["id"] for e in created] == [order.pk]
    assert WebhookEvent.objects.filter(type="customer.created").count() == 1


def test_a_changed_amount_updates_the_order_and_the_customers_figures(shop, api_client):
    client = api_client(shop)
    push(client, amount="120.00")
    push(client, reference="CMD-2", amount="30.00")
    response = push(client, amount="80.50", currency="chf")
    assert response.status_code == 200
    order = Order.objects.get(shop=shop, reference="CMD-1")
    assert (order.amount, order.currency) == (Decimal("80.50"), "CHF")
    customer = Customer.objects.get(shop=shop)
    assert (customer.orders_count, customer.total_spent) == (2, Decimal("110.50"))
    assert response.json()["customer"]["total_spent"] == "110.50"


def test_the_segment_follows_the_orders_pushed_and_deleted(shop, api_client):
    shop.vip_min_spent, shop.vip_min_orders = Decimal("1000"), 5
    shop.save()
    client = api_client(shop)
    customer = {"email": "Julie@Example.com"}
    assert (
        push(client, reference="A", amount="100", customer=customer).json()["customer"]["segment"] == "active"
    )
    big = push(client, reference="B", amount="950", customer=customer).json()
    assert big["customer"]["segment"] == "vip"
    julie = Customer.objects.get(shop=shop, email="julie@example.com")
    assert (julie.segment, julie.orders_count, julie.total_spent) == ("vip", 2, Decimal("1050.00"))
    assert client.delete(f"{ORDERS}{big['id']}/").status_code == 204
    julie.refresh_from_db()
    assert (julie.segment, julie.orders_count, julie.total_spent) == ("active", 1, Decimal("100.00"))


def test_an_old_order_makes_a_customer_inactive_and_a_segment_set_by_hand_is_left_alone(
    shop, api_client, make_customer
):
    client = api_client(shop)
    long_ago = (timezone.now() - timedelta(days=shop.inactive_after_days + 30)).isoformat()
    assert push(client, placed_at=long_ago).json()["customer"]["segment"] == "inactive"
    chosen = make_customer(shop, segment="vip", segment_manual=True)
    assert push(client, reference="X", customer={"id": chosen.pk}).json()["customer"]["segment"] == "vip"


def test_a_customer_by_id_phone_or_email_is_found_not_duplicated(shop, api_client, make_customer):
    julie = make_customer(shop, first_name="Julie", email="julie@example.com")
    client = api_client(shop)
    national = "0" + julie.phone[3:]  # +336… read as 06… with the shop's country
    for reference, customer in [
        ("1", {"id": julie.pk}),
        ("2", {"phone": national}),
        ("3", {"email": "JULIE@example.com"}),
    ]:
        response = push(client, reference=reference, customer={**customer, "first_name": "Other"})
        assert response.status_code == 201 and response.json()["customer"]["id"] == julie.pk
    julie.refresh_from_db()
    assert Customer.objects.filter(shop=shop).count() == 1 and julie.first_name == "Julie"
    assert julie.orders_count == 3


def test_an_order_moves_to_the_customer_its_push_names_and_both_figures_follow(
    shop, api_client, make_customer
):
    guest, account = make_customer(shop), make_customer(shop)
    client = api_client(shop)
    push(client, amount="200", customer={"id": guest.pk})
    response = push(client, amount="200", customer={"id": account.pk})
    assert response.status_code == 200 and response.json()["customer"]["id"] == account.pk
    guest.refresh_from_db(), account.refresh_from_db()
    assert (guest.orders_count, guest.total_spent, guest.segment) == (0, Decimal("0.00"), "prospect")
    assert (account.orders_count, account.total_spent, account.segment) == (1, Decimal("200.00"), "active")


def test_an_order_kept_after_an_erasure_stays_anonymous_and_brings_no_one_back(shop, api_client):
    client = api_client(shop)
    push(client, amount="50", customer={"phone": "+33612345678", "first_name": "Julie"})
    customer_erase(customer=Customer.objects.get(shop=shop))
    response = push(client, amount="55", customer={"phone": "+33612345678", "first_name": "Julie"})
    assert response.status_code == 200
    assert response.json()["customer"] is None and response.json()["amount"] == "55.00"
    assert not Customer.objects.filter(shop=shop).exists()


@pytest.mark.parametrize(
    "body, field",
    [
        ({"reference": "R", "amount": "10", "customer": {"phone": "12"}}, "customer.phone"),
        ({"reference": "R", "amount": "10", "customer": {}}, "customer.non_field_errors"),
        (
            {"reference": "R", "amount": "10", "customer": {"id": 1, "phone": "0612345678"}},
            "customer.non_field_errors",
        ),
        ({"reference": "R", "amount": "10", "customer": {"email": "not-an-email"}}, "customer.email"),
        ({"reference": "R", "amount": "-1", "customer": {"email": "a@b.fr"}}, "amount"),
        ({"reference": "R", "amount": "1.234", "customer": {"email": "a@b.fr"}}, "amount"),
        ({"reference": "R", "amount": "10", "currency": "EURO", "customer": {"email": "a@b.fr"}}, "currency"),
        ({"reference": "", "amount": "10", "customer": {"email": "a@b.fr"}}, "reference"),
        ({"reference": "R" * 65, "amount": "10", "customer": {"email": "a@b.fr"}}, "reference"),
        ({"amount": "10", "customer": {"email": "a@b.fr"}}, "reference"),
        ({"reference": "R", "amount": "10", "customer": {"id": 2**63}}, "customer.id"),
    ],
)
def test_invalid_pushes_are_400_with_the_field_and_change_nothing(shop, api_client, body, field):
    response = api_client(shop).post(ORDERS, body, format="json")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid" and field in response.json()["fields"]
    assert not Order.objects.exists() and not Customer.objects.exists()


def test_a_customer_filter_beyond_any_id_is_a_400_not_a_database_error(shop, api_client):
    # SQLite (the quick local setup) cannot even bind such a number: it raised a 500 there.
    response = api_client(shop, "read").get(ORDERS, {"customer": 2**63})
    assert response.status_code == 400 and "customer" in response.json()["fields"]


def test_another_shops_customer_id_is_unknown_and_its_orders_are_404(
    shop, other_shop, api_client, make_customer
):
    theirs = make_customer(other_shop)
    their_order = Order.objects.create(
        shop=other_shop, customer=theirs, reference="CMD-1", amount=Decimal("10")
    )
    client = api_client(shop)
    response = push(client, customer={"id": theirs.pk})
    assert response.status_code == 400 and "customer.id" in response.json()["fields"]
    # Our CMD-1 is ours: the other shop's order with that reference is untouched.
    assert push(client).status_code == 201
    assert Order.objects.get(pk=their_order.pk).amount == Decimal("10.00")
    for call in (client.get, client.delete):
        response = call(f"{ORDERS}{their_order.pk}/")
        assert response.status_code == 404 and response.json()["error"] == "not_found"
    assert client.get(f"/api/v1/customers/{theirs.pk}/orders/").status_code == 404
    assert [o["reference"] for o in client.get(ORDERS).json()["results"]] == ["CMD-1"]
    assert Order.objects.filter(pk=their_order.pk).exists()


def test_a_read_key_lists_and_reads_but_cannot_push_or_delete(shop, api_client, make_customer):
    order = Order.objects.create(
        shop=shop, customer=make_customer(shop), reference="R1", amount=Decimal("10")
    )
    reader = api_client(shop, "read")
    assert reader.get(f"{ORDERS}{order.pk}/").json()["reference"] == "R1"
    for response in (push(reader, reference="R2"), reader.delete(f"{ORDERS}{order.pk}/")):
        assert response.status_code == 403 and response.json()["error"] == "permission_denied"
    assert list(Order.objects.values_list("reference", flat=True)) == ["R1"]


def test_the_list_filters_by_customer_and_placed_since_and_pages_by_cursor(shop, api_client, make_customer):
    julie, marc = make_customer(shop), make_customer(shop)
    now = timezone.now()
    for n in range(5):
        Order.objects.create(
            shop=shop,
            customer=julie if n % 2 else marc,
            reference=f"R{n}",
            amount=Decimal(n),
            placed_at=now - timedelta(days=n),
        )
    client = api_client(shop, "read")
    refs = lambda params: [o["reference"] for o in client.get(ORDERS, params).json()["results"]]  # noqa: E731
    assert refs({}) == ["R4", "R3", "R2", "R1", "R0"]
    assert refs({"customer": julie.pk}) == ["R3", "R1"]
    assert refs({"placed_since": (now - timedelta(days=2, hours=1)).isoformat()}) == ["R2", "R1", "R0"]
    page = client.get(ORDERS, {"page_size": 2}).json()
    assert [o["reference"] for o in page["results"]] == ["R4", "R3"]
    assert [o["reference"] for o in client.get(page["next"]).json()["results"]] == ["R2", "R1"]
    assert client.get(ORDERS, {"placed_since": "yesterday"}).status_code == 400
    assert client.get(ORDERS, {"customer": "x"}).status_code == 400


def test_a_customers_orders(shop, api_client, make_customer):
    julie, marc = make_customer(shop), make_customer(shop)
    Order.objects.create(shop=shop, customer=julie, reference="J1", amount=Decimal("1"))
    Order.objects.create(shop=shop, customer=marc, reference="M1", amount=Decimal("1"))
    Order.objects.create(shop=shop, customer=julie, reference="J2", amount=Decimal("1"))
    response = api_client(shop, "read").get(f"/api/v1/customers/{julie.pk}/orders/")
    assert [o["reference"] for o in response.json()["results"]] == ["J2", "J1"]
    assert api_client(shop, "read").get("/api/v1/customers/999999/orders/").status_code == 404


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_pushes_of_one_new_order_end_with_one_order_and_one_customer(shop):
    """Eight pushes of one new reference (and its new customer) at the same instant: one insert wins,
    the others update its row (idempotency by constraint), and the figures count it once."""
    results, errors = run_concurrently(
        8,
        lambda: order_upsert(
            shop=shop,
            reference="CMD-RACE",
            customer_ref=CustomerRef(phone="+33698765432", first_name="Julie"),
            fields={"amount": Decimal("42.00")},
        ),
    )
    assert errors == []
    assert Order.objects.filter(shop=shop, reference="CMD-RACE").count() == 1
    assert sum(created for _, created in results) == 1
    assert len({order.pk for order, _ in results}) == 1
    customer = Customer.objects.get(shop=shop, phone="+33698765432")
    assert (customer.orders_count, customer.total_spent, customer.segment) == (1, Decimal("42.00"), "active")
