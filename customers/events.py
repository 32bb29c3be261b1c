"""What changed in the native CRM, told to whoever listens, inside the caller's transaction.

`customers` does not know who listens (the CRM sync writes an outbox row per change), so data still
flows one way. Handlers run synchronously in the same transaction as the change: they must only write
to the database, never call the network (that is what the outbox and its Celery task are for).

Saves of Customer and Interaction rows are reported by signal handlers below; code that changes rows
with queryset.update() or bulk operations calls `customers_changed` itself.
"""

from collections import defaultdict

from django.db.models.signals import m2m_changed, post_save
from django.dispatch import receiver

from customers.models import Customer, Interaction

CUSTOMERS_CHANGED = "customers.changed"  # payload: shop_id, customer_ids
INTERACTIONS_RECORDED = "interactions.recorded"  # payload: shop_id, interaction_ids

_handlers = defaultdict(list)


def subscribe(event: str, handler) -> None:
    if handler not in _handlers[event]:
        _handlers[event].append(handler)


def emit(event: str, **payload) -> None:
    for handler in _handlers[event]:
        handler(**payload)


def customers_changed(*, shop_id: int, customer_ids) -> None:
    ids = sorted({int(pk) for pk in customer_ids})
    if ids:
        emit(CUSTOMERS_CHANGED, shop_id=shop_id, customer_ids=ids)


def interactions_recorded(*, shop_id: int, interaction_ids) -> None:
    ids = sorted({int(pk) for pk in interaction_ids})
    if ids:
        emit(INTERACTIONS_RECORDED, shop_id=shop_id, interaction_ids=ids)


@receiver(post_save, sender=Customer, dispatch_uid="customers.events.customer_saved")
def _customer_saved(sender, instance: Customer, raw=False, **kwargs):
    if not raw:
        customers_changed(shop_id=instance.shop_id, customer_ids=[instance.pk])


@receiver(post_save, sender=Interaction, dispatch_uid="customers.events.interaction_saved")
def _interaction_saved(sender, instance: Interaction, created=False, raw=False, **kwargs):
    # Only new interactions are pushed; delivery-status updates do not change what the CRM holds.
    if created and not raw:
        shop_id = Customer.objects.filter(pk=instance.customer_id).values_list("shop_id", flat=True).first()
        interactions_recorded(shop_id=shop_id, interaction_ids=[instance.pk])


@receiver(m2m_changed, sender=Customer.tags.through, dispatch_uid="customers.events.tags_changed")
def _tags_changed(sender, instance, action, reverse=False, pk_set=None, **kwargs):
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if not reverse:
        customers_changed(shop_id=instance.shop_id, customer_ids=[instance.pk])
    elif pk_set:
        customers_changed(shop_id=instance.shop_id, customer_ids=pk_set)
