"""The offline reply brain: message in, Decision out.

Pure function of its inputs (no Django, DB or network). The webhook pipeline owns everything
stateful: it records opt-outs/opt-ins, stays silent for opted-out customers or paused shops, sends
`text`, and e-mails the owners when `needs_attention` is set.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from shopinfo.hours import Hours

from .facts import fact_answer
from .hours_text import hours_answer
from .intents import Action, Classification, classify, normalize, question_intents
from .language import detect_language
from .templates import FALLBACK_LANGUAGE, REPLY_LANGUAGES, TEMPLATES, template

# Intents answered from what the shop gave (shopinfo: hours, address, facts); when it gave nothing the
# customer is told a person will answer, and the owners are told to.
_FACT_INTENTS = frozenset({"address", "delivery", "payment", "services", "returns", "parking"})
_SHOP_DATA_INTENTS = frozenset({"opening_hours", *_FACT_INTENTS})
# Intents fully answered by the bot; everything else waits for a person from the shop.
_SELF_SERVE_INTENTS = frozenset({"greeting", "thanks", *_SHOP_DATA_INTENTS})
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


def shop_answer(intent: str, lang: str, shop: ShopInfo, normalized: str) -> str | None:
    """The body that answers `intent` from the shop's own data; "" for an intent that needs none, None
    when the shop did not give it (a person answers)."""
    if intent == "opening_hours":
        return _hours_body(lang, shop, normalized)
    if intent in _FACT_INTENTS:
        return fact_answer(intent, lang, shop)
    return ""


def _with_second_question(answer: str, intent: str, lang: str, shop: ShopInfo, normalized: str) -> str:
    """ "Where are you? Can I park nearby?": one more question about the shop's data is answered too, when
    the shop gave it (one more only: an SMS stays short). The address goes last, its map link ending it."""
    second = next((i for i in question_intents(normalized) if i != intent and i in _SHOP_DATA_INTENTS), "")
    more = shop_answer(second, lang, shop, normalized) if second else None
    if not more:
        return answer
    first, last = (more, answer) if intent == "address" else (answer, more)
    return f"{first} {last[:1].upper()}{last[1:]}"


def _without_labels(hours: Hours) -> Hours:
    return replace(hours, exceptions=tuple(replace(e, label="") for e in hours.exceptions))


def _policy_then_person(lang: str, shop: ShopInfo) -> str:
    """ "When do I get my refund?": an apology, the shop's returns policy, which answers most of it at once,
    and a person who still checks this very refund (the conversation stays escalated). "" when the shop
    gave no policy."""
    policy = fact_answer("returns", lang, shop)
    if not policy:
        return ""
    return f"{template(lang, 'sorry')} {policy[:1].upper()}{policy[1:]} {template(lang, 'handover')}"


def _hours_body(lang: str, shop: ShopInfo, normalized: str) -> str | None:
    # The owner's free-text note is in the shop's language: pasted into another language's sentence it
    # reads as a mistake, so other languages get the structured hours alone (or a person).
    note = shop.hours_note.strip() if lang == shop.language else ""
    if shop.hours is not None and shop.hours.is_set():
        # The owner's labels ("Inventaire", "Congés") are in the shop's language too: another language's
        # sentence says "closed" without them rather than "closed for Congés".
        hours = shop.hours if lang == shop.language else _without_labels(shop.hours)
        return hours_answer(hours, lang, normalized, shop.now, note=note)
    if note:
        return template(lang, "opening_hours").format(hours=clause(note))
    return None


def _body_key(found: Classification, lang: str, missing_data: bool) -> str:
    if found.intent == "card_details":
        return "card_details"
    if found.action is Action.ESCALATE:
        return "escalate_sorry" if found.reason in _APOLOGY_REASONS else "escalate"
    if not missing_data:
        return found.intent
    # A question about delivery or returns the shop left unanswered still gets its own "someone will
    # answer about your delivery" (and the website); hours, address and the rest a plain one.
    return found.intent if found.intent in _WEBSITE_INTENTS and found.intent in TEMPLATES["en"] else "other"


def _tail(lang: str, body_key: str, shop: ShopInfo) -> str:
    """Optional pointer to the website or phone while the customer waits for a person."""
    if body_key in _WEBSITE_INTENTS and shop.website.strip():
        return template(lang, "website").format(website=shop.website.strip())
    if body_key == "other" and shop.phone.strip():
        return template(lang, "phone").format(phone=shop.phone.strip())
    return ""


def compose(lang: str, body_key: str, shop: ShopInfo, first_name: str) -> str:
    """hello + body + tail + signature, with shop data filled in."""
    body = template(lang, body_key).format(address=clause(shop.address), shop=shop.name.strip())
    return wrap(lang, f"{body}{_tail(lang, body_key, shop)}", shop, first_name)


def wrap(lang: str, body: str, shop: ShopInfo, first_name: str) -> str:
    """hello + `body` (written elsewhere, e.g. by the catalogue) + the owner's signature, if any."""
    hello = template(lang, "hello_named").format(name=first_name) if first_name else template(lang, "hello")
    signature = " ".join(shop.signature.split())
    return tidy(f"{hello}{body}" + (f"\n{signature}" if signature else ""))


def clause(text: str) -> str:
    """An owner's text made to sit inside a sentence: one line, without its own final full stop (the
    template puts one after it)."""
    return " ".join(text.split()).rstrip(" .;,")


_SPACE_BEFORE_STOP_RE = re.compile(r"[ \t]+(?=[.,](?:\s|$))")
_DOUBLED_STOP_RE = re.compile(r"(?<![.])([.!?…])\.(?![.])")


def tidy(text: str) -> str:
    """No " ." and no ".." (an owner's "19h." followed by the template's "."); an ellipsis stays."""
    return _DOUBLED_STOP_RE.sub(r"\1", _SPACE_BEFORE_STOP_RE.sub("", text))


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
    normalized = normalize(text)
    answer = shop_answer(found.intent, lang, shop, normalized) if found.action is Action.REPLY else ""
    if answer:
        answer = _with_second_question(answer, found.intent, lang, shop, normalized)
    if found.reason == "refund":
        answer = _policy_then_person(lang, shop)
    missing_data = answer is None
    needs_attention = (
        found.action is Action.ESCALATE or missing_data or found.intent not in _SELF_SERVE_INTENTS
    )
    first = clean_first_name(first_name)
    if answer:
        reply = wrap(lang, answer, shop, first)
    else:
        reply = compose(lang, _body_key(found, lang, missing_data), shop, first)
    return Decision(lang, found.intent, found.action, reply, needs_attention)
