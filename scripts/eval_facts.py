"""The facts part of eval_replies.py: does the reply carry the right fact, in the right language?

The shop is the one the helper sessions were given when they wrote the messages (without reading the
engine): a Lyon boutique, "now" Wednesday 2 December 2026 at 15:00 in Paris, its week, four exceptions
around Christmas and New Year, its facts in French and English. A reply is right when it is in the
message's language and
- hours on a day: names that day (or it is today), and gives its opening and closing times as that
  language says them, or says it is closed and when it opens next;
- hours in general: holds the week as the engine renders it (the rendering itself is checked against
  hand-written sentences in tests/test_hours_text.py);
- address: holds the street; another fact: holds the owner's text (their version in that language if
  they wrote one).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

from shopinfo.hours import Hours, HoursException, TimeRange
from webhooks.replies import ShopInfo, decide
from webhooks.replies.hours_text import day_label, format_time, format_week

FACTS_NOW = datetime(2026, 12, 2, 15, 0, tzinfo=ZoneInfo("Europe/Paris"))
_DAY = (TimeRange(time(10), time(19)),)
FACTS_HOURS = Hours(
    weekly=(
        (),
        _DAY,
        _DAY,
        _DAY,
        _DAY,
        (TimeRange(time(10), time(13)), TimeRange(time(14), time(19))),
        (TimeRange(time(14), time(18)),),
    ),
    exceptions=(
        HoursException(
            date(2026, 12, 24), date(2026, 12, 24), (TimeRange(time(10), time(17)),), "Veille de Noël"
        ),
        HoursException(date(2026, 12, 25), date(2026, 12, 25), (), "Noël"),
        HoursException(date(2026, 12, 31), date(2026, 12, 31), (TimeRange(time(10), time(16)),), ""),
        HoursException(date(2027, 1, 1), date(2027, 1, 1), (), "Jour de l'an"),
    ),
)
FACTS = {
    "delivery": {
        "": "France en 48 h, 5,90 € (offerte dès 80 €) ; Europe en 3 à 5 jours, 12 €",
        "en": "France in 48 hours, €5.90 (free from €80); Europe in 3 to 5 days, €12",
    },
    "payment": {
        "": "carte, espèces, Apple Pay ; paiement en 3 fois sans frais dès 150 € (Alma)",
        "en": "cards, cash, Apple Pay; pay in 3 instalments free of charge from €150 (Alma)",
    },
    "returns": {
        "": "échange sous 30 jours avec le ticket ; commandes en ligne remboursées sous 14 jours",
        "en": "exchanges within 30 days with the receipt; online orders refunded within 14 days",
    },
    "services": {
        "": "retouches offertes sur les pantalons et les robes (sous 3 jours), emballage cadeau gratuit",
        "en": "free alterations on trousers and dresses (within 3 days), free gift wrapping",
    },
    "parking": {
        "": "Parking Cordeliers à 2 minutes ; tram A, arrêt Cordeliers",
        "en": "Parking Cordeliers 2 minutes away; tram A, stop Cordeliers",
    },
}
FACTS_SHOP = ShopInfo(
    name="Boutique Coccinelle",
    language="fr",
    address="12 rue des Lilas, 69002 Lyon",
    hours=FACTS_HOURS,
    website="https://coccinelle.example",
    phone="04 72 00 00 00",
    map_url="https://maps.example/lilas",
    facts=FACTS,
    signature="Boutique Coccinelle",
    now=FACTS_NOW,
)
_CLOSED = {"fr": "ferm", "en": "closed", "es": "cerrad", "it": "chius", "de": "geschlossen", "pt": "fechad"}


@dataclass(frozen=True)
class FactResult:
    text: str
    lang: str
    fact: str
    day: str | None
    got_lang: str
    intent: str
    reply: str
    fact_ok: bool

    @property
    def ok(self) -> bool:
        return self.fact_ok and self.got_lang == self.lang


def _carries_hours(reply: str, lang: str, day: date | None) -> bool:
    if day is None:
        return format_week(lang, FACTS_HOURS, FACTS_NOW) in reply
    today = FACTS_NOW.date()
    named = day == today or day_label(lang, day, today) in reply
    ranges, _ = FACTS_HOURS.ranges_on(day)
    if ranges:
        # "Open now until 7 pm" answers today with its closing time alone.
        times = [format_time(lang, r.closes, closing=True) for r in ranges]
        if day != today:
            times += [format_time(lang, r.opens).removesuffix(" Uhr") for r in ranges]
        return named and all(t in reply for t in times)
    after = datetime.combine(day, time(23, 59), tzinfo=FACTS_NOW.tzinfo)
    reopening = FACTS_HOURS.next_opening(after)
    said = format_time(lang, reopening.time()).removesuffix(" Uhr")
    return named and _CLOSED[lang] in reply.lower() and said in reply


def _carries(reply: str, case: dict) -> bool:
    fact, lang = case["fact"], case["lang"]
    if fact == "hours":
        day = date.fromisoformat(case["day"]) if case.get("day") else None
        return _carries_hours(reply, lang, day)
    if fact == "address":
        return "12 rue des Lilas" in reply
    versions = FACTS[fact]
    return versions.get(lang, versions[""]).rstrip(" .") in reply


def evaluate_facts(cases: list[dict], shop: ShopInfo = FACTS_SHOP) -> list[FactResult]:
    results = []
    for case in cases:
        decision = decide(case["text"], shop=shop)
        results.append(
            FactResult(
                case["text"],
                case["lang"],
                case["fact"],
                case.get("day"),
                decision.language,
                decision.intent,
                decision.text,
                _carries(decision.text, case),
            )
        )
    return results


def print_facts_report(path: Path, results: list[FactResult]) -> None:
    print(f"== {path} (facts)")
    share = sum(r.ok for r in results) / len(results) if results else 0.0
    print(f"count: {len(results)}")
    print(f"right fact in the right language: {share:.3f}")
    by = Counter((r.lang, r.fact) for r in results)
    good = Counter((r.lang, r.fact) for r in results if r.ok)
    langs = sorted({lang for lang, _ in by})
    facts = sorted({fact for _, fact in by})
    print("by fact (right/all per language): " + " ".join(langs))
    for fact in facts:
        cells = [f"{good[(lang, fact)]}/{by[(lang, fact)]}" for lang in langs]
        print(f"  {fact:>9} " + " ".join(f"{c:>5}" for c in cells))
    failures = [r for r in results if not r.ok]
    print(f"failures: {len(failures)}")
    for r in failures:
        reply = r.reply.replace("\\n", " / ")
        print(f"  [{r.lang} {r.fact} {r.day or ''}] {r.text[:70]!r}: lang {r.got_lang}, intent {r.intent}")
        print(f"      -> {reply[:160]!r}")
