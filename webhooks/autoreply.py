"""Whether and how to answer a customer automatically: once per conversation turn.

A turn is every message a customer sent since the shop last wrote to them. The pipeline records each
message at once and calls `turn_schedule`; the decision waits AUTO_REPLY_DEBOUNCE_SECONDS in a task
(`webhooks.tasks.reply_for_turns` -> `turns_respond` -> `turn_respond`, one task for the turns of a
batch of events), and only the turn's last message is answered: earlier ones find a newer message
and leave it to that one. Whether a newer message arrived
is read from the data (ids), never from the clock, so a late task or an eager one decides the same.

The offline engine (`webhooks.replies`) reads the turn; this module applies what the customer and the
shop decided: opt-out and opt-in, paused replies, the hourly cap, escalation to a person, and which
engine writes the text. Replies are recorded as outbound interactions before they are sent.
"""

import logging
from collections import Counter
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from coccinelle import db
from customers import events
from customers.inbox import customer_answered_by_person, customers_hand_over
from customers.models import Customer, Interaction, Shop
from shopinfo.cached import cached_hours, reply_data
from shopinfo.selectors import map_link, shop_zone
from webhooks import answerers
from webhooks.replies import Action, Decision, ShopInfo, decide, decide_turn
from webhooks.replies.engine import clean_first_name, wrap

logger = logging.getLogger(__name__)

INBOUND, OUTBOUND = Interaction.Direction.INBOUND, Interaction.Direction.OUTBOUND
# Decisions no other app's answer replaces: the law (STOP, START) and a customer asking for a person.
_NOT_FOR_APPS = frozenset({Action.OPT_OUT, Action.OPT_IN, Action.ESCALATE})
# Messages that act on an earlier message (or on the account) instead of saying something: they
# neither start nor extend a turn, and get no answer.
NOT_A_TURN = frozenset({"reaction", "edit", "revoke", "system"})
# A turn read by the engine: its last messages only (a customer pasting 50 lines is still one turn).
MAX_TURN_MESSAGES = 20
# Set on a turn's last message once its decision is taken, silent or not, so that a task run twice
# (a worker lost after the commit) neither answers nor e-mails the owners twice.
DECIDED_MARK = "_turn_decided"
# What an automatic reply did, kept on its raw_payload for the analytics (analytics.aggregate): it
# answered, it handed the customer to a person ("someone will get back to you": no answer for the
# inbox), or it confirmed an opt-out / opt-in. Replies recorded before the marker carry none.
REPLY_KIND_KEY = "_reply_kind"
ANSWER, HANDOVER, OPT_OUT, OPT_IN = "answer", "handover", "opt_out", "opt_in"
REPLY_KINDS = (ANSWER, HANDOVER, OPT_OUT, OPT_IN)


def shop_info(shop: Shop) -> ShopInfo:
    """Everything the engines may tell this shop's customers, with the shop's own "now"."""
    data = reply_data(shop)
    now = timezone.localtime(timezone=shop_zone(shop))
    return ShopInfo(
        name=shop.name,
        language=shop.language,
        address=shop.address,
        hours=cached_hours(data, today=now.date()),
        hours_note=shop.opening_hours,
        website=shop.website,
        phone=shop.contact_phone,
        map_url=map_link(shop, data["map_url"]),
        facts=data["facts"],
        signature=data["signature"],
        now=now,
    )


def decide_for(customer: Customer, text: str) -> Decision:
    return decide(
        text,
        shop=shop_info(customer.shop),
        first_name=customer.first_name or None,
        language_hint=customer.language or None,
    )


def decide_for_turn(customer: Customer, turn: list[Interaction]) -> Decision:
    return decide_turn(
        [(message.message_type or "text", message.body) for message in turn],
        shop=shop_info(customer.shop),
        first_name=customer.first_name or None,
        language_hint=customer.language or None,
    )


