"""Per-customer figures kept as columns: orders, revenue, first and last order, latest inbound message.

The list pages sort and show these for 100,000 customers a shop; aggregating orders and messages on
every page view scanned the shop. They are recomputed here from the source tables, never incremented,
so a recomputation is always right whatever happened before (an order edited twice, a merge, a message
recorded out of order) and running it again changes nothing. Every change to orders or inbound
messages calls `figures_refresh` in its own transaction: through the signals below for rows saved or
deleted one by one (admin, pipeline), explicitly where code moves rows with queryset.update() (merge).
"""

from decimal import Decimal

from django.db.models import (
    Count,
    DecimalField,
    IntegerField,
    Max,
    Min,
    OuterRef,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, Substr
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from customers import events
from customers.models import Customer, Interaction, Order, Shop

PREVIEW_CHARS = 200  # Customer.last_message_preview's max_length


def _order_figure(aggregate, output_field=None):
    orders = Order.objects.filter(customer=OuterRef("pk")).order_by().values("customer")
    return Subquery(orders.annotate(value=aggregate).values("value")[:1], output_field=output_field)


def figure_expressions() -> dict:
    """Column -> expression computing it for the row being updated (also used by the migration)."""
    return {**_order_expressions(), **_message_expressions()}


def _order_expressions() -> dict:
    money = DecimalField(max_digits=12, decimal_places=2)
    return {
        "orders_count": Coalesce(_order_figure(Count("pk"), IntegerField()), Value(0)),
        "total_spent": Coalesce(_order_figure(Sum("amount"), money), Value(Decimal("0")), output_field=money),
        "first_order_at": _order_figure(Min("placed_at")),
        "last_order_at": _order_figure(Max("placed_at")),
    }


def _message_expressions() -> dict:
    inbound = Interaction.objects.filter(customer=OuterRef("pk"), direction=Interaction.Direction.INBOUND)
    latest = inbound.order_by("-occurred_at", "-pk")
    return {
        "last_message_preview": Coalesce(
            Subquery(latest.annotate(preview=Substr("body", 1, PREVIEW_CHARS)).values("preview")[:1]),
            Value(""),
        ),
        "last_message_at": Subquery(latest.values("occurred_at")[:1]),
        "last_inbound_id": Subquery(inbound.order_by("-pk").values("pk")[:1]),
    }


def figures_refresh(customer_ids, *, messages_only: bool = False) -> int:
    """Recompute the figures of these customers from their orders and messages (or from their messages
    only), in one UPDATE.

    A queryset update: no post_save, so no CRM outbox row and no `updated_at` change for what is
    derived data, not an edit of the customer."""
    ids = sorted({int(pk) for pk in customer_ids if pk is not None})
    if not ids:
        return 0
    expressions = _message_expressions() if messages_only else figure_expressions()
    return Customer.objects.filter(pk__in=ids).update(**expressions)


def figures_refresh_all(queryset=None) -> int:
    """Recompute every customer's figures (or those of `queryset`), for rows loaded in bulk by SQL
    (a bench's seed, a restore) that no signal saw."""
    queryset = Customer.objects.all() if queryset is None else queryset
    return queryset.update(**figure_expressions())


# --- what keeps them right ----------------------------------------------------------------------------


def _messages_recorded(*, shop_id, interaction_ids, **kwargs):
    """INTERACTIONS_RECORDED (told inside the recording transaction, once per batch under collected())."""
    customers = Interaction.objects.filter(
        pk__in=interaction_ids, direction=Interaction.Direction.INBOUND
    ).values_list("customer_id", flat=True)
    # A new message changes no order figure: those subqueries would cost the worker's batch for nothing.
    figures_refresh(set(customers), messages_only=True)


events.subscribe(events.INTERACTIONS_RECORDED, _messages_recorded)


@receiver(pre_save, sender=Order, dispatch_uid="customers.figures.order_saving")
def _order_saving(sender, instance: Order, raw=False, **kwargs):
    # An order moved to another customer changes the figures of both: remember whose it was.
    if raw or instance.pk is None:
        instance._figures_previous_customer = None
        return
    previous = Order.objects.filter(pk=instance.pk).values_list("customer_id", flat=True).first()
    instance._figures_previous_customer = previous


@receiver(post_save, sender=Order, dispatch_uid="customers.figures.order_saved")
def _order_saved(sender, instance: Order, raw=False, **kwargs):
    if not raw:
        figures_refresh([instance.customer_id, getattr(instance, "_figures_previous_customer", None)])


@receiver(post_delete, sender=Order, dispatch_uid="customers.figures.order_deleted")
def _order_deleted(sender, instance: Order, origin=None, **kwargs):
    # Orders deleted with their shop leave no customer to update (and a shop has thousands of them).
    model = origin.model if isinstance(origin, QuerySet) else type(origin)
    if model is not Shop:
        figures_refresh([instance.customer_id])


@receiver(post_save, sender=Interaction, dispatch_uid="customers.figures.message_changed")
def _message_changed(sender, instance: Interaction, created=False, raw=False, update_fields=None, **kwargs):
    # New messages arrive through INTERACTIONS_RECORDED; this is an edit of one already recorded (the
    # customer corrected their text), which may be the preview shown. Messages are never deleted one by
    # one (a revoke marks them), and they go with their customer: no post_delete handler, which would
    # also make Django load every message of an erased customer to signal it.
    if created or raw or instance.direction != Interaction.Direction.INBOUND:
        return
    if update_fields is None or {"body", "occurred_at", "customer"} & set(update_fields):
        figures_refresh([instance.customer_id])
