"""Outgoing webhooks: which events are written, by the real code paths (an SMS through the webhook URL
and the worker's batch, the automatic reply, a person's send, a delivery report, customers created and
edited, orders), with what payload; and what it costs a shop with no endpoint (nothing per message)."""

import json

import pytest
from django.db import connection, transaction
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm_backends.outgoing import outbox
from crm_backends.outgoing.models import EVENT_TYPES, WebhookDelivery, WebhookEvent
from crm_backends.outgoing.services import endpoint_create
from customers import events
from customers.models import ChannelAddress, Customer, Order
from customers.privacy import customer_erase
from customers.services import customers_add_tag
from tests.webhook_posting import SMS_URL, STATUS_URL, post_twilio, providers_with_fake_twilio

SHOP_NUMBER = "+33757000000"
ALL = list(EVENT_TYPES)
CUSTOMER_KEYS = {
    "id", "first_name", "last_name", "phone", "email", "whatsapp_user_id", "language", "segment", "tags",
    "preferred_channel", "needs_attention", "opted_out", "orders_count", "total_spent", "created_at",
    "updated_at",
}  # fmt: skip
MESSAGE_KEYS = {
    "id", "customer_id", "channel", "direction", "body", "message_type", "status", "provider_message_id",
    "occurred_at", "is_automatic",
}  # fmt: skip


@pytest.fixture(autouse=True)
def twilio_api(settings):
    yield from providers_with_fake_twilio(settings)


@pytest.fixture(autouse=True)
def _loopback_allowed(settings):
    settings.OUTGOING_WEBHOOKS_ALLOW_PRIVATE = True


@pytest.fixture
def shop(shop):
    ChannelAddress.objects.create(shop=shop, provider="twilio", address=SHOP_NUMBER)
    return shop


@pytest.fixture
def endpoint(shop):
    return endpoint_create(shop=shop, url="http://127.0.0.1:9/hooks/", events=ALL)


def sms(sid, sender="+33698765432", text="Bonjour, je m'appelle Julie Martin. Avez-vous la robe en 38 ?"):
    return {
        "MessageSid": sid, "SmsMessageSid": sid, "SmsSid": sid, "AccountSid": "AC" + "1" * 32,
        "From": sender, "To": SHOP_NUMBER, "Body": text, "NumMedia": "0", "ApiVersion": "2010-04-01",
    }  # fmt: skip


def payloads(event_type):
    return [e.payload for e in WebhookEvent.objects.filter(type=event_type).order_by("pk")]


def test_an_inbound_sms_through_the_worker_writes_customer_created_message_received_and_message_sent(
    client, shop, endpoint
):
    response = post_twilio(client, SMS_URL, sms("SM" + "a" * 32))
    assert response.status_code == 200
    julie = Customer.objects.get(shop=shop)
    [created] = payloads("customer.created")
    assert created["type"] == "customer.created" and created["shop"] == shop.slug
    assert created["id"].startswith("evt_") and created["created"]
    assert set(created["data"]) == CUSTOMER_KEYS
    assert created["data"]["id"] == julie.pk and created["data"]["phone"] == "+33698765432"
    assert created["data"]["first_name"] == "Julie"  # read from the message in the same batch
    # Its changes in the same transaction are in the creation's payload, not a customer.updated.
    assert payloads("customer.updated") == []
    [received] = payloads("message.received")
    assert set(received["data"]) == MESSAGE_KEYS
    assert received["data"]["direction"] == "inbound" and received["data"]["customer_id"] == julie.pk
    assert received["data"]["provider_message_id"] == "SM" + "a" * 32
    [reply] = payloads("message.sent")  # the automatic reply
    assert reply["data"]["is_automatic"] is True and reply["data"]["direction"] == "outbound"
    # One delivery per event for the endpoint, waiting for a worker.
    assert WebhookDelivery.objects.filter(endpoint=endpoint, state="pending").count() == 3


