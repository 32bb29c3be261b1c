"""The enqueue side of outgoing webhooks: `customers.events` listeners that write an event row and one
delivery per subscribed endpoint in the change's own transaction, and ask for a delivery task after
the commit (one queued per endpoint, as the CRM outbox does: crm_backends/outbox.py).

Cheap when nobody listens: each listener first asks the cached subscriptions (crm_backends/outgoing/
cached.py), one cache read and no query for a shop without an endpoint for that event.

customer.created vs customer.updated: a creation is also told as a change (and, outside the worker's
batches, tags added right after are more changes). Within one transaction those changes are folded into
the customer.created event's payload (rebuilt, since nothing has been sent yet) instead of sending a
customer.updated for a customer the receiver has not heard of. Likewise one edit (a save, its tags set,
a segment pinned: several changes told in one transaction) is one customer.updated with the end state.
What was written in this transaction is remembered on a no-op on_commit callback, so it goes with the
transaction (a rollback drops it).
"""

import logging

from django.db import transaction
from django.utils import timezone

from coccinelle import db
from coccinelle.cache import flag_lower, flag_raise
from crm_backends.outgoing import payloads
from crm_backends.outgoing.cached import endpoint_ids_for, shop_slug
from crm_backends.outgoing.models import WebhookDelivery, WebhookEvent, new_uid

logger = logging.getLogger(__name__)

DELIVER_FLAG_SECONDS = 30


# --- listeners (subscribed in crm_backends/apps.py) -----------------------------------------------------


def customers_created(*, shop_id, customer_ids) -> None:
    endpoints = endpoint_ids_for(shop_id, "customer.created")
    if not endpoints and not endpoint_ids_for(shop_id, "customer.updated"):
        return
    created = _written_here().created
    events = []
    if endpoints:
        events = events_write(
            shop_id=shop_id,
            type="customer.created",
            data=payloads.customers_data(customer_ids),
            endpoint_ids=endpoints,
            customer_of=lambda data: data["id"],
        )
    for pk in customer_ids:
        created.setdefault(pk, [])
    for event in events:
        created[event.customer_id].append(event)


def customers_changed(*, shop_id, customer_ids) -> None:
    endpoints = endpoint_ids_for(shop_id, "customer.updated")
    if not endpoints and not endpoint_ids_for(shop_id, "customer.created"):
        return
    here = _written_here(create=bool(endpoints))
    # Their customer.created or customer.updated of this transaction is not sent yet: folded into.
    fold = [pk for pk in customer_ids if here.created.get(pk) or here.updated.get(pk)]
    changed = [pk for pk in customer_ids if pk not in here.created and pk not in here.updated]
    if not fold and not (endpoints and changed):
        return
    data = payloads.customers_data(fold + (changed if endpoints else []))
    gone = _fold(
        [event for pk in fold for event in here.created.get(pk, []) + here.updated.get(pk, [])], data
    )
    for pk in gone:  # its event was written in a savepoint rolled back since: a new one is due
        here.created.pop(pk, None)
        if here.updated.pop(pk, None) is not None:
            changed.append(pk)
    if endpoints and changed:
        for event in events_write(
            shop_id=shop_id,
            type="customer.updated",
            data={pk: data[pk] for pk in changed if pk in data},
            endpoint_ids=endpoints,
            customer_of=lambda data: data["id"],
        ):
            here.updated[event.customer_id] = [event]


def interactions_recorded(*, shop_id, interaction_ids) -> None:
    received = endpoint_ids_for(shop_id, "message.received")
    sent = endpoint_ids_for(shop_id, "message.sent")
    if not received and not sent:
        return
    data = payloads.messages_data(interaction_ids)
    for event_type, direction, endpoints in (
        ("message.received", "inbound", received),
        ("message.sent", "outbound", sent),
    ):
        chosen = {pk: d for pk, d in data.items() if d["direction"] == direction}
        if endpoints and chosen:
            events_write(
                shop_id=shop_id,
                type=event_type,
                data=chosen,
                endpoint_ids=endpoints,
                customer_of=_customer_id,
            )


def interaction_statuses_changed(*, shop_id, interaction_ids) -> None:
    endpoints = endpoint_ids_for(shop_id, "message.status") if shop_id else []
    if endpoints:
        events_write(
            shop_id=shop_id,
            type="message.status",
            data=payloads.messages_data(interaction_ids),
            endpoint_ids=endpoints,
            customer_of=_customer_id,
        )


def orders_created(*, shop_id, order_ids) -> None:
    endpoints = endpoint_ids_for(shop_id, "order.created")
    if endpoints:
        events_write(
            shop_id=shop_id,
            type="order.created",
            data=payloads.orders_data(order_ids),
            endpoint_ids=endpoints,
            customer_of=_customer_id,
        )


def customer_erasing(*, shop_id, customer_id) -> None:
    """GDPR erasure: the events about the person (their payloads hold their name, phone, messages) go,
    with their deliveries and attempts, sent or not."""
    WebhookEvent.objects.filter(shop_id=shop_id, customer_id=customer_id).delete()


