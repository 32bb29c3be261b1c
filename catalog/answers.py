"""The body of the reply to a stock question, from a `catalog.matching.Match`.

Pure Python, like the matcher. The caller assembles the message as the reply engine does
(webhooks/replies/engine.compose): hello ("Bonjour Julie, ") + this body + signature, so the body
starts lower-case. Every stock figure comes from `Item.available` of the shop's catalogue: nothing
here guesses, and an item that is out is never given a count. Texts stay short (one or two SMS) and
fit any product name in every language: no pronoun or adjective that takes the product's gender
(which we do not know) but an elided one or one agreeing with a neutral noun ("le modèle « … »",
"el artículo", "articolo esaurito", "o artigo"), and none that takes the customer's ("o avisemos").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from .matching import Catalogue, Item, Match
from .vocabulary import LETTER_SIZES

LOW_STOCK: Final = 3  # at or under this, the answer says how many are left
MAX_LISTED: Final = 6  # sizes or colours named in one answer
MAX_CANDIDATES: Final = 3  # products named when the question fits several
MAX_ALTERNATIVES: Final = 2  # other sizes or colours offered for an item that is out
FALLBACK_LANGUAGE: Final = "en"

TEXTS: Final[dict[str, dict[str, str]]] = {
    "fr": {
        "label": "{name}{colour}, taille {size}",
        "yes": "oui, on l'a : {label} !",
        "few": " Il en reste {count}.",
        "last": " C'est la dernière pièce !",
        "hold": " Je vous mets l'article de côté {hours} h ? Répondez OUI.",
        "out": "malheureusement, {label} : plus en stock pour le moment.",
        "other_sizes": " Nous l'avons encore en {items}.",
        "other_colours": " En {size}, nous l'avons en {items}.",
        "notify": " Je vous préviens dès son retour ? Répondez OUI.",
        "have": "oui, nous avons le modèle « {name} » en {items}.",
        "no_such": "nous n'avons pas le modèle « {name} » en {asked}, mais en {items}.",
        "none_left": "malheureusement, le modèle « {name} » n'est plus disponible pour le moment.",
        "which_size": " Quelle taille vous faut-il ?",
        "which_colour": " Quelle couleur préférez-vous ?",
        "ambiguous": "nous avons plusieurs modèles : {items}. Lequel vous intéresse ?",
        "none": "nous ne semblons pas avoir cet article. Une personne de la boutique vérifie et vous"
        " confirme dès que possible.",
        "and": "et",
        "or": "ou",
    },
    "en": {
        "label": "{name}{colour}, size {size}",
        "yes": "yes, we have it: {label}!",
        "few": " There are {count} left.",
        "last": " It's the last one!",
        "hold": " Shall we put it aside for you for {hours} hours? Reply YES.",
        "out": "sorry, {label} is out of stock at the moment.",
        "other_sizes": " We still have it in {items}.",
        "other_colours": " In {size} we have it in {items}.",
        "notify": " Shall we let you know when it's back? Reply YES.",
        "have": "yes, we have {name} in {items}.",
        "no_such": "we don't have {name} in {asked}, but we have it in {items}.",
        "none_left": "sorry, {name} is out of stock at the moment.",
        "which_size": " Which size would you like?",
        "which_colour": " Which colour would you like?",
        "ambiguous": "we have several: {items}. Which one do you mean?",
        "none": "it looks like we don't have that. Someone from the shop will check and confirm as soon"
        " as possible.",
        "and": "and",
        "or": "or",
    },
    "es": {
        "label": "{name}{colour}, talla {size}",
        "yes": "¡sí, está disponible: {label}!",
        "few": " Quedan {count}.",
        "last": " ¡Es la última unidad!",
        "hold": " ¿Te reservamos el artículo {hours} horas? Responde SÍ.",
        "out": "lo sentimos, {label}: sin stock por ahora.",
        "other_sizes": " Todavía quedan en {items}.",
        "other_colours": " En {size}, disponible en {items}.",
        "notify": " ¿Te avisamos cuando vuelva? Responde SÍ.",
        "have": "sí, tenemos {name} en {items}.",
        "no_such": "no tenemos {name} en {asked}, pero sí en {items}.",
        "none_left": "lo sentimos, {name}: sin stock por ahora.",
        "which_size": " ¿Qué talla necesitas?",
        "which_colour": " ¿Qué color prefieres?",
        "ambiguous": "tenemos varios modelos: {items}. ¿Cuál te interesa?",
        "none": "parece que no tenemos ese artículo. Una persona de la tienda lo comprobará y te"
        " confirmará lo antes posible.",
        "and": "y",
        "or": "o",
    },
    "it": {
        "label": "{name}{colour}, taglia {size}",
        "yes": "sì, ce l'abbiamo: {label}!",
        "few": " Ne restano {count}.",
        "last": " È l'ultimo pezzo!",
        "hold": " Vuoi che mettiamo da parte l'articolo per {hours} ore? Rispondi SÌ.",
        "out": "ci dispiace, {label}: articolo esaurito al momento.",
        "other_sizes": " È ancora disponibile in {items}.",
        "other_colours": " In {size} è disponibile in {items}.",
        "notify": " Ti avvisiamo quando torna? Rispondi SÌ.",
        "have": "sì, abbiamo {name} in {items}.",
        "no_such": "non abbiamo {name} in {asked}, ma in {items} sì.",
        "none_left": "ci dispiace, {name}: articolo esaurito al momento.",
        "which_size": " Che taglia ti serve?",
        "which_colour": " Che colore preferisci?",
        "ambiguous": "abbiamo diversi modelli: {items}. Quale ti interessa?",
        "none": "sembra che non abbiamo questo articolo. Una persona del negozio verificherà e ti"
        " confermerà al più presto.",
        "and": "e",
        "or": "o",
    },
    "de": {
        "label": "{name}{colour}, Größe {size}",
        "yes": "ja, wir haben es: {label}!",
        "few": " Es sind noch {count} da.",
        "last": " Es ist das letzte Stück!",
        "hold": " Sollen wir es {hours} Stunden für Sie zurücklegen? Antworten Sie JA.",
        "out": "leider ist {label} im Moment ausverkauft.",
        "other_sizes": " Wir haben es noch in {items}.",
        "other_colours": " In {size} haben wir es in {items}.",
        "notify": " Sollen wir Ihnen Bescheid geben, wenn es wieder da ist? Antworten Sie JA.",
        "have": "ja, wir haben {name} in {items}.",
        "no_such": "wir haben {name} nicht in {asked}, aber in {items}.",
        "none_left": "leider ist {name} im Moment ausverkauft.",
        "which_size": " Welche Größe brauchen Sie?",
        "which_colour": " Welche Farbe möchten Sie?",
        "ambiguous": "wir haben mehrere Modelle: {items}. Welches meinen Sie?",
        "none": "diesen Artikel scheinen wir nicht zu haben. Jemand aus dem Laden prüft es und meldet"
        " sich so schnell wie möglich.",
        "and": "und",
        "or": "oder",
    },
    "pt": {
        "label": "{name}{colour}, tamanho {size}",
        "yes": "sim, temos: {label}!",
        "few": " Restam {count}.",
        "last": " É a última peça!",
        "hold": " Quer que guardemos o artigo {hours} horas? Responda SIM.",
        "out": "lamentamos, {label}: artigo esgotado de momento.",
        "other_sizes": " Ainda temos em {items}.",
        "other_colours": " Em {size} temos em {items}.",
        "notify": " Avisamos quando voltar? Responda SIM.",
        "have": "sim, temos {name} em {items}.",
        "no_such": "não temos {name} em {asked}, mas temos em {items}.",
        "none_left": "lamentamos, {name}: artigo esgotado de momento.",
        "which_size": " Que tamanho prefere?",
        "which_colour": " Que cor prefere?",
        "ambiguous": "temos vários modelos: {items}. Qual deles procura?",
        "none": "parece que não temos esse artigo. Alguém da loja vai verificar e confirmar o mais"
        " rápido possível.",
        "and": "e",
        "or": "ou",
    },
}


@dataclass(frozen=True)
class StockAnswer:
    text: str  # the reply's body only; "" when the message is not a stock question
    offer: Literal["hold", "notify", ""]  # what a "yes" from the customer would do
    item: Item | None  # the variant the offer is about
    needs_attention: bool


_SILENT = StockAnswer("", "", None, needs_attention=False)


def stock_answer(match: Match, *, language: str, catalogue: Catalogue, hold_hours: int = 24) -> StockAnswer:
    """The answer to the question `match` describes, in `language` (unknown -> English)."""
    texts = TEXTS.get(str(language or "").lower()[:2], TEXTS[FALLBACK_LANGUAGE])
    if match.kind == "variant" and match.item is not None:
        item = _current(match.item, catalogue)
        if item.available > 0:
            return _in_stock(item, texts, catalogue, hold_hours)
        return _out_of_stock(item, texts, catalogue)
    if match.kind == "product" and match.items:
        return StockAnswer(_choose(match, texts, catalogue), "", None, needs_attention=False)
    if match.kind == "ambiguous" and match.items:
        names = [item.product for item in match.items[:MAX_CANDIDATES]]
        text = texts["ambiguous"].format(items=_join(names, texts["or"]))
        return StockAnswer(text, "", None, needs_attention=False)
    if match.kind == "not_a_stock_question":
        return _SILENT
    # "none", or a match without the items its kind needs: a person confirms rather than us guessing.
    return StockAnswer(texts["none"], "", None, needs_attention=True)


def _current(item: Item, catalogue: Catalogue) -> Item:
    """The catalogue's own row for the SKU: its `available` is the only stock figure we state."""
    for candidate in catalogue.items:
        if candidate.sku == item.sku:
            return candidate
    return item


