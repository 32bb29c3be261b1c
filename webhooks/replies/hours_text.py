"""Opening hours in words, in the customer's language: "today we're open from 10 am to 7 pm".

Pure (no Django). `hours_answer` writes the body of the reply to an hours question: the day asked
about (webhooks.replies.when) when there is one, else the week. The engine adds the greeting before
and the signature after, so the body starts lower case like the other templates and ends with one
full stop.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from shopinfo.hours import MIDNIGHT, Hours, HoursException, TimeRange

from .when import Asked, asked_when

LANGUAGES = ("fr", "en", "es", "it", "de", "pt")
_FALLBACK = "en"
# Exceptions this close to now are worth mentioning under the week ("closed on the 25th").
EXCEPTIONS_AHEAD_DAYS = 14

_AND = {"fr": "et", "en": "and", "es": "y", "it": "e", "de": "und", "pt": "e"}
_WEEKDAYS = {
    "fr": ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "es": ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"),
    "it": ("lunedì", "martedì", "mercoledì", "giovedì", "venerdì", "sabato", "domenica"),
    "de": ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"),
    "pt": (
        "segunda-feira",
        "terça-feira",
        "quarta-feira",
        "quinta-feira",
        "sexta-feira",
        "sábado",
        "domingo",
    ),
}
_MONTHS = {
    "fr": "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
    "en": "January February March April May June July August September October November December",
    "es": "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre",
    "it": "gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre novembre dicembre",
    "de": "Januar Februar März April Mai Juni Juli August September Oktober November Dezember",
    "pt": "janeiro fevereiro março abril maio junho julho agosto setembro outubro novembro dezembro",
}

# Sentences, with {day} ("today", "on Saturday"...), {spans} ("from 10 am to 7 pm"), {until} ("until
# 7 pm"), {at} ("at 10 am"), {label} (the owner's name for an exception: "Noël", "Inventaire").
PHRASES: dict[str, dict[str, str]] = {
    "en": {
        "today": "today",
        "tomorrow": "tomorrow",
        "tonight": "tonight",
        "open_day": "{day} we're open {spans}",
        "open_exceptionally": "{day} we're exceptionally open {spans}",
        "closed_day": "{day} we're closed",
        "closed_for": "{day} we're closed for {label}",
        "open_now": "we're open right now, {until}",
        "closed_now": "we're closed right now",
        "open_tonight": "tonight we're open {until}",
        "closed_tonight": "we're closed tonight",
        "reopen": "we open again {day} {at}",
        "week": "our opening hours: {week}",
        "every_day": "every day",
        "closed_on": "closed on {days}",
        "from_to_days": "from {first} to {last}",
        "run": "{first} to {last}",
    },
    "fr": {
        "today": "aujourd'hui",
        "tomorrow": "demain",
        "tonight": "ce soir",
        "open_day": "{day} nous sommes ouverts {spans}",
        "open_exceptionally": "{day} nous sommes exceptionnellement ouverts {spans}",
        "closed_day": "{day} nous sommes fermés",
        "closed_for": "{day} nous sommes fermés pour {label}",
        "open_now": "nous sommes ouverts en ce moment, {until}",
        "closed_now": "nous sommes fermés en ce moment",
        "open_tonight": "ce soir nous sommes ouverts {until}",
        "closed_tonight": "nous sommes fermés ce soir",
        "reopen": "nous rouvrons {day} {at}",
        "week": "nos horaires : {week}",
        "every_day": "tous les jours",
        "closed_on": "fermé {days}",
        "from_to_days": "du {first} au {last}",
        "run": "du {first} au {last}",
    },
    "es": {
        "today": "hoy",
        "tomorrow": "mañana",
        "tonight": "esta noche",
        "open_day": "{day} abrimos {spans}",
        "open_exceptionally": "{day} abrimos excepcionalmente {spans}",
        "closed_day": "{day} estamos cerrados",
        "closed_for": "{day} estamos cerrados por {label}",
        "open_now": "ahora mismo estamos abiertos, {until}",
        "closed_now": "ahora mismo estamos cerrados",
        "open_tonight": "esta noche estamos abiertos {until}",
        "closed_tonight": "esta noche estamos cerrados",
        "reopen": "volvemos a abrir {day} {at}",
        "week": "nuestro horario: {week}",
        "every_day": "todos los días",
        "closed_on": "cerrado {days}",
        "from_to_days": "del {first} al {last}",
        "run": "de {first} a {last}",
    },
    "it": {
        "today": "oggi",
        "tomorrow": "domani",
        "tonight": "stasera",
        "open_day": "{day} siamo aperti {spans}",
        "open_exceptionally": "{day} siamo eccezionalmente aperti {spans}",
        "closed_day": "{day} siamo chiusi",
        "closed_for": "{day} siamo chiusi per {label}",
        "open_now": "in questo momento siamo aperti, {until}",
        "closed_now": "in questo momento siamo chiusi",
        "open_tonight": "stasera siamo aperti {until}",
        "closed_tonight": "stasera siamo chiusi",
        "reopen": "riapriamo {day} {at}",
        "week": "i nostri orari: {week}",
        "every_day": "tutti i giorni",
        "closed_on": "chiuso {days}",
        "from_to_days": "da {first} a {last}",
        "run": "{first_from} {first} {last_to} {last}",
    },
    "de": {
        "today": "heute",
        "tomorrow": "morgen",
        "tonight": "heute Abend",
        "open_day": "{day} haben wir {spans} geöffnet",
        "open_exceptionally": "{day} haben wir ausnahmsweise {spans} geöffnet",
        "closed_day": "{day} haben wir geschlossen",
        "closed_for": "{day} haben wir wegen {label} geschlossen",
        "open_now": "wir haben gerade geöffnet, {until}",
        "closed_now": "im Moment haben wir geschlossen",
        "open_tonight": "heute Abend haben wir {until} geöffnet",
        "closed_tonight": "heute Abend haben wir geschlossen",
        "reopen": "wir öffnen wieder {day} {at}",
        "week": "unsere Öffnungszeiten: {week}",
        "every_day": "täglich",
        "closed_on": "{days} geschlossen",
        "from_to_days": "vom {first} bis {last}",
        "run": "{first} bis {last}",
    },
    "pt": {
        "today": "hoje",
        "tomorrow": "amanhã",
        "tonight": "hoje à noite",
        "open_day": "{day} estamos abertos {spans}",
        "open_exceptionally": "{day} estamos excecionalmente abertos {spans}",
        "closed_day": "{day} estamos fechados",
        "closed_for": "{day} estamos fechados ({label})",
        "open_now": "neste momento estamos abertos, {until}",
        "closed_now": "neste momento estamos fechados",
        "open_tonight": "hoje à noite estamos abertos {until}",
        "closed_tonight": "hoje à noite estamos fechados",
        "reopen": "voltamos a abrir {day} {at}",
        "week": "o nosso horário: {week}",
        "every_day": "todos os dias",
        "closed_on": "fechado {days}",
        "from_to_days": "de {first} a {last}",
        "run": "de {first} a {last}",
    },
}


def _lang(lang: str) -> str:
    return lang if lang in PHRASES else _FALLBACK


def _phrase(lang: str, key: str, **values: str) -> str:
    return PHRASES[_lang(lang)][key].format(**values)


# --- Times and ranges ------------------------------------------------------------------------
def _en_time(moment: time, closing: bool, meridiem: bool = True) -> str:
    if closing and moment == MIDNIGHT:
        return "midnight"
    hour = moment.hour % 12 or 12
    clock = f"{hour}:{moment.minute:02d}" if moment.minute else str(hour)
    return f"{clock} {'am' if moment.hour < 12 else 'pm'}" if meridiem else clock


def format_time(lang: str, moment: time, closing: bool = False) -> str:
    """One time as said in `lang`: "7 pm", "19h", "19:00", "19 Uhr"; a closing at 00:00 is midnight."""
    lang = _lang(lang)
    end_of_day = closing and moment == MIDNIGHT
    if lang == "en":
        return _en_time(moment, closing)
    if lang == "fr":
        if end_of_day:
            return "minuit"
        return f"{moment.hour}h{moment.minute:02d}" if moment.minute else f"{moment.hour}h"
    if lang == "de":
        hour = 24 if end_of_day else moment.hour
        return f"{hour}:{moment.minute:02d} Uhr" if moment.minute else f"{hour} Uhr"
    return "24:00" if end_of_day else f"{moment.hour}:{moment.minute:02d}"


def _en_range(rng: TimeRange) -> str:
    opens, closes = rng.opens, rng.closes
    same_half = closes != MIDNIGHT and (opens.hour < 12) == (closes.hour < 12)
    # "2–6 pm": the am/pm is said once when both ends share it.
    return f"{_en_time(opens, False, meridiem=not same_half)}–{_en_time(closes, True)}"


def _one_range(lang: str, rng: TimeRange) -> str:
    if lang == "en":
        return _en_range(rng)
    if lang == "de":
        return f"{format_time('de', rng.opens).removesuffix(' Uhr')}–{format_time('de', rng.closes, True)}"
    return f"{format_time(lang, rng.opens)}–{format_time(lang, rng.closes, True)}"


def _join(lang: str, items: list[str]) -> str:
    """ "a", "a and b", "a, b and c" with the language's "and"."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {_AND[_lang(lang)]} {items[-1]}"


