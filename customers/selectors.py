"""Reads on the native CRM: tenant scoping, search, per-customer figures, duplicates."""

import unicodedata
from collections import defaultdict
from decimal import Decimal

from django.db.models import Count, DecimalField, Max, Min, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from customers.models import Customer, Membership, Shop
from customers.phones import try_normalize_phone


def shops_for_user(user) -> QuerySet[Shop]:
    """The shops a user may see: all for a superuser, else those they are a member of."""
    if not user.is_authenticated or not user.is_active:
        return Shop.objects.none()
    if user.is_superuser:
        return Shop.objects.all()
    return Shop.objects.filter(memberships__user=user)


def role_in_shop(user, shop_id) -> str | None:
    if user.is_superuser:
        return Membership.Role.OWNER
    return Membership.objects.filter(user=user, shop_id=shop_id).values_list("role", flat=True).first()


def customer_search_filter(query: str, countries) -> Q:
    """A filter matching a name, e-mail or phone written in any format.

    A phone typed the local way (`06 98 76 54 32`) is normalised with each shop's country, so it finds
    the stored `+33698765432`; partial digits still match by substring.
    """
    query = query.strip()
    condition = Q()
    for word in query.split():
        condition &= Q(first_name__icontains=word) | Q(last_name__icontains=word) | Q(email__icontains=word)
    condition |= Q(email__iexact=query)
    digits = "".join(ch for ch in query if ch.isdigit())
    if len(digits) >= 3:
        condition |= Q(phone__contains=digits.lstrip("0") or digits)
    for country in set(countries):
        phone = try_normalize_phone(query, country)
        if phone:
            condition |= Q(phone=phone)
    if query:
        condition |= Q(whatsapp_user_id=query)
    return condition


def customers_with_figures(queryset: QuerySet[Customer]) -> QuerySet[Customer]:
    """Annotate orders_count, total_spent, first_order_at (one query, no N+1)."""
    return queryset.annotate(
        orders_count=Count("orders", distinct=True),
        total_spent=Coalesce(
            Sum("orders__amount"),
            Value(Decimal("0")),
            output_field=DecimalField(max_digits=12, decimal_places=2),
        ),
        first_order_at=Min("orders__placed_at"),
        last_order_at=Max("orders__placed_at"),
    )


def customer_figures(customer: Customer) -> dict:
    """Orders, revenue, average basket and customer-since, for one customer."""
    totals = customer.orders.aggregate(count=Count("id"), revenue=Sum("amount"))
    count, revenue = totals["count"], totals["revenue"] or Decimal("0")
    return {
        "orders_count": count,
        "revenue": revenue,
        "average_basket": (revenue / count).quantize(Decimal("0.01")) if count else Decimal("0"),
        "customer_since": customer.first_contact_at or customer.created_at,
    }


def _name_key(customer: Customer) -> str:
    text = f"{customer.first_name} {customer.last_name}".strip().lower()
    text = unicodedata.normalize("NFKD", text)
    return " ".join("".join(ch for ch in text if not unicodedata.combining(ch)).replace("-", " ").split())


def _conflict(a: Customer, b: Customer) -> bool:
    """Two records that carry different values for the same identifier are two people."""
    return any(getattr(a, f) and getattr(b, f) and getattr(a, f) != getattr(b, f) for f in ("phone", "email"))


def duplicate_groups(*, shop: Shop) -> list[list[Customer]]:
    """Groups of records that are probably one person: same full name (accents and case aside) and no
    conflicting phone or e-mail. The oldest record comes first; it is the one a merge keeps."""
    by_name = defaultdict(list)
    for customer in (
        Customer.objects.filter(shop=shop).exclude(first_name="", last_name="").order_by("created_at", "pk")
    ):
        key = _name_key(customer)
        if " " in key:  # a first name alone is too weak a signal
            by_name[key].append(customer)
    groups = []
    for candidates in by_name.values():
        while len(candidates) > 1:
            head, rest = candidates[0], candidates[1:]
            group = [head]
            for other in rest:
                if not any(_conflict(member, other) for member in group):
                    group.append(other)
            if len(group) > 1:
                groups.append(group)
            candidates = [c for c in rest if c not in group]
    return groups