def test_a_returning_customer_message_is_received_without_customer_created(client, shop, endpoint):
    post_twilio(client, SMS_URL, sms("SM" + "b" * 32))
    post_twilio(client, SMS_URL, sms("SM" + "c" * 32, text="Merci, à samedi !"))
    assert len(payloads("customer.created")) == 1
    assert [p["data"]["body"] for p in payloads("message.received")][1] == "Merci, à samedi !"


def test_a_person_sending_from_the_customer_page_writes_message_sent(
    client, owner, shop, endpoint, make_customer
):
    customer = make_customer(shop, first_name="Ana")
    WebhookEvent.objects.all().delete()
    client.force_login(owner)
    url = reverse("customer-send", args=[customer.pk])
    with TestCase.captureOnCommitCallbacks(execute=True):  # the send task, after the commit
        response = client.post(url, {"channel": "sms", "body": "Votre robe est arrivée."})
    assert response.status_code in (200, 302)
    [sent] = payloads("message.sent")
    assert sent["data"]["body"] == "Votre robe est arrivée." and sent["data"]["is_automatic"] is False


def test_a_delivery_report_writes_message_status(client, shop, endpoint, make_outbound):
    message = make_outbound(shop, provider="twilio", provider_message_id="SM" + "d" * 32, status="sent")
    report = {
        "MessageSid": message.provider_message_id, "SmsSid": message.provider_message_id,
        "MessageStatus": "delivered", "SmsStatus": "delivered", "AccountSid": "AC" + "1" * 32,
        "From": SHOP_NUMBER, "To": message.customer.phone, "ApiVersion": "2010-04-01",
    }  # fmt: skip
    response = post_twilio(client, STATUS_URL, report)
    assert response.status_code in (200, 204)
    [status] = payloads("message.status")
    assert status["data"]["id"] == message.pk and status["data"]["status"] == "delivered"


def test_customer_created_then_edited_in_other_transactions_is_updated(shop, endpoint, make_customer):
    customer = make_customer(shop, first_name="Léa")
    [created] = payloads("customer.created")
    assert created["data"]["first_name"] == "Léa" and created["data"]["tags"] == []
    # Other transactions (the test's own is one: pretend it committed by forgetting what it wrote).
    _new_transaction()
    customers_add_tag(shop=shop, customers=Customer.objects.filter(pk=customer.pk), name="VIP soirée")
    _new_transaction()
    customer.refresh_from_db()
    customer.last_name = "Moreau"
    customer.save()
    updated = payloads("customer.updated")
    assert [u["data"]["tags"] for u in updated] == [["VIP soirée"], ["VIP soirée"]]
    assert updated[-1]["data"]["last_name"] == "Moreau"
    assert json.loads(json.dumps(updated[-1])) == updated[-1]  # survives a JSON round-trip


def test_tags_added_in_the_creating_transaction_are_in_customer_created(shop, endpoint, make_customer):
    with transaction.atomic():
        customer = make_customer(shop, first_name="Zoé")
        customers_add_tag(shop=shop, customers=Customer.objects.filter(pk=customer.pk), name="mariage")
    [created] = payloads("customer.created")
    assert created["data"]["tags"] == ["mariage"]
    assert payloads("customer.updated") == []


def test_a_customer_created_in_its_own_savepoint_then_tagged_is_one_customer_created(shop, endpoint):
    # customer_get_or_create creates in a savepoint of its own (a concurrent first message may win the
    # unique constraint); that savepoint is released before the caller tags the new customer.
    from customers.services import customer_get_or_create

    with transaction.atomic():
        customer, created = customer_get_or_create(shop=shop, phone="+33611223344")
        customers_add_tag(shop=shop, customers=Customer.objects.filter(pk=customer.pk), name="mariage")
    assert created
    [created_event] = payloads("customer.created")
    assert created_event["data"]["tags"] == ["mariage"]
    assert payloads("customer.updated") == []


