"""Sending recorded outbound messages through the provider's API, and applying delivery reports."""

import json
import logging
import os
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from datetime import timedelta
from functools import lru_cache, partial

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from coccinelle import db
from coccinelle.http import ExternalServiceError
from customers import cached, events
from customers.models import ChannelAddress, Customer, Interaction
from customers.phones import normalize_whatsapp_id
from webhooks.answerers import CONTEXT_KEY as ANSWER_CONTEXT
from webhooks.inbound import StatusUpdate
from webhooks.providers import meta, meta_templates, sandbox, twilio

logger = logging.getLogger(__name__)

WHATSAPP_WINDOW = timedelta(hours=24)
# Delivery statuses in the order a message moves through them. Reports arrive out of order; a status
# never replaces one further along (a late "sent" must not overwrite "read").
STATUS_RANK = {
    "": 0,
    "accepted": 1,
    "queued": 1,
    "scheduled": 1,
    "sending": 2,
    "sent": 3,
    "failed": 4,
    "undelivered": 4,
    "canceled": 4,  # Twilio: a scheduled or queued message cancelled before it went out
    "partially_delivered": 5,  # Twilio: some parts of the message arrived
    "delivered": 6,
    "read": 7,
    "played": 8,  # Meta: a voice message was listened to
}
# Any other status a provider sends (Twilio adds some without notice) never replaces the message's
# status (its place in that order is unknown) but is kept, so that a person sees it: in the
# interaction's raw_payload under this key, [{"status", "at", "error_code"}], shown in the admin.
OTHER_STATUSES_KEY = "other_statuses"
MAX_OTHER_STATUSES = 20


class SendRefused(Exception):
    """The message cannot be sent, for a reason a person can act on (the message says which).

    `code` names the reason for programs (the REST API's error code); the message stays the page's."""

    def __init__(self, message: str, *, code: str = "send_refused"):
        super().__init__(message)
        self.code = code


def whatsapp_window_open(customer: Customer, *, now=None) -> bool:
    """WhatsApp allows free text only within 24 hours of the customer's last message."""
    now = now or timezone.now()
    last = (
        customer.interactions.filter(channel="whatsapp", direction=Interaction.Direction.INBOUND)
        .order_by("-occurred_at")
        .values_list("occurred_at", flat=True)
        .first()
    )
    return last is not None and now - last < WHATSAPP_WINDOW


def check_can_send(customer: Customer, channel: str, *, template: bool = False) -> None:
    """Raise SendRefused when the message must not or cannot go out (an approved WhatsApp template
    may go out whatever the 24-hour window)."""
    if customer.opted_out_at:
        raise SendRefused(
            "The customer opted out of messages (they can send START to opt back in).", code="opted_out"
        )
    if not (customer.phone or customer.whatsapp_user_id):
        # A sender known only by its address as sent ("SUPPORT", an address no parser reads) cannot
        # be written to: providers address phones and WhatsApp ids only.
        raise SendRefused(
            "The customer has no phone number or WhatsApp id to send to"
            + (f" (they wrote from “{customer.external_address}”)." if customer.external_address else "."),
            code="no_address",
        )
    if channel == "whatsapp" and not template and not whatsapp_window_open(customer):
        raise SendRefused(
            "WhatsApp allows free text only within 24 hours of the customer's last WhatsApp message; "
            "that window is closed.",
            code="outside_whatsapp_window",
        )
    if channel == "sms" and not customer.phone:
        raise SendRefused("The customer has no phone number for SMS.", code="no_phone")
    if channel not in ("sms", "whatsapp"):
        raise SendRefused(f"Messages cannot be sent by {channel}.", code="channel_not_supported")


def interaction_send(interaction: Interaction) -> Interaction:
    """Send a recorded outbound interaction; record the provider id, or the failure and its reason.

    Raises ExternalServiceError for transient failures so that the task retries; permanent failures
    are recorded on the interaction (status failed) and not raised.
    """
    call = _prepared(interaction)
    if call is None:
        return interaction
    try:
        result = call()
    except ExternalServiceError as exc:
        return _not_sent(interaction, exc)
    return _sent(interaction, result)


