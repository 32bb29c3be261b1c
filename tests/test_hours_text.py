"""Hours answers in the customer's language: the day asked about, now, tonight, closures, the week."""

import re
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from shopinfo.hours import Hours, HoursException, TimeRange
from webhooks.replies.hours_text import LANGUAGES, PHRASES, format_ranges, format_week, hours_answer
from webhooks.replies.intents import normalize
from webhooks.replies.when import Asked, asked_when

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")


def _r(opens: str, closes: str) -> TimeRange:
    return TimeRange(time.fromisoformat(opens), time.fromisoformat(closes))


DAY = (_r("10:00", "19:00"),)
SUNDAY = (_r("14:00", "18:00"),)
SPLIT = (_r("10:30", "13:00"), _r("14:00", "19:00"))
# Closed Monday; Tuesday with a lunch break; Wednesday-Saturday 10-19; Sunday 14-18.
WEEK = ((), SPLIT, DAY, DAY, DAY, DAY, SUNDAY)
CHRISTMAS = HoursException(date(2026, 12, 25), date(2026, 12, 25), (), "Christmas")
XMAS_SUNDAY = HoursException(date(2026, 12, 13), date(2026, 12, 13), DAY, "Christmas shopping")
HOURS = Hours(WEEK, (CHRISTMAS, XMAS_SUNDAY))
WEDNESDAY_11 = datetime(2026, 12, 2, 11, 0, tzinfo=PARIS)


def answer(
    lang: str, message: str, now: datetime = WEDNESDAY_11, hours: Hours = HOURS, note: str = ""
) -> str:
    return hours_answer(hours, lang, normalize(message), now, note)


