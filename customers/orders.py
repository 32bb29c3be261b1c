"""Orders a shop's e-shop pushes: created or updated by the shop's own reference, the customer found by
id, phone or e-mail (created when absent), their figures and segment kept right.

Idempotency by constraint: (shop, reference) is unique, so two pushes of one new order at the same
instant both try to insert, the database lets one through, and the other catches the IntegrityError
and updates the winner's row instead (never a pre-check, which two requests pass together).

Orders are saved one by one with save(), never queryset.update() nor bulk_create: customers.figures'
signals recompute the customer's figures in the same transaction, and whoever listens to order saves
(the outgoing webhooks) hears every change, and only real ones (an identical push saves nothing).
The segment is recomputed here, after the figures, for every customer the change touched.

An order follows the customer its push names: the e-shop is the authority on who bought (a guest
order later attached to an account moves to that customer; both customers' figures and segments are
recomputed). One exception: an order without a customer, kept anonymously after its customer was
erased (customers.privacy), stays anonymous: a later push updates its amount but never attaches nor
re-creates the erased person from the e-shop's data.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from customers.models import Customer, Order, Shop
from customers.segments import segments_refresh
from customers.services import customer_get_or_create

# What a push may set on an order besides its reference and customer.
ORDER_FIELDS = ("amount", "currency", "placed_at")
# Customers created by a pushed order say so (Customer.source).
SOURCE = "api"


class UnknownCustomer(LookupError):
    """The push names a customer id the shop does not have."""


@dataclass(frozen=True)
class CustomerRef:
    """Who bought, as a push names them: the shop's customer id, or a phone (E.164, already read with
    the shop's country) and/or an e-mail; the names are used only when the customer is created."""

    id: int | None = None
    phone: str | None = None
    email: str | None = None
    first_name: str = ""
    last_name: str = ""


def order_customer(*, shop: Shop, ref: CustomerRef) -> Customer:
    """The customer `ref` names: by id (UnknownCustomer if not the shop's), else found by phone then
    e-mail, else created (safely under concurrency: customer_get_or_create)."""
    if ref.id is not None:
        customer = Customer.objects.filter(shop=shop, pk=ref.id).first()
        if customer is None:
            raise UnknownCustomer(ref.id)
        return customer
    names = {name: value for name in ("first_name", "last_name") if (value := getattr(ref, name))}
    customer, _created = customer_get_or_create(
        shop=shop, phone=ref.phone, email=ref.email, defaults={**names, "source": SOURCE}
    )
    return customer


def order_upsert(
    *, shop: Shop, reference: str, customer_ref: CustomerRef, fields: dict
) -> tuple[Order, bool]:
    """Create the shop's order `reference`, or update it to `fields` and `customer_ref`; return
    (order, created). Pushing the same values again changes and saves nothing."""
    unknown = set(fields) - set(ORDER_FIELDS)
    if unknown:
        raise ValueError(f"order_upsert cannot set {sorted(unknown)}")
    with transaction.atomic():
        order = _locked(shop, reference)
        if order is None:
            customer = order_customer(shop=shop, ref=customer_ref)
            try:
                with transaction.atomic():  # a savepoint: the loser of a race carries on below
                    order = Order.objects.create(shop=shop, reference=reference, customer=customer, **fields)
            except IntegrityError:
                # A concurrent push of this new reference committed first: update its row instead.
                order = _locked(shop, reference)
                if order is None:
                    raise
            else:
                _segments_refresh(shop, [customer.pk])
                return order, True
        touched = _update(order, shop=shop, customer_ref=customer_ref, fields=fields)
        _segments_refresh(shop, touched)
    return order, False


def order_delete(*, order: Order) -> None:
    """Delete an order; its customer's figures (the signal) and segment follow."""
    with transaction.atomic():
        customer_id = order.customer_id
        order.delete()
        _segments_refresh(order.shop, [customer_id])


def orders_filter(
    queryset: QuerySet[Order], *, customer_id: int | None = None, placed_since: datetime | None = None
) -> QuerySet[Order]:
    """The API's list filters (the queryset is already the shop's)."""
    if customer_id is not None:
        queryset = queryset.filter(customer_id=customer_id)
    if placed_since is not None:
        queryset = queryset.filter(placed_at__gte=placed_since)
    return queryset


def _locked(shop: Shop, reference: str) -> Order | None:
    # Locked: two pushes of one existing order apply one after the other, each on the other's result.
    return Order.objects.select_for_update().filter(shop=shop, reference=reference).first()


def _update(order: Order, *, shop: Shop, customer_ref: CustomerRef, fields: dict) -> list[int]:
    """Apply what changed and save (once, only if something did); the customers whose figures moved."""
    changes = {name: value for name, value in fields.items() if getattr(order, name) != value}
    if order.customer_id is not None:  # an anonymous order stays so (see the module's docstring)
        customer = order_customer(shop=shop, ref=customer_ref)
        if customer.pk != order.customer_id:
            changes["customer"] = customer
    if not changes:
        return []
    previous = order.customer_id
    for name, value in changes.items():
        setattr(order, name, value)
    order.save()  # the figures' signals recompute the previous customer and the new one
    return [previous, order.customer_id]


def _segments_refresh(shop: Shop, customer_ids) -> None:
    ids = [pk for pk in customer_ids if pk is not None]
    if ids:
        segments_refresh(shop=shop, customer_ids=ids)
