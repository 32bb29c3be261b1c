"""Read the sender's name from a customer's first message or WhatsApp profile name.

Pure Python, no Django: rules over tokens, plus a first-name list used to validate a token
after a weak cue.

Why rules and not NER: a wrong name written on a profile is worse than no name, and what
matters is whose name it is (the sender's, not the shop assistant greeted in "Bonjour Sarah"
nor the colleague in "Ma collègue Julie"). That is decided by the cue before the name, which
rules express directly; an NER model only says "this is a person" and is heavy to install.

Cues come in two strengths:
- strong ("je m'appelle", "my name is", "me llamo"...): always first person, so any
  name-looking word after them is accepted;
- weak ("c'est", "je suis", "I'm", "soy", "sono", "ich bin"...): also introduce adjectives,
  places and holidays ("Je suis ravie", "C'est Pâques"), so the word must be a known first name
  (or a civility followed by a surname) and the cue must open its clause.
The last lines are read for a signature ("Cordialement,\\nJulie Martin", "Merci !\\nAgnès").

The list knows European, American, Turkish and Arabic first names well and others poorly
("Pranav", "Jhonata", "Samyak"), so a name missing from it is still read where the context
says whose name it is: after a strong cue (any name-like word), after a first-person weak cue
("I'm Samyak Mahajan.", "je suis Thuy Nguyen,") when a first and last name both capitalised
end the clause in a text that is not Title Cased, and under a sign-off line ("Regards,\\n
Venkatesh Raghunathan"). A WhatsApp profile name the list cannot vouch for is not split at
all: it stays the customer's display name until a person confirms it (customers.services).

The first-name list is the data file of the gender-guesser package (nam_dict.txt, ~48k
names with frequencies per country, GNU FDL). Only its data file is read, lazily, once.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from customers.text import strip_invisible
from webhooks.name_words import (
    BRAND_ONLY,
    BRANDS,
    CIVILITIES,
    CLAUSE_END,
    CLOSERS,
    COMMON_WORDS,
    CUE_FILLERS,
    FORMAL_CLOSERS,
    INTRODUCING_CUES,
    LEAD_WORDS,
    NOT_NAMES,
    PARTICLES,
    PARTICLES_LOWER,
    RELATIVE_WORDS,
    STRONG_CUES,
    SURNAME_WORDS,
    WEAK_CUES,
    _words,
)

__all__ = ["PersonName", "name_from_text", "name_from_profile"]

# Cap the work on huge messages: a name is introduced at the start or signed at the end.
MAX_HEAD_CHARS = 2000
MAX_TAIL_CHARS = 400
MAX_PROFILE_CHARS = 100
MAX_LAST_NAME_TOKENS = 4


@dataclass(frozen=True)
class PersonName:
    first_name: str | None
    last_name: str | None


# --------------------------------------------------------------------------- lexicons


_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'", "\u00b4": "'"})
# A word: letters, with inner hyphens or apostrophes ("Marie-Hélène", "O'Brien", "m'appelle").
_TOKEN_RE = re.compile(r"[^\W\d_]+(?:['\-][^\W\d_]+)*'?|\d+|[^\w\s]")
_WORD_RE = re.compile(r"[^\W\d_]+(?:['\-][^\W\d_]+)*'?")


def _clean(text: str) -> str:
    """Normalise what varies between phones: NUL and control chars, curly apostrophes, NFC.

    Invisible formatting characters are dropped first rather than made spaces: "Ju\u200blie" is Julie,
    and a bidi override must not reach a profile (customers.text says which are kept, and why).
    """
    text = strip_invisible(unicodedata.normalize("NFC", text)).translate(_APOSTROPHES)
    return "".join(ch if ch in "\n\t" or unicodedata.category(ch)[0] != "C" else " " for ch in text)


def _fold(word: str) -> str:
    """Lower-case and strip accents, for lexicon look-ups ("Élodie" -> "elodie")."""
    decomposed = unicodedata.normalize("NFD", word.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).replace("ß", "ss")


def _is_word(token: str) -> bool:
    return bool(_WORD_RE.fullmatch(token))


def _is_capitalised(token: str) -> bool:
    return token[:1].isupper()


def _is_common(token: str) -> bool:
    return token.lower() in COMMON_WORDS or _fold(token) in COMMON_WORDS


def _case_informative(text: str) -> bool:
    """Capitals tell names apart only in texts that mix cases ("sarah cohen" or "JE M'APPELLE" do not)."""
    letters = [ch for ch in text if ch.isalpha()]
    return any(ch.isupper() for ch in letters) and any(ch.islower() for ch in letters)


def _pretty(token: str) -> str:
    """Capitalise each part of a name unless the writer already mixed cases ("McDonald")."""
    if not (token.islower() or token.isupper()):
        return token
    parts = re.split(r"(['\-])", token.lower())
    return "".join(p if p in "'-" else p[:1].upper() + p[1:] for p in parts)


def _pretty_particle(token: str, case_known: bool) -> str:
    if case_known and not token.isupper():
        return token
    folded = _fold(token)
    return token.lower() if folded in PARTICLES_LOWER else _pretty(token)


# --------------------------------------------------------------------------- first-name list


@lru_cache(maxsize=1)
def _first_names() -> frozenset[str]:
    """Accent-folded first names given in the countries our customers come from.

    Loaded once, lazily, from gender-guesser's data file. Columns after 30 hold one frequency
    digit per country; we keep names seen in western Europe, the Americas, Turkey and the
    Arab world (the boutique's customers) and drop names seen only elsewhere, which are more
    likely to collide with common words of our languages.
    """
    try:
        from importlib.resources import files

        path = files("gender_guesser") / "data" / "nam_dict.txt"
        content = path.read_text(encoding="utf-8")
    except (ImportError, ModuleNotFoundError, FileNotFoundError, OSError):
        return frozenset()
    wanted_columns = list(range(0, 15)) + [46, 47, 54]  # GB..Swiss, Turkey, Arabia, other
    names: set[str] = set()
    for line in content.splitlines():
        if not line or line[0] in "#=":
            continue
        parts = line.split()
        if len(parts) < 2:
            continue
        values = line[30:]
        if not any(i < len(values) and values[i] not in " $" for i in wanted_columns):
            continue
        name = parts[1]
        for variant in {name.replace("+", ""), name.replace("+", "-"), name.replace("+", " ")}:
            names.add(_fold(variant))
    return frozenset(names - NOT_NAMES)


def load() -> None:
    """Read the first-name list now (~0.4 s, once a process): a worker does it as it starts
    (coccinelle/celery.py), not on its first message."""
    _first_names()


def _is_known_first_name(token: str) -> bool:
    folded = _fold(token)
    if folded in NOT_NAMES:
        return False
    if folded in _first_names():
        return True
    # Compound first names are not all listed: "Marie-Hélène" is known if each part is.
    parts = folded.split("-")
    return len(parts) > 1 and all(part in _first_names() for part in parts)


# --------------------------------------------------------------------------- name reading


@dataclass
class _Read:
    """A name read from tokens: the name and how many tokens it used."""

    first: str | None
    last: str | None
    end: int


def _looks_like_name_word(token: str, case_known: bool, lower_ok: bool) -> bool:
    if not _is_word(token) or len(token.rstrip("'")) < 2 or token.endswith("'"):
        return False
    if case_known and not _is_capitalised(token):
        return lower_ok and not _is_common(token)
    return not _is_common(token)


def _read_surname(tokens: list[str], start: int, case_known: bool, lower_ok: bool) -> tuple[list[str], int]:
    """Surname tokens from start: name words, with particles only when a name word follows."""
    parts: list[str] = []
    i = start
    while i < len(tokens) and len(parts) < MAX_LAST_NAME_TOKENS:
        token = tokens[i]
        folded = _fold(token)
        if folded in PARTICLES or folded.endswith("'") and folded[:-1] + "'" in PARTICLES:
            # A particle counts only if a name follows: "de La Tour" yes, "de chez Maje" no.
            j = i
            while j < len(tokens) and _fold(tokens[j]) in PARTICLES and j - i < 2:
                j += 1
            if j < len(tokens) and _is_surname_word(tokens[j], case_known, lower_ok):
                parts.extend(_pretty_particle(t, case_known) for t in tokens[i:j])
                parts.append(_pretty(tokens[j]))
                i = j + 1
                continue
            break
        if not _is_surname_word(token, case_known, lower_ok) and not _is_surname_common_word(
            tokens, i, case_known
        ):
            break
        parts.append(_pretty(token))
        i += 1
    return parts, i


def _is_surname_common_word(tokens: list[str], i: int, case_known: bool) -> bool:
    """ "Blanc", "Petit": a common word taken as surname if capitalised, or if it ends the name."""
    token = tokens[i]
    if _fold(token) not in SURNAME_WORDS:
        return False
    if case_known and _is_capitalised(token):
        return True
    nxt = _fold(tokens[i + 1]) if i + 1 < len(tokens) else ""
    return not _is_word(nxt) or nxt in {"et", "and", "y", "e", "und"}


def _is_surname_word(token: str, case_known: bool, lower_ok: bool) -> bool:
    folded = _fold(token)
    if folded in PARTICLES or folded in NOT_NAMES and not (case_known and _is_capitalised(token)):
        return False
    return _looks_like_name_word(token, case_known, lower_ok)


def _read_civility(tokens: list[str], start: int) -> tuple[bool, int]:
    """Skip "Mme", "M.", "M. et Mme", "Madame" at start; report whether there was one."""
    i = start
    found = False
    while i < len(tokens):
        folded = _fold(tokens[i])
        if folded in CIVILITIES and (folded != "m" or (i + 1 < len(tokens) and tokens[i + 1] == ".")):
            found = True
            i += 1
            if i < len(tokens) and tokens[i] == ".":
                i += 1
            continue
        if found and folded in {"et", "and", "y", "e", "und"}:
            i += 1
            continue
        break
    return found, i


def _read_name(tokens: list[str], start: int, case_known: bool, strong: bool) -> _Read | None:
    """Read "[civility] First [Last...]" at start. Weak cues need a known first name."""
    has_civility, i = _read_civility(tokens, start)
    if i >= len(tokens):
        return None
    if has_civility:
        parts, end = _read_surname(tokens, i, case_known, lower_ok=not case_known)
        if not parts:
            return None
        if len(parts) >= 2 and _is_known_first_name(parts[0]) and _fold(parts[0]) not in PARTICLES:
            return _Read(parts[0], " ".join(parts[1:]), end)
        return _Read(None, " ".join(parts), end)

    first = tokens[i]
    if not _is_word(first) or len(first) < 2 or first.endswith("'") or _fold(first) in PARTICLES:
        return None
    known = _is_known_first_name(first)
    lower_first = case_known and not _is_capitalised(first)
    if _fold(first) in NOT_NAMES:
        return None
    if strong:
        if lower_first and not known:
            return None
        if _is_common(first) and not (case_known and _is_capitalised(first) and known):
            return None
    else:
        if not known:
            return None
        if _is_common(first) and not (case_known and _is_capitalised(first)):
            return None
    parts, end = _read_surname(tokens, i + 1, case_known, lower_ok=lower_first or not case_known)
    if _is_common(first) and not parts and end < len(tokens) and _is_word(tokens[end]):
        # "Sono Felice di...", "I'm Happy with...": a capitalised common word is a name only
        # when it stands alone ("Je suis Claire, une amie de Sophie").
        return None
    if f"{_fold(first)} {_fold(' '.join(parts))}" in BRANDS:
        return None  # "Isabel Marant", "Paul Smith"
    return _Read(_pretty(first), " ".join(parts) or None, end)


def _lines_tokens(text: str) -> list[list[str]]:
    return [_TOKEN_RE.findall(line) for line in text.split("\n")]


def _match_cue(folded: list[str], i: int, cues: tuple[tuple[str, ...], ...]) -> int:
    """Length of the longest cue starting at token i, 0 if none."""
    best = 0
    for cue in cues:
        if tuple(folded[i : i + len(cue)]) == cue and len(cue) > best:
            best = len(cue)
    return best


def _opens_clause(tokens: list[str], folded: list[str], i: int) -> bool:
    """True if only greetings/fillers stand between the clause start and position i."""
    j = i - 1
    while j >= 0 and _is_word(tokens[j]):
        if folded[j] not in LEAD_WORDS:
            return False
        j -= 1
    return True


def _unlisted_full_name(tokens: list[str], start: int, case_counts: tuple[int, int]) -> _Read | None:
    """ "Samyak Mahajan." after an introducing cue: two or three capitalised name words, none of
    them a common word, a holiday, a brand or a business word, and nothing after them but the end
    of the clause. Needs case information, and a text not written in Title Case."""
    end = start
    while end < len(tokens) and end - start < 3 and _unlisted_name_word(tokens[end]):
        end += 1
    if end - start < 2 or end < len(tokens) and tokens[end] not in CLAUSE_END:
        return None
    # The other words of the text tell whether capitals mean anything: "I am Super Excited".
    capitalised, total = case_counts[0] - (end - start), case_counts[1] - (end - start)
    if total >= 2 and capitalised * 2 > total:
        return None
    words = tokens[start:end]
    if " ".join(_fold(w) for w in words) in BRANDS:
        return None
    return _Read(_pretty(words[0]), " ".join(_pretty(w) for w in words[1:]), end)


def _unlisted_name_word(token: str) -> bool:
    folded = _fold(token)
    return (
        _is_word(token)
        and len(token) >= 2
        and "'" not in token  # "Mahajan's wife"
        and _is_capitalised(token)
        and not token.isupper()
        and not _is_common(token)
        and folded not in NOT_NAMES
        and folded not in PARTICLES
        and folded not in CIVILITIES
        and folded not in _BUSINESS_WORDS
        and folded not in BRAND_ONLY
        and folded not in SURNAME_WORDS
    )


def _case_counts(lines: list[list[str]]) -> tuple[int, int]:
    """Capitalised words and all words, sentence starts and "I" aside: "I Am Looking For A Red
    Dress" is Title Cased (most words capitalised), "I'm Tunde Bakare." is not."""
    capitalised = total = 0
    for tokens in lines:
        sentence_start = True
        for token in tokens:
            if not _is_word(token):
                sentence_start = sentence_start or token in {".", "!", "?"}
                continue
            if not sentence_start and _fold(token) not in {"i", "i'm", "im"}:
                total += 1
                capitalised += _is_capitalised(token)
            sentence_start = False
    return capitalised, total


def _from_cues(
    tokens: list[str], case_known: bool, strong: bool, case_counts: tuple[int, int] = (1, 1)
) -> PersonName | None:
    folded = [_fold(t) for t in tokens]
    cues = STRONG_CUES if strong else WEAK_CUES
    for i in range(len(tokens)):
        length = _match_cue(folded, i, cues)
        if not length:
            continue
        if not strong and not _opens_clause(tokens, folded, i):
            continue
        start = i + length
        while not strong and start < len(tokens) and folded[start] in CUE_FILLERS:
            start += 1
        read = _read_name(tokens, start, case_known, strong)
        if read is None and not strong and case_known and tuple(folded[i : i + length]) in INTRODUCING_CUES:
            read = _unlisted_full_name(tokens, start, case_counts)
        if read is None:
            continue
        if not strong and read.end < len(tokens):
            follower = folded[read.end]
            if follower in RELATIVE_WORDS or tokens[read.end] == "'":
                continue  # "C'est Paul qui passera", "I'm Sarah's mum"
        return PersonName(read.first, read.last)
    return None


# --------------------------------------------------------------------------- signatures

_CONTACT_LINE_RE = re.compile(r"^[\s+().\-/\d]{6,}$|@|https?://|www\.", re.IGNORECASE)


def _closer_key(tokens: list[str]) -> str:
    return " ".join(_fold(t) for t in tokens if _is_word(t))


def _signature_name(tokens: list[str], case_known: bool, reorder: bool = True) -> PersonName | None:
    """A line that is only a name: "Agnès", "Gérard Lemoine", "DUPONT Marie", "Mme Fontaine"."""
    words = [t for t in tokens if _is_word(t) or t == "."]
    # Only words, dots and leading dashes/emoji: "Cabinet Moreau & Associés" is no person.
    if not words or len(words) > 5 or any(t in "?:&/@+" for t in tokens):
        return None
    if any(_fold(w) in _BUSINESS_WORDS or _fold(w) in BRAND_ONLY for w in words):
        return None
    has_civility, i = _read_civility(words, 0)
    if has_civility:
        read = _read_name(words, 0, case_known, strong=True)
        return PersonName(read.first, read.last) if read and read.end == len(words) else None
    words = [t for t in words if t != "."]
    if not 1 <= len(words) <= 4 or any(_fold(w) in NOT_NAMES or _is_common(w) for w in words):
        if not all(_is_word(w) for w in words) or any(_fold(w) in NOT_NAMES for w in words):
            return None
        if any(_is_common(w) and _fold(w) not in PARTICLES for w in words):
            return None
    if case_known and not all(_is_capitalised(w) or _fold(w) in PARTICLES for w in words):
        return None
    # French formal order "DUPONT Marie": a shouted first word is the surname.
    if len(words) == 2:
        shouted_surname = case_known and words[0].isupper() and len(words[0]) > 1 and not words[1].isupper()
        # A profile name is not reordered by the list: "Sojan Jose" is Sojan, whom it does not know.
        surname_first = reorder and not _is_known_first_name(words[0]) and _is_known_first_name(words[1])
        if shouted_surname or surname_first:
            words = [words[1], words[0]]
    if not _is_known_first_name(words[0]):
        return None  # an unknown first word may be a company or a surname: not worth the risk
    read = _read_name(words, 0, case_known, strong=True)
    if read is None or read.end != len(words):
        return None
    return PersonName(read.first, read.last)


def _unlisted_signature(tokens: list[str], case_known: bool) -> PersonName | None:
    """ "Regards,\nVenkatesh Raghunathan": under a sign-off line, a first and last name the list
    does not know, in the order written (a sign-off is no place for the formal surname-first)."""
    words = [t for t in tokens if _is_word(t)]
    if not case_known or len(words) != len(tokens) or not 2 <= len(words) <= 3:
        return None
    if not all(_unlisted_name_word(w) for w in words) or " ".join(map(_fold, words)) in BRANDS:
        return None
    return PersonName(words[0], " ".join(words[1:]))


def _from_signature(text: str, case_known: bool) -> PersonName | None:
    lines = [tokens for tokens in _lines_tokens(text) if any(_is_word(t) or t.isdigit() for t in tokens)]
    raw_lines = [line for line in text.split("\n") if line.strip()]
    # Drop trailing phone/e-mail lines under a signature.
    while lines and raw_lines and _CONTACT_LINE_RE.search(raw_lines[-1]):
        lines.pop()
        raw_lines.pop()
    if not lines:
        return None
    last = lines[-1]
    # Inline formal closer: "Cordialement, Éric Vasseur".
    for cut in range(1, min(len(last), 5)):
        if _closer_key(last[:cut]) in FORMAL_CLOSERS and last[cut] in {",", ".", "!", "-"}:
            return _signature_name(last[cut + 1 :], case_known)
    if len(lines) < 2:
        return None
    previous = _closer_key(lines[-2])
    if previous in CLOSERS:
        return _signature_name(last, case_known) or _unlisted_signature(last, case_known)
    # A bare first name under a message needs a real message above, not just "Bonjour".
    above = [w for tokens in lines[:-1] for w in tokens if _is_word(w)]
    if all(_fold(w) in LEAD_WORDS for w in above):
        return None
    return _signature_name(last, case_known)


# --------------------------------------------------------------------------- public API


def name_from_text(text: str) -> PersonName | None:
    """The sender's name as introduced or signed in a message, or None if unsure."""
    if not text or not isinstance(text, str):
        return None
    head = _clean(text[:MAX_HEAD_CHARS])
    tail = _clean(text[-MAX_TAIL_CHARS:]) if len(text) > MAX_HEAD_CHARS else head
    case_known = _case_informative(head)
    lines = _lines_tokens(head)
    case_counts = _case_counts(lines)
    found = None
    for strong in (True, False):
        for tokens in lines:
            found = _from_cues(tokens, case_known, strong, case_counts)
            if found:
                break
        if found:
            break
    signed = _from_signature(tail, _case_informative(tail))
    if found is None:
        return signed
    if signed and found.last_name is None and signed.last_name and signed.first_name == found.first_name:
        return PersonName(found.first_name, signed.last_name)  # "Je m'appelle Julie ... Julie Martin"
    return found


_BUSINESS_WORDS = _words("""
    boutique shop store magasin sarl sas sasu eurl sa ltd llc inc gmbh srl company compagnie
    officiel official studio salon coiffure beauty beaute fashion mode design agence agency
    market cafe restaurant hotel immobilier services service group groupe team club association
    atelier creations creation collection couture concept bijoux photo photography consulting
    conseil cabinet associes direction paris france home maison institut spa nails ongles cosmetics
    vintage friperie showroom brand marque pro business corp corporation limited team equipe staff
    sales support customer customers client clients
    """)


def name_from_profile(profile_name: str) -> PersonName | None:
    """A person's name from a WhatsApp display name; None for businesses, numbers, initials."""
    if not profile_name or not isinstance(profile_name, str):
        return None
    text = _clean(profile_name[:MAX_PROFILE_CHARS])
    if any(ch.isdigit() for ch in text):
        return None  # phone numbers, "Julie75": not a clean name
    words = _WORD_RE.findall(text)
    case_known = _case_informative(text)
    if not words or any(_fold(w) in _BUSINESS_WORDS or _fold(w) in BRAND_ONLY for w in words):
        return None
    if " ".join(_fold(w) for w in words) in BRANDS:
        return None
    tokens = _TOKEN_RE.findall(text)
    if _read_civility(tokens, 0)[0]:
        return _signature_name(tokens, case_known)  # "Mme Perrin", "Dr Karim Benali"
    if len(words) >= 2 and len(words[-1]) == 1:
        words = words[:-1]  # "Elodie B.": keep the first name, drop the initial
    if len(words) > 4 or any(len(w) < 2 for w in words):
        return None
    return _signature_name(words, case_known, reorder=False)