# --- Which day is asked about --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("What time do you close today?", Asked(date(2026, 12, 2))),
        ("vous êtes ouverts aujourd'hui ?", Asked(date(2026, 12, 2))),
        ("ajd vous êtes ouverts ?", Asked(date(2026, 12, 2))),
        ("hoy abrís?", Asked(date(2026, 12, 2))),
        ("aperti oggi?", Asked(date(2026, 12, 2))),
        ("Morgen! Habt ihr heute offen?", Asked(date(2026, 12, 2))),
        ("estão abertos hoje?", Asked(date(2026, 12, 2))),
        ("are you open now?", Asked(date(2026, 12, 2), now=True)),
        ("vous êtes ouverts en ce moment ?", Asked(date(2026, 12, 2), now=True)),
        ("¿abiertos ahora?", Asked(date(2026, 12, 2), now=True)),
        ("siete aperti adesso?", Asked(date(2026, 12, 2), now=True)),
        ("habt ihr jetzt offen?", Asked(date(2026, 12, 2), now=True)),
        ("estão abertos agora?", Asked(date(2026, 12, 2), now=True)),
        ("open tonight?", Asked(date(2026, 12, 2), evening=True)),
        ("ouvert ce soir ?", Asked(date(2026, 12, 2), evening=True)),
        ("¿abrís esta noche?", Asked(date(2026, 12, 2), evening=True)),
        ("aperti stasera?", Asked(date(2026, 12, 2), evening=True)),
        ("heute Abend offen?", Asked(date(2026, 12, 2), evening=True)),
        ("abertos hoje à noite?", Asked(date(2026, 12, 2), evening=True)),
        ("open tomorrow?", Asked(date(2026, 12, 3))),
        ("ouvert dem1 ?", Asked(date(2026, 12, 3))),
        ("¿A qué hora abren mañana?", Asked(date(2026, 12, 3))),
        ("aperti domani?", Asked(date(2026, 12, 3))),
        ("habt ihr morgen offen?", Asked(date(2026, 12, 3))),
        ("abertos amanhã?", Asked(date(2026, 12, 3))),
        ("ouvert après-demain ?", Asked(date(2026, 12, 4))),
        ("¿pasado mañana?", Asked(date(2026, 12, 4))),
        ("übermorgen offen?", Asked(date(2026, 12, 4))),
        ("vous êtes ouverts dimanche ?", Asked(date(2026, 12, 6))),
        ("Habt ihr am Samstag offen?", Asked(date(2026, 12, 5))),
        ("open on Wednesday?", Asked(date(2026, 12, 2))),  # today included
        ("mercredi prochain ?", Asked(date(2026, 12, 9))),
        ("are you open on sundays?", None),  # the usual Sunday: the week answers it
        ("abren el domingo?", Asked(date(2026, 12, 6))),
        ("aperti domenica?", Asked(date(2026, 12, 6))),
        ("abertos no sábado?", Asked(date(2026, 12, 5))),
        ("open this weekend?", Asked(date(2026, 12, 5))),
        ("ouvert ce week-end ?", Asked(date(2026, 12, 5))),
        ("siete aperti il 24?", Asked(date(2026, 12, 24))),
        ("ouvert le 24 décembre ?", Asked(date(2026, 12, 24))),
        ("ouvert le 1er ?", Asked(date(2027, 1, 1))),
        ("ouvert le 2 ?", Asked(date(2026, 12, 2))),
        ("24/12 ?", Asked(date(2026, 12, 24))),
        ("am 24.12. offen?", Asked(date(2026, 12, 24))),
        ("December 24?", Asked(date(2026, 12, 24))),
        ("open on the 24th?", Asked(date(2026, 12, 24))),
        ("abren el 24 de diciembre?", Asked(date(2026, 12, 24))),
        ("aperti il 24 dicembre?", Asked(date(2026, 12, 24))),
        ("abertos dia 24?", Asked(date(2026, 12, 24))),
        ("le 3 janvier ?", Asked(date(2027, 1, 3))),
        ("ouvert à Noël ?", Asked(date(2026, 12, 25))),
        ("open on Christmas Eve?", Asked(date(2026, 12, 24))),
        ("Weihnachten offen?", Asked(date(2026, 12, 25))),
        ("la veille de Noël ?", Asked(date(2026, 12, 24))),
        ("ouvert le jour de l'an ?", Asked(date(2027, 1, 1))),
        ("Silvester offen?", Asked(date(2026, 12, 31))),
        ("ouvert dimanche 20 ?", Asked(date(2026, 12, 20))),  # the date, not the coming Sunday
        ("open on Sunday 20th?", Asked(date(2026, 12, 20))),
        ("aperti mercoledì 9?", Asked(date(2026, 12, 9))),
        ("ouvert lundi 10h ?", Asked(date(2026, 12, 7))),  # a time, not the 10th
    ],
)
def test_asked_when_reads_the_day(message, expected):
    assert asked_when(normalize(message), WEDNESDAY_11) == expected


@pytest.mark.parametrize(
    "message",
    [
        "what are your opening hours?",
        "Guten Morgen, habt ihr offen?",
        "¿abren por la mañana?",
        "open 24/7?",
        "vous ouvrez à 10h ?",
        "do you know when you open?",
    ],
)
def test_asked_when_none_without_a_day(message):
    """(See below: "at what time" with no day asks about today.)"""
    assert asked_when(normalize(message), WEDNESDAY_11) is None


# --- Ranges ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("lang", "ranges", "expected"),
    [
        ("en", DAY, "10 am–7 pm"),
        ("en", SUNDAY, "2–6 pm"),
        ("en", SPLIT, "10:30 am–1 pm and 2–7 pm"),
        ("en", (_r("18:00", "00:00"),), "6 pm–midnight"),
        ("fr", DAY, "10h–19h"),
        ("fr", SPLIT, "10h30–13h et 14h–19h"),
        ("es", SPLIT, "10:30–13:00 y 14:00–19:00"),
        ("it", DAY, "10:00–19:00"),
        ("pt", SPLIT, "10:30–13:00 e 14:00–19:00"),
        ("de", DAY, "10–19 Uhr"),
        ("de", SPLIT, "10:30–13 und 14–19 Uhr"),
    ],
)
def test_format_ranges(lang, ranges, expected):
    assert format_ranges(lang, ranges) == expected


