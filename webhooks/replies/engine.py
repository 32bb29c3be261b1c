"""The offline reply brain: message in, Decision out.

Pure function of its inputs (no Django, DB or network). The webhook pipeline owns everything
stateful: it records opt-outs/opt-ins, stays silent for opted-out customers or paused shops, sends
`text`, and e-mails the owners when `needs_attention` is set.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from shopinfo.hours import Hours

from .intents import Action, Classification, classify
from .language import detect_language
from .templates import FALLBACK_LANGUAGE, REPLY_LANGUAGES, template

# Intents whose answer comes from ShopInfo; without that field we hold and flag instead.
_SHOP_FIELD_FOR_INTENT = {"opening_hours": "hours_note", "address": "address"}
# Intents fully answered by the bot; everything else waits for a person from the shop.
_SELF_SERVE_INTENTS = frozenset({"greeting", "thanks", "opening_hours", "address"})
# Where a link to the shop's site genuinely helps the customer while they wait.
_WEBSITE_INTENTS = frozenset({"gift_card", "delivery", "returns", "order_status"})
_APOLOGY_REASONS = frozenset({"complaint", "refund", "anger"})
_MAX_NAME_CHARS = 40
_NAME_JUNK_RE = re.compile(r"[\x00-\x1f\x7f<>{}]")


@dataclass(frozen=True)
class ShopInfo:
    name: str
    language: str  # shop default language, e.g. "fr"
    address: str = ""
    # Structured opening hours (shopinfo app); None or empty: the shop did not give them.
    hours: Hours | None = None
    # The owner's free text about hours that is not structured ("Ouvert les dimanches de décembre"),
    # in the shop's language.
    hours_note: str = ""
    website: str = ""
    phone: str = ""
    map_url: str = ""  # a link to the address on a map
    # What the owner says about delivery, payment, services, returns, parking (FACT_KEYS):
    # {fact: {"": text in the shop's language, "en": English version, ...}}; missing or "": not given.
    facts: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    # Closes every automatic reply when not empty (a line of its own), e.g. "Lou, Boutique Coccinelle".
    signature: str = ""
    # Now, aware, in the shop's time zone: what "today" and "tomorrow" mean. None: answer with the week.
    now: datetime | None = None


@dataclass(frozen=True)
class Decision:
    language: str
    intent: str
    action: Action
    text: str  # reply text; "" when action is NONE
    needs_attention: bool


def reply_language(text: str, shop: ShopInfo, language_hint: str | None = None) -> str:
    """Language to answer in: detected, else the hint (e.g. the customer's last language), else
    the shop's; always one we have templates for."""
    default = next(
        (lang for lang in (language_hint, shop.language, FALLBACK_LANGUAGE) if lang in REPLY_LANGUAGES),
        FALLBACK_LANGUAGE,
    )
    detected = detect_language(text, default)
    return detected if detected in REPLY_LANGUAGES else default


def clean_first_name(first_name: str | None) -> str:
    """A first name safe to put in an SMS: no control characters or braces, bounded length."""
    if not first_name:
        return ""
    name = " ".join(_NAME_JUNK_RE.sub(" ", first_name).split())
    return name[:_MAX_NAME_CHARS].strip()


def _missing_shop_data(intent: str, shop: ShopInfo) -> bool:
    field = _SHOP_FIELD_FOR_INTENT.get(intent)
    return bool(field) and not getattr(shop, field).strip()


def _body_key(found: Classification, missing_data: bool) -> str:
    if found.action is Action.ESCALATE:
        return "escalate_sorry" if found.reason in _APOLOGY_REASONS else "escalate"
    return "other" if missing_data else found.intent


def _tail(lang: str, body_key: str, shop: ShopInfo) -> str:
    """Optional pointer to the website or phone while the customer waits for a person."""
    if body_key in _WEBSITE_INTENTS and shop.website.strip():
        return template(lang, "website").format(website=shop.website.strip())
    if body_key == "other" and shop.phone.strip():
        return template(lang, "phone").format(phone=shop.phone.strip())
    return ""


def compose(lang: str, body_key: str, shop: ShopInfo, first_name: str) -> str:
    """hello + body + tail + signature, with shop data filled in."""
    body = template(lang, body_key).format(
        hours=shop.hours_note.strip(), address=shop.address.strip(), shop=shop.name
    )
    return wrap(lang, f"{body}{_tail(lang, body_key, shop)}", shop, first_name)


def wrap(lang: str, body: str, shop: ShopInfo, first_name: str) -> str:
    """hello + `body` (written elsewhere, e.g. by the catalogue) + signature."""
    hello = template(lang, "hello_named").format(name=first_name) if first_name else template(lang, "hello")
    signature = template(lang, "signature").format(shop=shop.name.strip())
    return f"{hello}{body}{signature}"


def _subscription_decision(lang: str, found: Classification, shop: ShopInfo) -> Decision:
    text = template(lang, found.intent).format(shop=shop.name.strip())
    return Decision(lang, found.intent, found.action, text, needs_attention=False)


def decide(
    text: str,
    *,
    shop: ShopInfo,
    first_name: str | None = None,
    language_hint: str | None = None,
    language: str | None = None,
) -> Decision:
    """Decide how to answer one inbound message, in `language` if the caller already chose it from this
    very text (else detected, with the hint). Never raises on odd input text."""
    text = text if isinstance(text, str) else ""
    lang = language or reply_language(text, shop, language_hint)
    found = classify(text)
    if found.action is Action.NONE:
        return Decision(lang, found.intent, Action.NONE, "", needs_attention=False)
    if found.action in (Action.OPT_OUT, Action.OPT_IN):
        return _subscription_decision(lang, found, shop)
    missing_data = _missing_shop_data(found.intent, shop)
    needs_attention = (
        found.action is Action.ESCALATE or missing_data or found.intent not in _SELF_SERVE_INTENTS
    )
    reply = compose(lang, _body_key(found, missing_data), shop, clean_first_name(first_name))
    return Decision(lang, found.intent, found.action, reply, needs_attention)