@dataclass
class Together:
    """Turns decided together (webhooks.autoreply_batch): the figures they need read for all at
    once, their writes kept for one statement each at the end (write)."""

    hourly: dict[int, int]  # automatic replies in the last hour, by customer id
    languages: list[Customer] = field(default_factory=list)
    decided: list[Interaction] = field(default_factory=list)  # DECIDED_MARK set on raw_payload
    replies: list[Interaction] = field(default_factory=list)  # automatic replies, not yet inserted
    flagged: list[Customer] = field(default_factory=list)  # to be marked needs_attention

    def write(self) -> None:
        if self.decided:
            db.rows_update(self.decided, ["raw_payload"])
        if self.languages:
            db.rows_update(list({c.pk: c for c in self.languages}.values()), ["language"])
        if self.flagged:
            customers_hand_over({c.pk for c in self.flagged})
        if self.replies:
            Interaction.objects.bulk_create(self.replies)
        by_shop: dict[int, list[int]] = {}
        for reply in self.replies:
            by_shop.setdefault(reply.customer.shop_id, []).append(reply.pk)
        for shop_id, ids in by_shop.items():  # a bulk insert sends no post_save
            events.interactions_recorded(shop_id=shop_id, interaction_ids=ids)


_together: ContextVar[Together | None] = ContextVar("autoreply_together", default=None)


# Set by the worker's batches: the turns a batch of events schedules share one task, and the replies a
# batch of turns records are sent by that task after its commit (see turns_batched, turns_respond).
_turns_batch: ContextVar[list | None] = ContextVar("autoreply_turns_batch", default=None)
_replies_batch: ContextVar[list | None] = ContextVar("autoreply_replies_batch", default=None)


def turn_schedule(inbound: Interaction | None, *, message_type: str) -> bool:
    """After the commit, have a task decide the answer to the turn `inbound` belongs to, once the
    customer has had AUTO_REPLY_DEBOUNCE_SECONDS to add to it. Nothing for a reaction, an edit..."""
    if inbound is None or message_type in NOT_A_TURN or inbound.message_type in NOT_A_TURN:
        return False
    turn = (inbound.customer_id, inbound.pk)
    batch = _turns_batch.get()
    if batch is not None:
        # Joins the batch's task at the commit: dropped with the savepoint if this event fails.
        transaction.on_commit(lambda: batch.append(turn))
        return True
    transaction.on_commit(lambda: _publish_turns([turn]), robust=True)
    return True


@contextmanager
def turns_batched():
    """The turns scheduled in this block (one transaction: the worker's batch of events) get one
    reply task between them, published after the commit."""
    if _turns_batch.get() is not None:
        yield
        return
    turns: list[tuple[int, int]] = []
    token = _turns_batch.set(turns)
    try:
        yield
    finally:
        _turns_batch.reset(token)
    # Registered after every turn's own callback, so it runs once they have all joined the list.
    transaction.on_commit(lambda: _publish_turns(turns), robust=True)


def _publish_turns(turns: list[tuple[int, int]], *, delay: float | None = None) -> None:
    from webhooks.tasks import reply_for_turns

    if turns:
        delay = settings.AUTO_REPLY_DEBOUNCE_SECONDS if delay is None else delay
        reply_for_turns.apply_async((turns,), countdown=delay)


def turns_respond(turns: list[tuple[int, int]]) -> Counter:
    """Decide a batch of turns ((customer id, message id) each, see turn_respond), each in its own
    short transaction (one customer locked at a time: a batch of events being processed meanwhile may
    hold several, so holding several here could deadlock with it), and send each turn's reply here as
    soon as its transaction commits (a send that fails for a passing reason is handed to
    send_interaction and its retries). A turn whose decision fails is rolled back alone and left
    undecided, for beat's sweep."""
    outcomes = Counter()
    if len(turns) > 1:
        from webhooks import autoreply_batch  # it builds on this module

        outcomes, turns = autoreply_batch.turns_respond_together(turns)
    for customer_id, inbound_id in turns:
        replies: list[Interaction] = []
        token = _replies_batch.set(replies)
        try:
            outcomes[_turn_respond_alone(customer_id, inbound_id, replies)] += 1
        finally:
            _replies_batch.reset(token)
        # At once, as soon as the turn committed: not after the batch's other decisions.
        transaction.on_commit(lambda sent=replies: _send_all(sent), robust=True)
    return outcomes


