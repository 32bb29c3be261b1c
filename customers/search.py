"""Customer search that finds what a person means, the same on PostgreSQL and SQLite.

- Names: accent- and case-insensitive (`celine` finds Céline, `lefevre` finds Lefèvre), every word
  found in the first or the last name, so a full name matches in either order.
- E-mail: only a query shaped like one (it holds an `@`) is looked for in e-mails, and then nothing else.
- Phone: only a query that is mostly digits is a phone: the number as each shop's country reads it,
  exactly, or the digits anywhere in the stored number.
- A sender known only by its address (`SUPPORT`) or a WhatsApp user id, as typed.
- Ranked (`search_rank`): an exact phone or e-mail first, then a full-name match, then a name that
  starts with the query, then the rest.

Accents are folded by `unaccent(lower(…))` in the database: on PostgreSQL once per write, into the stored
column `search_name` (the `unaccent` extension of migration 0005, wrapped by migration 0008, with a
trigram index), and on SQLite at query time by a Python function of that name registered on every
connection (customers/apps.py). Both fold the same way as `fold` below.
"""

import unicodedata

from django.db import connection
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


def is_full_email(query: str) -> bool:
    """`name@domain.tld`, one word: what a person types when they know the address."""
    local, at, domain = query.partition("@")
    return bool(local and at and "." in domain.strip(".") and " " not in query and "@" not in domain)


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
    if is_full_email(query):
        # A whole address is that address (the per-shop unique index on LOWER(email) finds it): a
        # substring search for it read the trigrams every address shares (".co", "com") for 150 ms.
        return condition | Q(Exact(Lower("email"), query.lower()))
    if is_email_shaped(query):
        return condition | Q(email__icontains=query)
    if is_phone_shaped(query):
        return condition | _phone_condition(query, countries)
    names = Q()
    for word in search_words(query):
        names &= _name_contains(fold(word))
    return condition | names


def _name_contains(word: str) -> Q:
    """The first or the last name holds `word` (folded). On PostgreSQL through the stored folded name
    and its trigram index (migration 0008): folding every name of the shop at query time took 250 ms
    at 100,000 customers. A word holds no space, so it cannot match across the two names."""
    if connection.vendor == "postgresql":
        return Q(search_name__contains=word)
    return Q(Contains(folded("first_name"), word)) | Q(Contains(folded("last_name"), word))


def _phone_condition(query: str, countries) -> Q:
    whole = {phone for country in set(countries) if (phone := try_normalize_phone(query, country))}
    if whole and query.strip().startswith("+"):
        # A whole international number (`+33 6 98 76 54 32`) is that number (phones are stored in E.164):
        # its substring search read the trigrams every number of the country shares ("+33", "336") for
        # 65 ms at 1,000,000 customers (bench/pages.py), three times in the admin. A national form
        # (`0470 12 34 56`) keeps the substring search too: it may be a foreign customer's number.
        return Q(phone__in=sorted(whole))
    digits = "".join(ch for ch in query if ch.isdigit())
    # Partial digits match anywhere; a leading 0 (the national prefix) is not part of the stored +33….
    condition = Q(phone__contains=digits.lstrip("0") or digits)
    return condition | Q(phone__in=sorted(whole)) if whole else condition


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
    full, starts = _full_name_match(fold(query)), _name_starts(fold(query))
    return Case(
        When(exact, then=Value(0)),
        When(full, then=Value(1)),
        When(starts, then=Value(2)),
        default=Value(3),
        output_field=IntegerField(),
    )


def _full_name_match(name: str) -> Q:
    """ "first last" or "last first" is `name` (folded)."""
    if connection.vendor == "postgresql":
        # The stored "first last": "last first" is the same words cut somewhere and swapped round.
        words = name.split(" ")
        orders = {name} | {" ".join(words[cut:] + words[:cut]) for cut in range(1, len(words))}
        return Q(search_name__in=sorted(orders))
    full = Concat(folded("first_name"), Value(" "), folded("last_name"), output_field=CharField())
    reverse = Concat(folded("last_name"), Value(" "), folded("first_name"), output_field=CharField())
    return Q(Exact(full, name)) | Q(Exact(reverse, name))


def _name_starts(name: str) -> Q:
    """The first or the last name starts with `name` (folded)."""
    if connection.vendor == "postgresql":
        # Read from the stored name rather than folding each match's two names again (a common name
        # matches thousands); a last name follows the space after the first.
        return Q(search_name__startswith=name) | Q(search_name__contains=f" {name}")
    return Q(StartsWith(folded("first_name"), name)) | Q(StartsWith(folded("last_name"), name))