def customer_merging(*, shop_id, kept_id, merged_id) -> None:
    """A merge: the merged person's events are now about the kept customer, so that erasing the kept
    one also deletes them (their payloads hold the merged person's name and phone)."""
    WebhookEvent.objects.filter(shop_id=shop_id, customer_id=merged_id).update(customer_id=kept_id)


def _customer_id(data: dict):
    return data.get("customer_id")


# --- writing rows ---------------------------------------------------------------------------------------


def events_write(*, shop_id, type, data: dict, endpoint_ids, customer_of=None) -> list[WebhookEvent]:
    """One event per object in `data` ({pk: data}, in pk order) and one delivery per endpoint, in two
    inserts; a delivery task is asked for after the commit."""
    if not data or not endpoint_ids:
        return []
    now, slug = timezone.now(), shop_slug(shop_id)
    events = []
    for pk in sorted(data):
        uid = new_uid("evt")
        body = payloads.envelope(uid=uid, type=type, shop_slug=slug, data=data[pk], created=now)
        customer_id = customer_of(data[pk]) if customer_of else None
        events.append(
            WebhookEvent(
                uid=uid, shop_id=shop_id, type=type, customer_id=customer_id, payload=body, created_at=now
            )
        )
    WebhookEvent.objects.bulk_create(events)
    WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(uid=new_uid("dlv"), endpoint_id=endpoint_id, event=event, next_attempt_at=now)
            for event in events
            for endpoint_id in endpoint_ids
        ]
    )
    for endpoint_id in endpoint_ids:
        deliver_after_commit(endpoint_id)
    return events


def _fold(events: list[WebhookEvent], data: dict) -> set[int]:
    """Rebuild the payloads of these unsent events from `data`; the customers whose event is gone (it
    was written in a savepoint rolled back since, while the customer row itself may remain)."""
    if not events:
        return set()
    alive = set(WebhookEvent.objects.filter(pk__in=[e.pk for e in events]).values_list("pk", flat=True))
    kept = [event for event in events if event.pk in alive]
    for event in kept:
        if event.customer_id in data:
            event.payload = {**event.payload, "data": data[event.customer_id]}
    if kept:
        WebhookEvent.objects.bulk_update(kept, ["payload"])
    return {event.customer_id for event in events if event.pk not in alive}


class _WrittenHere:
    """A no-op on-commit callback that carries, for the transaction, {customer id: its customer.created
    events} and {customer id: its customer.updated events} (see the module's docstring)."""

    def __init__(self):
        self.created: dict[int, list[WebhookEvent]] = {}
        self.updated: dict[int, list[WebhookEvent]] = {}

    def __call__(self):
        pass


def _written_here(*, create: bool = True) -> _WrittenHere:
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        return _WrittenHere()  # autocommit: each save is its own transaction, nothing to fold into
    # Any _WrittenHere still listed is this transaction's: Django drops the callbacks of a savepoint
    # rolled back, with its rows. One registered in a savepoint since released (customer_get_or_create
    # creates in one of its own) still counts: its customers exist for the rest of the transaction.
    for _savepoint_ids, callback, _robust in connection.run_on_commit:
        if isinstance(callback, _WrittenHere):
            return callback
    if not create:
        return _WrittenHere()
    callback = _WrittenHere()
    transaction.on_commit(callback)
    return callback


# --- asking for delivery --------------------------------------------------------------------------------


def deliver_after_commit(endpoint_id) -> None:
    """Ask for a delivery task once the transaction commits, once per endpoint and transaction."""
    db.on_commit_once(("webhook-deliver", endpoint_id), enqueue_delivery, endpoint_id)


def deliver_flag(endpoint_id) -> str:
    return f"webhook-deliver-queued:{int(endpoint_id)}"


def delivery_started(endpoint_id) -> None:
    flag_lower(deliver_flag(endpoint_id))


def enqueue_delivery(endpoint_id) -> bool:
    """Ask a worker to deliver the endpoint's due events, unless a task is already queued for it.

    As with the CRM sync (crm_backends/outbox.py enqueue_drain): never HTTP inside a web request. When
    tasks run eagerly (tests, CELERY_TASK_ALWAYS_EAGER=1) only the webhooks' own tasks deliver inline;
    anything else leaves the rows pending for beat's sweep or `redrive_webhooks`."""
    from celery import current_task

    from crm_backends.outgoing.tasks import deliver_endpoint, sweep_webhooks

    own_task = current_task and current_task.name in (deliver_endpoint.name, sweep_webhooks.name)
    if deliver_endpoint.app.conf.task_always_eager and not own_task:
        logger.info("webhooks for endpoint %s left to the sweep: tasks run eagerly here", endpoint_id)
        return False
    if not flag_raise(deliver_flag(endpoint_id), DELIVER_FLAG_SECONDS):
        return False
    try:
        deliver_endpoint.delay(endpoint_id)
        return True
    except Exception as exc:  # noqa: BLE001 - any broker failure; the rows are committed
        flag_lower(deliver_flag(endpoint_id))
        logger.warning("webhooks for endpoint %s not enqueued (%s); the sweep will retry", endpoint_id, exc)
        return False