def _prepared(interaction: Interaction):
    """The provider call that sends `interaction` (HTTP only: it touches no database, so it may run
    in another thread), or None when there is nothing to send: already sent (a task retried after
    success), or refused (recorded failed, with the reason)."""
    if interaction.provider_message_id or interaction.status not in ("queued", ""):
        return None
    customer = interaction.customer
    try:
        check_can_send(customer, interaction.channel, template=bool(interaction.raw_payload.get("template")))
        return _dispatch(interaction, customer)
    except SendRefused as exc:
        _failed(interaction, "refused", str(exc))
        return None


def _not_sent(interaction: Interaction, exc: ExternalServiceError) -> Interaction:
    """A provider's refusal is recorded; a passing failure is raised again, for a retry."""
    if not exc.permanent:
        raise exc
    return _failed(interaction, str(exc.status or ""), str(exc))


def _sent(interaction: Interaction, result) -> Interaction:
    interaction.provider_message_id = result.provider_message_id
    interaction.status = result.status or "sent"
    interaction.save(update_fields=_SENT_FIELDS)
    return interaction


# raw_payload too: _dispatch marks a message that went to the sandbox.
_SENT_FIELDS = ["provider_message_id", "status", "raw_payload"]


def _dispatch(interaction: Interaction, customer: Customer):
    """The call to the provider's API for this message (made by the caller)."""
    provider = interaction.provider or default_provider(customer.shop_id, interaction.channel)
    address = _shop_address(interaction, customer.shop_id, provider)
    if _sandboxed(provider):
        return _sandbox_send(interaction)
    template = interaction.raw_payload.get("template")
    if provider == ChannelAddress.Provider.TWILIO:
        if not _configured(provider):
            raise SendRefused("Twilio is not configured (TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN).")
        return partial(
            twilio.send,
            **_twilio_template(template),
            from_address=address,
            to=_recipient(customer, interaction.channel, provider),
            body=interaction.body,
            channel=interaction.channel,
            status_callback=_status_callback(),
            account_sid=settings.TWILIO_ACCOUNT_SID,
            auth_token=settings.TWILIO_AUTH_TOKEN,
            api_base=settings.TWILIO_API_BASE,
        )
    if not _configured(provider):
        raise SendRefused("The WhatsApp Cloud API is not configured (WHATSAPP_ACCESS_TOKEN).")
    graph = {
        "phone_number_id": address,
        "to": _recipient(customer, interaction.channel, provider),
        "access_token": settings.WHATSAPP_ACCESS_TOKEN,
        "graph_base": settings.WHATSAPP_GRAPH_BASE,
        "graph_version": settings.WHATSAPP_GRAPH_VERSION,
    }
    if template:
        return partial(
            meta_templates.send_template,
            name=template["name"],
            language=template["language"],
            parameters=template.get("variables") or [],
            **graph,
        )
    buttons = (interaction.raw_payload.get(ANSWER_CONTEXT) or {}).get("buttons")
    if buttons and isinstance(buttons, list):
        # An automatic reply offering something (webhooks.answerers): "Oui" is a tap away.
        return partial(meta.send_buttons, buttons=buttons, body=interaction.body, **graph)
    return partial(meta.send_text, body=interaction.body, **graph)


def _twilio_template(template: dict | None) -> dict:
    """Twilio builds a template's text itself from its ContentSid and the variables, numbered from 1."""
    if not template:
        return {}
    variables = {str(n): value for n, value in enumerate(template.get("variables") or [], start=1)}
    return {"content_sid": template["content_sid"], "content_variables": json.dumps(variables)}


def _recipient(customer: Customer, channel: str, provider: str) -> str:
    """Where to send: on WhatsApp, the wa_id the customer last wrote from when it is their phone as
    WhatsApp writes it (Mexico's `521…`, Brazil's 8-digit mobiles: E.164 is for identity, the wa_id is
    the account WhatsApp knows); else the phone; else the WhatsApp user id.

    The wa_id is read from the customer's latest WhatsApp message on that provider rather than stored:
    it is what WhatsApp sent most recently (a `user_changed_number` message gives the new one), and an
    owner who edits the phone is not overridden by an older wa_id (it must still read as that phone).
    """
    if channel == "whatsapp":
        wa_id = _latest_wa_id(customer, provider)
        if wa_id and customer.phone and normalize_whatsapp_id(wa_id) == customer.phone:
            return wa_id if provider == ChannelAddress.Provider.META else "+" + wa_id
    if provider == ChannelAddress.Provider.META:
        return (customer.phone or "").lstrip("+") or customer.whatsapp_user_id or ""
    return customer.phone or ""


