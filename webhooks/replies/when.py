"""Which day (or moment) a customer's message asks about: "today", "tomorrow", "on Sunday", "le 24".

Pure (no Django). Works on `intents.normalize()` text (accent-free, lower-case) in fr, en, es, it, de,
pt, relative to the shop's local `now`: "today" is the shop's today, whatever the server's zone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta


@dataclass(frozen=True)
class Asked:
    """The day asked about; `now`: "are you open now?"; `evening`: "tonight", "demain soir"."""

    day: date
    now: bool = False
    evening: bool = False


def _rx(*alternatives: str) -> re.Pattern[str]:
    return re.compile(r"(?<![\w'])(?:" + "|".join(alternatives) + r")(?![\w'])")


# Greetings that contain a day word: "Guten Morgen" is not tomorrow, "por la mañana" is the morning.
_NOT_A_DAY_RE = re.compile(
    r"\bguten morgen\b|^\s*morgen\s*[,.!]|\b(?:por|de|en|a|esta|cada|toda) la manana\b|\bmorgens\b"
)

_MONTHS = {
    **dict.fromkeys(("janvier", "january", "jan", "enero", "gennaio", "januar", "janeiro"), 1),
    **dict.fromkeys(("fevrier", "february", "feb", "febrero", "febbraio", "februar", "fevereiro"), 2),
    **dict.fromkeys(("mars", "march", "mar", "marzo", "marz", "marco"), 3),
    **dict.fromkeys(("avril", "april", "apr", "abril", "aprile"), 4),
    **dict.fromkeys(("mai", "may", "mayo", "maggio", "maio"), 5),
    **dict.fromkeys(("juin", "june", "jun", "junio", "giugno", "juni", "junho"), 6),
    **dict.fromkeys(("juillet", "july", "jul", "julio", "luglio", "juli", "julho"), 7),
    **dict.fromkeys(("aout", "august", "aug", "agosto"), 8),
    **dict.fromkeys(("septembre", "september", "sept", "sep", "septiembre", "settembre", "setembro"), 9),
    **dict.fromkeys(("octobre", "october", "oct", "octubre", "ottobre", "oktober", "outubro"), 10),
    **dict.fromkeys(("novembre", "november", "nov", "noviembre", "novembro"), 11),
    **dict.fromkeys(("decembre", "december", "dec", "diciembre", "dicembre", "dezember", "dezembro"), 12),
}
_MONTH = "(?:" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_ORDINAL = r"(?:st|nd|rd|th|er|eme|e|o|º|°|\.)?"
_DAY_MONTH_RE = re.compile(rf"\b(\d{{1,2}}){_ORDINAL}\s*(?:de |of |di )?({_MONTH})(?:\s+(\d{{4}}))?(?![\w])")
_MONTH_DAY_RE = re.compile(rf"\b({_MONTH})\s+(?:the\s+)?(\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(\d{{4}}))?")
# 24/12, 24/12/2026, 24.12., 24.12.2026; "10.30" alone is a time, so a dotted date needs its end dot.
_NUMERIC_DATE_RE = re.compile(
    r"(?<![\d.:/])(\d{1,2})/(\d{1,2})(?:/(\d{2}|\d{4}))?(?![\d/:])"
    r"|(?<![\d.:])(\d{1,2})\.(\d{1,2})\.(\d{4})?(?![\d:])"
    r"|(?<=am |le |el |il |ia |on )(\d{1,2})\.(\d{1,2})(?![\d:])"
)
# "24/7" and "7/7" say "always open", not the 24th of July.
_ALWAYS_RE = re.compile(r"(?<![\d/])(?:24|7)\s*/\s*7(?![\d/])")
# "le 24", "el 24", "il 24", "am 24.", "dia 24", "the 24th", "24th": a day of the month alone.
_DAY_ALONE_RE = re.compile(
    # A weekday before the number counts too: "dimanche 20", "Sunday 20th", "domingo 20".
    r"\b(?:le|el|il|am|dia|the|del|al|on the|lo|lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche"
    r"|(?:mon|tues|wednes|thurs|fri|satur|sun)day|(?:mon|diens|donners|frei|sams|sonn)tag|mittwoch"
    r"|lunes|martes|miercoles|jueves|viernes|sabado|domingo|(?:lune|marte|mercole|giove|vener)di|sabato"
    r"|domenica|(?:segunda|terca|quarta|quinta|sexta)(?:-feira)?)\s+(\d{1,2})(?:er|st|nd|rd|th|o|\.)?"
    r"(?!\s*(?:h|:|uhr|am|pm|\d))\b"
    r"|\b(\d{1,2})(?:st|nd|rd|th)\b"
)

_HOLIDAYS = (
    # Eves first: "la veille de Noël" must not read as Christmas Day.
    (
        (12, 24),
        _rx(
            r"christmas eve",
            r"xmas eve",
            r"veille de noel",
            r"reveillon de noel",
            r"nochebuena",
            r"vigilia di natale",
            r"vigilia",
            r"heiligabend",
            r"heiliger abend",
            r"vespera de natal",
            r"consoada",
        ),
    ),
    (
        (12, 31),
        _rx(
            r"new year'?s eve",
            r"nye",
            r"saint[- ]sylvestre",
            r"st[- ]sylvestre",
            r"reveillon du (?:nouvel|jour de l) an",
            r"nochevieja",
            r"san silvestro",
            r"silvester",
            r"vespera de ano novo",
            r"passagem de ano",
        ),
    ),
    # The day after Christmas before Christmas: "zweiter Weihnachtsfeiertag" holds "weihnachts".
    (
        (12, 26),
        _rx(
            r"boxing day",
            r"st\.? stephen'?s day",
            r"lendemain de noel",
            r"santo stefano",
            r"san esteban",
            r"stefanitag",
            r"stephanstag",
            r"(?:zweite[nr]?|2\.) weihnachts(?:feier)?tag",
        ),
    ),
    (
        (12, 25),
        _rx(
            r"christmas(?: day)?",
            r"xmas",
            r"noel",
            r"navidad",
            r"natale",
            r"weihnachten",
            r"(?:(?:erste[nr]?|1\.) )?weihnachts(?:feier)?tag",
            r"natal",
        ),
    ),
    (
        (1, 1),
        _rx(
            r"new year'?s day",
            r"new year",
            r"primo (?:gennaio|dell'anno)",
            r"1 ?(?:o|º) (?:de )?enero",
            r"jour de l'an",
            r"nouvel an",
            r"ano nuevo",
            r"capodanno",
            r"neujahr",
            r"ano novo",
        ),
    ),
)

_NOW_RE = _rx(
    r"now",
    r"right now",
    r"currently",
    r"at the moment",
    r"maintenant",
    r"en ce moment",
    r"actuellement",
    r"la maintenant",
    r"ahora",
    r"ahorita",
    r"en este momento",
    r"adesso",
    r"(?<!che )ora",
    r"in questo momento",
    r"jetzt",
    r"gerade",
    r"im moment",
    r"agora",
    r"neste momento",
)
_TONIGHT_RE = _rx(
    r"tonight",
    r"this evening",
    r"ce soir",
    r"esta tarde",
    r"esta noche",
    r"stasera",
    r"questa sera",
    r"heute abend",
    r"hoje a noite",
    r"hoje de noite",
    r"esta noite",
    r"logo a noite",
)
_TODAY_RE = _rx(
    r"today", r"tdy", r"aujourd'?hui", r"aujourd hui", r"auj", r"ajd", r"hoy", r"oggi", r"heute", r"hoje"
)
_AFTER_TOMORROW_RE = _rx(
    r"day after tomorrow",
    r"apres[- ]demain",
    r"pasado manana",
    r"dopodomani",
    r"ubermorgen",
    r"depois de amanha",
)
_TOMORROW_RE = _rx(
    r"tomorrow",
    r"tomorow",
    r"tommorow",
    r"tommorrow",
    r"2moro",
    r"2morrow",
    r"2mrw",
    r"tmrw",
    r"tmw",
    r"tmr",
    r"tomoz",
    r"demain",
    r"dem1",
    r"dmain",
    r"2main",
    r"manana",
    r"domani",
    r"morgen",
    r"amanha",
)
# Not a bare "sera": Spanish and French "será"/"sera" (will be) would read as evening.
_EVENING_RE = _rx(r"soir", r"evening", r"night", r"noche", r"tarde", r"(?<=domani )sera", r"abend", r"noite")
_WEEKEND_RE = _rx(
    r"week-?end", r"ce we", r"fin de semana", r"fine settimana", r"wochenende", r"fim de semana"
)
_NEXT_RE = _rx(r"prochain", r"next", r"proximo", r"prossimo", r"nachsten", r"naechsten", r"que vem")


def _day_rx(*names: str) -> re.Pattern[str]:
    """A weekday's names, plural too (the plural asks about the usual week: see _USUALLY_RE)."""
    return _rx(*(f"{name}s?" for name in names))


