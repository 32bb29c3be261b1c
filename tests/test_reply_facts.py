"""Shop facts: recognising the questions they answer, answering from them, and card details."""

from __future__ import annotations

import re

import pytest

from webhooks.replies import Action, ShopInfo, decide
from webhooks.replies.facts import FACT_KEYS, clean_owner_text, fact_answer, fact_text
from webhooks.replies.intents import INTENTS, classify
from webhooks.replies.templates import FACT_TEMPLATES, REPLY_LANGUAGES, TEMPLATES

# --- Questions ---------------------------------------------------------------------------------

FACT_QUESTIONS = {
    "delivery": [
        "vs livré en belgik?",
        "Vous livrez en Belgique ?",
        "c combien les frais de port pour la suisse",
        "délai de livraison ?",
        "Vous envoyez à l'étranger ?",
        "Do you ship to Spain?",
        "How long does shipping take to Germany?",
        "¿Hacéis envíos a Portugal?",
        "cuanto tarda la entrega a domicilio",
        "Spedite in Germania? quanto costa la spedizione",
        "Versand nach Österreich möglich?",
        "Liefern Sie auch in die Schweiz?",
        "Vocês fazem entrega para Lisboa?",
        "Wie lange dauert die Lieferung?",
        "¿Cuánto son los gastos de envío?",
        "How long does a parcel take to Belgium?",
        "wie lange braucht ein Paket nach Belgien?",
        "Si je commande ce soir sur le site, je le reçois quand ?",
        "Se ordino stasera, quando arriva a Roma?",
    ],
    "payment": [
        "on peut payer en 3x ?",
        "paiement en plusieurs fois possible ?",
        "vous prenez la carte ?",
        "Vous acceptez les chèques ?",
        "je peux payer en especes",
        "Do you accept Apple Pay?",
        "Can I pay in 4 instalments?",
        "Do you take cash?",
        "¿Se puede pagar a plazos?",
        "Si può pagare a rate?",
        "Ist Ratenzahlung möglich?",
        "Kann ich mit Klarna bezahlen?",
        "Posso pagar em prestações?",
        "Accettate carte di credito?",
        "Aceitam MB Way?",
    ],
    "services": [
        "Vous faites les retouches ?",
        "vous faites l'ourlet du pantalon ?",
        "vous faites les paquets cadeaux ?",
        "Do you do alterations?",
        "Can you gift wrap it?",
        "¿Hacéis arreglos?",
        "¿Me lo envolvéis con papel de regalo?",
        "Fate riparazioni sartoriali?",
        "Fate la confezione regalo?",
        "Machen Sie Änderungen?",
        "Bieten Sie Geschenkverpackung an?",
        "Fazem embrulho para presente?",
        "¿Hacéis el bajo de los pantalones?",
        "Packen Sie es als Geschenk ein?",
        "Können Sie die Hose kürzen?",
        "Kürzen Sie auch Röcke?",
        "Fate anche gli orli alle gonne?",
        # About the service, though it says "pay".
        "los arreglos de faldas se pagan?",
    ],
    "returns": [
        "je peux échanger ?",
        "combien de temps pour retourner un article ?",
        "je voudrais retourner la robe",
        "c quoi votre politique de retour",
        "What's your return policy?",
        "Can I exchange it if it doesn't fit?",
        "¿Cuál es la política de devoluciones?",
        "Posso fare il reso online?",
        "Ist ein Umtausch möglich?",
        "Posso fazer uma devolução?",
        "vs reprenez les articles ?",
        "Entro quanti giorni posso restituire?",
    ],
    "parking": [
        "Vous avez un parking à côté ?",
        "on peut se garer facilement ?",
        "c'est loin du métro ?",
        "Is there parking nearby?",
        "Is the shop wheelchair accessible?",
        "¿Dónde puedo aparcar?",
        "C'è un parcheggio vicino?",
        "Gibt es Parkplätze in der Nähe?",
        "Kann man dort parken?",
        "Which tube station is closest?",
        "Há estacionamento perto?",
        "¿Hay una parada de tranvía cerca?",
        "Vengo in macchina, dove la lascio?",
    ],
    "address": [
        "c koi votre adr",
        "vs etes ou ?",
        "vous etes situés ou exactement",
        "where r u",
        "where's the shop",
        "¿cómo llego a la tienda?",
        "come arrivo al negozio?",
        "wie komme ich zu Ihnen?",
        "qual é a vossa morada?",
        "Vous êtes dans quelle rue ?",
        "Where exactly are you?",
        "what's your postcode? for the satnav",
        "dnd estais?",
        "¿En qué calle estáis?",
    ],
}