# --- Day answers, every language ---------------------------------------------------------------
DAY_ANSWERS = {
    "en": {
        "today": ("What time do you close today?", "we're open right now, until 7 pm."),
        "tomorrow": ("open tomorrow?", "tomorrow we're open from 10 am to 7 pm."),
        "weekday": ("open on Sunday?", "on Sunday we're open from 2 pm to 6 pm."),
        "closed": ("open on Monday?", "on Monday we're closed. We open again on Tuesday at 10:30 am."),
        "holiday": (
            "open on Christmas day?",
            "on Friday 25 December we're closed for Christmas. We open again on Saturday 26 December"
            " at 10 am.",
        ),
        "tonight": ("open tonight?", "tonight we're open until 7 pm."),
        "now": ("are you open now?", "we're open right now, until 7 pm."),
    },
    "fr": {
        "today": (
            "vous fermez à quelle heure aujourd'hui ?",
            "nous sommes ouverts en ce moment, jusqu'à 19h.",
        ),
        "tomorrow": ("ouvert demain ?", "demain nous sommes ouverts de 10h à 19h."),
        "weekday": ("vous êtes ouverts dimanche ?", "dimanche nous sommes ouverts de 14h à 18h."),
        "closed": ("ouvert lundi ?", "lundi nous sommes fermés. Nous rouvrons mardi à 10h30."),
        "holiday": (
            "ouvert à Noël ?",
            "le vendredi 25 décembre nous sommes fermés pour Christmas. Nous rouvrons le samedi 26"
            " décembre à 10h.",
        ),
        "tonight": ("ouvert ce soir ?", "ce soir nous sommes ouverts jusqu'à 19h."),
        "now": ("ouvert maintenant ?", "nous sommes ouverts en ce moment, jusqu'à 19h."),
    },
    "es": {
        "today": ("¿a qué hora cerráis hoy?", "ahora mismo estamos abiertos, hasta las 19:00."),
        "tomorrow": ("¿A qué hora abren mañana?", "mañana abrimos de 10:00 a 19:00."),
        "weekday": ("¿abrís el domingo?", "el domingo abrimos de 14:00 a 18:00."),
        "closed": ("¿abrís el lunes?", "el lunes estamos cerrados. Volvemos a abrir el martes a las 10:30."),
        "holiday": (
            "¿abrís en Navidad?",
            "el viernes 25 de diciembre estamos cerrados por Christmas. Volvemos a abrir el sábado 26 de"
            " diciembre a las 10:00.",
        ),
        "tonight": ("¿abrís esta noche?", "esta noche estamos abiertos hasta las 19:00."),
        "now": ("¿abiertos ahora?", "ahora mismo estamos abiertos, hasta las 19:00."),
    },
    "it": {
        "today": ("a che ora chiudete oggi?", "in questo momento siamo aperti, fino alle 19:00."),
        "tomorrow": ("aperti domani?", "domani siamo aperti dalle 10:00 alle 19:00."),
        "weekday": ("aperti domenica?", "domenica siamo aperti dalle 14:00 alle 18:00."),
        "closed": ("aperti lunedì?", "lunedì siamo chiusi. Riapriamo martedì alle 10:30."),
        "holiday": (
            "aperti a Natale?",
            "venerdì 25 dicembre siamo chiusi per Christmas. Riapriamo sabato 26 dicembre alle 10:00.",
        ),
        "tonight": ("aperti stasera?", "stasera siamo aperti fino alle 19:00."),
        "now": ("aperti adesso?", "in questo momento siamo aperti, fino alle 19:00."),
    },
    "de": {
        "today": ("wann schließt ihr heute?", "wir haben gerade geöffnet, bis 19 Uhr."),
        "tomorrow": ("habt ihr morgen offen?", "morgen haben wir von 10 bis 19 Uhr geöffnet."),
        "weekday": ("Habt ihr am Sonntag offen?", "am Sonntag haben wir von 14 bis 18 Uhr geöffnet."),
        "closed": (
            "habt ihr am Montag offen?",
            "am Montag haben wir geschlossen. Wir öffnen wieder am Dienstag um 10:30 Uhr.",
        ),
        "holiday": (
            "Weihnachten offen?",
            "am Freitag, 25. Dezember, haben wir wegen Christmas geschlossen. Wir öffnen wieder am Samstag,"
            " 26. Dezember, um 10 Uhr.",
        ),
        "tonight": ("heute Abend offen?", "heute Abend haben wir bis 19 Uhr geöffnet."),
        "now": ("jetzt offen?", "wir haben gerade geöffnet, bis 19 Uhr."),
    },
    "pt": {
        "today": ("a que horas fecham hoje?", "neste momento estamos abertos, até às 19:00."),
        "tomorrow": ("abertos amanhã?", "amanhã estamos abertos das 10:00 às 19:00."),
        "weekday": ("abertos no domingo?", "no domingo estamos abertos das 14:00 às 18:00."),
        "closed": (
            "abertos na segunda?",
            "na segunda-feira estamos fechados. Voltamos a abrir na terça-feira às 10:30.",
        ),
        "holiday": (
            "abertos no Natal?",
            "na sexta-feira, 25 de dezembro, estamos fechados (Christmas). Voltamos a abrir no sábado, 26 de"
            " dezembro, às 10:00.",
        ),
        "tonight": ("abertos hoje à noite?", "hoje à noite estamos abertos até às 19:00."),
        "now": ("abertos agora?", "neste momento estamos abertos, até às 19:00."),
    },
}


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("case", ["today", "tomorrow", "weekday", "closed", "holiday", "tonight", "now"])
def test_day_answers_in_every_language(lang, case):
    message, expected = DAY_ANSWERS[lang][case]
    assert answer(lang, message) == expected


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("en", "we're closed right now. We open again tomorrow at 10 am."),
        ("fr", "nous sommes fermés en ce moment. Nous rouvrons demain à 10h."),
        ("es", "ahora mismo estamos cerrados. Volvemos a abrir mañana a las 10:00."),
        ("it", "in questo momento siamo chiusi. Riapriamo domani alle 10:00."),
        ("de", "im Moment haben wir geschlossen. Wir öffnen wieder morgen um 10 Uhr."),
        ("pt", "neste momento estamos fechados. Voltamos a abrir amanhã às 10:00."),
    ],
)
def test_closed_now_gives_the_next_opening(lang, expected):
    evening = datetime(2026, 12, 2, 20, 0, tzinfo=PARIS)
    assert answer(lang, DAY_ANSWERS[lang]["now"][0], now=evening) == expected