# "Are you open on Sundays?", "vous ouvrez le dimanche ?", "los domingos", "sonntags", "di solito la
# domenica": the usual hours of that weekday, which the week answers (with the coming exceptions), not
# the next Sunday alone. A weekday with a number ("le dimanche 20") is a date, read before this.
_DAY_NAMES = (
    r"(?:lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|(?:mon|tues|wednes|thurs|fri|satur|sun)day"
    r"|lunes|martes|miercoles|jueves|viernes|sabado|domingo|(?:lune|marte|mercole|giove|vener)di|sabato"
    r"|domenica|(?:mon|diens|donners|frei|sams|sonn)tag|mittwoch|sonnabend"
    r"|(?:segunda|terca|quarta|quinta|sexta)(?:-feira| feira)?)"
)
_USUALLY_RE = re.compile(
    rf"(?<![\w'])(?:{_DAY_NAMES}s|(?:le|los|las|aos|as) {_DAY_NAMES}"
    r"|(?:usually|normally|generally|in general|normalement|d'habitude|habituellement|en general"
    r"|generalmente|normalmente|di solito|solitamente|normalerweise|gewohnlich|ublicherweise"
    r"|em geral|geralmente))(?![\w'])"
)


_WEEKDAYS = (
    (0, _day_rx(r"lundi", r"monday", r"lunes", r"lunedi", r"montag", r"segunda(?:-feira| feira)?")),
    (1, _day_rx(r"mardi", r"tuesday", r"martes", r"martedi", r"dienstag", r"terca(?:-feira| feira)?")),
    (
        2,
        _day_rx(
            r"mercredi", r"wednesday", r"miercoles", r"mercoledi", r"mittwoch", r"quarta(?:-feira| feira)?"
        ),
    ),
    (3, _day_rx(r"jeudi", r"thursday", r"jueves", r"giovedi", r"donnerstag", r"quinta(?:-feira| feira)?")),
    (4, _day_rx(r"vendredi", r"friday", r"viernes", r"venerdi", r"freitag", r"sexta(?:-feira| feira)?")),
    (5, _day_rx(r"samedi", r"saturday", r"sabado", r"sabato", r"samstag", r"sonnabend")),
    (6, _day_rx(r"dimanche", r"sunday", r"domingo", r"domenica", r"sonntag")),
)


