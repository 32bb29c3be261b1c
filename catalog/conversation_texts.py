"""What the catalogue says in a conversation after its stock answer, per language, and how a "yes" reads.

The stock answer itself (catalog.answers) offers to hold a variant or to tell the customer when it is
back; these are the texts of what follows: the hold made, the last unit gone meanwhile, the alert noted,
the back-in-stock message. Bodies only: the reply engine adds "Bonjour Julie, " and the signature, so
they start in lower case like webhooks.replies.templates. Pure Python.
"""

from __future__ import annotations

import re
import unicodedata

TEXTS: dict[str, dict[str, str]] = {
    "fr": {
        "item": "« {name} »",
        "item_size": " en {size}",
        "yes_button": "Oui",
        "no_button": "Non merci",
        "hold_made": "c'est noté, je vous garde {item} {until}. À bientôt en boutique !",
        "partly_gone": "Désolée, {item} vient de partir.",
        "hold_gone": "désolée, {item} vient de partir. Je vous préviens dès son retour ? Répondez OUI.",
        "alert_noted": "c'est noté, je vous écris dès que {item} est de retour.",
        "unknown_item": "désolée, cet article n'est plus proposé. Une personne de la boutique vous répond.",
        "back_in_stock": "bonne nouvelle, {item} est de retour{left} ! Je vous mets l'article de côté ?"
        " Répondez OUI.",
        "back_in_stock_many": "bonne nouvelle, ils sont de retour : {item} !"
        " Je vous mets ces articles de côté ? Répondez OUI.",
        "left": " (il en reste {count})",
        "today": "jusqu'à aujourd'hui {time}",
        "tomorrow": "jusqu'à demain {time}",
        "day": "jusqu'au {date} à {time}",
        "time": "{h}h{m:02d}",
        "date": "{d:02d}/{mo:02d}",
    },
    "en": {
        "item": "“{name}”",
        "item_size": " in {size}",
        "yes_button": "Yes",
        "no_button": "No thanks",
        "hold_made": "done, we are keeping {item} for you {until}. See you soon!",
        "partly_gone": "Sorry, {item} has just gone.",
        "hold_gone": "sorry, {item} has just gone. Shall we tell you when it is back? Reply YES.",
        "alert_noted": "noted, we will write as soon as {item} is back.",
        "unknown_item": "sorry, this item is no longer available. Someone from the shop will answer you.",
        "back_in_stock": "good news, {item} is back{left}! Shall we keep it for you? Reply YES.",
        "back_in_stock_many": "good news, these are back: {item}! Shall we keep them for you? Reply YES.",
        "left": " ({count} left)",
        "today": "until {time} today",
        "tomorrow": "until {time} tomorrow",
        "day": "until {date} at {time}",
        "time": "{h}:{m:02d}",
        "date": "{d}/{mo}",
    },
    "es": {
        "item": "«{name}»",
        "item_size": " en talla {size}",
        "yes_button": "Sí",
        "no_button": "No, gracias",
        "hold_made": "hecho, te guardamos {item} {until}. ¡Hasta pronto!",
        "partly_gone": "Lo siento, {item} acaba de venderse.",
        "hold_gone": "lo siento, {item} acaba de venderse. ¿Te avisamos cuando vuelva? Responde SÍ.",
        "alert_noted": "anotado, te escribimos en cuanto {item} vuelva.",
        "unknown_item": "lo siento, este artículo ya no está disponible."
        " Una persona de la tienda te responde.",
        "back_in_stock": "¡buenas noticias, {item} ha vuelto{left}! ¿Te guardamos el artículo? Responde SÍ.",
        "back_in_stock_many": "¡buenas noticias, han vuelto: {item}!"
        " ¿Te guardamos estos artículos? Responde SÍ.",
        "left": " (quedan {count})",
        "today": "hasta hoy a las {time}",
        "tomorrow": "hasta mañana a las {time}",
        "day": "hasta el {date} a las {time}",
        "time": "{h}:{m:02d}",
        "date": "{d}/{mo}",
    },
    "it": {
        "item": "«{name}»",
        "item_size": " taglia {size}",
        "yes_button": "Sì",
        "no_button": "No grazie",
        "hold_made": "fatto, teniamo da parte per te {item} {until}. A presto!",
        "partly_gone": "Mi dispiace, {item} non è più disponibile.",
        "hold_gone": "mi dispiace, {item} non è più disponibile. Ti avvisiamo quando torna? Rispondi SÌ.",
        "alert_noted": "perfetto, ti scriviamo appena {item} torna disponibile.",
        "unknown_item": "mi dispiace, questo articolo non è più disponibile."
        " Una persona del negozio ti risponde.",
        "back_in_stock": "buone notizie, {item} è di nuovo disponibile{left}!"
        " Vuoi che mettiamo da parte l'articolo? Rispondi SÌ.",
        "back_in_stock_many": "buone notizie, sono di nuovo disponibili: {item}! Vuoi che mettiamo da parte"
        " questi articoli? Rispondi SÌ.",
        "left": " (ne restano {count})",
        "today": "fino a oggi alle {time}",
        "tomorrow": "fino a domani alle {time}",
        "day": "fino al {date} alle {time}",
        "time": "{h}:{m:02d}",
        "date": "{d}/{mo}",
    },
    "de": {
        "item": "„{name}“",
        "item_size": " in {size}",
        "yes_button": "Ja",
        "no_button": "Nein danke",
        "hold_made": "erledigt, wir legen {item} {until} für Sie zurück. Bis bald!",
        "partly_gone": "Leider ist {item} gerade weg.",
        "hold_gone": "leider ist {item} gerade weg. Sollen wir Ihnen Bescheid geben, wenn der Artikel"
        " wieder da ist? Antworten Sie JA.",
        "alert_noted": "notiert, wir schreiben Ihnen, sobald {item} wieder da ist.",
        "unknown_item": "leider gibt es diesen Artikel nicht mehr. Jemand aus dem Laden antwortet Ihnen.",
        "back_in_stock": "gute Nachricht, {item} ist wieder da{left}!"
        " Sollen wir den Artikel zurücklegen? Antworten Sie JA.",
        "back_in_stock_many": "gute Nachricht, wieder da: {item}! Sollen wir die Artikel zurücklegen?"
        " Antworten Sie JA.",
        "left": " (noch {count} Stück)",
        "today": "bis heute {time} Uhr",
        "tomorrow": "bis morgen {time} Uhr",
        "day": "bis zum {date} {time} Uhr",
        "time": "{h}:{m:02d}",
        "date": "{d}.{mo}.",
    },
    "pt": {
        "item": "«{name}»",
        "item_size": " em {size}",
        "yes_button": "Sim",
        "no_button": "Não, obrigado",
        "hold_made": "feito, guardamos {item} para si {until}. Até breve!",
        "partly_gone": "Lamentamos, {item} acabou de esgotar.",
        "hold_gone": "lamentamos, {item} acabou de esgotar. Avisamos quando voltar? Responda SIM.",
        "alert_noted": "anotado, escrevemos assim que {item} voltar.",
        "unknown_item": "lamentamos, este artigo já não está disponível. Alguém da loja vai responder.",
        "back_in_stock": "boas notícias, {item} voltou{left}! Quer que guardemos o artigo? Responda SIM.",
        "back_in_stock_many": "boas notícias, voltaram: {item}!"
        " Quer que guardemos estes artigos? Responda SIM.",
        "left": " (restam {count})",
        "today": "até hoje às {time}",
        "tomorrow": "até amanhã às {time}",
        "day": "até dia {date} às {time}",
        "time": "{h}:{m:02d}",
        "date": "{d}/{mo}",
    },
}
FALLBACK = "en"

