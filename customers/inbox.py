"""The inbox: the customers waiting for a person, oldest first.

A customer waits from the moment the automatic reply hands them over (an escalation, a question it could
not answer, or one it would have answered but stayed silent on: replies off, paused while a person talks
to the customer, the hourly cap, a message a day late; `customers_hand_over`, called by the reply engine)
until a person of the shop answers them (`customer_answered_by_person`, called when a person's message
is recorded) or marks the conversation handled (services.customer_resolve_attention). An automatic
"someone will get back to you" is not an answer. A question the automatic reply fully answered never
hands over, and does not end a wait either: a customer who asked for a refund and then for the opening
hours still waits for an answer about the refund. `attention_since` is the clock: the first hand-over
not yet dealt with, so a customer who writes three times waits since the first.
"""

import hashlib

from django.contrib.auth import get_user_model
from django.db.models import Count, DateTimeField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from customers.models import Customer, Interaction, Membership, Shop

SHOWS = ("all", "mine", "unassigned")
THREAD_SIZE = 50


def customers_hand_over(customer_ids: set[int]) -> None:
    """The automatic reply hands these customers to a person: they wait from now, or from the earlier
    hand-over nobody has dealt with yet."""
    now = Value(timezone.now(), output_field=DateTimeField())
    Customer.objects.filter(pk__in=customer_ids).update(
        needs_attention=True, attention_since=Coalesce("attention_since", now)
    )


def customer_answered_by_person(customer: Customer) -> None:
    """A person of the shop wrote to the customer: the conversation no longer waits."""
    waiting = Q(needs_attention=True) | Q(attention_since__isnull=False)
    Customer.objects.filter(waiting, pk=customer.pk).update(needs_attention=False, attention_since=None)
    customer.needs_attention, customer.attention_since = False, None


NOT_DELIVERED = ("failed", "undelivered")


def person_messages_failed(*, interaction_ids, shop_id=None) -> None:
    """Told when delivery statuses change: a message a person of the shop wrote that failed or was not
    delivered did not answer the customer, who waits for a person again (from now)."""
    failed = Interaction.objects.filter(
        pk__in=interaction_ids,
        direction=Interaction.Direction.OUTBOUND,
        author__isnull=False,
        status__in=NOT_DELIVERED,
    )
    customer_ids = set(failed.values_list("customer_id", flat=True))
    if customer_ids:
        customers_hand_over(customer_ids)


def inbox_waiting(shop: Shop, *, user, show: str = "all") -> QuerySet[Customer]:
    """The shop's waiting customers, the longest waiting first, with `waiting_since` and the channel of
    their last message (`last_channel`); `show` narrows to the user's or the unassigned ones."""
    rows = Customer.objects.filter(shop=shop, needs_attention=True)
    if show == "mine":
        rows = rows.filter(assigned_to=user)
    elif show == "unassigned":
        rows = rows.filter(assigned_to__isnull=True)
    inbound = Interaction.Direction.INBOUND
    last_inbound = Interaction.objects.filter(customer=OuterRef("pk"), direction=inbound)
    return (
        rows.select_related("assigned_to")
        .annotate(
            # Flagged before the clock existed (or by hand in the admin): their last message starts it.
            waiting_since=Coalesce("attention_since", "last_message_at", "created_at"),
            last_channel=Subquery(last_inbound.order_by("-pk").values("channel")[:1]),
        )
        .order_by("waiting_since", "pk")
    )


def inbox_counts(shop: Shop, *, user) -> dict[str, int]:
    """How many wait: all, the user's, nobody's (one statement, from the partial index)."""
    return Customer.objects.filter(shop=shop, needs_attention=True).aggregate(
        all=Count("pk"),
        mine=Count("pk", filter=Q(assigned_to=user)),
        unassigned=Count("pk", filter=Q(assigned_to__isnull=True)),
    )


def inbox_count(shop: Shop) -> int:
    return Customer.objects.filter(shop=shop, needs_attention=True).count()


def inbox_signature(customers: list[Customer], counts: dict, people: list) -> str:
    """What the page shows, in a few characters: the live updates send the rows again only when it changes
    (a row, a count, the shop's people in the selects, or the minute: "waiting for 5 minutes" ages)."""
    parts = [
        f"{c.pk}:{c.display_name}:{c.waiting_since}:{c.assigned_to_id}:{c.last_inbound_id}:"
        f"{c.last_message_preview}"
        for c in customers
    ]
    parts.append(repr(sorted(counts.items())))
    parts.append(",".join(f"{p.pk}:{p.get_full_name() or p.get_username()}" for p in people))
    parts.append(timezone.now().strftime("%Y%m%d%H%M"))
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def shop_people(shop: Shop) -> list:
    """The shop's members, who can be given a conversation (by name, then username)."""
    User = get_user_model()
    members = User.objects.filter(memberships__shop=shop, is_active=True)
    return list(members.order_by("first_name", "username"))


class NotAMember(ValueError):
    pass


def customer_assign(*, customer: Customer, user) -> Customer:
    """Give the conversation to an active member of the customer's shop (None: to nobody)."""
    member = Membership.objects.filter(shop_id=customer.shop_id, user=user, user__is_active=True)
    if user is not None and not member.exists():
        raise NotAMember(f"{user} is not a member of {customer.shop}")
    customer.assigned_to = user
    Customer.objects.filter(pk=customer.pk).update(assigned_to=user)
    return customer


def customer_thread(customer: Customer, *, before: int | None = None, size: int = THREAD_SIZE):
    """The conversation as a chat thread: the `size` messages before message `before` (else the latest),
    oldest first, and the id to ask for the ones before them (None when there are none)."""
    rows = customer.interactions.select_related("author")
    if before:
        anchor = customer.interactions.filter(pk=before).values_list("occurred_at", flat=True).first()
        if anchor is not None:
            rows = rows.filter(Q(occurred_at__lt=anchor) | Q(occurred_at=anchor, pk__lt=before))
    newest = list(rows.order_by("-occurred_at", "-pk")[: size + 1])
    shown = newest[:size][::-1]
    return shown, (shown[0].pk if len(newest) > size else None)


# The shop's latest messages whose delivery status the conversation view keeps up to date live.
STATUS_WATCHED = 10


def recent_outbound(customer: Customer, *, up_to: int) -> list[Interaction]:
    """The shop's latest messages to the customer, up to message `up_to` (the page already shows them):
    the live updates send them again so that a status that changed (queued, sent, delivered, failed) is
    redrawn."""
    outbound = customer.interactions.filter(direction=Interaction.Direction.OUTBOUND, pk__lte=up_to)
    return list(outbound.select_related("author").order_by("-pk")[:STATUS_WATCHED])