def format_ranges(lang: str, ranges: tuple[TimeRange, ...]) -> str:
    """Ranges the short way: en "10 am–7 pm", fr "10h–13h et 14h–19h", es "10:00–19:00", de "10–19 Uhr"."""
    lang = _lang(lang)
    said = [_one_range(lang, r) for r in ranges]
    if lang == "de":
        # "10–13 und 14–19 Uhr": German says "Uhr" once, at the end.
        said = [s.removesuffix(" Uhr") for s in said[:-1]] + said[-1:]
    return _join(lang, said)


def _at(lang: str, moment: time) -> str:
    """ "at 10 am", "à 10h", "a las 10:00", "alle 10:00", "um 10 Uhr", "às 10:00"."""
    said = format_time(lang, moment)
    one = moment.hour == 1
    return {
        "en": f"at {said}",
        "fr": f"à {said}",
        "es": f"a la {said}" if one else f"a las {said}",
        "it": f"all'{said}" if one else f"alle {said}",
        "de": f"um {said}",
        "pt": f"à {said}" if one else f"às {said}",
    }[_lang(lang)]


def _until(lang: str, moment: time) -> str:
    said = format_time(lang, moment, closing=True)
    one = moment.hour == 1
    return {
        "en": f"until {said}",
        "fr": f"jusqu'à {said}",
        "es": f"hasta la {said}" if one else f"hasta las {said}",
        "it": f"fino all'{said}" if one else f"fino alle {said}",
        "de": f"bis {said}",
        "pt": f"até à {said}" if one else f"até às {said}",
    }[_lang(lang)]


