"""One decision for a conversation turn: every message a customer sent before the shop answered.

People send "Bonjour", then a photo, then "vous l'avez en 38 ?" in a few seconds; they expect one
answer, the one a person at the counter would give. Pure like `decide`: the caller gives the messages
as (message_type, text) pairs, oldest first, and owns everything stateful.
"""

from __future__ import annotations

from dataclasses import replace

from .engine import Decision, ShopInfo, clean_first_name, compose, decide, reply_language
from .intents import Action

# Messages with no text of their own and the answer a person would give, by Interaction.message_type:
# (template key, whether a person of the shop must look at it). Listed by priority: when a turn holds
# several, the first one here is answered (an order matters more than a location sent with it).
MEDIA_REPLIES: dict[str, tuple[str, bool]] = {
    "order": ("media_order", True),
    "audio": ("media_audio", True),  # a voice note: nobody listens to it here
    "voice": ("media_audio", True),
    "image": ("media_image", True),
    "video": ("media_video", True),
    "document": ("media_document", True),
    "unsupported": ("media_unsupported", False),
    "contacts": ("media_contacts", False),
    "location": ("media_location", False),
}
# Answered without a word: a sticker is a nod, not a question.
SILENT_TYPES = frozenset({"sticker"})
# Types whose meaning is in their text (a button or list answer carries its title as text).
TEXT_TYPES = frozenset({"text", "interactive", "button", ""})
# Text intents that add nothing to what a photo or an order says: the media's answer wins over them.
_LIGHT_INTENTS = frozenset({"greeting", "thanks"})


def decide_turn(
    messages: list[tuple[str, str]],
    *,
    shop: ShopInfo,
    first_name: str | None = None,
    language_hint: str | None = None,
) -> Decision:
    """Decide how to answer a turn. An opt-out in any message wins over everything (confirmed once,
    the rest unanswered), then an opt-in, then an escalation; otherwise the texts are read together."""
    texts = [text for _, text in messages if text.strip()]
    joined = "\n".join(texts)
    lang = reply_language(joined, shop, language_hint)
    # STOP and START are whole-message keywords: each message is read on its own for them.
    # A turn of one text: `lang` was read from that text, so it is not read again.
    alone = lang if len(texts) == 1 else None
    singles = [
        decide(text, shop=shop, first_name=first_name, language_hint=lang, language=alone) for text in texts
    ]
    for wanted in (Action.OPT_OUT, Action.OPT_IN, Action.ESCALATE):
        found = next((d for d in singles if d.action is wanted), None)
        if found:
            return found
    media = _media_decision(messages, lang, shop, first_name)
    # One text: the turn says what that message said, already decided above with the same language.
    said = singles[0] if len(texts) == 1 else None
    if len(texts) > 1:
        said = decide(joined, shop=shop, first_name=first_name, language_hint=lang)
    if said is None or said.action is Action.NONE:
        return media or said or Decision(lang, "none", Action.NONE, "", needs_attention=False)
    if media is None:
        return said
    if said.intent in _LIGHT_INTENTS:
        return media
    return replace(said, needs_attention=said.needs_attention or media.needs_attention)


def _media_decision(
    messages: list[tuple[str, str]], lang: str, shop: ShopInfo, first_name: str | None
) -> Decision | None:
    """The answer to what was sent without text (a caption makes a photo a text message)."""
    kinds = {_kind(message_type) for message_type, text in messages if not text.strip()}
    kinds -= TEXT_TYPES | SILENT_TYPES
    kind = next((kind for kind in MEDIA_REPLIES if kind in kinds), None)
    if kind is None:
        return None
    key, needs_attention = MEDIA_REPLIES[kind]
    text = compose(lang, key, shop, clean_first_name(first_name))
    return Decision(lang, key, Action.REPLY, text, needs_attention)


def _kind(message_type: str) -> str:
    """Known types as they are; any other type with no text is one we could not read."""
    if message_type in MEDIA_REPLIES or message_type in TEXT_TYPES or message_type in SILENT_TYPES:
        return message_type
    return "unsupported"
