"""Reading opening hours as owners type them (pure: no Django).

`parse_ranges` reads one day of a form ("10h-19h", "10h30 - 13h, 14h-19h", "10 am - 7 pm") and is
strict: anything it cannot read raises ValueError, so the form shows an error instead of saving a
wrong day. `parse_week` reads the old free-text field ("Mar-Sam 10h-19h, Dim 14h-18h") for the data
migration; it never guesses: when a part of the text could change the week (a time it cannot place,
"sauf", a day twice), it gives up and returns None so the text is kept as the owner's note.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import time

from .hours import MIDNIGHT, TimeRange

Week = tuple[tuple[TimeRange, ...], ...]

_CLOSED_WORDS = r"fermee?s?|closed|cerrad[oa]s?|chius[oa]|geschlossen|fechad[oa]s?|ferme"
_CLOSED_ONLY_RE = re.compile(rf"^(?:{_CLOSED_WORDS})$")
# One time of day: 10, 10h, 10h30, 10:30, 10.30, 9am, 10 am, 7 p.m.
_TIME = r"(?:[01]?\d|2[0-4])(?:\s*h(?:[0-5]\d)?|[:.][0-5]\d)?(?:\s*(?:[ap]\.?m\.?)(?![a-z]))?"
_TIME_PARTS_RE = re.compile(r"^(\d{1,2})(?:\s*h(\d{2})?|[:.](\d{2}))?\s*([ap])?\.?(?:m\.?)?$")
_TO = r"(?:-|\b(?:a|au|to|till|til|until|bis|alle|al|ao|as|hasta|fino alle)\b)"
_RANGE = rf"(?:{_TIME})\s*{_TO}\s*(?:{_TIME})(?:\s*uhr\b)?"
_RANGE_RE = re.compile(
    rf"^\s*(?:(?:de|from|von|dalle|das|desde)\s+)?({_TIME})\s*{_TO}\s*({_TIME})(?:\s*uhr)?\s*$"
)
_RANGE_SEP_RE = re.compile(r"\s*(?:[,/;+&]|\bet\b|\band\b|\by\b|\be\b|\bund\b)\s*")


def _plain(text: str) -> str:
    """Lower-case, accent-free, with dashes and odd spaces made plain."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"[‐-―−]", "-", plain).replace("’", "'").strip()


def _time(token: str) -> time:
    match = _TIME_PARTS_RE.match(token.strip())
    if not match:
        raise ValueError(f"cannot read the time {token.strip()!r}")
    hour, minute = int(match[1]), int(match[2] or match[3] or 0)
    meridiem = match[4]
    if meridiem:
        if not 1 <= hour <= 12:
            raise ValueError(f"{token.strip()!r} is not a valid am/pm time")
        hour = hour % 12 + (12 if meridiem == "p" else 0)
    if hour == 24 and minute == 0:
        return MIDNIGHT
    if hour > 23 or minute > 59:
        raise ValueError(f"{token.strip()!r} is not a valid time of day")
    return time(hour, minute)


def _minutes(moment: time, closing: bool) -> int:
    """Minutes since the start of the day; a closing at midnight is the end of the day (1440)."""
    if closing and moment == MIDNIGHT:
        return 24 * 60
    return moment.hour * 60 + moment.minute


def _one_range(text: str) -> TimeRange:
    match = _RANGE_RE.match(text)
    if not match:
        raise ValueError(f"cannot read {text.strip()!r}: write opening and closing times like 10:00-19:00")
    opens, closes = _time(match[1]), _time(match[2])
    if opens == MIDNIGHT and match[1].strip().startswith("24"):
        raise ValueError("a range cannot open at 24:00")
    if _minutes(closes, closing=True) <= _minutes(opens, closing=False):
        raise ValueError(f"{text.strip()!r} closes before it opens")
    return TimeRange(opens, closes)


