"""The catalogue's part of a conversation: "avez-vous la robe bleue en 38 ?" -> "Oui ! On l'a en 38. Il
en reste 2. Je la mets de côté pour vous ?" -> "oui" -> a hold.

Registered with the reply engine (webhooks.answerers) from CatalogConfig.ready. For each turn the engine
may answer automatically, `answer_turn`:
1. when the shop's last message was an automatic one that offered something (its context: hold this
   variant, tell them when it is back, or which size/colour of a product) and the customer says yes or
   names the size: acts on it (catalog.holds.hold_create, catalog.alerts.alert_subscribe) and says so;
2. otherwise reads the turn as a question about the shop's products (catalog.matching) and answers
   from the shop's stock (catalog.answers), offering what can be done next;
3. otherwise leaves the turn to the reply engine's own answer.
The stock stated is always the one read here, in the turn's transaction (holds subtracted).
"""

from __future__ import annotations

import logging
import unicodedata
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from catalog import conversation_texts as texts
from catalog.alerts import alert_subscribe, item_label
from catalog.answers import stock_answer
from catalog.cached import shop_has_catalogue
from catalog.holds import HoldRefused, hold_create, hold_hours
from catalog.matching import Match, asked_attributes, match_question, worth_matching
from catalog.models import Hold, Variant
from catalog.selectors import shop_catalogue
from webhooks.answerers import Answer, Turn

logger = logging.getLogger(__name__)

# Kinds of match the catalogue answers; "none" (not sold here) too, with a person to confirm.
_ANSWERED = frozenset({"variant", "product", "ambiguous", "none"})


def answer_turn(turn: Turn) -> Answer | None:
    if not shop_has_catalogue(turn.customer.shop_id):
        return None  # a shop without a catalogue: the reply engine answers as before (no query)
    text, offered = turn.text, turn.offered
    yes = offered.get("offer") in ("hold", "notify") and texts.is_yes(text)
    follows = bool(offered.get("product"))
    asks = worth_matching(text)
    if not (yes or follows or asks):
        return None  # "merci", "bonne journée", an opening-hours question: no catalogue read
    catalogue = shop_catalogue(shop=turn.customer.shop)
    named = asked_attributes(text, catalogue) if (yes or follows) else ("", frozenset())
    if yes and _accepts(named, offered, catalogue):
        return _accept(turn, offered)  # (it tells when what was offered is no longer sold)
    if not catalogue.items:
        return None  # nothing active to sell
    match = match_question(text, catalogue, language=turn.language) if asks else Match("not_a_stock_question")
    if match.kind not in _ANSWERED and follows and any(named):
        # "38" after "which size would you like?", "oui en 40" after an offer of the 38: the product is
        # the one we talked about. Only when a size or colour is named ("non merci" is not a size).
        match = _follow_up(text, offered, named, catalogue, turn.language) or match
    if match.kind not in _ANSWERED:
        return None
    return _stock(turn, match, catalogue)


def _accepts(named: tuple[str, frozenset], offered: dict, catalogue) -> bool:
    """A yes accepts the offer as made unless it names another size or colour ("oui en 40" to the 38:
    a new question)."""
    size, colours = named
    if not size and not colours:
        return True
    wanted = set(offered.get("variant_ids") or [offered.get("variant_id")])
    items = [item for item in catalogue.items if item.variant_id in wanted]
    return any(_same(item, size, colours) for item in items)


def _same(item, size: str, colours: frozenset) -> bool:
    colour = " ".join(_plain(item.color).split())
    return (not size or _plain(size) == _plain(item.size)) and all(_plain(c) in colour for c in colours)


def _plain(value: str) -> str:
    value = unicodedata.normalize("NFKD", value.lower())
    return "".join(c for c in value if not unicodedata.combining(c))


