"""Reads on the native CRM: tenant scoping, search, per-customer figures, duplicates."""

import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce, Lower
from django.utils import timezone

from customers.models import AuditEntry, Customer, Interaction, Membership, Shop
from customers.search import SEARCH_MAX_WORDS, cap_search, customer_search_filter, search_rank, search_words


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


# Search lives in customers/search.py; its names stay importable from here.
__all__ = ["SEARCH_MAX_WORDS", "cap_search", "customer_search_filter", "search_words"]


def customers_with_figures(queryset: QuerySet[Customer]) -> QuerySet[Customer]:
    """The customers with orders_count, total_spent, first_order_at and last_order_at: columns kept
    with the orders (customers/figures.py), so nothing to aggregate any more; kept for its callers."""
    return queryset


def customer_figures(customer: Customer) -> dict:
    """Orders, revenue, average basket and customer-since, for one customer (from its columns)."""
    count, revenue = customer.orders_count, customer.total_spent or Decimal("0")
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


# --- dashboard pages ----------------------------------------------------------------------------------

ACTIVE_DAYS = 30
# The list's sort orders; the default puts who wrote last on top, and customers never heard from last.
LIST_SORTS = {
    "last_contact": (F("last_contact_at").desc(nulls_last=True), "-pk"),
    "name": (F("sort_last_name"), F("sort_first_name"), "pk"),
    "revenue": (F("total_spent").desc(), "-pk"),
}
# Lower() exactly as in customer_name_idx, so that the sort reads that index.
SORT_ANNOTATIONS = {"sort_last_name": Lower("last_name"), "sort_first_name": Lower("first_name")}
TIMELINE_PAGE_SIZE = 20
TIMELINE_MAX_PAGE = 1000  # 20,000 entries back; a bigger number in the URL reads as the last we serve


def customer_filter(shop: Shop, params: dict) -> QuerySet[Customer]:
    """The shop's customers matching the list's filters (q, segment, channel, tag, attention)."""
    queryset = Customer.objects.filter(shop=shop)
    if params.get("q"):
        queryset = queryset.filter(customer_search_filter(params["q"], [shop.country]))
    if params.get("segment"):
        queryset = queryset.filter(segment=params["segment"])
    if params.get("channel"):
        queryset = queryset.filter(preferred_channel=params["channel"])
    if params.get("tag"):
        # A subquery rather than a join, so that a customer is never listed twice.
        queryset = queryset.filter(
            pk__in=Customer.tags.through.objects.filter(tag=params["tag"]).values("customer")
        )
    if params.get("attention"):
        queryset = queryset.filter(needs_attention=True)
    return queryset


def customer_list(shop: Shop, params: dict) -> QuerySet[Customer]:
    """The list page's rows: filtered and sorted, figures and latest message from the customer's own
    columns; one query plus tags. Each sort has its index (Customer.Meta.indexes)."""
    # The name sort's keys as selected values too: a keyset page continues from them (customers/keyset.py).
    queryset = customer_filter(shop, params).annotate(**SORT_ANNOTATIONS)
    order = LIST_SORTS.get(params.get("sort"), LIST_SORTS["last_contact"])
    if params.get("q") and not params.get("sort"):
        # A search without a chosen sort: the best matches first (customers.search.search_rank).
        queryset = queryset.annotate(search_rank=search_rank(params["q"], [shop.country]))
        order = ("search_rank", *order)
    return queryset.prefetch_related("tags").order_by(*order)


def list_is_unfiltered(params: dict) -> bool:
    """No filter narrows the list: its count is the stat cards' total, no second count needed."""
    return not any(params.get(key) for key in ("q", "segment", "channel", "tag", "attention"))