def _checked(ranges: list[TimeRange]) -> tuple[TimeRange, ...]:
    ordered = sorted(ranges, key=lambda r: r.opens)
    for before, after in zip(ordered, ordered[1:], strict=False):
        if _minutes(before.closes, closing=True) > _minutes(after.opens, closing=False):
            raise ValueError(
                f"the ranges {format_ranges_input((before,))} and {format_ranges_input((after,))} overlap"
            )
    return tuple(ordered)


def parse_ranges(text: str) -> tuple[TimeRange, ...]:
    """One day's ranges as an owner types them; "" or "closed" (any of our languages) is ()."""
    plain = _plain(text).rstrip(".")
    if not plain or _CLOSED_ONLY_RE.match(plain):
        return ()
    # A separator inside "7 p.m." or "10.30" is part of a time, not between two ranges.
    pieces = [p for p in _RANGE_SEP_RE.split(plain) if p.strip()]
    if not pieces:
        raise ValueError(f"cannot read {text.strip()!r}: write opening and closing times like 10:00-19:00")
    return _checked([_one_range(piece) for piece in pieces])


def _input_time(moment: time, closing: bool) -> str:
    if closing and moment == MIDNIGHT:
        return "24:00"
    return moment.strftime("%H:%M")


def format_ranges_input(ranges: tuple[TimeRange, ...]) -> str:
    """The canonical form to show back in the form: "10:00-13:00, 14:00-19:00" ("" when closed)."""
    return ", ".join(f"{_input_time(r.opens, False)}-{_input_time(r.closes, True)}" for r in ranges)


# --- A whole week in free text ---------------------------------------------------------------
_DAY_NAMES = (
    # Monday ... Sunday; full names and the abbreviations owners use, accent-free.
    "lundi lun monday mon lunes lunedi montag mo segunda segunda-feira seg",
    "mardi mar tuesday tue tues martes martedi dienstag di terca terca-feira ter",
    "mercredi mer wednesday wed miercoles mercoledi mittwoch mi quarta quarta-feira qua",
    "jeudi jeu thursday thu thur thurs jueves giovedi donnerstag do quinta quinta-feira qui",
    "vendredi ven friday fri viernes venerdi freitag fr sexta sexta-feira sex",
    "samedi sam saturday sat sabado sabato samstag sa",
    "dimanche dim sunday sun domingo domenica sonntag so dom",
)
_DAY_INDEX = {name: i for i, names in enumerate(_DAY_NAMES) for name in names.split()}
# Short abbreviations that are also common words ("do", "so", "di", "sex"): trusted only in a clause
# that also holds a time range ("Sa 10-16 Uhr").
_AMBIGUOUS_DAYS = frozenset({"mo", "di", "mi", "do", "fr", "sa", "so", "sex", "dom", "qui", "qua", "ter"})
_DAY = r"(?:" + "|".join(sorted(map(re.escape, _DAY_INDEX), key=len, reverse=True)) + r")s?"
_DAY_TO = r"(?:-|\b(?:au|a|to|through|thru|bis|al|ao|jusqu'au)\b)"
_ALL_DAYS = (
    r"tous les jours|7\s*j(?:ours)?\s*(?:/|sur)\s*7|7\s*/\s*7|every\s*day|daily|7 days a week"
    r"|todos los dias|tutti i giorni|taglich|todos os dias|du lundi au dimanche"
)
# Words that bend the rest of the sentence ("sauf le jeudi", "en été"): the week is not plain.
_CLOSING_HAZARDS = re.compile(
    r"\b(?:sauf|hors|except|excepte|excepto|salvo|tranne|ausser|exceto|summer|winter|ete"
    r"|hiver|verano|invierno|estate|inverno|sommer)\b"
)
_TOKEN_RE = re.compile(
    rf"(?P<all>\b(?:{_ALL_DAYS})\b)"
    rf"|(?P<span>\b{_DAY}\.?\s*{_DAY_TO}\s*{_DAY}\b\.?)"
    rf"|(?P<range>(?<![\d:.])(?:{_RANGE})(?![\d:]))"
    rf"|(?P<day>\b{_DAY}\b\.?)"
    rf"|(?P<closed>\b(?:{_CLOSED_WORDS}|fermeture|ruhetag)\b)"
    r"|(?P<filler>\b(?:de|du|le|les|la|el|los|il|lo|am|et|and|y|e|und|from|von|da|dal|dalle|das|desde"
    r"|on|the|a|au|ao|o|os|to|ouvert|ouverte|ouverts|open|opened|abierto|aperto|aperti|geoffnet"
    r"|aberto|horaires?|hours|opening|horario|orari|offnungszeiten|nous|sommes|we|are|in|der|h)\b"
    r"|[-/:,+&()!])"
    r"|(?P<other>\S+?(?=[\s,;/()]|$))"
)