def _send_all(replies: list[Interaction]) -> None:
    from webhooks.outbound import send_recorded_many

    send_recorded_many(replies)


def _turn_respond_alone(customer_id: int, inbound_id: int, replies: list[Interaction]) -> str:
    recorded = len(replies)
    try:
        return turn_respond(customer_id=customer_id, inbound_id=inbound_id)
    except Exception:  # noqa: BLE001 - one turn's failure (a bug, a deadlock) must not fail the batch
        logger.exception("turn of customer %s ending with interaction %s failed", customer_id, inbound_id)
        del replies[recorded:]  # rolled back with the turn's savepoint
        return "error"


def turns_unanswered(*, now=None, limit: int = 500) -> list[tuple[int, int]]:
    """(customer id, message id) of turns whose task never ran (the broker was down when it was
    scheduled, the task was lost): the customer's last interaction is their message, undecided, older
    than the debounce plus a minute's grace, and younger than a day (older ones get no automatic
    reply anyway). Celery beat hands them to `reply_for_turns`, which is safe to run twice."""
    now = now or timezone.now()
    later = Interaction.objects.filter(customer_id=OuterRef("customer_id"), pk__gt=OuterRef("pk"))
    waited = timedelta(seconds=settings.AUTO_REPLY_DEBOUNCE_SECONDS + 60)
    candidates = (
        Interaction.objects.filter(
            direction=INBOUND, created_at__lt=now - waited, created_at__gt=now - STALE_AFTER
        )
        .exclude(message_type__in=NOT_A_TURN)
        .exclude(raw_payload__has_key=DECIDED_MARK)
        .filter(~Exists(later))
        .order_by("pk")
    )
    return list(candidates.values_list("customer_id", "pk")[:limit])


def turn_messages(customer: Customer, inbound: Interaction) -> list[Interaction] | None:
    """The turn `inbound` ends, oldest first: the customer's messages since the shop last wrote or
    the last turn was decided (a turn left unanswered, e.g. while replies were paused, is not read
    again with the next one). None when a newer message arrived (its own task decides); [] when the
    shop has written since (an answer to this turn, automatic or by a person).

    Two queries: the shop's last message, then the customer's latest messages since, newest first (a
    newer one than `inbound` comes first if there is one; a turn is at most MAX_TURN_MESSAGES long, so
    that many and `inbound`'s newer neighbour are all that can matter)."""
    written = customer.interactions.filter(direction=OUTBOUND).order_by("-pk").values_list("pk", flat=True)
    since = written.first() or 0
    talk = customer.interactions.exclude(message_type__in=NOT_A_TURN).filter(
        direction=INBOUND, pk__gt=min(since, inbound.pk)
    )
    return turn_of(list(talk.order_by("-pk")[: MAX_TURN_MESSAGES + 1]), since=since, inbound=inbound)


def turn_of(latest: list[Interaction], *, since: int, inbound: Interaction) -> list[Interaction] | None:
    """turn_messages from what it reads: `latest`, the customer's latest MAX_TURN_MESSAGES + 1 messages
    that can make a turn (newest first; older ones may be included, they are left out here), and
    `since`, the id of the shop's last message to them (0 for none)."""
    latest = [message for message in latest if message.pk > min(since, inbound.pk)]
    if latest and latest[0].pk > inbound.pk:
        return None
    if since > inbound.pk:
        return []
    turn = []
    for message in latest:
        if message.pk == inbound.pk:
            message = inbound  # the caller's copy: it carries what the caller marks on it
        elif message.pk < inbound.pk and message.raw_payload.get(DECIDED_MARK):
            break  # the previous turn, decided: this one starts after it
        turn.append(message)
    return list(reversed(turn[:MAX_TURN_MESSAGES]))


