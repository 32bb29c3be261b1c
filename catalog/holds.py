"""Holds: units of a variant set aside for a customer for the shop's hold duration.

The last unit can be held once: every write that changes what is held locks the variant's row first
(select_for_update), so two holds of one variant run one after the other and the second sees the
first's quantity. A unique constraint (one active hold per customer and variant) backs the "holding
again extends" rule. Staff pages, the API, the admin, the beat tasks and the reply engine's
"oui" all call these functions.
"""

from datetime import timedelta

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.models import CatalogSettings, Hold, Variant
from customers.models import Customer, Shop
from customers.orders import CustomerRef, order_upsert

# The reminder goes out this long before a hold expires (once: Hold.reminder_sent_at).
REMINDER_BEFORE = timedelta(hours=2)


class HoldRefused(Exception):
    """The hold cannot be made or changed; `code` names why for programs (the API's error code)."""

    def __init__(self, message: str, *, code: str):
        super().__init__(message)
        self.code = code


def hold_hours(*, shop: Shop) -> int:
    """The shop's hold duration in hours (its CatalogSettings, else the default)."""
    hours = CatalogSettings.objects.filter(shop=shop).values_list("hold_hours", flat=True).first()
    return hours or CatalogSettings.HOLD_HOURS_DEFAULT


def held_quantity(*, variant: Variant) -> int:
    """Units of `variant` in active holds."""
    held = Hold.objects.filter(variant=variant, state=Hold.State.ACTIVE).aggregate(total=Sum("quantity"))
    return held["total"] or 0


def hold_create(*, customer: Customer, variant: Variant, quantity: int = 1, actor=None) -> Hold:
    """Hold `quantity` units of `variant` for `customer` for the shop's hold duration.

    The same customer holding the same variant again extends their hold (and sets its quantity) rather
    than adding a second one. HoldRefused("out_of_stock") when fewer units are available."""
    if customer.shop_id != variant.shop_id:
        raise ValueError("hold_create: the customer and the variant belong to different shops")
    if quantity < 1:
        raise HoldRefused(_("A hold is of one unit at least."), code="bad_quantity")
    expires_at = timezone.now() + timedelta(hours=hold_hours(shop=variant.shop))
    with transaction.atomic():
        locked = Variant.objects.select_for_update().get(pk=variant.pk)
        current = Hold.objects.filter(customer=customer, variant=locked, state=Hold.State.ACTIVE).first()
        others = held_quantity(variant=locked) - (current.quantity if current else 0)
        if not locked.active or locked.stock - others < quantity:
            raise HoldRefused(_("Not enough units of this variant are available."), code="out_of_stock")
        if current is not None:
            current.quantity, current.expires_at, current.reminder_sent_at = quantity, expires_at, None
            current.save(update_fields=["quantity", "expires_at", "reminder_sent_at", "updated_at"])
            return current
        return Hold.objects.create(
            shop_id=locked.shop_id,
            variant=locked,
            customer=customer,
            quantity=quantity,
            expires_at=expires_at,
            created_by=actor,
        )


def hold_extend(*, hold: Hold, hours: int) -> Hold:
    """Push an active hold's expiry `hours` further from now (or from its expiry, whichever is later);
    a new reminder will go out before the new expiry."""
    if hours < 1:
        raise HoldRefused(_("A hold is extended by one hour at least."), code="bad_hours")
    with transaction.atomic():
        hold = _locked_active(hold)
        hold.expires_at = max(hold.expires_at, timezone.now()) + timedelta(hours=hours)
        hold.reminder_sent_at = None
        hold.save(update_fields=["expires_at", "reminder_sent_at", "updated_at"])
    return hold


def hold_release(*, hold: Hold, actor=None) -> Hold:
    """End an active hold: its units are available again."""
    return _end(hold, Hold.State.RELEASED)