def _span(lang: str, rng: TimeRange) -> str:
    """One range inside a sentence: "from 10 am to 7 pm", "de 10h à 19h", "von 10 bis 19 Uhr"."""
    lang = _lang(lang)
    opens, closes = format_time(lang, rng.opens), format_time(lang, rng.closes, closing=True)
    if lang == "en":
        return f"from {opens} to {closes}"
    if lang == "fr":
        return f"de {opens} à {closes}"
    if lang == "de":
        return f"von {opens.removesuffix(' Uhr')} bis {closes}"
    if lang == "es":
        return f"de {opens} a {closes}"
    # Italian and Portuguese articles agree with the hour: "dall'1:00", "alle 19:00", "da 1:00", "às 19:00".
    one_opens, one_closes = rng.opens.hour == 1, rng.closes.hour == 1
    if lang == "it":
        start, end = ("dall'" if one_opens else "dalle "), ("all'" if one_closes else "alle ")
        return f"{start}{opens} {end}{closes}"
    return f"{'da' if one_opens else 'das'} {opens} {'à' if one_closes else 'às'} {closes}"


def _spans(lang: str, ranges: tuple[TimeRange, ...]) -> str:
    return _join(lang, [_span(lang, r) for r in ranges])


# --- Days ------------------------------------------------------------------------------------
def _weekday(lang: str, index: int) -> str:
    return _WEEKDAYS[_lang(lang)][index]