# A "yes" to an offer: one of these first, in a short message without a question (a new question is
# read as one). Accent-free and lower case, as `_words` makes the message.
_YES_WORDS = (
    "oui ouii ouiii ouais ok okay oki dac dacc daccord volontiers carrement parfait "
    "yes yep yeah yup sure please absolutely si vale claro venga perfecto certo certamente "
    "ja jawohl gerne gern klar bitte sim"
)
YES = frozenset(_YES_WORDS.split())
# The answer of a button: the offer's own word, whatever the customer's language.
_YES_PHRASES = ("d'accord", "bien sur", "va bene", "por favor", "of course", "go ahead")
# A yes that says no, or not now, or "yes but...": not an acceptance ("ok non merci", "oui mais en 40",
# "ja aber nicht heute", "ok je vais réfléchir"). The message is then read as what it is.
_NOT_YES_WORDS = (
    "non no not nope pas jamais never nein nicht kein keine nao mais but aber pero "
    "ma mas sauf except later tard apres reflechir think denke pensare pensar pensarlo"
)
_NOT_YES = frozenset(_NOT_YES_WORDS.split())
# "ok merci" / "ok thanks" acknowledges what was said: "ok" is a yes only when nothing thanks.
_THANKS_WORDS = "merci thanks thank thx gracias grazie danke obrigado obrigada"
_THANKS = frozenset(_THANKS_WORDS.split())
_MAX_YES_WORDS = 8
_WORD_RE = re.compile(r"[a-z']+|\d+|[^\sa-z\d]")