@pytest.mark.parametrize(
    ("text", "intent"), [(text, intent) for intent, texts in FACT_QUESTIONS.items() for text in texts]
)
def test_fact_questions_are_recognised(text, intent):
    assert classify(text).intent == intent
    assert classify(text).action is Action.REPLY


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        # Not a question about a fact: these must keep their own intent.
        ("je repasse samedi", "other"),
        ("la robe sera de retour quand ?", "other"),
        ("la livraison de ma commande n°123 ?", "order_status"),
        ("Ma commande n'est pas arrivée", "order_status"),
        ("Can I pay you a visit tomorrow?", "other"),
        ("J'ai essayé plusieurs fois de vous joindre", "other"),
        ("Vous livrez dans quels pays ?", "delivery"),
        ("Vous avez la parka en M ?", "availability"),
        ("C'est combien la carte cadeau ?", "gift_card"),
        ("Je cherche un cadeau pour ma mère", "other"),
        ("Vous avez la robe en 38 ?", "availability"),
        ("Vous ouvrez à quelle heure ?", "opening_hours"),
        ("Je voudrais être remboursée", "escalate"),
        ("Vous avez reçu la livraison des nouveautés ?", "availability"),
        ("Have you received the new delivery yet?", "availability"),
        ("quand arrive la livraison ?", "delivery"),
        ("merci pour la livraison rapide !", "other"),
        ("Me podéis enviar una foto?", "other"),
        ("Envoyez-moi une photo svp", "other"),
        ("J'ai payé par carte mais je n'ai pas reçu de confirmation", "other"),
        ("Haben Sie einen kurzen Rock?", "other"),
        ("I'll be back on Saturday", "other"),
        ("Where is my parcel?", "order_status"),
        ("Quand est-ce que je reçois ma commande ?", "order_status"),
    ],
)
def test_look_alikes_are_not_fact_questions(text, intent):
    assert classify(text).intent == intent


def test_new_intents_are_declared():
    assert {"payment", "services", "parking", "card_details"} <= set(INTENTS)
    assert set(FACT_KEYS) <= set(INTENTS)


# --- Card details ------------------------------------------------------------------------------

CARD_MESSAGES = [
    "Voici ma carte 4970 •••• •••• 7890 exp 12/27",
    "IBAN FR76 •••• •••• •••• •••• •••• 189 pour le remboursement",
    "my card is 4111 •••• •••• 1111, can you hold the dress?",
    "Hola, mi tarjeta 5500 •••• •••• 0004",
]


@pytest.mark.parametrize("text", CARD_MESSAGES)
def test_masked_card_details_escalate_before_anything_else(text):
    found = classify(text)
    assert (found.intent, found.action, found.reason) == ("card_details", Action.ESCALATE, "card_details")


def test_opt_out_still_wins_over_card_details():
    assert classify("STOP 4970 •••• •••• 7890").action is Action.OPT_OUT


def test_a_single_bullet_is_not_card_details():
    assert classify("• robe noire • taille 38").intent != "card_details"


def test_card_details_need_a_person():
    decision = decide(CARD_MESSAGES[0], shop=ShopInfo(name="Coccinelle", language="fr"))
    assert (decision.intent, decision.action, decision.needs_attention) == (
        "card_details",
        Action.ESCALATE,
        True,
    )


