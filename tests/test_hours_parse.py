"""Reading hours as owners type them: one day in a form (strict) and a free-text week (never guesses)."""

from datetime import time

import pytest

from shopinfo.hours import TimeRange
from shopinfo.hours_parse import format_ranges_input, parse_ranges, parse_week


def _r(opens: str, closes: str) -> TimeRange:
    return TimeRange(time.fromisoformat(opens), time.fromisoformat(closes))


TEN_SEVEN = (_r("10:00", "19:00"),)
SPLIT = (_r("10:30", "13:00"), _r("14:00", "19:00"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10:00-19:00", TEN_SEVEN),
        ("10h-19h", TEN_SEVEN),
        ("10h30 - 13h, 14h-19h", SPLIT),
        ("14h-19h, 10h30-13h", SPLIT),  # typed out of order: stored in order
        ("10-13 / 14-19", (_r("10:00", "13:00"), _r("14:00", "19:00"))),
        ("10 am - 7 pm", TEN_SEVEN),
        ("9am-6pm", (_r("09:00", "18:00"),)),
        ("12 pm - 12:30 pm", (_r("12:00", "12:30"),)),
        ("10.00–19.00", TEN_SEVEN),
        ("de 10h à 19h", TEN_SEVEN),
        ("10h-13h et 14h-19h", (_r("10:00", "13:00"), _r("14:00", "19:00"))),
        ("18:00-24:00", (_r("18:00", "00:00"),)),
        ("", ()),
        ("  ", ()),
        ("fermé", ()),
        ("Fermée", ()),
        ("closed", ()),
        ("cerrado", ()),
        ("chiuso", ()),
        ("geschlossen", ()),
        ("fechado", ()),
    ],
)
def test_parse_ranges_reads_what_owners_type(text, expected):
    assert parse_ranges(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("19h-10h", "closes before it opens"),
        ("10h-10h", "closes before it opens"),
        ("10h-14h, 13h-19h", "overlap"),
        ("bonjour", "cannot read"),
        ("10h", "cannot read"),
        ("10h-19h sauf lundi", "cannot read"),
        ("25:00-26:00", "cannot read"),
        ("10:75-19:00", "cannot read"),
        ("13 pm - 2 pm", "not a valid am/pm time"),
        ("24:00-10:00", "cannot open at 24:00"),
    ],
)
def test_parse_ranges_refuses_with_a_clear_message(text, message):
    with pytest.raises(ValueError, match=message):
        parse_ranges(text)


def test_format_ranges_input_round_trips():
    assert format_ranges_input(SPLIT) == "10:30-13:00, 14:00-19:00"
    assert format_ranges_input((_r("18:00", "00:00"),)) == "18:00-24:00"
    assert format_ranges_input(()) == ""
    for ranges in (SPLIT, TEN_SEVEN, (_r("18:00", "00:00"),)):
        assert parse_ranges(format_ranges_input(ranges)) == ranges


CLOSED = ()
T10_19 = TEN_SEVEN
T14_18 = (_r("14:00", "18:00"),)
TUE_SAT_SUN = (CLOSED, T10_19, T10_19, T10_19, T10_19, T10_19, T14_18)
TUE_SAT = (CLOSED, T10_19, T10_19, T10_19, T10_19, T10_19, CLOSED)
LUNCH = (_r("09:30", "12:30"), _r("14:00", "19:00"))
EVERY_DAY_10_20 = ((_r("10:00", "20:00"),),) * 7


@pytest.mark.parametrize(
    ("text", "weekly"),
    [
        ("Mar-Sam 10h-19h, Dim 14h-18h", TUE_SAT_SUN),
        ("Mardi–samedi 10h–19h, dimanche 14h–18h, fermé le lundi", TUE_SAT_SUN),
        ("Du mardi au samedi de 10h à 19h. Fermé le lundi.", TUE_SAT),
        ("Lun-Ven 9h30-12h30 / 14h-19h ; Sam 10h-18h", (LUNCH,) * 5 + ((_r("10:00", "18:00"),), CLOSED)),
        ("Lun-Ven 9h30-12h30, 14h-19h", (LUNCH,) * 5 + (CLOSED, CLOSED)),
        ("Lun. - Ven. 9h30-12h30 14h-19h", (LUNCH,) * 5 + (CLOSED, CLOSED)),
        ("Tue–Sat 10:00–19:00", TUE_SAT),
        (
            "Mon-Fri 9am-6pm, Sat 10am-5pm, closed Sunday",
            ((_r("09:00", "18:00"),),) * 5 + ((_r("10:00", "17:00"),), CLOSED),
        ),
        ("tous les jours 10h-20h", EVERY_DAY_10_20),
        ("7j/7 de 10h à 20h", EVERY_DAY_10_20),
        ("Every day 10 am - 8 pm", EVERY_DAY_10_20),
        ("Sam, Dim 14h-18h", (CLOSED,) * 5 + (T14_18, T14_18)),
        ("Dimanche fermé, mardi au samedi 10h-19h", TUE_SAT),
        ("fermé le lundi et le dimanche, mardi-samedi 10h-19h", TUE_SAT),
        ("Mo-Fr 10-19 Uhr, Sa 14-18 Uhr", (T10_19,) * 5 + (T14_18, CLOSED)),
        ("Dienstag bis Samstag 10-19 Uhr, Sonntag 14-18 Uhr", TUE_SAT_SUN),
        ("de martes a sábado de 10:00 a 19:00, domingo 14:00-18:00", TUE_SAT_SUN),
        ("dal martedì al sabato 10:00-19:00, domenica 14:00-18:00, lunedì chiuso", TUE_SAT_SUN),
        ("de terça a sábado das 10h às 19h, domingo 14h-18h", TUE_SAT_SUN),
    ],
)
def test_parse_week_reads_the_old_free_text(text, weekly):
    assert parse_week(text) == (weekly, "")


def test_parse_week_returns_what_it_did_not_understand():
    assert parse_week("Mar-Sam 10h-19h. Bienvenue chez Lou !") == (TUE_SAT, "Bienvenue chez Lou")


@pytest.mark.parametrize(
    "text",
    [
        # Beside a week read from the rest, each would contradict it in a reply ("open on Sunday 20
        # December?" answered "closed", then "Ouvert les dimanches de décembre"): the text stays whole.
        "Mar-Sam 10h-19h. Ouvert les dimanches de décembre",
        "Mar-Sam 10h-19h. Fermé les jours fériés !",
        "Mar-Sam 10h-19h. Nocturne le jeudi.",
        "Mar-Sam 10h-19h. Fermé en août",
        "Mar-Sam 10h-19h, le dimanche sur rendez-vous",
    ],
)
def test_parse_week_leaves_a_text_whose_rest_says_when_the_shop_opens(text):
    assert parse_week(text) == (None, text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "10h-19h",  # which days?
        "Sur rendez-vous",
        "Mar-Sam 10h-19h sauf jeudi 14h-19h",  # "sauf" bends the week
        "Mar-Sam 10h-19h, en été jusqu'à 20h",
        "Mar-Sam 10h-19h, Sam 10h-18h",  # Saturday given twice, differently
        "Mar-Sam 10h-19h. Ouvert le dimanche.",  # Sunday open, but when?
        "Mar-Sam 10h-19h, fermé le lundi matin",
        "Mar-Sam 10h-19h, 20h le vendredi",
        "Lun-Ven 19h-10h",
        "fermé",
        "Mar-Sam 10h-14h 13h-19h",  # overlapping
    ],
)
def test_parse_week_gives_up_rather_than_guess(text):
    assert parse_week(text) == (None, text.strip())
