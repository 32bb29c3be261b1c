"""What changed in the native CRM, told to whoever listens, inside the caller's transaction.

`customers` does not know who listens (the CRM sync writes an outbox row per change), so data still
flows one way. Handlers run synchronously in the same transaction as the change: they must only write
to the database, never call the network (that is what the outbox and its Celery task are for).

Saves of Customer and Interaction rows are reported by signal handlers below; code that changes rows
with queryset.update() or bulk operations calls `customers_changed` itself. Code that makes several
changes at once (the inbound pipeline: a new customer, their tags, a message, a reply) wraps them in
`collected()`, so that listeners hear once per shop rather than once per save.
"""

from collections import defaultdict
from contextlib import contextmanager
from contextvars import ContextVar

from django.db.models.signals import m2m_changed, post_save
from django.dispatch import receiver

from customers.models import Customer, Interaction, Order

CUSTOMERS_CHANGED = "customers.changed"  # payload: shop_id, customer_ids
# New customers (also told as changed): payload shop_id, customer_ids. Told before the changes of the
# same collected() block, so that a listener hears of a customer's creation before its changes.
CUSTOMERS_CREATED = "customers.created"
# New orders (told by a post_save handler below, whoever saves them): payload shop_id, order_ids.
ORDERS_CREATED = "orders.created"
INTERACTIONS_RECORDED = "interactions.recorded"  # payload: shop_id, interaction_ids
# Sent before an erased customer's row is deleted, so that other apps delete what they hold on them.
CUSTOMER_ERASING = "customer.erasing"  # payload: shop_id, customer_id
# Sent while a customer is merged into another, after their interactions moved and before the merged
# row is deleted: what other apps hold on the merged one (a CRM contact) can follow the survivor.
CUSTOMER_MERGING = "customer.merging"  # payload: shop_id, kept_id, merged_id
# Delivery statuses changed (a queryset update, so no post_save): payload shop_id, interaction_ids.
INTERACTION_STATUSES_CHANGED = "interactions.statuses_changed"
# seed_demo made (or found) the demo shop: other apps add their share of the demo (the catalogue).
# Payload: shop_id.
DEMO_SHOP_SEEDED = "demo.shop_seeded"

_handlers = defaultdict(list)
# What collected() gathers: None outside such a block. A context variable, so that threads (gunicorn's,
# a Celery thread pool) each have their own.
_collecting: ContextVar[list | None] = ContextVar("customers_events_collecting", default=None)
# The events that may be gathered and told together, and the payload key holding their ids.
_COALESCED = {
    CUSTOMERS_CREATED: "customer_ids",
    CUSTOMERS_CHANGED: "customer_ids",
    ORDERS_CREATED: "order_ids",
    INTERACTIONS_RECORDED: "interaction_ids",
    INTERACTION_STATUSES_CHANGED: "interaction_ids",
}


def subscribe(event: str, handler) -> None:
    if handler not in _handlers[event]:
        _handlers[event].append(handler)


def emit(event: str, **payload) -> None:
    pending = _collecting.get()
    if pending is not None and event in _COALESCED:
        pending.append((event, payload))
        return
    for handler in _handlers[event]:
        handler(**payload)


@contextmanager
def collected():
    """Gather the changes made in the block and tell them at its end, one event per shop and kind with
    all the ids: the same rows for listeners (the CRM outbox), in a few queries instead of one batch
    per save. Use it inside the transaction, so that listeners still write in it; if the block
    raises, nothing is told (the transaction is rolled back anyway). Nested blocks tell at the end of
    the outermost one."""
    if _collecting.get() is not None:
        yield
        return
    pending: list = []
    token = _collecting.set(pending)
    try:
        yield
    finally:
        _collecting.reset(token)
    _find_shops(pending)
    merged: dict[tuple[str, int], set] = {}
    for event, payload in pending:
        merged.setdefault((event, payload["shop_id"]), set()).update(payload[_COALESCED[event]])
    # Creations first, whatever came first in the block.
    for (event, shop_id), ids in sorted(merged.items(), key=lambda item: item[0][0] != CUSTOMERS_CREATED):
        emit(event, shop_id=shop_id, **{_COALESCED[event]: sorted(ids)})


@contextmanager
def dropped_on_error():
    """Inside collected(): what this block gathered is forgotten if it raises. For a block run in a
    savepoint that is rolled back (one event of the worker's batch): its rows are gone, so must be what
    it told."""
    pending = _collecting.get()
    mark = None if pending is None else len(pending)
    try:
        yield
    except BaseException:
        if pending is not None:
            del pending[mark:]
        raise


def customers_changed(*, shop_id: int, customer_ids) -> None:
    ids = sorted({int(pk) for pk in customer_ids})
    if ids:
        emit(CUSTOMERS_CHANGED, shop_id=shop_id, customer_ids=ids)