def item(language: str, *, name: str, size: str = "", color: str = "") -> str:
    """How a message names a variant: « Robe portefeuille bleue » en 38, noir. The product's name is
    quoted (no article to guess its gender), then the size, then the colour unless the name says it."""
    label = text(language, "item", name=name)
    if size:
        label += text(language, "item_size", size=size)
    if color and _plain(color) not in _plain(name):
        label += f", {color}"
    return label


def _plain(value: str) -> str:
    value = unicodedata.normalize("NFKD", value.lower())
    return "".join(c for c in value if not unicodedata.combining(c))


def text(language: str, key: str, **values) -> str:
    texts = TEXTS.get(language) or TEXTS[FALLBACK]
    return texts[key].format(**values)


def _words(message: str) -> list[str]:
    plain = unicodedata.normalize("NFKD", message.lower())
    plain = "".join(c for c in plain if not unicodedata.combining(c)).replace("’", "'")
    return _WORD_RE.findall(plain)


def is_yes(message: str) -> bool:
    """Whether `message` accepts the offer just made: "oui", "Oui svp !", "yes please", "sí", "ja gerne",
    "👍", a button titled "Oui". Not "oui mais vous l'avez en 40 ?" (a question is answered as one), not
    "non", "ok non merci", "oui mais en 40", "ok merci", nor a long message that happens to start with
    "ok". (A yes naming a size or colour is a new question: catalog.conversation checks that.)"""
    stripped = message.strip()
    if stripped in {"👍", "👌", "🙏", "✅"} or stripped.startswith("👍"):
        return True
    words = [w for w in _words(stripped) if w.isalnum() or "'" in w]
    if not words or "?" in stripped or len(words) > _MAX_YES_WORDS or _NOT_YES.intersection(words):
        return False
    if words[0] in ("ok", "okay", "oki") and _THANKS.intersection(words):
        return False
    plain = " ".join(words)
    return words[0].strip("'") in YES or any(plain.startswith(phrase) for phrase in _YES_PHRASES)


def until_text(language: str, *, expires, now) -> str:
    """When a hold ends, the way a person says it: "demain 15h30", "today 3:30"... (`expires` and `now`
    in the shop's time zone)."""
    at = text(language, "time", h=expires.hour, m=expires.minute)
    days = (expires.date() - now.date()).days
    if days <= 0:
        return text(language, "today", time=at)
    if days == 1:
        return text(language, "tomorrow", time=at)
    on = text(language, "date", d=expires.day, mo=expires.month)
    return text(language, "day", date=on, time=at)


def offer_buttons(language: str) -> list[dict]:
    """The WhatsApp reply buttons under an offer: its "yes" comes back as the button's title, which
    `is_yes` reads like a typed "oui"."""
    return [
        {"id": "offer-yes", "title": text(language, "yes_button")},
        {"id": "offer-no", "title": text(language, "no_button")},
    ]