def hold_convert(*, hold: Hold, actor=None) -> Hold:
    """Turn an active hold into an order (reference HOLD-<id>, price × quantity) through the customers'
    order path, so that the customer's figures follow, and take its units out of the stock."""
    with transaction.atomic():
        variant = Variant.objects.select_for_update().get(pk=hold.variant_id)
        hold = _locked_active(hold)
        order, _created = order_upsert(
            shop=hold.shop,
            reference=f"HOLD-{hold.pk}",
            customer_ref=CustomerRef(id=hold.customer_id),
            fields={"amount": variant.price * hold.quantity},
        )
        # The hold's units were counted in the stock; sold now, they leave it.
        variant.stock = max(variant.stock - hold.quantity, 0)
        variant.save(update_fields=["stock", "updated_at"])
        hold.state, hold.order = Hold.State.CONVERTED, order
        hold.save(update_fields=["state", "order", "updated_at"])
    return hold


def holds_expire_due(*, now=None) -> int:
    """Expire the active holds whose time is up; the number expired."""
    now = now or timezone.now()
    expired = 0
    for hold_id in Hold.objects.filter(state=Hold.State.ACTIVE, expires_at__lte=now).values_list(
        "pk", flat=True
    ):
        with transaction.atomic():
            # Locked and checked again: an extension or a conversion may have come first.
            hold = Hold.objects.select_for_update().filter(pk=hold_id, state=Hold.State.ACTIVE).first()
            if hold is not None and hold.expires_at <= now:
                hold.state = Hold.State.EXPIRED
                hold.save(update_fields=["state", "updated_at"])
                expired += 1
    return expired


def holds_due_reminder(*, now=None):
    """Active holds expiring within REMINDER_BEFORE that have not been reminded of yet."""
    now = now or timezone.now()
    return Hold.objects.filter(
        state=Hold.State.ACTIVE,
        reminder_sent_at__isnull=True,
        expires_at__gt=now,
        expires_at__lte=now + REMINDER_BEFORE,
    ).select_related("customer__shop", "variant__product")


def hold_reminder_mark(*, hold: Hold, now=None) -> bool:
    """Mark `hold` reminded; False when another run already did (so the message goes out once)."""
    now = now or timezone.now()
    marked = Hold.objects.filter(pk=hold.pk, reminder_sent_at__isnull=True, state=Hold.State.ACTIVE).update(
        reminder_sent_at=now, updated_at=now
    )
    return bool(marked)


def _locked_active(hold: Hold) -> Hold:
    locked = Hold.objects.select_for_update().select_related("shop").get(pk=hold.pk)
    if locked.state != Hold.State.ACTIVE:
        raise HoldRefused(_("This hold is no longer active."), code="not_active")
    return locked


def _end(hold: Hold, state: str) -> Hold:
    with transaction.atomic():
        hold = _locked_active(hold)
        hold.state = state
        hold.save(update_fields=["state", "updated_at"])
    return hold


def holds_follow_merge(*, shop_id: int, kept_id: int, merged_id: int) -> None:
    """customers.events.CUSTOMER_MERGING: the merged record's holds go to the kept one before its row is
    deleted (which would delete them, freeing units a person was promised). Where both held the same
    variant, the kept hold takes both quantities and the later expiry (one active hold per customer and
    variant); the merged one goes with its row."""
    merged = Hold.objects.select_for_update().filter(shop_id=shop_id, customer_id=merged_id)
    for hold in merged.filter(state=Hold.State.ACTIVE):
        kept = (
            Hold.objects.select_for_update()
            .filter(customer_id=kept_id, variant_id=hold.variant_id, state=Hold.State.ACTIVE)
            .first()
        )
        if kept is None:
            continue
        kept.quantity += hold.quantity
        kept.expires_at = max(kept.expires_at, hold.expires_at)
        kept.save(update_fields=["quantity", "expires_at", "updated_at"])
        hold.delete()
    merged.update(customer_id=kept_id)
