"""What an outgoing webhook says: the event envelope and the `data` of each kind of object, in plain
JSON values (strings, numbers, booleans, lists), so that a payload survives a JSON round-trip and reads
the same in the REST API, which uses these builders for its representations.

Built in the transaction that wrote the change: the payload is what happened then, not what the rows
say when a worker finally delivers it.
"""

from django.db.models import Prefetch
from django.utils import timezone

from customers.models import Customer, Interaction, Order, Tag


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def envelope(*, uid: str, type: str, shop_slug: str, data: dict, created=None) -> dict:
    return {
        "id": uid,
        "type": type,
        "created": _iso(created or timezone.now()),
        "shop": shop_slug,
        "data": data,
    }


def customer_data(customer: Customer) -> dict:
    """A customer as webhooks and the REST API show it. Reads `tags` through the prefetch cache when
    the caller prefetched them (customers_data does)."""
    return {
        "id": customer.pk,
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "phone": customer.phone,
        "email": customer.email,
        "whatsapp_user_id": customer.whatsapp_user_id,
        "language": customer.language,
        "segment": customer.segment,
        "tags": sorted(tag.name for tag in customer.tags.all()),
        "preferred_channel": customer.preferred_channel,
        "needs_attention": customer.needs_attention,
        "opted_out": customer.opted_out_at is not None,
        "orders_count": customer.orders_count,
        "total_spent": str(customer.total_spent),
        "created_at": _iso(customer.created_at),
        "updated_at": _iso(customer.updated_at),
    }


def message_data(interaction: Interaction) -> dict:
    return {
        "id": interaction.pk,
        "customer_id": interaction.customer_id,
        "channel": interaction.channel,
        "direction": interaction.direction,
        "body": interaction.body,
        "message_type": interaction.message_type,
        "status": interaction.status,
        "provider_message_id": interaction.provider_message_id,
        "occurred_at": _iso(interaction.occurred_at),
        "is_automatic": interaction.is_automatic,
    }


def order_data(order: Order) -> dict:
    # The Order model's own names (amount, placed_at): an order has no status in Coccinelle.
    return {
        "id": order.pk,
        "customer_id": order.customer_id,
        "reference": order.reference,
        "amount": str(order.amount),
        "currency": order.currency,
        "placed_at": _iso(order.placed_at),
    }


# --- many at once (two queries for customers, one for messages or orders) -------------------------------


def customers_data(customer_ids) -> dict[int, dict]:
    tags = Prefetch("tags", queryset=Tag.objects.only("pk", "name"))
    rows = Customer.objects.filter(pk__in=customer_ids).prefetch_related(tags)
    return {customer.pk: customer_data(customer) for customer in rows}


def messages_data(interaction_ids) -> dict[int, dict]:
    rows = Interaction.objects.filter(pk__in=interaction_ids).only(
        "pk", "customer_id", "channel", "direction", "body", "message_type", "status",
        "provider_message_id", "occurred_at", "is_automatic",
    )  # fmt: skip
    return {row.pk: message_data(row) for row in rows}


def orders_data(order_ids) -> dict[int, dict]:
    return {order.pk: order_data(order) for order in Order.objects.filter(pk__in=order_ids)}
