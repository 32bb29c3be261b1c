"""Does a reply talk about stock, and which quantities and sizes does it state? (fr, en, es, it, de, pt)

The LLM engine may only state stock it looked up in the same reply (webhooks.llm_tools): a reply that
speaks of availability without a lookup, or states a quantity the lookup did not return, is refused
and the offline engine answers. Refusing a harmless sentence ("disponible" about a person) costs a
plainer answer; letting a made-up "il en reste 2" through costs a customer a wasted trip. So the
patterns err on the side of seeing a claim. They are patterns, not understanding: a paraphrase they
do not know ("the 38 is waiting for you") passes.
"""

from __future__ import annotations

import re
import unicodedata

_NUMBER_WORDS = {
    **dict.fromkeys(["one", "un seul", "une seule", "un solo", "una sola", "uno solo"], 1),
    **dict.fromkeys(["two", "deux", "dos", "due", "zwei"], 2),
    **dict.fromkeys(["three", "trois", "tres", "tre", "drei"], 3),
    **dict.fromkeys(["four", "quatre", "cuatro", "quattro", "vier"], 4),
    **dict.fromkeys(["five", "cinq", "cinco", "cinque", "funf"], 5),
    **dict.fromkeys(["six", "seis", "sei", "sechs"], 6),
    **dict.fromkeys(["seven", "sept", "siete", "sette", "sieben"], 7),
    **dict.fromkeys(["eight", "huit", "ocho", "otto", "acht"], 8),
    **dict.fromkeys(["nine", "neuf", "nueve", "nove", "neun"], 9),
    **dict.fromkeys(["ten", "dix", "diez", "dieci", "zehn"], 10),
}
# A few, some and their like: "quedan pocas", "noch ein paar da".
_FEW_WORDS = r"\d+|" + "|".join(_NUMBER_WORDS)
_FEW_WORDS += r"|une?|una?|uno|eine?n?|pocas?|pocos?|solo|solamente|pochi|poche|welche|genug|ein\s+paar"
_FEW = "(?:" + _FEW_WORDS + ")"

# Words that say something about whether an item can be had. Matched on lower-case text without
# accents ("vorratig", "epuise"), each as whole words. Verbs that also say "stays" or "we remain"
# ("elle reste ouverte", "quedamos a su disposicion", "resta aperto", "noch bis 19 Uhr da") count
# only in their stock forms.
_CLAIM_PATTERNS = [
    # every language
    r"stocks?",
    # The adjectives only: "someone will check the availability" (the nouns) states nothing.
    r"disponib(?:les?|ile|ili)",
    r"disponive(?:l|is)",  # pt "disponível"
    # fr
    r"il\s+(?:ne\s+|n')?(?:nous\s+|vous\s+)?(?:en\s+)?rest(?:e|ent)",
    r"(?:n')?en\s+reste(?:nt)?",
    r"epuise\w*",
    r"rupture",
    # en
    r"available",
    r"(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|only|just|still|none|no|any)"
    r"(?:\s+\w+){0,2}\s+left",
    r"sold\s+out",
    # es
    r"(?:nos|no|ya\s+no|solo|aun|todavia)\s+qued(?:a|an)",
    r"qued(?:a|an)\s+" + _FEW,
    r"agotad\w*",
    r"existencias?",
    # it
    r"ne\s+(?:restano|resta|rimangono|rimane)",
    r"(?:restano|rimangono|rimasti|rimaste)\s+" + _FEW,
    r"esaurit\w*",
    r"magazzino",
    # de
    r"vorratig\w*",
    r"auf\s+lager",
    r"lagernd",
    r"verfugbar(?!keit)\w*",
    r"lieferbar\w*",
    r"ausverkauft",
    r"noch\s+" + _FEW + r"(?:\s+\w+){0,2}\s+da",
]
_CLAIM_RE = re.compile(r"\b(?:" + "|".join(_CLAIM_PATTERNS) + r")\b")