def turn_respond(*, customer_id: int, inbound_id: int) -> str:
    """Decide once for the turn that `inbound_id` ends (the task's body); what happened, for the log.
    The message's customer today is the one answered (`customer_id` is who it was when scheduled: a
    merge during the wait moves the message, and its turn, to the kept profile)."""
    with transaction.atomic(), events.collected():
        owner_id = Interaction.objects.filter(pk=inbound_id, direction=INBOUND).values_list("customer_id")
        # One decision at a time per customer: a second copy of this task waits here, then finds
        # the turn answered or marked decided.
        # The customer's row only (`of`): locking the shop too would queue every insert naming it.
        customer = (
            Customer.objects.select_for_update(of=("self",))
            .select_related("shop")
            .filter(pk__in=owner_id)
            .first()
        )
        inbound = customer and customer.interactions.filter(pk=inbound_id).first()
        if inbound is None:
            return "gone"  # erased since
        return turn_decide(customer, inbound, turn_messages(customer, inbound))


def turn_decide(customer: Customer, inbound: Interaction, turn: list[Interaction] | None) -> str:
    """Decide the turn (turn_messages) `inbound` ends, its customer locked; what happened, for the log."""
    if turn is None:
        return "superseded"
    if not turn:
        return "answered"
    if inbound.raw_payload.get(DECIDED_MARK):
        return "decided"
    inbound.raw_payload = {**inbound.raw_payload, DECIDED_MARK: True}
    together = _together.get()
    if together is not None:
        together.decided.append(inbound)
    else:
        Interaction.objects.filter(pk=inbound.pk).update(raw_payload=inbound.raw_payload)
    reply = respond(customer=customer, turn=turn)
    return "replied" if reply else "silent"


def respond(*, customer: Customer, turn: list[Interaction]) -> Interaction | None:
    """Apply the decision for the `turn` (messages, oldest first); return the automatic reply
    recorded, if any. It answers the turn's last message (`in_reply_to`).

    Runs inside the caller's transaction: state changes and the recorded reply commit together, and
    sending (a task) starts only after the commit.
    """
    inbound = turn[-1]
    decision = decide_for_turn(customer, turn)
    _remember_language(customer, decision)
    if decision.action == Action.OPT_OUT:
        return _opt_out(customer, inbound, decision)
    if decision.action == Action.OPT_IN and customer.opted_out_at:
        Customer.objects.filter(pk=customer.pk).update(opted_out_at=None)
        customer.opted_out_at = None
        return _reply(customer, inbound, decision.text, kind=OPT_IN)
    # Whether an automatic reply may go out now, read once: the apps' answerers act only then.
    closed = None if decision.action in _NOT_FOR_APPS else _cannot_answer(customer, inbound)
    decision, context = _answered_by_apps(customer, turn, decision) if closed == "" else (decision, {})
    if decision.needs_attention or decision.action == Action.ESCALATE:
        escalate = decision.action == Action.ESCALATE
        # Which message the owners' e-mail quotes is only worth reading for an escalation.
        _flag(customer, _escalating(customer, turn) if escalate else inbound, escalate=escalate)
    silence = _silence_reason(customer, decision, inbound, closed=closed)
    if silence:
        logger.info("no automatic reply to customer %s: %s", customer.pk, silence)
        if silence in UNANSWERED and decision.text and not customer.needs_attention:
            # Something the automatic reply would have answered got no answer: a person must see it (the
            # inbox), above all when the person already talking to the customer paused the replies.
            _flag(customer, inbound, escalate=False)
        return None
    if decision.action == Action.REPLY and not context and _llm_enabled() and inbound.body.strip():
        # The model reads the conversation, this turn included; a turn ending with a photo is
        # answered by the offline engine, which knows what to say to one.
        from webhooks.tasks import reply_with_llm

        transaction.on_commit(lambda: reply_with_llm.delay(inbound.pk), robust=True)
        return None
    handover = decision.needs_attention or decision.action == Action.ESCALATE
    return _reply(customer, inbound, decision.text, context=context, kind=HANDOVER if handover else ANSWER)