def _latest_wa_id(customer: Customer, provider: str) -> str:
    latest = (
        customer.interactions.filter(
            channel="whatsapp", direction=Interaction.Direction.INBOUND, provider=provider
        )
        .order_by("-occurred_at", "-pk")
        .values_list("message_type", "content", "raw_payload")
        .first()
    )
    if latest is None:
        return ""
    message_type, content, raw = latest
    if message_type == "system" and (content or {}).get("new_wa_id"):
        wa_id = str(content["new_wa_id"])
    elif provider == ChannelAddress.Provider.META:
        wa_id = str(raw.get("from") or "")
    else:
        wa_id = str(raw.get("WaId") or "")
    return wa_id if wa_id.isascii() and wa_id.isdigit() else ""


def _configured(provider: str) -> bool:
    """Whether the provider's API has the credentials a send needs."""
    if provider == ChannelAddress.Provider.TWILIO:
        return bool(settings.TWILIO_ACCOUNT_SID and settings.TWILIO_AUTH_TOKEN)
    return bool(settings.WHATSAPP_ACCESS_TOKEN)


def _sandboxed(provider: str) -> bool:
    """Send to the built-in sandbox: the provider has no credentials and the sandbox is allowed.

    MESSAGING_SANDBOX unset (None) follows DEBUG, so that a fresh checkout shows replies going out
    while production (DEBUG off) still fails each send with the missing credential; an explicit 1 or 0
    wins either way. Credentials always win: a configured provider is never sandboxed.
    """
    allowed = settings.MESSAGING_SANDBOX
    if allowed is None:
        allowed = settings.DEBUG
    return bool(allowed) and not _configured(provider)


def _sandbox_send(interaction: Interaction):
    # `provider` stays the real one: it picks the shop's number and owns the conversation (a later
    # message goes out for real once credentials are set). The mark is what says this one never
    # reached a phone, on the timeline and in the admin.
    interaction.raw_payload = {**interaction.raw_payload, "sandbox": True}
    return partial(sandbox.send, channel=interaction.channel, body=interaction.body)


def default_provider(shop_id: int, channel: str) -> str:
    """For a message a person starts: WhatsApp through Meta when the shop has it, else Twilio."""
    providers = set(ChannelAddress.objects.filter(shop_id=shop_id).values_list("provider", flat=True))
    if channel == "whatsapp" and ChannelAddress.Provider.META in providers:
        return ChannelAddress.Provider.META
    if ChannelAddress.Provider.TWILIO in providers:
        return ChannelAddress.Provider.TWILIO
    raise SendRefused(
        "The shop has no number to send from: add one on the shop (Channel addresses).",
        code="no_shop_number",
    )


def _shop_address(interaction: Interaction, shop_id: int, provider: str) -> str:
    """Answer from the address the customer wrote to; else the shop's first one for the provider."""
    address = interaction.raw_payload.get("_shop_address", "")
    # Still the shop's? The cached lookup every inbound event makes (dropped when an address moves).
    owner = address and cached.shop_for_address(provider=provider, address=address)
    if owner and owner.pk == shop_id:
        return address
    first = ChannelAddress.objects.filter(shop_id=shop_id, provider=provider).order_by("pk").first()
    if first is None:
        raise SendRefused(f"The shop has no {provider} address to send from.")
    return first.address


def _failed(interaction: Interaction, code: str, reason: str) -> Interaction:
    logger.warning("outbound interaction %s not sent: %s", interaction.pk, reason)
    interaction.status = "failed"
    interaction.error_code = code[:32]
    interaction.raw_payload = {**interaction.raw_payload, "error": reason}
    interaction.save(update_fields=["status", "error_code", "raw_payload"])
    shop_id = interaction.customer.shop_id
    events.interaction_statuses_changed(interaction_ids=[interaction.pk], shop_id=shop_id)
    return interaction


def _status_callback() -> str:
    """Where Twilio posts this message's delivery reports: an absolute URL, or none. Sends run in the
    worker, which cannot know the public host a request came to; Twilio refuses a relative URL (21609)
    and would fail the message, so without PUBLIC_BASE_URL no callback is asked for (a system check
    says so at start-up)."""
    if not settings.PUBLIC_BASE_URL:
        return ""
    return _status_url(settings.PUBLIC_BASE_URL)