def test_one_edit_of_a_customer_is_one_customer_updated_with_its_end_state(shop, endpoint, make_customer):
    # The customer page's edit: a save, the tags set (a removal and an addition), a segment pinned, all
    # in one transaction. The receiver hears one change, as it ended, not four intermediate ones.
    from customers.services import customer_update

    customer = make_customer(shop, first_name="Léa")
    customers_add_tag(shop=shop, customers=Customer.objects.filter(pk=customer.pk), name="ancien")
    _new_transaction()
    customer_update(
        customer=customer, fields={"last_name": "Moreau"}, tag_names=["VIP soirée"], segment="vip"
    )
    [updated] = payloads("customer.updated")
    assert updated["data"]["last_name"] == "Moreau" and updated["data"]["tags"] == ["VIP soirée"]
    assert updated["data"]["segment"] == "vip"
    assert WebhookDelivery.objects.filter(event__type="customer.updated").count() == 1
    # A later transaction's change is a customer.updated of its own.
    _new_transaction()
    customer.refresh_from_db()
    customer.first_name = "Lea"
    customer.save()
    assert [p["data"]["first_name"] for p in payloads("customer.updated")] == ["Léa", "Lea"]


def test_an_order_created_writes_order_created_with_the_order_fields(shop, endpoint, make_customer):
    customer = make_customer(shop)
    order = Order.objects.create(shop=shop, customer=customer, reference="CMD-42", amount="129.90")
    [event] = payloads("order.created")
    assert event["data"] == {
        "id": order.pk,
        "customer_id": customer.pk,
        "reference": "CMD-42",
        "amount": "129.90",
        "currency": "EUR",
        "placed_at": order.placed_at.isoformat(),
    }
    order.reference = "CMD-42b"
    order.save()
    assert len(payloads("order.created")) == 1  # a change is no creation


def test_only_the_chosen_events_of_enabled_endpoints_are_written(shop, make_customer, other_shop):
    only_orders = endpoint_create(shop=shop, url="http://127.0.0.1:9/a/", events=["order.created"])
    make_customer(shop)
    assert not WebhookEvent.objects.exists()
    only_orders.enabled = False
    only_orders.save()
    Order.objects.create(shop=shop, reference="X1", amount="10")
    assert not WebhookEvent.objects.exists()
    endpoint_create(shop=other_shop, url="http://127.0.0.1:9/b/", events=ALL)
    make_customer(shop)
    assert not WebhookEvent.objects.exists()  # another shop's endpoint hears nothing of this one


def test_each_endpoint_gets_its_own_delivery_of_one_event(shop, endpoint, make_customer):
    second = endpoint_create(shop=shop, url="http://127.0.0.1:9/second/", events=["customer.created"])
    make_customer(shop)
    event = WebhookEvent.objects.get(type="customer.created")
    assert set(event.deliveries.values_list("endpoint_id", flat=True)) == {endpoint.pk, second.pk}


def test_an_erasure_deletes_the_events_about_the_person(shop, endpoint, make_customer):
    customer = make_customer(shop, first_name="Inès")
    Order.objects.create(shop=shop, customer=customer, reference="E1", amount="5")
    assert WebhookEvent.objects.filter(customer_id=customer.pk).count() == 2
    customer_erase(customer=customer)
    assert not WebhookEvent.objects.filter(customer_id=customer.pk).exists()
    assert not WebhookDelivery.objects.filter(event__customer_id=customer.pk).exists()


def test_after_a_merge_erasing_the_kept_customer_deletes_the_events_about_the_merged_one(
    shop, endpoint, make_customer
):
    from customers.services import customer_merge

    keep = make_customer(shop, first_name="Inès", phone="+33611000001")
    other = make_customer(shop, first_name="Ines", phone="+33611000002")
    customer_merge(keep=keep, others=[other])
    customer_erase(customer=Customer.objects.get(pk=keep.pk))
    assert not WebhookEvent.objects.filter(customer_id__in=[keep.pk, other.pk]).exists()


# --- what it costs a shop without an endpoint ------------------------------------------------------------