def _answered_by_apps(
    customer: Customer, turn: list[Interaction], decision: Decision
) -> tuple[Decision, dict]:
    """The decision with another app's answer to the turn (webhooks.answerers: the catalogue's "on l'a
    en 38"), and what that answer offered, kept on the reply ({} when none answered, or the answer
    offers nothing). Asked only when an automatic reply may go out now (the caller checks): an answer
    can act (a hold made on "oui"), which must not happen while a person handles the conversation or
    replies are off."""
    found = answerers.answer(answerers.Turn(customer=customer, messages=turn, language=decision.language))
    if found is None:
        return decision, {}
    text = wrap(
        decision.language, found.body, shop_info(customer.shop), clean_first_name(customer.first_name)
    )
    answered = Decision(decision.language, found.intent, Action.REPLY, text, found.needs_attention)
    # An answer that offers nothing still marks its reply as the apps' (the LLM must not rewrite it).
    return answered, found.context or {"answered_by": found.intent}


def _escalating(customer: Customer, turn: list[Interaction]) -> Interaction:
    """The message the owners' e-mail quotes: the last one asking for a person, else the last one
    in words, else the last one."""
    worded = [message for message in turn if message.body.strip()]
    asking = [message for message in worded if decide_for(customer, message.body).action == Action.ESCALATE]
    return (asking or worded or turn)[-1]


# An automatic answer to an older message (a provider's late retry, a replayed event) would arrive out
# of the blue: a person answers those.
STALE_AFTER = timedelta(hours=24)


STALE = "the message is over a day old"
REPLIES_OFF = "automatic replies are off for the shop"
PERSON_HANDLING = "a person from the shop is handling the conversation"
HOURLY_CAP = "hourly cap on automatic replies reached"
# Silences that leave a message the engine would have answered without an answer.
UNANSWERED = frozenset({STALE, REPLIES_OFF, PERSON_HANDLING, HOURLY_CAP})


def _silence_reason(customer: Customer, decision: Decision, inbound: Interaction, *, closed=None) -> str:
    """Why the decision's reply does not go out ("" when it does); `closed`: _cannot_answer's, when the
    caller read it already."""
    if customer.opted_out_at:
        return "the customer opted out"
    if not (customer.phone or customer.whatsapp_user_id):
        # A sender known only by its address (a carrier's "SUPPORT" notice): nothing can reach it.
        return "the sender has no number to answer"
    if decision.action == Action.NONE or not decision.text:
        return "nothing to answer"
    return _cannot_answer(customer, inbound) if closed is None else closed


def _cannot_answer(customer: Customer, inbound: Interaction) -> str:
    """Why no automatic reply may go out to `inbound` now, whatever it would say ("" when one may)."""
    if customer.opted_out_at:
        return "the customer opted out"
    if not (customer.phone or customer.whatsapp_user_id):
        return "the sender has no number to answer"
    if inbound.occurred_at < timezone.now() - STALE_AFTER:
        return STALE
    if not customer.shop.auto_replies_enabled:
        return REPLIES_OFF
    if customer.auto_replies_paused_until and customer.auto_replies_paused_until > timezone.now():
        return PERSON_HANDLING
    if automatic_replies_last_hour(customer) >= settings.AUTO_REPLY_MAX_PER_HOUR:
        # Two bots answering each other must not talk forever.
        return HOURLY_CAP
    return ""