@lru_cache(maxsize=4)
def _status_url(base: str) -> str:
    # Once per base URL: reversing it for every reply of a batch cost a fifth of a millisecond each.
    return public_url(reverse("webhooks:twilio-status"))


def public_url(path: str) -> str:
    base = settings.PUBLIC_BASE_URL
    return f"{base}{path}" if base else path


def status_apply(update: StatusUpdate, *, reply_id: int | None = None) -> bool:
    """Apply a delivery report; return whether anything changed.

    `reply_id` links a TwiML inline reply (which had no provider id yet) to its first report. The
    update is conditional in the database, so two reports racing cannot move a status backwards.
    """
    interaction = _reported_interaction(update, reply_id)
    if interaction is None:
        logger.info(
            "status %s for unknown %s message %s", update.status, update.provider, update.provider_message_id
        )
        return False
    if update.status not in STATUS_RANK:
        return _other_status_keep(interaction, update)
    rank = STATUS_RANK[update.status]
    behind = [status for status, r in STATUS_RANK.items() if r < rank]
    fields = {"status": update.status}
    if update.error_code:
        fields["error_code"] = update.error_code[:32]
    changed = Interaction.objects.filter(pk=interaction.pk, status__in=behind).update(**fields)
    if update.error_code and changed:
        interaction.raw_payload["error"] = update.error_message or f"error {update.error_code}"
        Interaction.objects.filter(pk=interaction.pk).update(raw_payload=interaction.raw_payload)
    if changed:
        # A queryset update sends no signal: listeners (the CRM's note or task of the message) are told.
        events.interaction_statuses_changed(interaction_ids=[interaction.pk])
    return bool(changed)


def _other_status_keep(interaction: Interaction, update: StatusUpdate) -> bool:
    """Keep a status outside STATUS_RANK on the interaction, once per status; the status stays."""
    reports = interaction.raw_payload.get(OTHER_STATUSES_KEY) or []
    if any(report.get("status") == update.status for report in reports) or len(reports) >= MAX_OTHER_STATUSES:
        return False
    at = update.timestamp or timezone.now()
    report = {"status": update.status[:64], "at": at.isoformat(), "error_code": update.error_code[:32]}
    interaction.raw_payload[OTHER_STATUSES_KEY] = [*reports, report]
    Interaction.objects.filter(pk=interaction.pk).update(raw_payload=interaction.raw_payload)
    logger.info(
        "status %r for %s message %s kept, not ranked", update.status, update.provider, interaction.pk
    )
    return True


def _reported_interaction(update: StatusUpdate, reply_id: int | None) -> Interaction | None:
    found = Interaction.objects.filter(
        provider=update.provider, provider_message_id=update.provider_message_id
    )
    interaction = found.first()
    if interaction is None and reply_id is not None:
        linked = Interaction.objects.filter(
            pk=reply_id,
            provider=update.provider,
            provider_message_id__isnull=True,
            direction=Interaction.Direction.OUTBOUND,
        ).update(provider_message_id=update.provider_message_id)
        interaction = found.first() if linked else None
    return interaction


def send_recorded(interaction: Interaction) -> str:
    """Send a reply recorded by the batch that just committed (with its customer and shop loaded), in
    the batch's own task. A passing failure goes to the send_interaction task, which retries with
    backoff; anything else is logged and leaves the message queued, for beat's resend of stuck messages."""
    try:
        return interaction_send(interaction).status
    except Exception as exc:  # noqa: BLE001 - the batch's other replies still go out
        return _left_queued(interaction, exc)