def _next_date(today: date, month: int, day: int) -> date | None:
    """The next `month`/`day` from today, today included; None when no year has it (Feb 30)."""
    for year in range(today.year, today.year + 5):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if candidate >= today:
            return candidate
    return None


def _dated(year: str | None, month: int, day: int, today: date) -> date | None:
    if not year:
        return _next_date(today, month, day)
    full = int(year) + (2000 if len(year) == 2 else 0)
    try:
        return date(full, month, day)
    except ValueError:
        return None


def _next_day_of_month(today: date, day: int) -> date | None:
    """ "le 24": this month if the 24th is still to come (or today), else the next month that has it."""
    year, month = today.year, today.month
    for _ in range(13):
        try:
            candidate = date(year, month, day)
        except ValueError:
            candidate = None
        if candidate is not None and candidate >= today:
            return candidate
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return None


def _explicit_date(text: str, today: date) -> date | None:
    match = _DAY_MONTH_RE.search(text)
    if match:
        return _dated(match[3], _MONTHS[match[2].rstrip(".")], int(match[1]), today)
    match = _MONTH_DAY_RE.search(text)
    if match:
        return _dated(match[3], _MONTHS[match[1].rstrip(".")], int(match[2]), today)
    match = _NUMERIC_DATE_RE.search(_ALWAYS_RE.sub(" ", text))
    if match:
        day, month, year = next(
            (match[i], match[i + 1], match[i + 2] if i < 7 else None) for i in (1, 4, 7) if match[i]
        )
        if 1 <= int(month) <= 12:
            return _dated(year, int(month), int(day), today)
    match = _DAY_ALONE_RE.search(text)
    if match and 1 <= int(match[1] or match[2]) <= 31:
        return _next_day_of_month(today, int(match[1] or match[2]))
    for (month, day), pattern in _HOLIDAYS:
        if pattern.search(text):
            return _next_date(today, month, day)
    return None