# "We have it in 38", "on l'a en M", "ce l'abbiamo nella 38": a having verb followed, within the same
# sentence and a few words, by a size. Alone the verb says nothing ("nous avons bien reçu votre
# message", "wir haben bis 19 Uhr geöffnet", "we have a store in Paris"), so only the size makes it a
# claim; the "in stock"/"disponible" form is already a claim word above.
_HAVE = (
    r"we\s+have|we've|we\s+got|on\s+l'a|on\s+les\s+a|on\s+a|nous\s+l'avons|nous\s+les\s+avons|nous\s+avons|"
    r"(?:la|lo|las|los)\s+tenemos|tenemos|(?:ce\s+)?l'abbiamo|(?:ce\s+)?li\s+abbiamo|abbiamo|"
    r"haben\s+wir|wir\s+haben|temos|tem"
)
# "We have received your order in size 38" is a receipt, not stock.
_RECEIVED = r"(?!\s+(?:bien\s+)?(?:received|noted|recu\w*|note\w*|recibido|ricevuto|recebido|erhalten)\b)"
_LETTER_SIZE = r"(?:xxxl|xxl|xl|xxs|xs|s|m|l)(?![\w'])"
_CLOTHES_NUMBER = r"(?:3\d|4\d|50)(?!\d)"
# A number then these is a time, a price or a measure ("en 30 minutes"), not a size.
_UNITS = r"min\w*|h\b|heures?|hours?|horas?|ore|uhr|€|\$|£|%|eur\w*|cm|ans|years|anos|anni|jahre"
_NOT_A_SIZE = r"(?!\s*(?:" + _UNITS + r"))"
# "taille 38", "size 10", "Größe M": the word says it is a size, any number.
_SIZE_WORD = r"(?:tailles?|size|sizes|tallas?|taglia|taglie|grosse|gr\.?|tamanho|pointure|numero)"
_SIZE_NAMED = _SIZE_WORD + r"\s*(?:\d{1,2}(?!\d)|" + _LETTER_SIZE + ")"
# "en 38", "in M", "nella 38", "em 38": only the usual clothes and shoe sizes.
_PLACES = r"(?:en|in|im|nella|nel|na|no|em)"
_SIZE_PLACED = _PLACES + r"\s+(?:" + _CLOTHES_NUMBER + _NOT_A_SIZE + "|" + _LETTER_SIZE + ")"
_SIZE = r"(?:" + _SIZE_NAMED + "|" + _SIZE_PLACED + ")"
_HAVE_RE = re.compile(
    r"\b(?:" + _HAVE + r")\b" + _RECEIVED + r"(?:\s+[^\s.!?;]+){0,6}?\s+" + _SIZE + r"(?![\w'])"
)
# The sizes a reply names, to be checked against the looked-up variants. "la 38 est disponible":
# after an article, only clothes numbers.
_NAMED_SIZE_RE = re.compile(
    r"\b(?:" + _SIZE_WORD + r"\s*(\d{1,2}(?!\d)|" + _LETTER_SIZE + r")"
    r"|(?:"
    + _PLACES
    + r"|la|le|the|el|die|der|das)\s+("
    + _CLOTHES_NUMBER
    + _NOT_A_SIZE
    + r"|"
    + _LETTER_SIZE
    + r"))(?![\w'])"
)