@pytest.mark.parametrize("lang", REPLY_LANGUAGES)
def test_card_details_text_in_every_language(lang):
    text = TEMPLATES[lang]["card_details"]
    english = TEMPLATES["en"]["card_details"]
    assert text == text.format()  # no placeholder left for the engine to fill
    assert text[0].islower() and text.endswith(".")
    assert len(text) <= 200
    assert lang == "en" or text != english


# --- Answers -----------------------------------------------------------------------------------

SHOP = ShopInfo(
    name="Coccinelle",
    language="fr",
    address="12 rue des Lilas\n69002 Lyon.",
    map_url=" https://maps.example/coccinelle ",
    facts={
        "delivery": {"": "France en 3 jours, 5 € !", "en": "France in 3 days, 5 €."},
        "payment": {"": "CB, espèces, en 3x sans frais...", "es": "tarjeta, efectivo"},
        "services": {"": "Retouches offertes\nPaquet cadeau sur demande"},
        "returns": {"": " Échange sous 30 jours . Voir https://coccinelle.example/retours."},
        "parking": {"": "   ", "en": ""},
    },
)


@pytest.mark.parametrize(
    ("intent", "lang", "expected"),
    [
        ("delivery", "fr", "pour la livraison : France en 3 jours, 5 €."),
        ("delivery", "en", "for delivery: France in 3 days, 5 €."),
        ("delivery", "es", "sobre los envíos (en francés): France en 3 jours, 5 €."),
        ("delivery", "it", "per le spedizioni (in francese): France en 3 jours, 5 €."),
        ("delivery", "de", "zum Versand (auf Französisch): France en 3 jours, 5 €."),
        ("delivery", "pt", "sobre as entregas (em francês): France en 3 jours, 5 €."),
        ("payment", "es", "sobre el pago: tarjeta, efectivo."),
        ("payment", "fr", "pour le paiement : CB, espèces, en 3x sans frais."),
        ("services", "fr", "nos services : Retouches offertes. Paquet cadeau sur demande."),
        ("services", "en", "our services (in French): Retouches offertes. Paquet cadeau sur demande."),
        (
            "returns",
            "fr",
            "pour les retours et échanges : Échange sous 30 jours. Voir https://coccinelle.example/retours",
        ),
    ],
)
def test_fact_answer_wraps_the_owners_words(intent, lang, expected):
    assert fact_answer(intent, lang, SHOP) == expected


def test_fact_text_prefers_the_asked_language_then_the_default():
    assert fact_text(SHOP, "delivery", "en") == ("France in 3 days, 5 €.", "en")
    assert fact_text(SHOP, "delivery", "de") == ("France en 3 jours, 5 € !", "fr")
    assert fact_text(SHOP, "parking", "en") == ("", "")
    assert fact_text(SHOP, "unknown", "fr") == ("", "")


def test_a_version_under_the_shop_language_counts_as_the_default():
    shop = ShopInfo(name="Laden", language="de", facts={"parking": {"de": "Parkhaus am Markt"}})
    assert fact_text(shop, "parking", "it") == ("Parkhaus am Markt", "de")
    assert fact_answer("parking", "de", shop) == "zu Anfahrt und Parken: Parkhaus am Markt."


@pytest.mark.parametrize("lang", REPLY_LANGUAGES)
def test_empty_or_missing_fact_gives_none(lang):
    assert fact_answer("parking", lang, SHOP) is None
    assert fact_answer("delivery", lang, ShopInfo(name="Coccinelle", language="fr")) is None
    assert fact_answer("price", lang, SHOP) is None


def test_only_punctuation_counts_as_empty():
    shop = ShopInfo(name="Coccinelle", language="fr", facts={"services": {"": " . ! "}})
    assert fact_answer("services", "fr", shop) is None