def _weekday(text: str, today: date) -> date | None:
    found = [(m.start(), index) for index, pattern in _WEEKDAYS if (m := pattern.search(text))]
    if not found or (_USUALLY_RE.search(text) and not _NEXT_RE.search(text)):
        return None
    index = min(found)[1]  # the first day named is the one asked about
    ahead = (index - today.weekday()) % 7
    if ahead == 0 and _NEXT_RE.search(text):
        ahead = 7  # "lundi prochain" said on a Monday
    return today + timedelta(days=ahead)


def _relative_day(text: str, today: date) -> date | None:
    if _AFTER_TOMORROW_RE.search(text):
        return today + timedelta(days=2)
    if _TOMORROW_RE.search(_NOT_A_DAY_RE.sub(" ", text)):
        return today + timedelta(days=1)
    if _TODAY_RE.search(text) or _TONIGHT_RE.search(text):
        return today
    return None


def _weekend(text: str, today: date) -> date | None:
    if not _WEEKEND_RE.search(text):
        return None
    if today.weekday() == 6:
        return today  # "this weekend" said on a Sunday is today
    return today + timedelta(days=(5 - today.weekday()) % 7)


# "Vous fermez à quelle heure ?", "what time do you open?": asked with no day, the time of a day, and the
# customer means today (the week answers "vos horaires ?" instead).
_WHAT_TIME_RE = _rx(
    r"a quelle heure",
    r"quelle heure",
    r"jusqu'a quelle heure",
    r"jusqu'a quand",
    r"what time",
    r"(?:until|till|til) (?:what time|when)",
    r"how late",
    r"a que hora",
    r"hasta (?:que hora|cuando)",
    r"a che ora",
    r"fino a (?:che ora|quando)",
    r"um wie ?viel uhr",
    r"bis wann",
    r"bis wie ?viel uhr",
    r"wann (?:schliesst|schliessen|schliesst ihr|offnet|offnen|macht|machen)",
    r"a que horas",
    r"ate (?:que horas|quando)",
)


def asked_when(normalized: str, now: datetime) -> Asked | None:
    """The day (or moment) `normalized` asks about, relative to the shop's local `now`; None when the
    message names no day, so the whole week is the answer."""
    text = normalized
    today = now.date()
    day = _explicit_date(text, today) or _relative_day(text, today) or _weekday(text, today)
    day = day or _weekend(text, today)
    if day is not None:
        evening = bool(_TONIGHT_RE.search(text) or _EVENING_RE.search(text))
        return Asked(day, now=day == today and not evening and bool(_NOW_RE.search(text)), evening=evening)
    if _NOW_RE.search(text):
        return Asked(today, now=True)
    if _WHAT_TIME_RE.search(text) and not _USUALLY_RE.search(text):
        return Asked(today)
    return None