def _process_batch(senders) -> int:
    """Store plain SMS and process them in one batch of the worker (the bulk path); the SQL it took."""
    from webhooks.inbound_events import events_process, events_store
    from webhooks.providers import twilio

    forms = [sms(f"SM{n:032x}", sender=s, text="Bonjour, ouvert dimanche ?") for n, s in senders]
    with transaction.atomic():
        events_store([twilio.inbound_event(form) for form in forms])
    with CaptureQueriesContext(connection) as captured:
        report = events_process(provider="twilio", keys=[f["MessageSid"] for f in forms])
    assert report.processed == len(forms)
    return len(captured.captured_queries)


def _without_outgoing_listeners():
    listeners = [
        (events.CUSTOMERS_CREATED, outbox.customers_created),
        (events.CUSTOMERS_CHANGED, outbox.customers_changed),
        (events.INTERACTIONS_RECORDED, outbox.interactions_recorded),
        (events.INTERACTION_STATUSES_CHANGED, outbox.interaction_statuses_changed),
        (events.ORDERS_CREATED, outbox.orders_created),
    ]
    removed = []
    for name, handler in listeners:
        if handler in events._handlers[name]:
            events._handlers[name].remove(handler)
            removed.append((name, handler))
    return removed


def test_a_shop_without_endpoint_pays_no_query_for_outgoing_webhooks(shop, other_shop, celery_not_eager):
    # Another shop has an endpoint, so the machinery is live; this shop has none.
    endpoint_create(shop=other_shop, url="http://127.0.0.1:9/x/", events=ALL)
    _process_batch([(1, "+33600000001")])  # warm: tags exist, lookups cached
    with_listeners = _process_batch([(n, f"+336000001{n:02d}") for n in range(10, 20)])
    removed = _without_outgoing_listeners()
    try:
        without = _process_batch([(n, f"+336000002{n:02d}") for n in range(20, 30)])
    finally:
        for name, handler in removed:
            events.subscribe(name, handler)
    assert removed, "the outgoing listeners were not subscribed"
    assert with_listeners == without
    assert not WebhookEvent.objects.exists()


def test_with_an_endpoint_a_batch_costs_a_fixed_number_of_queries(shop, celery_not_eager):
    endpoint_create(shop=shop, url="http://127.0.0.1:9/x/", events=ALL)
    _process_batch([(1, "+33600000001")])
    five = _process_batch([(n, f"+336000003{n:02d}") for n in range(30, 35)])
    ten = _process_batch([(n, f"+336000004{n:02d}") for n in range(40, 50)])
    assert ten == five  # not one more per message
    assert WebhookEvent.objects.filter(type="message.received").count() == 16


def _new_transaction():
    """What a commit does to the per-transaction memory of customer events (tests never commit)."""
    db = transaction.get_connection()
    db.run_on_commit = [entry for entry in db.run_on_commit if not isinstance(entry[1], outbox._WrittenHere)]


def test_customer_data_is_plain_json_values(shop, make_customer):
    from django.utils import timezone

    from crm_backends.outgoing.payloads import customer_data

    customer = make_customer(shop, first_name="Nina", opted_out_at=timezone.now())
    Order.objects.create(shop=shop, customer=customer, reference="P1", amount="10.50")
    customer.refresh_from_db()
    data = customer_data(customer)
    assert data["opted_out"] is True and data["total_spent"] == "10.50" and data["orders_count"] == 1
    assert json.loads(json.dumps(data)) == data


def test_a_change_whose_event_was_rolled_back_with_its_savepoint_is_told_again(shop, endpoint, make_customer):
    customer = make_customer(shop, first_name="Léa")
    _new_transaction()
    with transaction.atomic():
        make_customer(shop, first_name="Autre").save()  # this transaction's memory starts out here
        try:
            with transaction.atomic():
                customer.last_name = "Oups"
                customer.save()
                raise RuntimeError
        except RuntimeError:
            pass
        customer.refresh_from_db()
        customer.last_name = "Moreau"
        customer.save()
    assert [p["data"]["last_name"] for p in payloads("customer.updated")] == ["Moreau"]
