"""Whether and how to answer an inbound message automatically.

The offline engine (`webhooks.replies`) reads the message; this module applies what the customer and
the shop decided: opt-out and opt-in, paused replies, the hourly cap, escalation to a person, and
which engine writes the text. Replies are recorded as outbound interactions before they are sent.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from customers.models import Customer, Interaction, Shop
from webhooks.replies import Action, Decision, ShopInfo, decide

logger = logging.getLogger(__name__)


def shop_info(shop: Shop) -> ShopInfo:
    return ShopInfo(
        name=shop.name,
        language=shop.language,
        address=shop.address,
        opening_hours=shop.opening_hours,
        website=shop.website,
        phone=shop.contact_phone,
    )


def decide_for(customer: Customer, text: str) -> Decision:
    return decide(
        text,
        shop=shop_info(customer.shop),
        first_name=customer.first_name or None,
        language_hint=customer.language or None,
    )


def respond(*, customer: Customer, inbound: Interaction) -> Interaction | None:
    """Apply the decision for `inbound`; return the automatic reply recorded, if any.

    Runs inside the pipeline's transaction: state changes and the recorded reply commit together, and
    sending (a task) starts only after the commit.
    """
    decision = decide_for(customer, inbound.body)
    _remember_language(customer, decision)
    if decision.action == Action.OPT_OUT:
        return _opt_out(customer, inbound, decision)
    if decision.action == Action.OPT_IN and customer.opted_out_at:
        Customer.objects.filter(pk=customer.pk).update(opted_out_at=None)
        customer.opted_out_at = None
        return _reply(customer, inbound, decision.text)
    if decision.needs_attention or decision.action == Action.ESCALATE:
        _flag(customer, inbound, escalate=decision.action == Action.ESCALATE)
    silence = _silence_reason(customer, decision)
    if silence:
        logger.info("no automatic reply to customer %s: %s", customer.pk, silence)
        return None
    if decision.action == Action.REPLY and _llm_enabled():
        from webhooks.tasks import reply_with_llm

        transaction.on_commit(lambda: reply_with_llm.delay(inbound.pk), robust=True)
        return None
    return _reply(customer, inbound, decision.text)


def _silence_reason(customer: Customer, decision: Decision) -> str:
    if customer.opted_out_at:
        return "the customer opted out"
    if not customer.shop.auto_replies_enabled:
        return "automatic replies are off for the shop"
    if customer.auto_replies_paused_until and customer.auto_replies_paused_until > timezone.now():
        return "a person from the shop is handling the conversation"
    if decision.action == Action.NONE or not decision.text:
        return "nothing to answer"
    if automatic_replies_last_hour(customer) >= settings.AUTO_REPLY_MAX_PER_HOUR:
        # Two bots answering each other must not talk forever.
        return "hourly cap on automatic replies reached"
    return ""


def automatic_replies_last_hour(customer: Customer) -> int:
    since = timezone.now() - timedelta(hours=1)
    return customer.interactions.filter(is_automatic=True, occurred_at__gte=since).count()


def _remember_language(customer: Customer, decision: Decision) -> None:
    if not customer.language and decision.language:
        Customer.objects.filter(pk=customer.pk).update(language=decision.language)
        customer.language = decision.language


def _opt_out(customer, inbound, decision):
    if customer.opted_out_at:
        return None  # confirmed once already: from now on, silence
    customer.opted_out_at = timezone.now()
    Customer.objects.filter(pk=customer.pk).update(opted_out_at=customer.opted_out_at)
    logger.info("customer %s opted out", customer.pk)
    return _reply(customer, inbound, decision.text)


def _flag(customer: Customer, inbound: Interaction, *, escalate: bool) -> None:
    Customer.objects.filter(pk=customer.pk).update(needs_attention=True)
    customer.needs_attention = True
    if escalate:
        from webhooks.tasks import notify_owners

        transaction.on_commit(lambda: notify_owners.delay(inbound.pk), robust=True)


def _llm_enabled() -> bool:
    return bool(settings.LLM_PROVIDER)


def _reply(customer: Customer, inbound: Interaction, text: str) -> Interaction | None:
    if not text:
        return None
    reply = record_outbound(
        customer=customer,
        channel=inbound.channel,
        body=text,
        in_reply_to=inbound,
        provider=inbound.provider,
        automatic=True,
    )
    from webhooks.tasks import send_interaction

    transaction.on_commit(lambda: send_interaction.delay(reply.pk), robust=True)
    return reply


def record_outbound(
    *, customer, channel, body, provider, in_reply_to=None, automatic=False, author=None, via="api"
) -> Interaction:
    """An outbound message, recorded before it is sent so that nothing sent goes unrecorded."""
    shop_address = (in_reply_to.raw_payload.get("_shop_address", "") if in_reply_to else "") or ""
    return Interaction.objects.create(
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