@dataclass
class _Group:
    """Days that share what follows them in the text: ranges, or a "closed"."""

    days: set[int] = field(default_factory=set)
    ranges: list[TimeRange] = field(default_factory=list)
    closed: bool = False
    closed_first: bool = False  # "fermé le lundi": the days come after the word


class _Unsure(Exception):
    """The text does not say the week plainly enough to store it."""


def _day_word(word: str) -> str:
    """The index key of a day as written: "dimanches" -> "dimanche", "lun." -> "lun"."""
    bare = word.rstrip(".")
    return bare if bare in _DAY_INDEX else bare[:-1]


def _day(word: str) -> int:
    return _DAY_INDEX[_day_word(word)]


def _days_of(kind: str, text: str) -> set[int]:
    if kind == "all":
        return set(range(7))
    if kind == "day":
        return {_day(text.strip())}
    bounds = re.match(rf"({_DAY})\.?\s*{_DAY_TO}\s*({_DAY})", text.strip())
    if bounds is None:
        raise _Unsure
    start, end = _day(bounds[1]), _day(bounds[2])
    return {(start + i) % 7 for i in range((end - start) % 7 + 1)}


def _clause_tokens(clause: str) -> list[tuple[str, str]] | None:
    """(kind, text) of each piece of the clause; None when a word is not understood."""
    found, ambiguous = [], False
    for match in _TOKEN_RE.finditer(clause):
        kind = match.lastgroup or "other"
        if kind == "other":
            return None
        ambiguous = ambiguous or (kind == "day" and _day_word(match[0]) in _AMBIGUOUS_DAYS)
        if kind != "filler":
            found.append((kind, match[0]))
    # "Sa 10-16 Uhr" is Saturday, but a lone "do" or "so" is more likely a word than a day.
    if ambiguous and not any(kind == "range" for kind, _ in found):
        return None
    return found


class _WeekReader:
    def __init__(self) -> None:
        self.groups: list[_Group] = []
        self.current: _Group | None = None
        self.closed_pending = False

    def _close_current(self) -> None:
        if self.current is not None:
            self.groups.append(self.current)
        self.current = None

    def days(self, days: set[int], new_clause: bool) -> None:
        current = self.current
        if self.closed_pending:
            self._close_current()
            self.current = _Group(days=set(days), closed=True, closed_first=True)
            self.closed_pending = False
            return
        joinable = current is not None and not current.ranges and not current.closed
        if joinable or (current and current.closed_first and not new_clause):
            current.days |= days  # "Sam, Dim 10h-18h" or "fermé le lundi et le mardi"
            return
        self._close_current()
        self.current = _Group(days=set(days))

    def time_range(self, rng: TimeRange) -> None:
        if self.current is None or self.current.closed or self.closed_pending:
            raise _Unsure
        self.current.ranges.append(rng)

    def closed(self) -> None:
        current = self.current
        if current is not None and not current.ranges and not current.closed:
            current.closed = True  # "Dim fermé", "lundi : fermé"
            return
        if self.closed_pending:
            raise _Unsure
        self._close_current()
        self.closed_pending = True

    def week(self) -> Week:
        self._close_current()
        if self.closed_pending:
            raise _Unsure
        weekly: list[tuple[TimeRange, ...] | None] = [None] * 7
        for group in self.groups:
            if not group.closed and not group.ranges:
                raise _Unsure  # days without anything said about them
            try:
                ranges = () if group.closed else _checked(group.ranges)
            except ValueError as error:
                raise _Unsure from error
            for day in group.days:
                if weekly[day] is not None and weekly[day] != ranges:
                    raise _Unsure  # the same day given two different ways
                weekly[day] = ranges
        if not any(weekly):
            raise _Unsure
        return tuple(day or () for day in weekly)