def _bare_date(lang: str, day: date) -> str:
    """ "Thursday 24 December", "jeudi 24 décembre", "jueves 24 de diciembre", "Donnerstag, 24. Dezember"."""
    lang = _lang(lang)
    weekday, month = _weekday(lang, day.weekday()), _MONTHS[lang].split()[day.month - 1]
    number = "1er" if lang == "fr" and day.day == 1 else str(day.day)
    return {
        "en": f"{weekday} {number} {month}",
        "fr": f"{weekday} {number} {month}",
        "es": f"{weekday} {number} de {month}",
        "it": f"{weekday} {number} {month}",
        "de": f"{weekday}, {number}. {month}",
        "pt": f"{weekday}, {number} de {month}",
    }[lang]


def _on(lang: str, label: str, weekday: int, dated: bool = False) -> str:
    """A day or date as the complement of a sentence: "on Saturday", "le jeudi 24 décembre", "am Samstag"."""
    lang = _lang(lang)
    if lang == "pt":
        return f"{'no' if weekday >= 5 else 'na'} {label}{',' if dated else ''}"
    # French says plain "samedi" for the coming Saturday but "le jeudi 24 décembre" for a date.
    prefix = {"en": "on ", "fr": "le " if dated else "", "es": "el ", "it": "", "de": "am "}[lang]
    # German and Portuguese put the date in apposition: "am Freitag, 25. Dezember, haben wir".
    return f"{prefix}{label}," if dated and lang == "de" else f"{prefix}{label}"


def day_label(lang: str, day: date, today: date | None) -> str:
    """How to name `day` seen from `today`: "today", "tomorrow", "on Saturday" (within a week), else
    with its date ("on Thursday 24 December")."""
    if today is not None:
        if day == today:
            return _phrase(lang, "today")
        if day == today + timedelta(days=1):
            return _phrase(lang, "tomorrow")
        if today < day < today + timedelta(days=7):
            return _on(lang, _weekday(lang, day.weekday()), day.weekday())
    return _on(lang, _bare_date(lang, day), day.weekday(), dated=True)


def _days_run(lang: str, first: int, last: int) -> str:
    """A run of consecutive weekdays: "Tuesday to Saturday", "du mardi au samedi", "dal martedì al sabato"."""
    lang = _lang(lang)
    names = _weekday(lang, first), _weekday(lang, last)
    if last == first:
        return names[0] if lang != "fr" else f"le {names[0]}"
    if last == first + 1:
        return _join(lang, list(names))
    if lang == "it":
        return _phrase(
            lang,
            "run",
            first=names[0],
            last=names[1],
            first_from="dalla" if first == 6 else "dal",
            last_to="alla" if last == 6 else "al",
        )
    return _phrase(lang, "run", first=names[0], last=names[1])