def test_lunch_break_reopens_the_same_day():
    tuesday_lunch = datetime(2026, 12, 1, 13, 30, tzinfo=PARIS)
    assert (
        answer("en", "open now?", now=tuesday_lunch) == "we're closed right now. We open again today at 2 pm."
    )
    assert answer("en", "open today?", now=tuesday_lunch) == (
        "today we're open from 10:30 am to 1 pm and from 2 pm to 7 pm."
    )


def test_today_asked_after_closing_says_closed_and_when_again():
    late = datetime(2026, 12, 5, 19, 30, tzinfo=PARIS)  # Saturday after closing; Sunday opens at 2 pm
    assert answer("fr", "ouvert aujourd'hui ?", now=late) == (
        "aujourd'hui nous sommes ouverts de 10h à 19h. Nous sommes fermés en ce moment."
        " Nous rouvrons demain à 14h."
    )


def test_tonight_on_a_closed_day_gives_the_next_opening():
    monday = datetime(2026, 11, 30, 17, 0, tzinfo=PARIS)
    assert (
        answer("en", "open tonight?", now=monday)
        == "we're closed tonight. We open again tomorrow at 10:30 am."
    )


def test_exceptional_opening_answers_with_its_label():
    assert answer("en", "open on the 13th?") == (
        "on Sunday 13 December we're exceptionally open from 10 am to 7 pm (Christmas shopping)."
    )