_CLAUSE_END_RE = re.compile(r"[;\n!?]|(?<!\d)\.|\.(?!\d)|,")


def _clauses(original: str) -> list[tuple[str, str]]:
    """(plain clause, the owner's own words) pairs, cut at sentence ends and commas.

    A dot ends a sentence unless it sits inside a time ("10.30") or ends a day's abbreviation ("lun.")."""
    plain = _plain(original)
    cut = re.sub(rf"\b({_DAY})\.", r"\1 ", plain)  # same length: positions still match `original`
    same_length = len(plain) == len(original)
    pairs, start = [], 0
    for end, after in [(m.start(), m.end()) for m in _CLAUSE_END_RE.finditer(cut)] + [(len(cut), len(cut))]:
        clause = cut[start:end].strip()
        if clause:
            pairs.append((clause, (original[start:end] if same_length else clause).strip()))
        start = after
    return pairs


def _feed(reader: _WeekReader, tokens: list[tuple[str, str]]) -> None:
    for position, (kind, text) in enumerate(tokens):
        if kind in ("all", "span", "day"):
            reader.days(_days_of(kind, text), new_clause=position == 0)
        elif kind == "range":
            try:
                reader.time_range(_one_range(text))
            except ValueError as error:
                raise _Unsure from error
        elif kind == "closed":
            reader.closed()


def parse_week(text: str) -> tuple[Week | None, str]:
    """(weekly ranges Monday..Sunday, what was not understood) from a free-text week.

    Days the text does not mention are closed. Returns (None, whole text) when the week cannot be
    read with confidence; a sentence it does not understand and that cannot change the week
    ("Ouvert les dimanches de décembre") comes back as the leftover, as the owner wrote it."""
    original = text.strip()
    plain = _plain(original)
    if not plain or _CLOSING_HAZARDS.search(plain):
        return None, original
    reader = _WeekReader()
    leftover: list[str] = []
    try:
        for clause, raw in _clauses(original):
            tokens = _clause_tokens(clause)
            if tokens is None:
                if _may_change_week(clause):
                    raise _Unsure
                leftover.append(raw)
                continue
            _feed(reader, tokens)
        weekly = reader.week()
    except (_Unsure, ValueError):
        return None, original
    return weekly, ". ".join(leftover).strip()


# Words of a clause that says when the shop opens or closes: such a clause next to a week read from the
# rest would contradict it in a reply ("Nocturne le jeudi", "Fermé en août", "Ouvert les dimanches de
# décembre", "sur rendez-vous"), so the whole text stays as the owner wrote it.
_WHEN_WORDS = (
    r"ouvert\w*|ferme\w*|open\w*|clos\w*|abiert\w*|cerrad\w*|apert\w*|chius\w*|geoffnet|offen"
    r"|geschlossen|aberto|fechado|nocturne|late|rendez|rdv|appointment|cita|appuntamento|termin"
    r"|feries?|holidays?|festivos?|festivi|feiertage?|feriados?|vacances|conges|sauf|except\w*"
    r"|janvier|fevrier|mars|avril|mai|juin|juillet|aout|septembre|octobre|novembre|decembre"
    r"|january|february|march|april|may|june|july|august|september|october|november|december"
    r"|ete|hiver|summer|winter|noel|christmas"
)


def _may_change_week(clause: str) -> bool:
    """A clause we cannot read fully is only a note if it cannot change the week: no time, no weekday,
    no month or season, nothing about opening, closing, holidays or appointments ("Bienvenue !" is a
    note; "Nocturne le jeudi" or "Fermé les jours fériés" leave the whole text unread)."""
    if re.search(r"\d", clause) or re.search(rf"\b{_DAY}\b", clause):
        return True
    return bool(re.search(rf"\b(?:{_WHEN_WORDS})\b", clause))