def _variants(item: Item, catalogue: Catalogue) -> list[Item]:
    return [other for other in catalogue.items if other.product == item.product]


def _label(item: Item, texts: dict[str, str], catalogue: Catalogue) -> str:
    """The product's name, plus the colour when it has several, plus the size unless one-size."""
    variants = _variants(item, catalogue)
    several_colours = len({v.color for v in variants}) > 1
    colour = f" {item.color}" if several_colours and item.color else ""
    if len({v.size for v in variants}) <= 1 or not item.size:
        return f"{item.product}{colour}"
    return texts["label"].format(name=item.product, colour=colour, size=item.size)


def _in_stock(item: Item, texts: dict[str, str], catalogue: Catalogue, hours: int) -> StockAnswer:
    text = texts["yes"].format(label=_label(item, texts, catalogue))
    if item.available == 1:
        text += texts["last"]
    elif item.available <= LOW_STOCK:
        text += texts["few"].format(count=item.available)
    text += texts["hold"].format(hours=hours)
    return StockAnswer(text, "hold", item, needs_attention=False)


def _out_of_stock(item: Item, texts: dict[str, str], catalogue: Catalogue) -> StockAnswer:
    """Never a count here: the nearest sizes in the same colour, else other colours in that size."""
    text = texts["out"].format(label=_label(item, texts, catalogue))
    in_stock = [v for v in _variants(item, catalogue) if v.available > 0]
    sizes = nearest_sizes(item.size, [v.size for v in in_stock if v.color == item.color])
    colours = list(dict.fromkeys(v.color for v in in_stock if v.size == item.size and v.color))
    if sizes:
        text += texts["other_sizes"].format(items=_join(sizes, texts["and"]))
    elif colours:
        listed = _join(colours[:MAX_ALTERNATIVES], texts["and"])
        text += texts["other_colours"].format(size=item.size, items=listed)
    text += texts["notify"]
    return StockAnswer(text, "notify", item, needs_attention=False)


