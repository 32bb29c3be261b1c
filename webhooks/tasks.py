"""Celery tasks for the messaging side. Each takes ids, reloads rows and calls a service."""

import logging
from dataclasses import asdict
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from coccinelle.http import ExternalServiceError
from customers import events
from customers.forms import CHANNEL_LABELS
from customers.models import Customer, Interaction, Membership
from webhooks import autoreply, llm
from webhooks.inbound_events import events_process, events_process_due, events_sweep
from webhooks.media import media_download, media_sweep
from webhooks.models import MediaFile
from webhooks.outbound import interaction_send, public_url

logger = logging.getLogger(__name__)


@shared_task(
    bind=True,
    autoretry_for=(ExternalServiceError,),
    retry_backoff=5,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=5,
)
def send_interaction(self, interaction_id: int) -> str:
    """Send one recorded outbound message; transient provider errors are retried with backoff."""
    interaction = Interaction.objects.select_related("customer__shop").filter(pk=interaction_id).first()
    if interaction is None:
        return "gone"
    try:
        return interaction_send(interaction).status
    except ExternalServiceError as exc:
        if self.request.retries >= self.max_retries:
            # Out of retries: say so on the interaction rather than leaving it "queued" forever.
            Interaction.objects.filter(pk=interaction_id).update(
                status="failed", error_code=str(exc.status or "")
            )
            events.interaction_statuses_changed(interaction_ids=[interaction_id])
            logger.error("outbound interaction %s failed after retries: %s", interaction_id, exc)
            return "failed"
        raise


@shared_task
def notify_owners(inbound_id: int) -> int:
    """E-mail the shop's owners that a customer needs a person."""
    inbound = Interaction.objects.select_related("customer__shop").filter(pk=inbound_id).first()
    if inbound is None:
        return 0
    customer, shop = inbound.customer, inbound.customer.shop
    recipients = list(
        Membership.objects.filter(shop=shop, role=Membership.Role.OWNER)
        .exclude(user__email="")
        .values_list("user__email", flat=True)
    )
    if not recipients:
        logger.warning(
            "shop %s has no owner with an e-mail to tell that customer %s needs a person",
            shop.slug,
            customer.pk,
        )
        return 0
    # In the shop's language (the owner reads it, not the customer), the link to the customer's page.
    with translation.override(shop.language or settings.LANGUAGE_CODE):
        link = absolute_url(reverse("dashboard:customer-detail", args=[customer.pk]))
        values = {
            "name": customer.display_name,
            "channel": CHANNEL_LABELS.get(inbound.channel, inbound.channel),
            "text": inbound.body[:1000],
            "link": link,
            "shop": shop.name,
        }
        body = (
            _("%(name)s wrote on %(channel)s and needs a person:") % values
            + f"\n\n“{values['text']}”\n\n"
            + _("They received a holding reply. Open the customer: %(link)s") % values
            + "\n"
        )
        subject = _("[%(shop)s] %(name)s needs an answer") % values
    return send_mail(subject, body, None, recipients)


def absolute_url(path: str) -> str:
    """`path` on the public site, for links that leave it (e-mails): PUBLIC_BASE_URL, else the first
    named host of ALLOWED_HOSTS (https unless DEBUG). A relative link in an e-mail leads nowhere."""
    url = public_url(path)
    if url.startswith(("https://", "http://")):
        return url
    host = next((h.lstrip(".") for h in settings.ALLOWED_HOSTS if h.strip(".*")), "localhost")
    scheme = "http" if settings.DEBUG else "https"
    logger.warning("PUBLIC_BASE_URL is not set: e-mail links use %s://%s", scheme, host)
    return f"{scheme}://{host}{path}"


@shared_task
def sweep_unanswered_turns() -> int:
    """Celery beat: turns whose reply task never ran get it now."""
    turns = autoreply.turns_unanswered()
    for start in range(0, len(turns), TURNS_PER_TASK):
        reply_for_turns.delay(turns[start : start + TURNS_PER_TASK])
    return len(turns)


# A task decides and sends this many turns at most, so that it holds a worker process for seconds, not
# minutes (sends to a provider take a few hundred milliseconds each).
TURNS_PER_TASK = 20


@shared_task
def reply_for_turns(turns: list) -> dict:
    """Decide the automatic answer to each turn a message ends ([customer id, message id] pairs), if no
    newer message came since, and send the replies (webhooks.autoreply.turns_respond). Published
    AUTO_REPLY_DEBOUNCE_SECONDS after the batch of events that recorded the messages. Safe to run twice."""
    outcomes = autoreply.turns_respond([(int(customer), int(message)) for customer, message in turns])
    logger.info("turns decided: %s", dict(outcomes))
    return dict(outcomes)


@shared_task
def reply_for_turn(customer_id: int, inbound_id: int) -> str:
    """One turn (tasks queued before turns were batched, and tests): as reply_for_turns."""
    outcome = autoreply.turns_respond([(customer_id, inbound_id)])
    return next(iter(outcome))