def _follow_up(
    text: str, offered: dict, named: tuple[str, frozenset], catalogue, language: str
) -> Match | None:
    """The question again, with what the customer said before and did not change: "la robe en lin ?" ->
    "38" -> "noire" is the linen dress in 38, black."""
    size, colours = named
    remembered = [offered["product"]]
    if not size and offered.get("size"):
        remembered.append(f"en {offered['size']}")
    if not colours and offered.get("color"):
        remembered.append(offered["color"])
    match = match_question(f"{' '.join(remembered)} {text}", catalogue, language=language)
    return match if match.kind in ("variant", "product") else None


def _stock(turn: Turn, match: Match, catalogue) -> Answer | None:
    shop = turn.customer.shop
    found = stock_answer(match, language=turn.language, catalogue=catalogue, hold_hours=hold_hours(shop=shop))
    if not found.text:
        return None
    context = {}
    if found.offer and found.item is not None:
        context = {
            "offer": found.offer,
            "variant_id": found.item.variant_id,
            "product": found.item.product,  # "oui en 40" asks about this product in 40
            "buttons": texts.offer_buttons(turn.language),
        }
    elif match.kind == "product" and match.items:
        # Which size or colour comes next: what was already said is kept for it (_follow_up).
        context = {"product": match.items[0].product, "size": match.size, "color": match.color}
    return Answer(
        body=found.text, intent=f"stock_{match.kind}", needs_attention=found.needs_attention, context=context
    )


def _accept(turn: Turn, offered: dict) -> Answer:
    # A savepoint: a failure after the hold is made takes the hold back with it.
    with transaction.atomic():
        return _act(turn, offered)


def _act(turn: Turn, offered: dict) -> Answer:
    customer = turn.customer
    wanted = offered.get("variant_ids") or [offered.get("variant_id")]
    variants = list(
        Variant.objects.filter(shop_id=customer.shop_id, pk__in=[v for v in wanted if isinstance(v, int)])
        .filter(active=True, product__active=True)
        .select_related("product", "shop")
        .order_by("pk")
    )
    if not variants:  # deleted or withdrawn since the offer, or never the shop's
        return Answer(
            body=texts.text(turn.language, "unknown_item"), intent="offer_gone", needs_attention=True
        )
    items = ", ".join(item_label(variant, turn.language) for variant in variants)
    if offered["offer"] == "notify":
        for variant in variants:
            alert_subscribe(customer=customer, variant=variant)
        return Answer(body=texts.text(turn.language, "alert_noted", item=items), intent="alert_made")
    held, gone = [], []
    for variant in variants:
        try:
            held.append(_hold(customer, variant))
        except HoldRefused:
            gone.append(variant)
    if not held:
        # The last one went to someone else between the offer and the "oui": offer to tell them.
        body = texts.text(turn.language, "hold_gone", item=items)
        context = {
            "offer": "notify",
            "variant_ids": [v.pk for v in gone],
            "buttons": texts.offer_buttons(turn.language),
        }
        return Answer(body=body, intent="hold_refused", context=context)
    zone = ZoneInfo(customer.shop.time_zone)
    until = texts.until_text(
        turn.language,
        expires=timezone.localtime(min(hold.expires_at for hold in held), zone),
        now=timezone.localtime(timezone=zone),
    )
    logger.info("customer %s held %d variant(s) by message", customer.pk, len(held))
    kept = ", ".join(item_label(hold.variant, turn.language) for hold in held)
    body = texts.text(turn.language, "hold_made", item=kept, until=until)
    if gone:
        body += " " + texts.text(
            turn.language, "partly_gone", item=", ".join(item_label(v, turn.language) for v in gone)
        )
    return Answer(body=body, intent="hold_made")


def _hold(customer, variant: Variant):
    """Hold one unit, or keep the quantity of the hold the customer has of it (a person may have set
    two aside): the "oui" restarts its time, it never shrinks it."""
    current = Hold.objects.filter(customer=customer, variant=variant, state=Hold.State.ACTIVE).first()
    return hold_create(customer=customer, variant=variant, quantity=current.quantity if current else 1)