def test_next_opening_skips_a_long_closure():
    holidays = Hours(WEEK, (HoursException(date(2026, 12, 7), date(2026, 12, 20), (), "Congés"),))
    sunday_evening = datetime(2026, 12, 6, 18, 30, tzinfo=PARIS)
    assert answer("fr", "ouvert demain ?", now=sunday_evening, hours=holidays) == (
        "demain nous sommes fermés pour Congés. Nous rouvrons le mardi 22 décembre à 10h30."
    )


def test_no_weekly_hours_answers_with_today_and_the_next_dated_opening():
    pop_up = Hours(((),) * 7, (XMAS_SUNDAY,))
    assert answer("en", "opening hours?", hours=pop_up) == (
        "today we're closed. We open again on Sunday 13 December at 10 am."
    )


def test_never_open_again_says_closed_without_a_dangling_sentence():
    closed = Hours(((),) * 7)
    assert answer("en", "open tomorrow?", hours=closed) == "tomorrow we're closed."


# --- The week -------------------------------------------------------------------------------------
WEEK_ANSWERS = {
    "en": "our opening hours: Tuesday, 10:30 am–1 pm and 2–7 pm; Wednesday to Saturday, 10 am–7 pm; Sunday,"
    " 2–6 pm; closed on Monday.",
    "fr": "nos horaires : le mardi, de 10h30 à 13h et de 14h à 19h ; du mercredi au samedi, de 10h à 19h ;"
    " le dimanche, de 14h à 18h ; fermé le lundi.",
    "es": "nuestro horario: martes, de 10:30 a 13:00 y de 14:00 a 19:00; de miércoles a sábado, de 10:00 a"
    " 19:00; domingo, de 14:00 a 18:00; cerrado el lunes.",
    "it": "i nostri orari: martedì, dalle 10:30 alle 13:00 e dalle 14:00 alle 19:00; dal mercoledì al sabato,"
    " dalle 10:00 alle 19:00; domenica, dalle 14:00 alle 18:00; chiuso il lunedì.",
    "de": "unsere Öffnungszeiten: Dienstag, 10:30–13 und 14–19 Uhr; Mittwoch bis Samstag, 10–19 Uhr; Sonntag,"
    " 14–18 Uhr; Montag geschlossen.",
    "pt": "o nosso horário: terça-feira, das 10:30 às 13:00 e das 14:00 às 19:00; de quarta-feira a sábado,"
    " das 10:00 às 19:00; domingo, das 14:00 às 18:00; fechado na segunda-feira.",
}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_week_answer_without_a_day(lang):
    far_from_exceptions = datetime(2026, 11, 4, 11, 0, tzinfo=PARIS)
    message = "horaires / hours / horario / orari / Öffnungszeiten / horário ?"
    assert answer(lang, message, now=far_from_exceptions) == WEEK_ANSWERS[lang]
    assert hours_answer(HOURS, lang, normalize("open tomorrow?"), None) == WEEK_ANSWERS[lang]


def test_week_every_day_and_consecutive_pairs():
    assert format_week("en", Hours((DAY,) * 7)) == "every day, 10 am–7 pm"
    assert format_week("fr", Hours((DAY,) * 7)) == "tous les jours, de 10h à 19h"
    weekend = Hours(((),) * 5 + (DAY, DAY))
    assert format_week("en", weekend) == (
        "Saturday and Sunday, 10 am–7 pm; closed on Monday, Tuesday, Wednesday, Thursday and Friday"
    )
    assert format_week("it", Hours(((),) * 6 + (DAY,))) == (
        "domenica, dalle 10:00 alle 19:00; chiuso il lunedì, il martedì, il mercoledì, il giovedì, il venerdì"
        " e il sabato"
    )


def test_week_lists_exceptions_of_the_next_two_weeks_only():
    december_20 = datetime(2026, 12, 20, 9, 0, tzinfo=PARIS)
    text = answer("en", "opening hours?", now=december_20)
    assert text.endswith("closed on Monday. On Friday 25 December we're closed for Christmas.")
    early = answer("en", "opening hours?", now=datetime(2026, 11, 1, 9, 0, tzinfo=PARIS))
    assert "Christmas" not in early
    assert answer("en", "opening hours?").endswith(
        "closed on Monday. On Sunday 13 December we're exceptionally open from 10 am to 7 pm"
        " (Christmas shopping)."
    )