def automatic_replies_last_hour(customer: Customer) -> int:
    together = _together.get()
    if together is not None:
        recorded = sum(1 for reply in together.replies if reply.customer_id == customer.pk)
        return together.hourly.get(customer.pk, 0) + recorded
    since = timezone.now() - timedelta(hours=1)
    return customer.interactions.filter(is_automatic=True, occurred_at__gte=since).count()


def _remember_language(customer: Customer, decision: Decision) -> None:
    if not customer.language and decision.language:
        customer.language = decision.language
        together = _together.get()
        if together is not None:
            together.languages.append(customer)
        else:
            Customer.objects.filter(pk=customer.pk).update(language=decision.language)


def _opt_out(customer, inbound, decision):
    if customer.opted_out_at:
        return None  # confirmed once already: from now on, silence
    customer.opted_out_at = timezone.now()
    Customer.objects.filter(pk=customer.pk).update(opted_out_at=customer.opted_out_at)
    logger.info("customer %s opted out", customer.pk)
    return _reply(customer, inbound, decision.text, kind=OPT_OUT)


def _flag(customer: Customer, inbound: Interaction, *, escalate: bool) -> None:
    together = _together.get()
    if together is not None:
        together.flagged.append(customer)
    else:
        customers_hand_over({customer.pk})
    customer.needs_attention = True
    if escalate:
        from webhooks.tasks import notify_owners

        transaction.on_commit(lambda: notify_owners.delay(inbound.pk), robust=True)


def _llm_enabled() -> bool:
    return bool(settings.LLM_PROVIDER)


def _reply(
    customer: Customer, inbound: Interaction, text: str, *, kind: str, context: dict | None = None
) -> Interaction | None:
    if not text:
        return None
    reply = record_outbound(
        customer=customer,
        channel=inbound.channel,
        body=text,
        in_reply_to=inbound,
        provider=inbound.provider,
        automatic=True,
        context=context,
        reply_kind=kind,
    )
    queue_send(reply)
    return reply


def queue_send(reply: Interaction) -> None:
    """After the commit: sent by the batch deciding this turn (turns_respond), else by a task."""
    batch = _replies_batch.get()
    if batch is not None:
        batch.append(reply)  # recorded with its customer and shop: sent without reading it again
        return
    from webhooks.tasks import send_interaction

    transaction.on_commit(lambda: send_interaction.delay(reply.pk), robust=True)


def record_outbound(
    *,
    customer,
    channel,
    body,
    provider,
    in_reply_to=None,
    automatic=False,
    author=None,
    via="api",
    context=None,
    reply_kind="",
) -> Interaction:
    """An outbound message, recorded before it is sent so that nothing sent goes unrecorded. `context`:
    what an automatic reply offered (webhooks.answerers.CONTEXT_KEY), for the answer to the next turn;
    `reply_kind`: what an automatic reply did for the analytics (REPLY_KINDS, kept as REPLY_KIND_KEY)."""
    shop_address = (in_reply_to.raw_payload.get("_shop_address", "") if in_reply_to else "") or ""
    reply = _outbound(customer, channel, body, provider, in_reply_to, automatic, author, via, shop_address)
    if context:
        reply.raw_payload[answerers.CONTEXT_KEY] = context
    if reply_kind:
        reply.raw_payload[REPLY_KIND_KEY] = reply_kind
    together = _together.get()
    if together is not None and automatic:
        together.replies.append(reply)  # inserted with the batch's others (Together.write)
    else:
        reply.save(force_insert=True)
    if author is not None:
        customer_answered_by_person(customer)  # a person wrote: the customer no longer waits
    return reply


def _outbound(customer, channel, body, provider, in_reply_to, automatic, author, via, shop_address):
    return Interaction(
        customer=customer,
        channel=channel,
        direction=Interaction.Direction.OUTBOUND,
        body=body,
        provider=provider,
        status="queued",
        is_automatic=automatic,
        in_reply_to=in_reply_to,
        author=author,
        raw_payload={"via": via, "_shop_address": shop_address},
    )