# After "il en reste", "quedan", "noch", an article is a count too ("il en reste une").
_ARTICLES = {"un": 1, "une": 1, "uno": 1, "una": 1, "ein": 1, "eine": 1, "einen": 1}
_NUMBER = r"(\d+|" + "|".join(sorted(map(re.escape, _NUMBER_WORDS), key=len, reverse=True)) + r")"
_COUNTED = (
    r"(?:en\s+stock|in\s+stock|left|disponib\w*|availab\w*|pieces?|exemplaires?|unites?|units?|"
    r"pezzi|unidades|stuck|verfugbar\w*|vorratig\w*|auf\s+lager|da)"
)
# "3 en stock", "two left", "noch 2 da", "2 robes disponibles": a number before a counted word.
_BEFORE_RE = re.compile(r"\b" + _NUMBER + r"(?:\s+[^\W\d]+){0,2}?\s+" + _COUNTED + r"\b")
# "il en reste 2", "quedan dos", "ne restano 3", "only 2", "noch 2": a number after a counting word.
_LEADS = (
    r"(?:rest\w*|qued\w*|restano|resta|rimangono|rimane|noch|only|just|nur|solo|seulement|plus\s+que|"
    r"encore|still)"
)
_COUNT = "(" + _NUMBER[1:-1] + "|" + "|".join(_ARTICLES) + ")"
# ("qu'une": "il n'en reste qu'une"; "ein paar" is a few, not one.)
_AFTER_RE = re.compile(r"\b" + _LEADS + r"\s+(?:(?:nous|en|ne|que)\s+|qu')?" + _COUNT + r"\b(?!\s+paar\b)")
# A number right after these is a size ("en 38", "taille 40", "size 10"), not a quantity.
_SIZE_MARKERS = {"en", "in", "du", "taille", "tailles", "size", "sizes", "talla", "tallas", "taglia"}
_SIZE_MARKERS |= {"taglie", "grosse", "gr", "t", "eu", "pointure", "nr", "no"}
# ...and so after a singular article: "la 38 est disponible", "the 10 is available".
_SIZE_MARKERS |= {"la", "le", "l'", "the", "el", "il", "lo", "der", "die", "das", "den"}
# A number right before these is a price, a time or a measure, not a quantity.
_UNIT_RE = re.compile(r"\s*(?:€|\$|£|%|eur\b|euros?\b|chf\b|h\b|cm\b|ans\b|years\b|jours\b|days\b)")


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return plain.replace("’", "'").replace("ß", "ss")  # NFKD keeps ß: "Größe" must read "grosse"


def claim(text: str) -> str | None:
    """The first words of `text` that speak of stock or availability, or None."""
    plain = _plain(text)
    found = _CLAIM_RE.search(plain) or _HAVE_RE.search(plain)
    return found.group(0) if found else None


def sizes(text: str) -> set[str]:
    """The sizes `text` names ("en 38", "size M", "Größe 40"), upper-case."""
    return {(a or b).upper() for a, b in _NAMED_SIZE_RE.findall(_plain(text))}


def size_key(size: str) -> set[str]:
    """The names a variant's size answers to: "38", "M", and both halves of "M/L" or "38 EU"."""
    return {part for part in re.split(r"[^0-9A-Z]+", _plain(size).upper()) if part}


def quantities(text: str) -> set[int]:
    """The numbers `text` states as quantities (sizes, prices and times left out)."""
    plain = _plain(text)
    numbers: set[int] = set()
    for regex in (_BEFORE_RE, _AFTER_RE):
        for found in regex.finditer(plain):
            value = _value(found.group(1))
            if value is not None and not _is_size_or_price(plain, found.start(1), found.end(1)):
                numbers.add(value)
    return numbers


def _value(word: str) -> int | None:
    if word.isdigit():
        return int(word)
    return _NUMBER_WORDS.get(word, _ARTICLES.get(word))


def _is_size_or_price(plain: str, start: int, end: int) -> bool:
    before = plain[:start].split()
    if before and (before[-1] in _SIZE_MARKERS or before[-1].strip(".:'(") in _SIZE_MARKERS):
        return True
    return bool(_UNIT_RE.match(plain, end))


def unsupported(
    text: str, *, looked_up: bool, figures: set[int], looked_up_sizes: set[str] | None = None
) -> str | None:
    """Why `text` may not be sent (a stock claim with no lookup, or a quantity or size not looked up),
    or None. `looked_up_sizes`: the sizes of the variants the lookups returned (None: not checked).

    Numbers count as quantities only in a reply that speaks of stock: "just 2 minutes away" is not one.
    """
    words = claim(text)
    if not words:
        return None
    if not looked_up:
        return f"states stock ({words!r}) without looking it up"
    invented = sorted(quantities(text) - figures)
    if invented:
        return f"states quantities {invented} that the lookup did not return"
    if looked_up_sizes is not None:
        known = set().union(*map(size_key, looked_up_sizes)) if looked_up_sizes else set()
        unknown = sorted(sizes(text) - known)
        if unknown:
            return f"states sizes {unknown} that the lookup did not return"
    return None