def send_recorded_many(interactions: list[Interaction]) -> list[str]:
    """send_recorded for each reply a batch committed, their provider calls made side by side
    (OUTBOUND_SEND_CONCURRENCY at a time): what costs a send is waiting on the provider's answer. The
    database reads and writes around each call stay in this thread (threads make HTTP calls only)."""
    if len(interactions) < 2 or settings.OUTBOUND_SEND_CONCURRENCY < 2:
        return [send_recorded(interaction) for interaction in interactions]
    calls = {}
    for interaction in interactions:
        try:
            calls[interaction.pk] = _prepared(interaction)
        except Exception as exc:  # noqa: BLE001 - as send_recorded
            _left_queued(interaction, exc)
    pending = [(interaction, call) for interaction in interactions if (call := calls.get(interaction.pk))]
    futures = {_senders().submit(_answer, call): interaction for interaction, call in pending}
    # The answers saved soon after they come, while the others are still on their way (a delivery report
    # must find the message's id): from the first answer of a wave, ANSWER_WAVE_SECONDS more to gather
    # the answers close behind it, then one statement for the wave. Saved as each came, a fast provider's
    # answers made waves of two or three, and the statements cost the task more than the sends
    # (bench/processing_profile.py, 2026-12-02: 302 statements for 1,000 replies).
    waiting = set(futures)
    while waiting:
        done, waiting = wait(waiting, return_when=FIRST_COMPLETED)
        if waiting:
            more, waiting = wait(waiting, timeout=ANSWER_WAVE_SECONDS)
            done |= more
        _save_answers([(futures[future], *future.result()) for future in done])
    return [interaction.status for interaction in interactions]


# Twilio's first delivery report ("sent") comes a few hundred milliseconds after its answer at best, and
# then goes through the webhook, the stored event and a batch: a wave's wait never makes it miss the id.
ANSWER_WAVE_SECONDS = 0.05


def _save_answers(answers: list[tuple]) -> None:
    """(interaction, result, exception) each: the accepted ones written first, in one statement (a
    delivery report may follow within milliseconds), then the others one by one (refused: failed with
    the reason; a passing failure: retried by a task)."""
    accepted = []
    for interaction, result, exc in answers:
        if exc is None:
            interaction.provider_message_id = result.provider_message_id
            interaction.status = result.status or "sent"
            accepted.append(interaction)
    try:
        db.rows_update(accepted, _SENT_FIELDS)
    except Exception as failure:  # noqa: BLE001 - one bad row or a lost connection: each on its own
        logger.warning("replies %s not saved together (%s): one by one", [i.pk for i in accepted], failure)
        for interaction in accepted:
            _save_sent(interaction)
    for interaction, _, exc in answers:
        if exc is None:
            continue
        try:
            if not isinstance(exc, ExternalServiceError):
                raise exc
            _not_sent(interaction, exc)
        except Exception as failure:  # noqa: BLE001 - as send_recorded
            _left_queued(interaction, failure)


def _save_sent(interaction: Interaction) -> None:
    """A reply the provider accepted, saved alone. If even that fails, the provider's id goes to the
    error log, so that a person can match the message the customer got with the one still queued."""
    try:
        interaction.save(update_fields=_SENT_FIELDS)
    except Exception:  # noqa: BLE001 - logged with what was sent; the row keeps its last saved state
        logger.exception(
            "reply %s was sent (%s %s) but could not be saved",
            interaction.pk,
            interaction.provider,
            interaction.provider_message_id,
        )


def _answer(call) -> tuple:
    try:
        return call(), None
    except Exception as exc:  # noqa: BLE001 - handed back to the task's thread, which records it
        return None, exc


_pool: tuple[int, ThreadPoolExecutor] | None = None


def _senders() -> ThreadPoolExecutor:
    """This process's sending threads (made again in a forked worker process: threads do not fork)."""
    global _pool
    if _pool is None or _pool[0] != os.getpid():
        _pool = (os.getpid(), ThreadPoolExecutor(settings.OUTBOUND_SEND_CONCURRENCY, "outbound-send"))
    return _pool[1]


def _left_queued(interaction: Interaction, exc: Exception) -> str:
    from webhooks.tasks import send_interaction  # tasks imports this module

    if isinstance(exc, ExternalServiceError):
        logger.warning("reply %s not sent (%s): retried by a task", interaction.pk, exc)
        _retry_later(send_interaction, interaction.pk)
    else:
        logger.error("reply %s not sent: left queued for the resend sweep", interaction.pk, exc_info=exc)
    return "queued"


def _retry_later(send_task, interaction_id: int) -> None:
    try:
        send_task.apply_async((interaction_id,), countdown=5)
    except Exception as exc:  # noqa: BLE001 - broker down (or an eager retry): the resend sweep has it
        logger.warning("reply %s left queued for the resend sweep (%s)", interaction_id, type(exc).__name__)