def nearest_sizes(size: str, sizes: list[str], limit: int = MAX_ALTERNATIVES) -> list[str]:
    """The `limit` sizes closest to `size`: by number for numeric sizes, else XS < S < M < L < XL;
    a tie goes to the smaller size. Sizes that cannot be compared are left out."""
    target = _size_rank(size)
    if target is None:
        return []
    ranked = [
        (abs(rank - target), rank, s) for s in dict.fromkeys(sizes) if (rank := _size_rank(s)) is not None
    ]
    # Same size system only: letters are ranked from 1000 on, numbers below.
    ranked = [entry for entry in ranked if 0 < entry[0] < 500]
    return [s for _, _, s in sorted(ranked)[:limit]]


def _size_rank(size: str) -> float | None:
    text = size.strip().upper().removeprefix("T")
    try:
        return float(text.replace(",", "."))
    except ValueError:
        pass
    # Letter sizes ranked far from shoe and clothing numbers, so the two never mix (see above).
    return 1000.0 + LETTER_SIZES.index(text) if text in LETTER_SIZES else None


def _choose(match: Match, texts: dict[str, str], catalogue: Catalogue) -> str:
    """A product without the size or colour: what is in stock, and which one they want."""
    variants = [_current(item, catalogue) for item in match.items]
    name = variants[0].product
    if (
        match.ask == "size"
        and match.color in {v.color for v in variants}
        and len({v.color for v in variants}) > 1
    ):
        name = f"{name} {match.color}"  # the sizes listed are that colour's
    asked, options = _options(match, variants)
    listed = _join(options[:MAX_LISTED], texts["and"])
    question = texts["which_colour" if match.ask == "color" else "which_size"]
    if not options:
        return texts["none_left"].format(name=name)
    if asked:
        return texts["no_such"].format(name=name, asked=asked, items=listed) + question
    return texts["have"].format(name=name, items=listed) + question


def _options(match: Match, variants: list[Item]) -> tuple[str, list[str]]:
    """What was asked but does not exist (or ""), and the sizes or colours in stock to offer."""
    in_stock = [v for v in variants if v.available > 0]
    if match.ask == "color":
        size_known = match.size and any(v.size == match.size for v in variants)
        pool = [v for v in in_stock if v.size == match.size] if size_known else in_stock
        colour_known = not match.color or any(v.color == match.color for v in variants)
        return ("" if colour_known else match.color), _unique(v.color for v in pool)
    colour_known = match.color and any(v.color == match.color for v in variants)
    pool = [v for v in in_stock if v.color == match.color] if colour_known else in_stock
    size_known = not match.size or any(v.size == match.size for v in variants)
    sizes = sorted(_unique(v.size for v in pool), key=_size_order)
    return ("" if size_known else match.size), sizes


def _size_order(size: str) -> tuple[bool, float]:
    rank = _size_rank(size)
    return rank is None, rank or 0.0


def _unique(values) -> list[str]:
    return [value for value in dict.fromkeys(values) if value]


def _join(values: list[str], conjunction: str) -> str:
    if len(values) <= 1:
        return "".join(values)
    return f"{', '.join(values[:-1])} {conjunction} {values[-1]}"