def test_multi_day_closure_in_the_week():
    closure = HoursException(date(2026, 12, 24), date(2026, 12, 27), (), "")
    text = format_week("fr", Hours(WEEK, (closure,)), now=datetime(2026, 12, 20, 9, 0, tzinfo=PARIS))
    assert text.endswith("Du jeudi 24 décembre au dimanche 27 décembre nous sommes fermés")


# --- Note and punctuation -------------------------------------------------------------------------
def test_note_is_appended_as_a_sentence_only_when_given():
    assert answer("fr", "ouvert demain ?", note="Ouvert les dimanches de décembre") == (
        "demain nous sommes ouverts de 10h à 19h. Ouvert les dimanches de décembre."
    )
    assert answer("fr", "ouvert demain ?", note="Ouvert les dimanches de décembre !") == (
        "demain nous sommes ouverts de 10h à 19h. Ouvert les dimanches de décembre !"
    )
    assert answer("fr", "ouvert demain ?", note="  ") == "demain nous sommes ouverts de 10h à 19h."


_BAD_PUNCTUATION = re.compile(r"\.\.|\s[.,;]|[;,]\s*$|,\.|;\.|\s\s")


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize(
    "now",
    [
        WEDNESDAY_11,
        datetime(2026, 12, 1, 13, 30, tzinfo=PARIS),
        datetime(2026, 12, 5, 19, 30, tzinfo=PARIS),
        datetime(2026, 12, 20, 9, 0, tzinfo=PARIS),
        datetime(2026, 11, 30, 8, 0, tzinfo=PARIS),
    ],
)
def test_every_answer_ends_once_and_has_no_stray_punctuation(lang, now):
    messages = [message for message, _ in DAY_ANSWERS[lang].values()] + ["hours?", "le 24", "dans 3 jours ?"]
    for message in messages:
        for note in ("", "Sur rendez-vous le lundi.", "Parking gratuit"):
            text = answer(lang, message, now=now, note=note)
            assert text[-1] in ".!?", text
            assert not _BAD_PUNCTUATION.search(text.replace(" ; ", "; ")), text


def test_every_language_has_every_phrase():
    keys = set(PHRASES["en"])
    assert set(PHRASES) == set(LANGUAGES)
    for lang in LANGUAGES:
        assert set(PHRASES[lang]) == keys, lang
        assert all(PHRASES[lang].values()), lang


# --- Time zones -------------------------------------------------------------------------------------
def test_the_same_instant_is_today_in_paris_and_yesterday_in_new_york():
    instant = datetime(2026, 12, 2, 3, 0, tzinfo=ZoneInfo("UTC"))  # Wed 04:00 in Paris, Tue 22:00 in NY
    hours = Hours(((), SPLIT, DAY, (), (), (), ()))
    paris, new_york = instant.astimezone(PARIS), instant.astimezone(NEW_YORK)
    assert asked_when(normalize("today?"), paris).day == date(2026, 12, 2)
    assert asked_when(normalize("today?"), new_york).day == date(2026, 12, 1)
    assert answer("en", "open today?", now=paris, hours=hours) == "today we're open from 10 am to 7 pm."
    assert answer("en", "open today?", now=new_york, hours=hours) == (
        "today we're open from 10:30 am to 1 pm and from 2 pm to 7 pm. We're closed right now."
        " We open again tomorrow at 10 am."
    )


@pytest.mark.parametrize(
    "message",
    [
        "vous fermez a quelle heure ?",
        "what time do you close?",
        "a che ora chiudete?",
        "bis wann habt ihr auf?",
    ],
)
def test_a_time_asked_with_no_day_is_todays(message):
    # "ora" in "a che ora" is "what time", not "now": today's hours, not the moment.
    assert asked_when(normalize(message), WEDNESDAY_11) == Asked(WEDNESDAY_11.date())
