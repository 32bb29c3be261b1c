"""Answers other apps give to a customer's turn, before the offline engine's own.

webhooks never imports the apps that know the shop's business (the catalogue: "on l'a en 38, il en
reste 2"); they register an answerer here from their AppConfig.ready, and the reply engine
(webhooks.autoreply.respond) asks them in order. The first that answers writes the reply's body; the
engine still applies everything the customer and the shop decided (opt-out, paused replies, the hourly
cap, a person handling the conversation) and adds the greeting and the signature.

An answer may leave `context` on the reply it becomes (Interaction.raw_payload[CONTEXT_KEY]): what the
reply offered ("je la mets de côté ?"), so that the customer's next turn ("oui") can be understood by
the answerer that made the offer. `offered` reads it back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property

from django.utils import timezone

logger = logging.getLogger(__name__)

# Where an automatic reply keeps what it offered, for the answer to the customer's next turn.
CONTEXT_KEY = "_answer_context"
# An offer answered later than this is not answered: a "oui" days later is about something else.
OFFER_LASTS = timedelta(hours=24)


@dataclass(frozen=True)
class Answer:
    body: str  # the reply's body, in the turn's language; greeting and signature are added around it
    intent: str  # what was answered, for the log and the tests ("stock", "hold_made"...)
    needs_attention: bool = False  # a person of the shop should look (the customer waits for them)
    context: dict = field(default_factory=dict)  # kept on the reply: see CONTEXT_KEY


@dataclass
class Turn:
    """What an answerer reads: the turn's messages (oldest first), the language the engine chose for
    the reply, and the customer."""

    customer: object  # customers.models.Customer, locked by the engine for the turn
    messages: list  # customers.models.Interaction
    language: str

    @property
    def text(self) -> str:
        """What the customer said: each message's text, or the title of the button they tapped."""
        said = (message.body.strip() or (message.button_reply or "").strip() for message in self.messages)
        return "\n".join(text for text in said if text)

    @cached_property
    def offered(self) -> dict:
        """What the shop's last message offered, when it was an automatic reply that offered something
        ({} otherwise: a person wrote since, or nothing was offered). Read once, when asked: most
        answerers never need it."""
        last = (
            self.customer.interactions.filter(direction="outbound")
            .order_by("-pk")
            .values_list("raw_payload", "is_automatic", "created_at", "status")
            .first()
        )
        if not last or not last[1] or not isinstance(last[0], dict):
            return {}
        payload, _automatic, written, status = last
        if status == "failed" or written < timezone.now() - OFFER_LASTS:
            return {}  # never reached them, or too long ago to be what their "oui" answers
        context = payload.get(CONTEXT_KEY)
        return context if isinstance(context, dict) else {}


# An answerer is called for most turns: it returns None at once (no query) when it has nothing to say
# to the shop, and makes its writes in its own savepoint (transaction.atomic), so that a failure takes
# them back without breaking the turn's transaction.
Answerer = Callable[[Turn], "Answer | None"]
_answerers: list[Answerer] = []


def register(answerer: Answerer) -> None:
    """Add an answerer (idempotent: AppConfig.ready may run twice in tests)."""
    if answerer not in _answerers:
        _answerers.append(answerer)


def answer(turn: Turn) -> Answer | None:
    """The first registered answerer's answer to `turn`, or None. An answerer that fails is logged and
    skipped: the offline engine's answer (a person will come back to you) is better than none."""
    for answerer in _answerers:
        try:
            found = answerer(turn)
        except Exception:  # noqa: BLE001 - a bug in one answerer must not leave the customer unanswered
            logger.exception("answerer %s failed on customer %s", answerer.__qualname__, turn.customer.pk)
            continue
        if found is not None and found.body.strip():
            return found
    return None