@pytest.mark.parametrize("lang", REPLY_LANGUAGES)
@pytest.mark.parametrize("intent", (*FACT_KEYS, "address"))
def test_answers_have_no_doubled_punctuation(intent, lang):
    messy = ShopInfo(
        name="Coccinelle",
        language="fr",
        address="  3 place Bellecour ,\n69002 Lyon .. ",
        facts={key: {"": "  Oui , bien sûr ..\nsur demande . . !  "} for key in FACT_KEYS},
    )
    answer = fact_answer(intent, lang, messy)
    assert answer is not None
    # German's "Sie finden uns hier" keeps its capital, like the address template.
    assert answer[0].islower() or (lang, intent) == ("de", "address")
    assert not re.search(r" [.,]|\.\.|\. \.|[.!?]\.|,,|\s\s", answer), answer
    assert answer.endswith((".", "!"))


@pytest.mark.parametrize("lang", REPLY_LANGUAGES)
def test_address_answer_carries_the_map_link(lang):
    answer = fact_answer("address", lang, SHOP)
    assert "12 rue des Lilas, 69002 Lyon." in answer
    # The link stands alone, last, on its own line: no punctuation glued to it.
    assert answer.endswith(
        "\n" + FACT_TEMPLATES[lang]["map"].format(map_url="https://maps.example/coccinelle")
    )
    assert answer.startswith(FACT_TEMPLATES[lang]["address"].split("{")[0])


def test_address_without_map_link_or_address():
    no_map = ShopInfo(name="Coccinelle", language="fr", address="12 rue des Lilas, Lyon")
    assert fact_answer("address", "fr", no_map) == (
        "vous nous trouverez à cette adresse : 12 rue des Lilas, Lyon. À bientôt !"
    )
    map_only = ShopInfo(name="Coccinelle", language="fr", map_url="https://maps.example/c")
    assert fact_answer("address", "en", map_only) == "here is a map to find us: https://maps.example/c"
    assert fact_answer("address", "en", ShopInfo(name="Coccinelle", language="fr")) is None


def test_unknown_reply_language_falls_back_to_english_phrases():
    assert fact_answer("delivery", "nl", SHOP) == "for delivery (in French): France en 3 jours, 5 €."


@pytest.mark.parametrize("lang", REPLY_LANGUAGES)
def test_phrase_tables_are_complete(lang):
    assert FACT_TEMPLATES[lang].keys() == FACT_TEMPLATES["en"].keys()
    assert len(FACT_TEMPLATES[lang]["language_names"].split()) == len(REPLY_LANGUAGES)
    for key in FACT_KEYS:
        assert FACT_TEMPLATES[lang][key][0].islower()


def test_clean_owner_text():
    assert clean_owner_text("Livraison offerte !\n\nRetrait en boutique") == (
        "Livraison offerte ! Retrait en boutique"
    )
    assert clean_owner_text("Tarifs :\nFrance 5 €\nEurope 12 € .") == "Tarifs : France 5 €. Europe 12 €"
    address = clean_owner_text("12 rue des Lilas,\n69002 Lyon", sentences=False)
    assert address == "12 rue des Lilas, 69002 Lyon"


# --- Opening hours in SMS-speak (the hours answer needs the intent first) -----------------------


@pytest.mark.parametrize(
    "text",
    [
        "q hora abris mañana?",
        "hasta que hora estais el sabado",
        "Cerráis a mediodía?",
        "Fate pausa pranzo il sabato?",
        "Habt ihr Mittagspause?",
        "oeffnungszeiten bitte",
        "bis wieviel uhr habt ihr heute",
        "Wie lange habt ihr heute auf?",
        "vous faites une pause le midi ?",
        "Until what time are you there today?",
    ],
)
def test_sms_speak_hours_questions(text):
    assert classify(text).intent == "opening_hours"


def test_wie_viel_is_still_a_price_question():
    assert classify("Wie viel kostet die Jacke?").intent == "price"