def month_start(shop: Shop, now=None):
    """Midnight on the 1st of the current month, in the shop's time zone."""
    try:
        zone = ZoneInfo(shop.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = timezone.get_default_timezone()
    local = timezone.localtime(now or timezone.now(), zone)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def dashboard_stats(shop: Shop, now=None) -> dict:
    """The list's stat cards (definitions in the README's *Customer pages* section), exact, in one query.

    Each card is its own COUNT over the index that holds its condition (customer_stats_*_idx and the
    list's), so each reads only the matching index entries instead of every customer of the shop. A
    customer active both ways is counted once: the orders part only counts those not contacted since."""
    now = now or timezone.now()
    since = now - timedelta(days=ACTIVE_DAYS)
    not_contacted = Q(last_contact_at__lt=since) | Q(last_contact_at__isnull=True)
    counts = {
        "total": Q(),
        "new_this_month": Q(created_at__gte=month_start(shop, now)),
        "vip": Q(segment=Customer.Segment.VIP),
        "contacted_30_days": Q(last_contact_at__gte=since),
        "ordered_30_days": Q(last_order_at__gte=since) & not_contacted,
        "needs_attention": Q(needs_attention=True),
    }
    row = Shop.objects.filter(pk=shop.pk).values(
        **{name: _count(condition) for name, condition in counts.items()}
    )
    stats = row.get()
    stats["active_30_days"] = stats.pop("contacted_30_days") + stats.pop("ordered_30_days")
    return stats


def _count(condition: Q) -> Coalesce:
    matching = Customer.objects.filter(condition, shop=OuterRef("pk")).order_by().values("shop")
    return Coalesce(Subquery(matching.annotate(n=Count("*")).values("n")), 0)


@dataclass(frozen=True)
class TimelineEntry:
    kind: str  # "message", "note", "order" or "merge"
    at: datetime
    item: object


@dataclass(frozen=True)
class TimelinePage:
    entries: list[TimelineEntry]
    number: int
    has_next: bool
    has_previous: bool


def customer_timeline(customer: Customer, page: int = 1, per_page: int = TIMELINE_PAGE_SIZE) -> TimelinePage:
    """Messages, notes, orders and merges of one customer, newest first, one page at a time.

    The newest `page * per_page` of each kind are enough to know the page's entries: merging them by
    date and skipping the earlier pages gives exactly what one sorted union would.
    """
    page = min(max(1, page), TIMELINE_MAX_PAGE)
    depth = page * per_page + 1  # one more, to know whether a next page exists
    sources = [
        ("message", customer.interactions.select_related("author"), "occurred_at"),
        ("note", customer.notes.select_related("author"), "created_at"),
        ("order", customer.orders.all(), "placed_at"),
        (
            "merge",
            customer.audit_entries.filter(action=AuditEntry.Action.MERGE).select_related("actor"),
            "created_at",
        ),
    ]
    entries = [
        TimelineEntry(kind, getattr(row, field), row)
        for kind, queryset, field in sources
        for row in queryset.order_by(f"-{field}", "-pk")[:depth]
    ]
    entries.sort(key=lambda e: (e.at, e.item.pk), reverse=True)
    start = (page - 1) * per_page
    return TimelinePage(
        entries=entries[start : start + per_page],
        number=page,
        has_next=len(entries) > start + per_page,
        has_previous=page > 1,
    )


def interactions_after(customer: Customer, after_id: int) -> QuerySet[Interaction]:
    """A customer's messages recorded after `after_id`, oldest first (the detail page's live updates)."""
    return customer.interactions.filter(pk__gt=after_id).select_related("author").order_by("pk")


def latest_interaction_id(shop: Shop) -> int:
    """The newest message a customer of the shop wrote: where the list's live updates start (they
    only look for inbound messages). Read from customer_inbound_idx, not from the shop's messages."""
    latest = (
        Customer.objects.filter(shop=shop, last_inbound_id__isnull=False)
        .order_by(F("last_inbound_id").desc(nulls_last=True))
        .values_list("last_inbound_id", flat=True)
        .first()
    )
    return latest or 0


def customers_written_after(shop: Shop, after_id: int) -> tuple[list[int], int]:
    """Ids of the shop's customers with an inbound message after `after_id`, and the newest message id."""
    rows = list(
        Interaction.objects.filter(
            customer__shop=shop, pk__gt=after_id, direction=Interaction.Direction.INBOUND
        ).values_list("pk", "customer_id")
    )
    latest = max((pk for pk, _ in rows), default=after_id)
    return list(dict.fromkeys(customer_id for _, customer_id in rows)), latest


def customer_with_same(shop: Shop, field: str, value, exclude_pk=None) -> Customer | None:
    """Another customer of the shop holding this phone, e-mail (any case) or WhatsApp id."""
    if not value:
        return None
    lookup = {"email__iexact": value} if field == "email" else {field: value}
    return Customer.objects.filter(shop=shop, **lookup).exclude(pk=exclude_pk).first()