def customers_created(*, shop_id: int, customer_ids) -> None:
    """New customers; call after a bulk_create (which sends no post_save), with customers_changed."""
    ids = sorted({int(pk) for pk in customer_ids})
    if ids:
        emit(CUSTOMERS_CREATED, shop_id=shop_id, customer_ids=ids)


def orders_created(*, shop_id: int, order_ids) -> None:
    ids = sorted({int(pk) for pk in order_ids})
    if ids:
        emit(ORDERS_CREATED, shop_id=shop_id, order_ids=ids)


def interactions_recorded(*, shop_id: int, interaction_ids) -> None:
    ids = sorted({int(pk) for pk in interaction_ids})
    if ids:
        emit(INTERACTIONS_RECORDED, shop_id=shop_id, interaction_ids=ids)


def customer_erasing(*, shop_id: int, customer_id: int) -> None:
    emit(CUSTOMER_ERASING, shop_id=shop_id, customer_id=customer_id)


def customer_merging(*, shop_id: int, kept_id: int, merged_id: int) -> None:
    emit(CUSTOMER_MERGING, shop_id=shop_id, kept_id=kept_id, merged_id=merged_id)


def interaction_statuses_changed(*, interaction_ids, shop_id: int | None = None) -> None:
    """Call after changing Interaction.status with queryset.update(). Inside collected(), several
    changes (sent, delivered, read of one message in one batch) are told once, and messages whose
    shop the caller did not know have it looked up once for the whole block."""
    ids = sorted({int(pk) for pk in interaction_ids})
    if not ids:
        return
    if shop_id is not None or _collecting.get() is not None:
        emit(INTERACTION_STATUSES_CHANGED, shop_id=shop_id, interaction_ids=ids)
        return
    for shop, pks in _shops_of(ids).items():
        emit(INTERACTION_STATUSES_CHANGED, shop_id=shop, interaction_ids=pks)


def _shops_of(interaction_ids) -> dict[int, list[int]]:
    by_shop = defaultdict(list)
    for shop, pk in Interaction.objects.filter(pk__in=interaction_ids).values_list("customer__shop_id", "pk"):
        by_shop[shop].append(pk)
    return by_shop


def _find_shops(pending: list) -> None:
    """Status changes gathered without their shop: one query for all of them, in place."""
    unknown = [(n, payload) for n, (_, payload) in enumerate(pending) if payload.get("shop_id") is None]
    if not unknown:
        return
    ids = sorted({pk for _, payload in unknown for pk in payload["interaction_ids"]})
    for n, _ in reversed(unknown):
        del pending[n]
    for shop, pks in _shops_of(ids).items():
        pending.append((INTERACTION_STATUSES_CHANGED, {"shop_id": shop, "interaction_ids": pks}))


@receiver(post_save, sender=Customer, dispatch_uid="customers.events.customer_saved")
def _customer_saved(sender, instance: Customer, created=False, raw=False, **kwargs):
    if created and not raw:
        customers_created(shop_id=instance.shop_id, customer_ids=[instance.pk])
    if not raw:
        customers_changed(shop_id=instance.shop_id, customer_ids=[instance.pk])


@receiver(post_save, sender=Interaction, dispatch_uid="customers.events.interaction_saved")
def _interaction_saved(sender, instance: Interaction, created=False, raw=False, **kwargs):
    # New interactions only: delivery statuses change by queryset updates, told by their caller through
    # interaction_statuses_changed.
    if created and not raw:
        if Interaction.customer.is_cached(instance):  # created with its customer: no query needed
            shop_id = instance.customer.shop_id
        else:
            customer = Customer.objects.filter(pk=instance.customer_id)
            shop_id = customer.values_list("shop_id", flat=True).first()
        interactions_recorded(shop_id=shop_id, interaction_ids=[instance.pk])


@receiver(m2m_changed, sender=Customer.tags.through, dispatch_uid="customers.events.tags_changed")
def _tags_changed(sender, instance, action, reverse=False, pk_set=None, **kwargs):
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if not reverse:
        customers_changed(shop_id=instance.shop_id, customer_ids=[instance.pk])
    elif pk_set:
        customers_changed(shop_id=instance.shop_id, customer_ids=pk_set)


@receiver(post_save, sender=Order, dispatch_uid="customers.events.order_saved")
def _order_saved(sender, instance: Order, created=False, raw=False, **kwargs):
    # Every path that creates an order one at a time (admin, services) saves it; bulk_create callers
    # (the demo seed) call orders_created themselves when someone should hear.
    if created and not raw:
        orders_created(shop_id=instance.shop_id, order_ids=[instance.pk])
