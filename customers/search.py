"""Customer search that finds what a person means, the same on PostgreSQL and SQLite.

- Names: accent- and case-insensitive (`celine` finds Céline, `lefevre` finds Lefèvre), every word
  found in the first or the last name, so a full name matches in either order.
- E-mail: only a query shaped like one (it holds an `@`) is looked for in e-mails, and then nothing else.
- Phone: only a query that is mostly digits is a phone: the number as each shop's country reads it,
  exactly, or the digits anywhere in the stored number.
- A sender known only by its address (`SUPPORT`) or a WhatsApp user id, as typed.
- Ranked (`search_rank`): an exact phone or e-mail first, then a full-name match, then a name that
  starts with the query, then the rest.

Accents are folded by `unaccent(lower(…))` in the database: PostgreSQL's `unaccent` extension (created by
migration customers 0005), and on SQLite a Python function of that name registered on every connection
(customers/apps.py) that folds the same way as `fold` below.
"""

import unicodedata

from django.db.models import Case, CharField, Func, IntegerField, Q, Value, When
from django.db.models.functions import Concat, Lower
from django.db.models.lookups import Contains, Exact, StartsWith

from customers.phones import try_normalize_phone

# Each word adds its own conditions: a search of thousands of words made SQLite refuse the statement
# and PostgreSQL plan for seconds. Nobody finds a person with more than a few words, and no name, e-mail
# or phone is longer than a hundred characters: the rest of a longer search is ignored.
SEARCH_MAX_WORDS = 10
SEARCH_MAX_WORD_CHARS = 100
# Letters unaccent turns into two (as PostgreSQL's unaccent.rules do); NFKD alone leaves them as they are.
_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "ß": "ss", "ø": "o", "đ": "d", "ł": "l", "ı": "i"})


def fold(text: str) -> str:
    """Lower case without accents: what `unaccent(lower(…))` makes of `text` in the database."""
    text = (text or "").lower().translate(_LIGATURES)
    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))


class Unaccent(Func):
    function = "UNACCENT"
    output_field = CharField()


def folded(field: str):
    return Unaccent(Lower(field))


def search_words(query: str) -> list[str]:
    """The words of a search that count: the first SEARCH_MAX_WORDS, each cut to SEARCH_MAX_WORD_CHARS."""
    return [word[:SEARCH_MAX_WORD_CHARS] for word in (query or "").split()[:SEARCH_MAX_WORDS]]


def cap_search(query: str) -> str:
    """The search as it is run: its counting words, separated by single spaces."""
    return " ".join(search_words(query))


def is_email_shaped(query: str) -> bool:
    return "@" in query


def is_phone_shaped(query: str) -> bool:
    """Mostly digits (`06 98 76 54 32`, `+33 6 98`, `98 76 54`): at least three, and at least 60 % of
    what is not a space."""
    signs = [ch for ch in query if not ch.isspace()]
    digits = sum(ch.isdigit() for ch in signs)
    return digits >= 3 and digits >= 0.6 * len(signs)


def customer_search_filter(query: str, countries) -> Q:
    """The customers a search finds (see the module's docstring)."""
    query = cap_search(query)
    if not query:
        return Q()
    # A sender known only by its address as sent (`SUPPORT`, `whatsapp:InfoSMS`), or a WhatsApp user id.
    condition = Q(whatsapp_user_id=query) | Q(external_address__icontains=query)
    if is_email_shaped(query):
        return condition | Q(email__icontains=query)
    if is_phone_shaped(query):
        return condition | _phone_condition(query, countries)
    names = Q()
    for word in search_words(query):
        word = fold(word)
        names &= Q(Contains(folded("first_name"), word)) | Q(Contains(folded("last_name"), word))
    return condition | names


def _phone_condition(query: str, countries) -> Q:
    digits = "".join(ch for ch in query if ch.isdigit())
    # Partial digits match anywhere; a leading 0 (the national prefix) is not part of the stored +33….
    condition = Q(phone__contains=digits.lstrip("0") or digits)
    for country in set(countries):
        phone = try_normalize_phone(query, country)
        if phone:
            condition |= Q(phone=phone)
    return condition


def search_rank(query: str, countries):
    """An expression ranking a search's matches: 0 the exact phone or e-mail, 1 the full name (either
    order), 2 a name starting with the query, 3 the rest."""
    query = cap_search(query)
    exact = Q(email__iexact=query) if is_email_shaped(query) else Q(pk__in=[])
    if is_phone_shaped(query):
        for country in set(countries):
            phone = try_normalize_phone(query, country)
            if phone:
                exact |= Q(phone=phone)
    name = fold(query)
    full = Concat(folded("first_name"), Value(" "), folded("last_name"), output_field=CharField())
    reverse = Concat(folded("last_name"), Value(" "), folded("first_name"), output_field=CharField())
    starts = Q(StartsWith(folded("first_name"), name)) | Q(StartsWith(folded("last_name"), name))
    return Case(
        When(exact, then=Value(0)),
        When(Q(Exact(full, name)) | Q(Exact(reverse, name)), then=Value(1)),
        When(starts, then=Value(2)),
        default=Value(3),
        output_field=IntegerField(),
    )
