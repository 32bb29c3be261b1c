"""What became of a message a person just sent, said in words: sent, queued, or failed and why.

Sends run in a task: with an eager or fast worker the interaction already carries the provider's
answer when the page is drawn; otherwise it is still queued, and the page says so rather than "sent".
"""

import re
import time
from dataclasses import dataclass

from django.contrib import messages
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from customers.models import Interaction
from webhooks.providers import meta, twilio

SENT = {"accepted", "sending", "sent", "delivered", "read", "played", "partially_delivered"}
FAILED = {"failed", "undelivered", "canceled"}

# Reasons recorded in English (webhooks.outbound and the provider modules), shown translated.
KNOWN_REASONS = {
    gettext_noop("The customer opted out of messages (they can send START to opt back in)."),
    gettext_noop(
        "WhatsApp allows free text only within 24 hours of the customer's last WhatsApp message; "
        "that window is closed."
    ),
    gettext_noop("The customer has no phone number for SMS."),
    gettext_noop("The shop has no number to send from: add one on the shop (Channel addresses)."),
    gettext_noop("Twilio is not configured (TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN)."),
    gettext_noop("The WhatsApp Cloud API is not configured (WHATSAPP_ACCESS_TOKEN)."),
    gettext_noop("Twilio 63016: outside the WhatsApp 24-hour window; only an approved template can be sent"),
    gettext_noop("Twilio refused the credentials (check the account SID and auth token)"),
    gettext_noop("Meta 131047: outside the 24-hour window; only an approved template can be sent"),
    gettext_noop("Meta access token expired or invalid"),
    gettext_noop("This template belongs to another provider than the shop's WhatsApp number."),
    gettext_noop("Fill in every parameter of the template."),
    gettext_noop("Enter the WhatsApp Business Account id first."),
    gettext_noop("The shop has no Meta WhatsApp number: add one in the admin first."),
    *twilio.KNOWN_SEND_ERRORS.values(),
    *meta.KNOWN_SEND_ERRORS.values(),
}


@dataclass(frozen=True)
class Outcome:
    level: int
    text: str


# coccinelle.http says where a refusal came from ("POST api.twilio.com: HTTP 400: …"): for the
# person at the counter, the provider's own words after it are the reason.
_HTTP_PREFIX = re.compile(r"^[A-Z]+ [^\s:]+(?::\d+)?: HTTP \d{3}: ")


def translated_reason(reason: str) -> str:
    if reason in KNOWN_REASONS:
        return _(reason)
    return _HTTP_PREFIX.sub("", reason)


# How long the page waits for the worker's answer before saying "queued": a provider answers a send in
# a few hundred milliseconds, and staff send a message at a time, so a web thread may wait that long.
WAIT_SECONDS = 2.0
POLL_SECONDS = 0.1


def send_outcome(interaction: Interaction, *, wait: float = WAIT_SECONDS) -> Outcome:
    """Read the interaction again (the task may have answered since) and say what happened."""
    _read_answer(interaction, wait)
    status = interaction.status
    if status in FAILED:
        reason = interaction.raw_payload.get("error") or interaction.error_code or _("no reason given")
        return Outcome(
            messages.ERROR, _("Message not sent: %(reason)s") % {"reason": translated_reason(reason)}
        )
    if interaction.raw_payload.get("sandbox"):
        return Outcome(
            messages.SUCCESS, _("Message sent to the sandbox (no provider configured): no phone received it.")
        )
    # Twilio answers "queued" for a message it accepted (its own queue): with the provider's id, it left.
    if status in SENT or interaction.provider_message_id:
        return Outcome(messages.SUCCESS, _("Message sent."))
    return Outcome(
        messages.INFO,
        _(
            "Message queued: it goes out shortly (retried while the provider is unavailable); its status "
            "shows on the timeline."
        ),
    )


def _read_answer(interaction: Interaction, wait: float) -> None:
    """Read the message again, and while it is still ours (queued, no provider id) poll for up to
    `wait` seconds: with a worker in another process, the answer lands a moment after the send."""
    deadline = time.monotonic() + (wait if _worker_commits_visible() else 0)
    while True:
        interaction.refresh_from_db(fields=["status", "error_code", "raw_payload", "provider_message_id"])
        pending = interaction.status in ("", "queued") and not interaction.provider_message_id
        if not pending or time.monotonic() >= deadline:
            return
        time.sleep(POLL_SECONDS)


def _worker_commits_visible() -> bool:
    # Inside a transaction (ATOMIC_REQUESTS, a test) nothing the worker commits can be seen: no wait.
    return not transaction.get_connection().in_atomic_block
