"""Turns decided together: a reply task's batch of turns in one transaction and a few statements.

`webhooks.autoreply.turn_respond` decides one turn in its own transaction, in ~10 statements (lock the
customer, read the message, the shop's last message, the turn, mark it decided, remember the
language, count the hour's replies, insert the reply, tell the CRM). A task holding 20 turns does the
same here in a fixed number: the customers locked in one statement (`SKIP LOCKED`: a customer held by
a batch of events or another task is left to the one-turn path, which waits for it), the messages,
the shop's last messages, the turns and the hour's counts read in one statement each, the decisions
taken in memory by the same code (`autoreply.turn_decide` and `respond`), and their writes made at the
end, one statement per kind (`autoreply.Together`).
"""

import logging
from collections import Counter
from datetime import timedelta

from django.db import transaction
from django.db.models import Count, F, Max, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from coccinelle import cache
from customers import events
from customers.models import Customer, Interaction
from webhooks import autoreply

logger = logging.getLogger(__name__)

INBOUND, OUTBOUND = autoreply.INBOUND, autoreply.OUTBOUND


def turns_respond_together(turns: list[tuple[int, int]]) -> tuple[Counter, list[tuple[int, int]]]:
    """Decide the turns whose customers no one else holds; what happened, and the turns left to the
    one-turn path (held customers; every turn when the batch itself failed and was rolled back). The
    replies are sent by this task as soon as the batch commits."""
    replies: list[Interaction] = []
    token = autoreply._replies_batch.set(replies)
    try:
        outcomes, left = _decide_all(turns)
    except Exception:  # noqa: BLE001 - nothing of the batch committed: each turn is decided alone
        logger.exception("turns not decided together: one by one")
        return Counter(), turns
    finally:
        autoreply._replies_batch.reset(token)
    # At once: the batch committed (or, inside a caller's transaction, when that one commits).
    transaction.on_commit(lambda: _send_all(replies), robust=True)
    return outcomes, left


def _send_all(replies: list[Interaction]) -> None:
    with cache.memoized():  # the shop's addresses, read once for the batch
        autoreply._send_all(replies)


def _decide_all(turns: list[tuple[int, int]]) -> tuple[Counter, list[tuple[int, int]]]:
    outcomes, left = Counter(), []
    with transaction.atomic(), events.collected():
        asked = Interaction.objects.filter(pk__in=[inbound_id for _, inbound_id in turns], direction=INBOUND)
        owners = set(asked.values_list("customer_id", flat=True))
        customers = _locked(owners)
        # Read once their customers are locked: a copy of a turn decided meanwhile by another task (it
        # held the customer) is seen decided here, never decided twice from a stale read.
        messages = {message.pk: message for message in asked.filter(customer_id__in=customers)}
        held = set()
        if owners - customers.keys():
            held = set(asked.exclude(customer_id__in=customers).values_list("pk", flat=True))
        decidable = []
        for customer_id, inbound_id in turns:
            message = messages.get(inbound_id)
            if message is not None:
                decidable.append(message)
            elif inbound_id in held:
                left.append((customer_id, inbound_id))  # another transaction holds the customer
            else:
                outcomes["gone"] += 1  # erased since
        ids = {message.customer_id for message in decidable}
        since = _last_written(ids)
        floor = min((min(since.get(m.customer_id, 0), m.pk) for m in decidable), default=0)
        latest = _latest_talk(ids, floor=floor)
        together = autoreply.Together(hourly=_replies_last_hour(ids))
        token = autoreply._together.set(together)
        try:
            for message in decidable:
                customer = customers[message.customer_id]
                message.customer = customer
                turn = autoreply.turn_of(
                    latest.get(customer.pk, []), since=since.get(customer.pk, 0), inbound=message
                )
                outcomes[autoreply.turn_decide(customer, message, turn)] += 1
        finally:
            autoreply._together.reset(token)
        together.write()
    return outcomes, left


def _locked(customer_ids: set[int]) -> dict[int, Customer]:
    """The customers no other transaction holds, locked (their row only: locking the shop too would
    queue every insert naming it), in id order; a copy of this task waits for none."""
    locked = (
        Customer.objects.select_for_update(of=("self",), skip_locked=True)
        .select_related("shop")
        .filter(pk__in=customer_ids)
        .order_by("pk")
    )
    return {customer.pk: customer for customer in locked}


def _last_written(customer_ids: set[int]) -> dict[int, int]:
    """Each customer's last message from the shop (its id)."""
    written = Interaction.objects.filter(customer_id__in=customer_ids, direction=OUTBOUND)
    return dict(written.values("customer_id").annotate(last=Max("pk")).values_list("customer_id", "last"))


def _latest_talk(customer_ids: set[int], *, floor: int) -> dict[int, list[Interaction]]:
    """Each customer's latest MAX_TURN_MESSAGES + 1 messages that can make a turn, newest first (what
    turn_messages reads for one), above `floor` (no turn of the batch starts lower)."""
    ranked = (
        Interaction.objects.filter(customer_id__in=customer_ids, direction=INBOUND, pk__gt=floor)
        .exclude(message_type__in=autoreply.NOT_A_TURN)
        .annotate(newest=Window(RowNumber(), partition_by=[F("customer_id")], order_by=F("pk").desc()))
        .filter(newest__lte=autoreply.MAX_TURN_MESSAGES + 1)
        .order_by("customer_id", "-pk")
    )
    latest: dict[int, list[Interaction]] = {}
    for message in ranked:
        latest.setdefault(message.customer_id, []).append(message)
    return latest


def _replies_last_hour(customer_ids: set[int]) -> dict[int, int]:
    since = timezone.now() - timedelta(hours=1)
    recent = Interaction.objects.filter(customer_id__in=customer_ids, is_automatic=True)
    recent = recent.filter(occurred_at__gte=since)
    return dict(recent.values("customer_id").annotate(n=Count("pk")).values_list("customer_id", "n"))
