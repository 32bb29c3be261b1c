"""Which product and variant a customer's message asks about, in the shop's own words.

Pure Python (no Django, database or network): the caller builds a `Catalogue` from the shop's variants
(catalog.selectors) or from a JSON file (the evaluation, scripts/eval_products.py) and asks
`match_question`.

How it works: the message and every product name are read into *concepts* with one multilingual
vocabulary (below: one dict per concept, easy to extend), so "dress", "vestido" and "Kleid" all meet the
shop's "robe". Words the vocabulary does not know are kept as they are, so a shop's own words ("chelsea",
"oxford") match too. Products are scored by the name concepts the message shares (the garment type
counts more, the category a little); the colour and size asked for then filter the best ones.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import unicodedata
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Literal

from catalog.vocabulary import (
    COLOURS,
    COMMON_WORDS,
    DETAILS,
    GARMENTS,
    LETTER_SIZES,
    NOT_PRODUCT_WORDS,
    NOT_SOLD,
    OTHER_CUES,
    SMALL_TALK,
    STOCK_CUES,
    STOPWORDS,
    VAGUE,
)
from webhooks.replies.intents import classify

logger = logging.getLogger(__name__)

Kind = Literal["variant", "product", "ambiguous", "none", "not_a_stock_question"]


@dataclass(frozen=True)
class Item:
    """One variant as the matcher sees it."""

    sku: str
    product: str  # the product's name, as the shop wrote it
    size: str = ""
    color: str = ""
    price: Decimal = Decimal("0")
    available: int = 0  # stock less active holds
    category: str = ""
    variant_id: int | None = None  # the database row, when built from one
    product_id: int | None = None


@dataclass(frozen=True)
class Catalogue:
    items: tuple[Item, ...]

    def products(self) -> dict[str, tuple[Item, ...]]:
        """Variants by product name, in catalogue order."""
        grouped: dict[str, list[Item]] = {}
        for item in self.items:
            grouped.setdefault(item.product, []).append(item)
        return {name: tuple(items) for name, items in grouped.items()}

    @classmethod
    def from_json(cls, path: str | Path) -> Catalogue:
        """The demo file's shape: [{name, category, variants: [{sku, size, color, price, stock}]}]."""
        products = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls(
            tuple(
                Item(
                    sku=v["sku"],
                    product=p["name"],
                    size=str(v.get("size", "")),
                    color=v.get("color", ""),
                    price=Decimal(str(v.get("price", "0"))),
                    available=max(int(v.get("stock", 0)), 0),
                    category=p.get("category", ""),
                )
                for p in products
                for v in p["variants"]
            )
        )


@dataclass(frozen=True)
class Match:
    """What the message asks about.

    - variant: `item` is the one variant meant (product, and size and colour where the product has more
      than one).
    - product: one product, but the size or colour it has several of is missing (`ask`: "size" or
      "color"); `items` are that product's variants. Also when the size or colour asked for does not
      exist for that product at all: `size` / `color` then hold what was asked and `ask` names the
      attribute to choose, so the answer can say which exist.
    - ambiguous: several products fit (`items`: one representative variant per product, best first).
    - none: a stock question about something the shop does not sell.
    - not_a_stock_question: the message asks something else (opening hours, an order's delivery...).
    `size` / `color` are what the customer asked for, in the shop's spelling when the shop has it.
    """

    kind: Kind
    item: Item | None = None
    items: tuple[Item, ...] = field(default_factory=tuple)
    ask: str = ""
    size: str = ""
    color: str = ""


_NON_COLOUR_VOCABULARY = (GARMENTS, DETAILS, NOT_SOLD)
_PRODUCT_CONCEPTS = frozenset(c for vocabulary in _NON_COLOUR_VOCABULARY for c in vocabulary)

# Alone, a stock cue makes no stock question ("Encore merci", "Y a des soldes ?"): see _match.
_STOCK_CUE_RE = re.compile(rf"\b(?:{STOCK_CUES})\b")
_OTHER_CUE_RE = re.compile(rf"\b(?:{OTHER_CUES})\b")
_OTHER_INTENTS = frozenset(
    {"opening_hours", "address", "order_status", "returns", "gift_card", "delivery", "opt_out", "opt_in"}
    | {"payment", "services", "parking", "card_details"}
)