def _closed_days(lang: str, days: list[int]) -> str:
    lang = _lang(lang)
    names = [_weekday(lang, d) for d in days]
    if lang == "fr":
        names = [f"le {n}" for n in names]
    elif lang == "es":
        names = [f"el {n}" for n in names]
    elif lang == "it":
        names = [f"{'la' if d == 6 else 'il'} {n}" for d, n in zip(days, names, strict=True)]
    elif lang == "pt":
        names = [_on("pt", n, d) for d, n in zip(days, names, strict=True)]
    return _phrase(lang, "closed_on", days=_join(lang, names))


def _week_ranges(lang: str, ranges: tuple[TimeRange, ...]) -> str:
    # English and German read best short ("10 am–7 pm", "10–19 Uhr"); the others say "de 10h à 19h".
    return format_ranges(lang, ranges) if _lang(lang) in ("en", "de") else _spans(lang, ranges)


def _runs(weekly: tuple[tuple[TimeRange, ...], ...]) -> list[tuple[int, int, tuple[TimeRange, ...]]]:
    """Consecutive days (Monday first) with the same ranges, open days only."""
    runs: list[tuple[int, int, tuple[TimeRange, ...]]] = []
    for index, ranges in enumerate(weekly):
        if runs and runs[-1][2] == ranges and runs[-1][1] == index - 1:
            runs[-1] = (runs[-1][0], index, ranges)
        elif ranges:
            runs.append((index, index, ranges))
    return runs


def _separator(lang: str) -> str:
    return " ; " if _lang(lang) == "fr" else "; "


def _sentences(parts: list[str]) -> str:
    """Parts as sentences: the first stays as written (the greeting comes before it), the next ones
    start with a capital, each ends with exactly one full stop."""
    cleaned = [p.strip().rstrip(" .;,:") for p in parts if p and p.strip().rstrip(" .;,:")]
    sentences = [cleaned[0]] + [p[0].upper() + p[1:] for p in cleaned[1:]] if cleaned else []
    return " ".join(s if s[-1] in "!?" else f"{s}." for s in sentences)


def _exception_notice(lang: str, exception: HoursException) -> str:
    """ "on Friday 25 December we're closed for Christmas", "from ... to ... we're closed"."""
    if exception.first_day == exception.last_day:
        # Always with its date: under the week, "on Friday" could be read as every Friday.
        when = day_label(lang, exception.first_day, None)
    else:
        first = _bare_date(lang, exception.first_day)
        last = _bare_date(lang, exception.last_day)
        when = _phrase(lang, "from_to_days", first=first, last=last)
    label = exception.label.strip()
    if exception.ranges:
        text = _phrase(lang, "open_exceptionally", day=when, spans=_spans(lang, exception.ranges))
        return f"{text} ({label})" if label else text
    if label:
        return _phrase(lang, "closed_for", day=when, label=label)
    return _phrase(lang, "closed_day", day=when)


def format_week(
    lang: str, hours: Hours, now: datetime | None = None, ahead_days: int = EXCEPTIONS_AHEAD_DAYS
) -> str:
    """The week in one line: "Tuesday to Saturday, 10 am–7 pm; Sunday, 2–6 pm; closed on Monday",
    then the exceptions of the next `ahead_days` days when `now` is given, as sentences."""
    lang = _lang(lang)
    runs = _runs(hours.weekly)
    if len(runs) == 1 and runs[0][:2] == (0, 6):
        parts = [f"{_phrase(lang, 'every_day')}, {_week_ranges(lang, runs[0][2])}"]
    else:
        parts = [f"{_days_run(lang, a, b)}, {_week_ranges(lang, ranges)}" for a, b, ranges in runs]
    closed = [index for index, ranges in enumerate(hours.weekly) if not ranges]
    if closed and runs:
        parts.append(_closed_days(lang, closed))
    week = _separator(lang).join(parts)
    if now is None:
        return week
    today = now.date()
    ahead = hours.exceptions_between(today, today + timedelta(days=ahead_days))
    return _sentences([week] + [_exception_notice(lang, e) for e in ahead]).removesuffix(".")