@shared_task
def reply_with_llm(inbound_id: int) -> str:
    """Write the reply to a turn with the LLM engine; on any failure the offline engine answers instead.

    Runs outside the webhook so that Twilio and Meta get their answer within a second.
    """
    inbound = Interaction.objects.select_related("customer__shop").filter(pk=inbound_id).first()
    if inbound is None:
        return "gone"
    customer = inbound.customer
    turn = autoreply.turn_messages(customer, inbound)
    if not turn:
        return "answered"  # a copy of this task, or a person, wrote first
    decision = autoreply.decide_for_turn(customer, turn)
    text = _llm_text(customer, inbound, decision.language) or decision.text
    with transaction.atomic():
        # Locked and read again: a second delivery of this task (acks are late) waits here, then
        # finds the turn answered; an opt-out that came in while the model wrote is seen.
        customer = Customer.objects.select_for_update().get(pk=customer.pk)
        if (
            customer.opted_out_at
            or autoreply.automatic_replies_last_hour(customer) >= settings.AUTO_REPLY_MAX_PER_HOUR
            or autoreply.turn_messages(customer, inbound) != turn  # answered while the model wrote
        ):
            return "silent"
        reply = autoreply.record_outbound(
            customer=customer,
            channel=inbound.channel,
            body=text,
            provider=inbound.provider,
            in_reply_to=inbound,
            automatic=True,
            reply_kind=autoreply.HANDOVER if decision.needs_attention else autoreply.ANSWER,
        )
    send_interaction.delay(reply.pk)
    return "sent"


def _llm_text(customer, inbound: Interaction, language: str) -> str:
    config = llm.config_from_settings(settings)
    if config is None or not inbound.body.strip():
        return ""  # nothing for a model to read (a photo without caption): the offline engine answers
    earlier = (
        customer.interactions.filter(occurred_at__lte=inbound.occurred_at)
        .exclude(pk=inbound.pk)
        .exclude(body="")
        .order_by("-occurred_at")[:9]
    )
    history = tuple(
        ("customer" if i.direction == Interaction.Direction.INBOUND else "shop", i.body)
        for i in reversed(earlier)
    ) + (("customer", inbound.body),)
    conversation = llm.Conversation(
        shop=autoreply.shop_info(customer.shop),
        customer_first_name=customer.first_name or None,
        segment=customer.segment,
        language=language,
        history=history,
    )
    try:
        # The shop: its tools (the stock lookup) read this shop's data and no other's.
        return llm.llm_reply(conversation, config=config, shop=customer.shop)
    except llm.LLMError as exc:
        logger.warning("LLM reply for interaction %s failed, offline engine answers: %s", inbound.pk, exc)
        return ""


# Longer than a send's own retries (backoff capped at 5 minutes, 5 retries): a message still queued
# after this was never picked up (the broker was down when it was recorded).
STUCK_AFTER = timedelta(minutes=15)
GIVE_UP_AFTER = timedelta(days=1)


@shared_task
def resend_stuck_outbound() -> int:
    """Celery beat: hand messages that never reached a worker to one again; after a day, say they
    were not sent rather than leave them queued forever."""
    now = timezone.now()
    queued = Interaction.objects.filter(
        direction=Interaction.Direction.OUTBOUND,
        status="queued",
        provider_message_id__isnull=True,
        raw_payload__via="api",
    )
    given_up = list(queued.filter(created_at__lt=now - GIVE_UP_AFTER).values_list("pk", flat=True))
    if given_up:
        Interaction.objects.filter(pk__in=given_up).update(status="failed", error_code="not-sent")
        events.interaction_statuses_changed(interaction_ids=given_up)
    stuck = list(queued.filter(created_at__lt=now - STUCK_AFTER).values_list("pk", flat=True)[:500])
    for interaction_id in stuck:
        send_interaction.delay(interaction_id)
    return len(stuck)


@shared_task
def process_inbound() -> dict:
    """Process every stored inbound event that is due, in batches (webhooks.inbound_events); the task
    the webhook asks for. Acknowledged late (settings): a worker that dies mid-way leaves it to be
    delivered again, and its batch, rolled back, to the next one."""
    return asdict(events_process_due())


@shared_task
def process_inbound_events(provider: str, keys: list[str]) -> dict:
    """Process the named stored events (a retry that is due, a Reprocess); safe to run twice."""
    return asdict(events_process(provider=provider, keys=keys))


@shared_task
def sweep_inbound_events() -> int:
    """Celery beat: events left behind (broker down, crashed worker) and retries that are due."""
    return events_sweep()


@shared_task
def download_media(media_file_id: int, attempt: int | None = None) -> str:
    """Download one file a customer sent (webhooks.media); a passing failure schedules the next try."""
    outcome, delay = media_download(media_file_id, attempt=attempt)
    if outcome == "retry":
        # The attempt just made is now the count: a stale copy of this task will do nothing.
        attempts = MediaFile.objects.filter(pk=media_file_id).values_list("attempts", flat=True).first()
        download_media.apply_async((media_file_id, attempts), countdown=delay)
    return outcome


@shared_task
def sweep_media_downloads() -> int:
    """Celery beat: media downloads left behind (broker down, a worker killed mid-way)."""
    return media_sweep()