def _wordset(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Frequent words a typo must never turn into a product word: "bonne" is not "bonnet".
_NOT_TYPOS = NOT_PRODUCT_WORDS | COMMON_WORDS | SMALL_TALK
# "haut" that is not the garment: "en haut", "plus haut", "haut de gamme".
_NOT_GARMENT_HAUT_RE = re.compile(r"\b(?:en|plus|la|tout|trop|tres|si|moins|aussi) haut\b|\bhaut de gamme\b")

# --- Sizes
_SIZE_WORDS = {
    "small": "S", "petit": "S", "petite": "S", "pequena": "S", "piccola": "S", "klein": "S",
    "medium": "M", "moyen": "M", "moyenne": "M", "mediana": "M", "media": "M", "mittel": "M",
    "large": "L", "grande": "L", "gross": "L",
}  # fmt: skip
_SIZE_CUES = _wordset("en in taille size talla taglia gr grosse groesse t numero nel el au pointure sz tg")
_NUMBER_RE = re.compile(r"^t?(\d{2,3})$")


def _plain(text: str) -> str:
    """Accent-free text keeping its case (an upper-case "M" is a size, "m" may not be)."""
    decomposed = unicodedata.normalize("NFKD", text.replace("’", "'").replace("ß", "ss"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


_ELISION_RE = re.compile(r"\b(?:[lcdjmnst]|qu)'|'(?:s|ll|re|ve|t|d|m)\b", re.IGNORECASE)
_WORD_RE = re.compile(r"[A-Za-z0-9]+")


def _words(text: str) -> list[str]:
    return _WORD_RE.findall(_ELISION_RE.sub(" ", _plain(text)))


def _stem(word: str) -> str:
    """A crude stem that joins plural and gender forms: bleues/bleue/bleu, neri/nero, manteaux."""
    if len(word) > 4 and word.endswith("x"):
        word = word[:-1]
    if len(word) > 3 and word.endswith("s"):
        word = word[:-1]
    if len(word) > 3 and word[-1] in "aeio":
        word = word[:-1]
    return word


# --- Indexes: the vocabulary plus the shop's own words, built once per catalogue (cached).


@dataclass
class _Lexicon:
    exact: dict[str, set[str]]  # surface word -> concepts
    stems: dict[str, set[str]]
    phrases: dict[str, list[tuple[tuple[str, ...], set[str]]]]  # first stem -> (stems, concepts)
    colours: frozenset[str]
    not_sold: frozenset[str]
    near: dict[str, set[str]]  # one-deletion forms -> surface words, for typos

    def add(self, surface: str, concepts: set[str]) -> None:
        words = tuple(w.lower() for w in _words(surface))
        if not words:
            return
        if len(words) > 1:
            stems = tuple(_stem(w) for w in words)
            self.phrases.setdefault(stems[0], []).append((stems, set(concepts)))
            self.phrases[stems[0]].sort(key=lambda entry: -len(entry[0]))
            return
        word = words[0]
        self.exact.setdefault(word, set()).update(concepts)
        self.stems.setdefault(_stem(word), set()).update(concepts)
        if len(word) >= 4:
            for form in {word, *_deletions(word)}:
                self.near.setdefault(form, set()).add(word)


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def _base_lexicon() -> _Lexicon:
    lexicon = _Lexicon({}, {}, {}, frozenset(COLOURS), frozenset(NOT_SOLD), {})
    for vocabulary in (*_NON_COLOUR_VOCABULARY, COLOURS):
        for concept, surfaces in vocabulary.items():
            for surface in surfaces:
                lexicon.add(surface, {concept})
    return lexicon


@dataclass(frozen=True)
class _Product:
    name: str
    items: tuple[Item, ...]
    concepts: frozenset[str]  # name concepts, colours left out (they filter, they do not score)
    kind: str  # the garment type: the first concept of the name
    category: frozenset[str]
    sizes: tuple[str, ...]  # normalised, catalogue order
    colours: tuple[frozenset[str], ...]  # per item


@dataclass(frozen=True)
class _Index:
    lexicon: _Lexicon
    products: tuple[_Product, ...]
    by_concept: dict[str, tuple[int, ...]]
    sold: frozenset[str]


_INDEXES: dict[int, tuple[tuple, _Index]] = {}
_MAX_CACHED = 64


def _shape(catalogue: Catalogue) -> tuple:
    """What the indexes are built from: names and attributes, not the figures. The reply engine reads a
    new Catalogue for every message (the stock moves), and a shop's names rarely do: keyed by this, the
    indexes are built once per shape (~50 ms for 2,000 variants) and reused (~1 ms to compare)."""
    return tuple((item.sku, item.product, item.size, item.color, item.category) for item in catalogue.items)


def _index(catalogue: Catalogue) -> _Index:
    """The catalogue's indexes, computed once per shape. Their items carry the figures of the catalogue
    they were built from: match_question swaps in the asked catalogue's own (_current)."""
    shape = _shape(catalogue)
    cached = _INDEXES.get(hash(shape))
    if cached is not None and cached[0] == shape:
        return cached[1]
    index = _build_index(catalogue)
    if len(_INDEXES) >= _MAX_CACHED:
        _INDEXES.pop(next(iter(_INDEXES)))
    _INDEXES[hash(shape)] = (shape, index)
    return index


def _current(match: Match, catalogue: Catalogue) -> Match:
    """`match` with the items of `catalogue` itself (its availability), not those of a cached index."""
    if match.item is None and not match.items:
        return match
    by_sku = {item.sku: item for item in catalogue.items}
    return replace(
        match,
        item=by_sku.get(match.item.sku, match.item) if match.item is not None else None,
        items=tuple(by_sku.get(item.sku, item) for item in match.items),
    )


def _build_index(catalogue: Catalogue) -> _Index:
    lexicon = _base_lexicon()
    # The shop's own words (brand-like names, "chelsea", "oxford") become concepts of their own.
    for item in catalogue.items:
        for word in _words(f"{item.product} {item.color}"):
            low = word.lower()
            if low not in STOPWORDS and not _lookup(lexicon, low) and len(low) > 2:
                lexicon.add(low, {f"w:{_stem(low)}"})
    products = []
    for name, items in catalogue.products().items():
        named = [c for c in _concepts(lexicon, _words(name)) if c not in lexicon.colours]
        products.append(
            _Product(
                name=name,
                items=items,
                concepts=frozenset(named),
                kind=named[0] if named else "",
                category=frozenset(_concepts(lexicon, _words(items[0].category))),
                sizes=tuple(dict.fromkeys(_size_key(i.size) for i in items)),
                colours=tuple(frozenset(_concepts(lexicon, _words(i.color))) for i in items),
            )
        )
    by_concept: dict[str, list[int]] = {}
    for position, product in enumerate(products):
        for concept in product.concepts | product.category:
            by_concept.setdefault(concept, []).append(position)
    sold = frozenset(c for p in products for c in p.concepts)
    return _Index(lexicon, tuple(products), {c: tuple(v) for c, v in by_concept.items()}, sold)


def _lookup(lexicon: _Lexicon, word: str) -> set[str]:
    """Concepts of one lower-case word: exact, without a plural, by stem, then German endings."""
    for form in (word, word[:-1] if word.endswith("s") else ""):
        if form in lexicon.exact:
            return lexicon.exact[form]
    found = lexicon.stems.get(_stem(word))
    if found:
        return found
    if len(word) > 4 and word[-1] in "nmr":
        return lexicon.stems.get(_stem(word[:-1]), set())
    return set()


def _split_compound(lexicon: _Lexicon, word: str, depth: int = 0) -> list[str] | None:
    """German compounds: "hemdblusenkleid" -> hemd + blusen + kleid, when every part is known."""
    if depth > 3 or len(word) < 6:
        return None
    for cut in range(len(word) - 3, 2, -1):
        head, tail = word[:cut], word[cut:]
        head_known = any(_lookup(lexicon, h) for h in (head, head[:-1] if head[-1] in "sn" else ""))
        if not head_known:
            continue
        if _lookup(lexicon, tail):
            return [head, tail]
        rest = _split_compound(lexicon, tail, depth + 1)
        if rest:
            return [head, *rest]
    return None


def _typo(lexicon: _Lexicon, word: str) -> set[str]:
    """A known word one edit away (or a known word's clear beginning, "portefeuil")."""
    if len(word) < 4 or word in STOPWORDS or word in _NOT_TYPOS or _STOCK_CUE_RE.fullmatch(word):
        return set()
    found: set[str] = set()
    for form in {word, *_deletions(word)}:
        for known in lexicon.near.get(form, ()):
            if _close_enough(word, known):
                found.add(known)
    if not found and len(word) >= 6:
        found = {k for k in lexicon.exact if k.startswith(word) and len(k) - len(word) <= 3}
    if len(found) != 1:
        return set()
    return lexicon.exact[found.pop()]


def _close_enough(word: str, known: str) -> bool:
    """Two letters swapped from 4 letters on, a letter missing or added from 5, a letter changed
    only from 6 ("celle" must not become "pelle", leather in Italian). Same length, one deletion
    each is not enough: "louise" and "blouse" share "louse" but are two edits apart."""
    if len(word) != len(known):
        return min(len(word), len(known)) >= 4 and max(len(word), len(known)) >= 5
    changed = sum(a != b for a, b in zip(word, known, strict=True))
    return _swapped(word, known) or (len(word) >= 6 and changed == 1)


def _swapped(word: str, known: str) -> bool:
    """`word` is `known` with two neighbouring letters swapped ("jaen" / "jean")."""
    diffs = [i for i, (a, b) in enumerate(zip(word, known, strict=False)) if a != b]
    return (
        len(word) == len(known)
        and len(diffs) == 2
        and diffs[1] == diffs[0] + 1
        and word[diffs[0]] == known[diffs[1]]
        and word[diffs[1]] == known[diffs[0]]
    )


def _concepts(lexicon: _Lexicon, words: list[str], *, fuzzy: bool = False) -> list[str]:
    """Concepts named by `words`, in order: phrases first, then words, compounds and typos."""
    lower = [w.lower() for w in words]
    stems = [_stem(w) for w in lower]
    found: list[str] = []
    position = 0
    while position < len(lower):
        step, concepts = _phrase_at(lexicon, stems, position)
        if not concepts:
            word = lower[position]
            concepts = set() if word in STOPWORDS or word in NOT_PRODUCT_WORDS else _lookup(lexicon, word)
            if not concepts and len(word) >= 8:
                parts = _split_compound(lexicon, word)
                concepts = set().union(
                    *(_lookup(lexicon, p) or _lookup(lexicon, p[:-1]) for p in parts or [])
                )
            if not concepts and fuzzy:
                concepts = _typo(lexicon, word)
        found.extend(sorted(concepts))
        position += step
    return list(dict.fromkeys(found))


def _phrase_at(lexicon: _Lexicon, stems: list[str], position: int) -> tuple[int, set[str]]:
    for phrase, concepts in lexicon.phrases.get(stems[position], ()):
        if tuple(stems[position : position + len(phrase)]) == phrase:
            return len(phrase), concepts
    return 1, set()


# --- Sizes


def _size_key(size: str) -> str:
    """One spelling per size: "T38", "taille 38" and "38" are 38; letters upper-case."""
    text = _plain(size).strip().upper()
    text = re.sub(r"^(?:T\.?|TAILLE|SIZE)\s*(?=\d)", "", text)
    return text


def _asked_size(words: list[str]) -> str:
    """The first size in the message: a number (T38, "taille 38"), a letter size or a size word."""
    for position, raw in enumerate(words):
        low = raw.lower()
        previous = words[position - 1].lower() if position else ""
        number = _NUMBER_RE.match(low)
        if number and 20 <= int(number.group(1)) <= 130:
            return number.group(1)
        upper = raw.upper()
        # A lone "s", "m" or "l" is a size only when written upper-case or after "en", "size"...
        if upper in LETTER_SIZES and (len(upper) > 1 or raw.isupper() or previous in _SIZE_CUES):
            return upper
        if low in _SIZE_WORDS and previous in _SIZE_CUES:
            return _SIZE_WORDS[low]
    return ""


# --- The question


@dataclass(frozen=True)
class _Question:
    concepts: frozenset[str]  # not colours
    colours: frozenset[str]
    size: str
    unsold: bool


def _read(text: str, index: _Index) -> _Question:
    words = _words(text[:1000])
    concepts = _concepts(index.lexicon, words, fuzzy=True)
    if _NOT_GARMENT_HAUT_RE.search(" ".join(words).lower()):
        concepts = [c for c in concepts if c != "haut"]
    colours = frozenset(c for c in concepts if c in index.lexicon.colours)
    others = frozenset(c for c in concepts if c not in index.lexicon.colours)
    unsold = any(c in index.lexicon.not_sold and c not in index.sold for c in others)
    return _Question(others, colours, _asked_size(words), unsold)


def _is_other_question(text: str) -> bool:
    plain = " ".join(_words(text[:1000])).lower()
    if _OTHER_CUE_RE.search(plain):
        return True
    intent = classify(text).intent
    return intent in _OTHER_INTENTS or (intent == "escalate" and not _STOCK_CUE_RE.search(plain))


@functools.cache
def _vocabulary_lexicon() -> _Lexicon:
    """The vocabulary alone, for what can be told without a shop's catalogue."""
    return _base_lexicon()


def _small_talk(text: str, words: list[str]) -> bool:
    """Thanks, a greeting or a wish ("Top merci", "Bonne soirée !") that names no size, colour or
    product of the vocabulary but a vague one. A shop's own word does not count: "Bonjour Louise" is
    a greeting even in a shop selling a "Robe Louise"."""
    lower = [w.lower() for w in words]
    if not all(w in SMALL_TALK for w in lower) and classify(text).intent not in (
        "thanks",
        "greeting",
    ):
        return False
    if _asked_size(words):
        return False
    return all(c in VAGUE for c in _concepts(_vocabulary_lexicon(), words, fuzzy=True))


def worth_matching(text: str) -> bool:
    """False when `text` is certainly not a stock question, told without the catalogue: empty, emoji
    only, thanks or a greeting only, a question about hours, the address, an order, a return... The
    caller may then skip reading the shop's catalogue. `match_question` answers such a text
    "not_a_stock_question" whatever the catalogue (it asks this first), so a False here never hides a
    stock question; True only means "read the catalogue and ask match_question". Never raises."""
    try:
        if not isinstance(text, str):
            return False
        words = _words(text[:1000])
        return bool(words) and not _is_other_question(text) and not _small_talk(text, words)
    except Exception:  # noqa: BLE001 - a bug here must not stop the reply: let the matcher decide
        logger.exception("worth_matching failed")
        return True


def asked_attributes(text: str, catalogue: Catalogue) -> tuple[str, frozenset[str]]:
    """The size and the colours `text` names: ("38", {"noir"}) for "en 38 noir svp", ("", set()) for
    "merci" or "je vais réfléchir". The size is in the shop's spelling when one of its variants has
    it ("T38"), else as read ("38", "M"); colours are the vocabulary's names for them (its French
    keys: "noir", "marine"), and the shop's own colour words it does not know by their stem ("vert
    sapin" -> {"vert", "sapin"}). For reading "38" after "Quelle taille ?" as that product in 38 only when
    a size or a colour is actually named. Never raises."""
    if not isinstance(text, str):
        return "", frozenset()
    words = _words(text[:1000])
    index = _index(catalogue) if catalogue.items else None
    lexicon = index.lexicon if index else _vocabulary_lexicon()
    # The shop's own colour words too ("sapin" of "vert sapin"), by their stem.
    shop_colours = {c for p in index.products for cs in p.colours for c in cs} if index else set()
    named = _concepts(lexicon, words, fuzzy=True)
    colours = frozenset(c.removeprefix("w:") for c in named if c in lexicon.colours or c in shop_colours)
    size = _asked_size(words)
    shop_size = next((i.size for i in catalogue.items if size and _size_key(i.size) == size), size)
    return shop_size, colours


def match_question(text: str, catalogue: Catalogue, *, language: str | None = None) -> Match:
    """The product and variant `text` asks about. Never raises on odd input.

    `language` is accepted for callers that know it; the vocabulary covers all languages at once
    because customers mix them."""
    try:
        return _current(_match(text, catalogue), catalogue)
    except Exception:  # noqa: BLE001 - a bug here must not stop the reply: the normal engine answers instead
        logger.exception("matching a question against a catalogue of %d items failed", len(catalogue.items))
        return Match("not_a_stock_question")


def _match(text: str, catalogue: Catalogue) -> Match:
    # Told without the catalogue first (worth_matching's promise to the caller rests on it).
    if not catalogue.items or not worth_matching(text):
        return Match("not_a_stock_question")
    index = _index(catalogue)
    question = _read(text, index)
    plain = " ".join(_words(text[:1000])).lower()
    if not _names_a_garment(question) and not (
        question.size or question.colours or _STOCK_CUE_RE.search(plain)
    ):
        # "C'est top !", "Ich warte schon lange", "Does Saturday suit you?": a detail, a vague or an
        # unsold word with nothing that asks for stock.
        return Match("not_a_stock_question")
    if question.unsold:
        return Match("none", size=question.size)
    scored = _scores(question, index)
    if not scored:
        # "We don't seem to have it" (and a person flagged) only when a garment or product is named:
        # a stock cue alone ("Y a des soldes ?", "Vous êtes toujours là ?"), "this in 38" (a photo, an
        # earlier message), a bare size or colour answering what came before: the normal engine.
        named = {c for c in question.concepts if c in _PRODUCT_CONCEPTS and c not in VAGUE}
        return Match("none") if named else Match("not_a_stock_question")
    best = max(scored.values())
    top = [index.products[p] for p, s in scored.items() if s == best]
    fitting = [p for p in top if _fits(p, question)]
    if len(fitting) == 1:
        return _resolve(fitting[0], question)
    if len(fitting) > 1:
        return Match("ambiguous", items=tuple(_representative(p, question) for p in fitting[:3]))
    if len(top) == 1:
        return _resolve(top[0], question)
    return Match("none", size=question.size, color=_colour_words(question, top))


def _names_a_garment(question: _Question) -> bool:
    """A garment type of the vocabulary (not a vague one) or a word of the shop's own names."""
    return any((c in GARMENTS and c not in VAGUE) or c.startswith("w:") for c in question.concepts)


def _scores(question: _Question, index: _Index) -> dict[int, float]:
    """Products sharing a name concept with the message: the garment type 1.5, other words 1, the
    category 0.5 (so "manteau" prefers the coats named so over the trench filed under Manteaux)."""
    scores: dict[int, float] = {}
    for concept in question.concepts:
        for position in index.by_concept.get(concept, ()):
            product = index.products[position]
            gain = (1.5 if concept == product.kind else 1.0) if concept in product.concepts else 0.5
            scores[position] = scores.get(position, 0.0) + gain
    # A category alone ("chaussures") counts only when no product name matches at all.
    named = {p: s for p, s in scores.items() if index.products[p].concepts & question.concepts}
    return named or scores


def _colour_fits(colours: frozenset[str], question: _Question) -> bool:
    return question.colours <= colours


def _size_fits(product: _Product, size: str, question: _Question) -> bool:
    return not question.size or size == question.size or product.sizes == ("TU",)


def _fits(product: _Product, question: _Question) -> bool:
    return any(
        _colour_fits(colours, question) and _size_fits(product, _size_key(item.size), question)
        for item, colours in zip(product.items, product.colours, strict=True)
    )


def _representative(product: _Product, question: _Question) -> Item:
    fitting = [
        item
        for item, colours in zip(product.items, product.colours, strict=True)
        if _colour_fits(colours, question) and _size_fits(product, _size_key(item.size), question)
    ] or list(product.items)
    return max(fitting, key=lambda item: item.available > 0)


def _colour_words(question: _Question, products: list[_Product]) -> str:
    """The shop's spelling of the colour asked, when one of the products has it."""
    for product in products:
        for item, colours in zip(product.items, product.colours, strict=True):
            if question.colours and question.colours <= colours:
                return item.color
    return " ".join(sorted(question.colours))


def _resolve(product: _Product, question: _Question) -> Match:
    """One product: the variant when the question pins one, else which attribute to ask."""
    pairs = list(zip(product.items, product.colours, strict=True))
    by_colour = [(i, c) for i, c in pairs if _colour_fits(c, question)]
    chosen = [i for i, _ in by_colour if _size_fits(product, _size_key(i.size), question)]
    colour = _colour_words(question, [product]) if question.colours else ""
    size = _shop_size(product, question.size)
    if len(chosen) == 1:
        return Match("variant", item=chosen[0], size=size, color=colour)
    if chosen:
        ask = "color" if len({i.color for i in chosen}) > 1 else "size"
        return Match("product", items=product.items, ask=ask, size=size, color=colour)
    if question.size and not any(_size_key(i.size) == question.size for i in product.items):
        ask = "size"
    elif question.colours and not by_colour:
        ask = "color"
    else:  # both exist, not together: say which sizes the colour comes in
        ask = "size"
    return Match("product", items=product.items, ask=ask, size=size, color=colour)


def _shop_size(product: _Product, size: str) -> str:
    for item in product.items:
        if size and _size_key(item.size) == size:
            return item.size
    return size