def _last_closing(ranges: tuple[TimeRange, ...]) -> TimeRange:
    return max(ranges, key=lambda r: (r.closes == MIDNIGHT, r.closes))


def _after_last_closing(ranges: tuple[TimeRange, ...], now: datetime) -> bool:
    last = _last_closing(ranges).closes
    return last != MIDNIGHT and now.time().replace(tzinfo=None) >= last


def _reopening(lang: str, hours: Hours, after: datetime, today: date) -> str:
    opening = hours.next_opening(after)
    if opening is None:
        return ""
    return _phrase(lang, "reopen", day=day_label(lang, opening.date(), today), at=_at(lang, opening.time()))


def _now_answer(lang: str, hours: Hours, now: datetime) -> list[str]:
    current = hours.open_range_at(now)
    if current is not None:
        return [_phrase(lang, "open_now", until=_until(lang, current.closes))]
    return [_phrase(lang, "closed_now"), _reopening(lang, hours, now, now.date())]


def _tonight_answer(lang: str, hours: Hours, now: datetime) -> list[str]:
    ranges, exception = hours.ranges_on(now.date())
    if ranges and not _after_last_closing(ranges, now):
        return [_phrase(lang, "open_tonight", until=_until(lang, _last_closing(ranges).closes))]
    label = exception.label.strip() if exception else ""
    closed = _phrase(lang, "closed_tonight") + (f" ({label})" if label else "")
    return [closed, _reopening(lang, hours, now, now.date())]


def _day_answer(lang: str, hours: Hours, day: date, now: datetime) -> list[str]:
    today = now.date()
    ranges, exception = hours.ranges_on(day)
    label = exception.label.strip() if exception else ""
    name = day_label(lang, day, today)
    if ranges:
        key = "open_exceptionally" if exception else "open_day"
        said = _phrase(lang, key, day=name, spans=_spans(lang, ranges))
        parts = [f"{said} ({label})" if label else said]
        current = hours.open_range_at(now) if day == today else None
        if current is not None and current == _last_closing(ranges):
            # Open now for the last time today: "open right now, until 7 pm" answers "when do you close?".
            return [_phrase(lang, "open_now", until=_until(lang, current.closes))]
        if day == today and _after_last_closing(ranges, now):
            # Asked after closing time: say so, and when we open again.
            parts += [_phrase(lang, "closed_now"), _reopening(lang, hours, now, today)]
        return parts
    if label:
        closed = _phrase(lang, "closed_for", day=name, label=label)
    else:
        closed = _phrase(lang, "closed_day", day=name)
    end_of_day = max(now, datetime.combine(day, time.max, tzinfo=now.tzinfo))
    return [closed, _reopening(lang, hours, end_of_day, today)]


def _answer_parts(lang: str, hours: Hours, asked: Asked, now: datetime) -> list[str]:
    if asked.now:
        return _now_answer(lang, hours, now)
    if asked.evening and asked.day == now.date():
        return _tonight_answer(lang, hours, now)
    return _day_answer(lang, hours, asked.day, now)


def hours_answer(hours: Hours, lang: str, normalized: str, now: datetime | None, note: str = "") -> str:
    """The body of the reply to an hours question (no greeting, no signature).

    With `now` (the shop's local time) and a day or moment in `normalized` (intents.normalize text),
    answers that day: open or closed, from when to when, and when closed the next opening. Otherwise
    the week. `note` (the owner's free text) is added as given, when not empty. A week with no open
    day (only dated openings) is answered with today and the next opening rather than an empty list."""
    lang = _lang(lang)
    asked = asked_when(normalized, now) if now is not None else None
    if asked is None and now is not None and not any(hours.weekly):
        asked = Asked(now.date())
    if asked is None:
        parts = [_phrase(lang, "week", week=format_week(lang, hours, now))]
    else:
        parts = _answer_parts(lang, hours, asked, now)
    return _sentences(parts + [note])
