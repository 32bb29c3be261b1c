"""Customer segments, computed from orders and activity.

The rules, in order (thresholds are per shop, on the Shop model):

1. **inactive**: the last sign of life (latest order or message) is older than `inactive_after_days`
   (default 365 days).
2. **vip**: lifetime spend of at least `vip_min_spent` (default 1000) or at least `vip_min_orders`
   (default 5) orders.
3. **active**: at least one order.
4. **prospect**: everyone else (wrote to the shop or was imported, never bought).

A segment set by hand (`segment_manual`) is left alone until a person clears it.
"""

from datetime import timedelta
from decimal import Decimal

from django.db.models import Count, Max, Sum
from django.utils import timezone

from customers import events
from customers.models import Customer, Shop


def segment_for(
    *, shop: Shop, orders_count: int, total_spent: Decimal, last_order_at, last_contact_at, now=None
) -> str:
    """The segment these figures put a customer in (pure: the rules above, nothing else)."""
    now = now or timezone.now()
    last_seen = max((d for d in (last_order_at, last_contact_at) if d is not None), default=None)
    if last_seen is not None and last_seen < now - timedelta(days=shop.inactive_after_days):
        return Customer.Segment.INACTIVE
    if orders_count and (total_spent >= shop.vip_min_spent or orders_count >= shop.vip_min_orders):
        return Customer.Segment.VIP
    if orders_count:
        return Customer.Segment.ACTIVE
    return Customer.Segment.PROSPECT


def segments_refresh(*, shop: Shop, customer_ids=None, now=None) -> int:
    """Recompute the segment of the shop's customers (or of `customer_ids`); return how many changed."""
    customers = Customer.objects.filter(shop=shop, segment_manual=False)
    if customer_ids is not None:
        customers = customers.filter(pk__in=customer_ids)
    customers = customers.annotate(
        n_orders=Count("orders"), spent=Sum("orders__amount"), last_order=Max("orders__placed_at")
    ).only("id", "segment", "last_contact_at")
    changed = []
    for customer in customers.iterator(chunk_size=2000):
        segment = segment_for(
            shop=shop,
            orders_count=customer.n_orders,
            total_spent=customer.spent or Decimal("0"),
            last_order_at=customer.last_order,
            last_contact_at=customer.last_contact_at,
            now=now,
        )
        if segment != customer.segment:
            customer.segment = segment
            changed.append(customer)
    Customer.objects.bulk_update(changed, ["segment"], batch_size=1000)
    events.customers_changed(shop_id=shop.pk, customer_ids=[c.pk for c in changed])
    return len(changed)
