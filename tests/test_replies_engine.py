"""Offline reply engine: language, intents, actions, texts. Pure Python, no database."""

import dataclasses
import json
from pathlib import Path

import pytest

from shopinfo.hours import Hours
from shopinfo.hours_parse import parse_week
from webhooks.replies import INTENTS, Action, ShopInfo, decide, detect_language
from webhooks.replies.templates import TEMPLATES

REPO_ROOT = Path(__file__).resolve().parent.parent
DEV_SET = REPO_ROOT.parent / "shared" / "data" / "replies-dev.jsonl"
HOLDOUT_SET = REPO_ROOT / "tests" / "data" / "replies-holdout.jsonl"

SHOP = ShopInfo(
    name="Boutique Coccinelle",
    language="fr",
    address="12 rue des Lilas, 69002 Lyon",
    hours=Hours(weekly=parse_week("Mar-Sam 10h-19h, Dim 14h-18h")[0]),
    hours_note="Ouvert les dimanches de décembre.",
    website="https://coccinelle.example",
    phone="04 72 00 00 00",
    signature="Boutique Coccinelle",
)
BARE_SHOP = ShopInfo(name="Chez Lou", language="fr")


# --- language -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Merci !", "fr"),
        ("bjr svp", "fr"),
        ("Hola", "es"),
        ("Gracias!", "es"),
        ("Ciao", "it"),
        ("Grazie mille", "it"),
        ("Danke", "de"),
        ("Hallo", "de"),
        ("Hello!", "en"),
        ("Thanks", "en"),
        ("Obrigada!", "pt"),
        ("Vous avez encore le manteau camel en 38 ?", "fr"),
        ("Do you have these jeans in a 32?", "en"),
        ("¿Cuánto cuesta el bolso rojo?", "es"),
        ("Quanto costa il cappotto?", "it"),
        ("Haben Sie heute geöffnet?", "de"),
        ("vs etes ouvert dimanche", "fr"),
        ("Größe M?", "de"),
    ],
)
def test_detect_language_short_texts(text, lang):
    assert detect_language(text, "xx") == lang


@pytest.mark.parametrize("text", ["", "   ", "STOP", "ok", "👍", "38", "?!", "\x00\x00", "Julie"])
def test_detect_language_returns_default_when_unsure(text):
    assert detect_language(text, "de") == "de"


def test_reply_language_falls_back_to_shop_then_english():
    assert decide("STOP", shop=SHOP).language == "fr"
    assert decide("STOP", shop=ShopInfo(name="Lou", language="nl")).language == "en"
    # Russian is not a language we write: answer in the shop's language.
    assert decide("Здравствуйте, вы открыты?", shop=SHOP).language == "fr"


def test_language_hint_wins_only_when_text_is_unclear():
    assert decide("ok merci 38", shop=SHOP, language_hint="it").language == "fr"
    assert decide("STOP", shop=SHOP, language_hint="it").language == "it"
    assert decide("STOP", shop=SHOP, language_hint="klingon").language == "fr"


# --- intents per language --------------------------------------------------------------------

INTENT_CASES = [
    # (text, language, intent)
    ("Bonjour !", "fr", "greeting"),
    ("Hi there", "en", "greeting"),
    ("Buenas tardes", "es", "greeting"),
    ("Buongiorno", "it", "greeting"),
    ("Guten Morgen", "de", "greeting"),
    ("vous ouvrez à quelle heure samedi ?", "fr", "opening_hours"),
    ("What time do you close today?", "en", "opening_hours"),
    ("¿A qué hora abren?", "es", "opening_hours"),
    ("Siete aperti domenica?", "it", "opening_hours"),
    ("Wann haben Sie geöffnet?", "de", "opening_hours"),
    ("C'est quoi votre adresse ?", "fr", "address"),
    ("Where are you located?", "en", "address"),
    ("¿Dónde está la tienda?", "es", "address"),
    ("Qual è il vostro indirizzo?", "it", "address"),
    ("Wo ist der Laden?", "de", "address"),
    ("Vous avez la jupe noire en taille 38 ?", "fr", "availability"),
    ("Is the red coat available in size 12?", "en", "availability"),
    ("¿Tenéis las botas en talla 39?", "es", "availability"),
    ("Avete la gonna in taglia 40?", "it", "availability"),
    ("Gibt es das Kleid in Größe 36?", "de", "availability"),
    ("combien coûte le sac ?", "fr", "price"),
    ("How much are the boots?", "en", "price"),
    ("¿Cuánto vale la falda?", "es", "price"),
    ("Quanto costa la borsa?", "it", "price"),
    ("Was kostet die Jacke?", "de", "price"),
    ("Où en est ma commande ?", "fr", "order_status"),
    ("Where is my order?", "en", "order_status"),
    ("¿Dónde está mi pedido?", "es", "order_status"),
    ("Dov'è il mio ordine?", "it", "order_status"),
    ("Wo ist meine Bestellung?", "de", "order_status"),
    ("Vous pouvez me mettre la robe de côté ?", "fr", "hold"),
    ("Can you hold the scarf for me?", "en", "hold"),
    ("¿Me podéis reservar el bolso?", "es", "hold"),
    ("Potete tenermi da parte la borsa?", "it", "hold"),
    ("Können Sie mir die Schuhe zurücklegen?", "de", "hold"),
    ("Je peux échanger mon pull ?", "fr", "returns"),
    ("Can I return these shoes?", "en", "returns"),
    ("¿Puedo cambiar la talla del vestido?", "es", "returns"),
    ("Posso fare un reso?", "it", "returns"),
    ("Kann ich das Kleid umtauschen?", "de", "returns"),
    ("Vous vendez des cartes cadeaux ?", "fr", "gift_card"),
    ("Do you sell gift cards?", "en", "gift_card"),
    ("¿Tenéis tarjetas regalo?", "es", "gift_card"),
    ("Avete buoni regalo?", "it", "gift_card"),
    ("Haben Sie Gutscheine?", "de", "gift_card"),
    ("Vous livrez en Belgique ?", "fr", "delivery"),
    ("Do you deliver to London?", "en", "delivery"),
    ("¿Hacen envíos a Madrid?", "es", "delivery"),
    ("Spedite a Milano?", "it", "delivery"),
    ("Liefern Sie nach Wien?", "de", "delivery"),
    ("Merci beaucoup !", "fr", "thanks"),
    ("Thank you so much", "en", "thanks"),
    ("Muchas gracias", "es", "thanks"),
    ("Grazie mille!", "it", "thanks"),
    ("Vielen Dank!", "de", "thanks"),
    # Payment, services and parking became questions the shop's facts answer (issue 16).
    ("Vous acceptez les chèques ?", "fr", "payment"),
    ("Do you accept Apple Pay?", "en", "payment"),
    ("Vous faites des retouches ?", "fr", "services"),
    ("Do you do alterations?", "en", "services"),
    ("Vous avez un parking à côté ?", "fr", "parking"),
    ("Is there parking nearby?", "en", "parking"),
    ("Vous recrutez en ce moment ?", "fr", "other"),
    ("Are you hiring at the moment?", "en", "other"),
]


@pytest.mark.parametrize(("text", "lang", "intent"), INTENT_CASES)
def test_intent_and_language(text, lang, intent):
    decision = decide(text, shop=SHOP)
    assert (decision.intent, decision.language) == (intent, lang)
    assert decision.action is Action.REPLY
    assert decision.text


@pytest.mark.parametrize(
    ("intent", "needs_attention"),
    [
        ("greeting", False),
        ("thanks", False),
        ("opening_hours", False),
        ("address", False),
        ("availability", True),
        ("price", True),
        ("order_status", True),
        ("hold", True),
        ("returns", True),
        ("gift_card", True),
        ("delivery", True),
        ("other", True),
    ],
)
def test_only_shop_data_answers_skip_attention(intent, needs_attention):
    """Stock, prices, holds and orders are never answered by the bot: a person must check."""
    texts = [text for text, _, case_intent in INTENT_CASES if case_intent == intent]
    assert texts
    for text in texts:
        assert decide(text, shop=SHOP).needs_attention is needs_attention, text


def test_every_declared_intent_is_reachable():
    seen = {case[2] for case in INTENT_CASES} | {"escalate", "opt_out", "opt_in", "card_details"}
    assert seen == set(INTENTS)


# --- escalation ------------------------------------------------------------------------------

ESCALATIONS = [
    # person
    ("Je voudrais parler à quelqu'un", "fr"),
    ("Can I speak to the manager?", "en"),
    ("Quiero hablar con la encargada", "es"),
    ("Vorrei parlare con il titolare", "it"),
    ("Ich möchte mit einem Mitarbeiter sprechen", "de"),
    # call-back
    ("Vous pouvez me rappeler ?", "fr"),
    ("Please call me back", "en"),
    ("¿Me pueden llamar mañana?", "es"),
    ("Mi potete richiamare?", "it"),
    ("Können Sie mich zurückrufen?", "de"),
    # complaint
    ("Je veux faire une réclamation", "fr"),
    ("I want to make a complaint", "en"),
    ("Quiero poner una queja", "es"),
    ("Voglio fare un reclamo", "it"),
    ("Ich möchte mich beschweren", "de"),
    # refund
    ("Je veux être remboursée", "fr"),
    ("I want a refund", "en"),
    ("Quiero un reembolso", "es"),
    ("Voglio un rimborso", "it"),
    ("Ich will mein Geld zurück", "de"),
    # anger
    ("Je suis furieuse, c'est inadmissible", "fr"),
    ("I'm really angry, nobody answers", "en"),
    ("Estoy muy enfadado", "es"),
    ("Sono davvero arrabbiata", "it"),
    ("Das ist eine Frechheit, ich bin sauer", "de"),
]


@pytest.mark.parametrize(("text", "lang"), ESCALATIONS)
def test_escalation_triggers(text, lang):
    decision = decide(text, shop=SHOP, first_name="Julie")
    assert decision.action is Action.ESCALATE
    assert decision.intent == "escalate"
    assert decision.needs_attention is True
    assert decision.language == lang
    assert "Julie" in decision.text and "Boutique Coccinelle" in decision.text


def test_escalation_apologises_for_complaints_only():
    assert "désolés" in decide("Je suis très déçue du service", shop=SHOP).text
    assert "désolés" not in decide("Rappelez-moi svp", shop=SHOP).text


def test_escalation_beats_other_intents():
    # Mentions an order, but the anger is what matters.
    assert decide("Ma commande n'est jamais arrivée, c'est scandaleux", shop=SHOP).action is Action.ESCALATE


# --- opt-out / opt-in ------------------------------------------------------------------------

OPT_OUT_MESSAGES = [
    "STOP",
    "stop",
    "Stop",
    "stop!",
    "STOP SMS",
    "Stop pub",
    "ARRET",
    "ARRÊT",
    "arrêt",
    "STOPALL",
    "STOP ALL",
    "UNSUBSCRIBE",
    "cancel",
    "END",
    "QUIT",
    "BAJA",
    "ALTO",
    "Desinscribir",
    "ANNULLA",
    "DISISCRIVI",
    "Abmelden",
    "  stop  \n",
    "STOP 36180",
    "Stop merci",
    "Je ne veux plus recevoir vos messages",
    "Please stop texting me",
    "No quiero recibir más mensajes",
    "Non voglio più ricevere messaggi",
    "Keine Nachrichten mehr bitte",
]


@pytest.mark.parametrize("text", OPT_OUT_MESSAGES)
def test_opt_out_keywords(text):
    decision = decide(text, shop=SHOP)
    assert decision.action is Action.OPT_OUT
    assert decision.intent == "opt_out"
    assert decision.needs_attention is False
    assert "START" in decision.text and "Boutique Coccinelle" in decision.text


@pytest.mark.parametrize(
    "text",
    [
        "je ne peux pas stop la commande en ligne, vous pouvez m'aider ?",
        "Can I stop by the shop tomorrow?",
        "Cancel my order please",
        "Le bus s'arrête juste devant la boutique ?",
        "Stop motion t-shirt en 38 ?",
        "Il est haut ou alto ce talon ?",
        "Quanto costa? Annulla la mia prenotazione di ieri, non la voglio più",
    ],
)
def test_stop_inside_a_sentence_is_not_an_opt_out(text):
    assert decide(text, shop=SHOP).action is not Action.OPT_OUT


@pytest.mark.parametrize("text", ["START", "start", "Start!", "UNSTOP", "allumer"])
def test_opt_in_keywords(text):
    decision = decide(text, shop=SHOP)
    assert decision.action is Action.OPT_IN
    assert decision.intent == "opt_in"
    assert "STOP" in decision.text


@pytest.mark.parametrize(("text", "lang"), [("BAJA", "es"), ("ANNULLA", "it"), ("ABMELDEN", "de")])
def test_opt_out_confirmation_in_keyword_language(text, lang):
    decision = decide(text, shop=SHOP)
    assert decision.language == lang
    assert decision.text == TEMPLATES[lang]["opt_out"].format(shop=SHOP.name)


# --- texts -----------------------------------------------------------------------------------


def test_first_name_and_signature():
    text = decide("Bonjour", shop=SHOP, first_name="Julie").text
    assert text.startswith("Bonjour Julie, ")
    assert text.endswith("?\nBoutique Coccinelle")
    assert decide("Bonjour", shop=SHOP).text.startswith("Bonjour, ")
    assert decide("Hello", shop=SHOP, first_name="Tom").text.startswith("Hi Tom, ")


def test_first_name_is_sanitised():
    text = decide("Hola", shop=SHOP, first_name="  Ana\x00 {shop}\n ").text
    assert "\x00" not in text and "{" not in text
    assert text.startswith("Hola Ana shop, ")
    assert decide("Hola", shop=SHOP, first_name="   ").text.startswith("Hola, ")


def test_shop_data_is_filled_in():
    hours = decide("Vous êtes ouverts quand ? horaires ?", shop=SHOP)
    assert "du mardi au samedi, de 10h à 19h" in hours.text and hours.needs_attention is False
    # The owner's note is French: in French it follows the week, in English it would be a stray line.
    assert SHOP.hours_note in hours.text
    english = decide("What are your opening hours?", shop=SHOP)
    assert "Tuesday to Saturday, 10 am–7 pm" in english.text and SHOP.hours_note not in english.text
    address = decide("Where is the shop located?", shop=SHOP)
    assert SHOP.address in address.text and address.needs_attention is False
    gift = decide("Vous faites des cartes cadeaux ?", shop=SHOP)
    assert SHOP.website in gift.text


@pytest.mark.parametrize(
    "text", ["Vous ouvrez à quelle heure ?", "What's your address?", "Wann habt ihr offen?"]
)
def test_missing_shop_data_gives_holding_reply_and_attention(text):
    decision = decide(text, shop=BARE_SHOP, first_name="Lou")
    assert decision.action is Action.REPLY
    assert decision.needs_attention is True
    assert decision.text.endswith(TEMPLATES[decision.language]["other"])
    # No signature chosen by the owner: no shop name dangling on a line of its own.
    assert "\n" not in decision.text
    assert "None" not in decision.text and ":  " not in decision.text and "{" not in decision.text


@pytest.mark.parametrize("text", ["ok", "OK", "👍", "😊😊", "Ok d'accord", "...", "Vale"])
def test_bare_acknowledgements_get_no_reply(text):
    decision = decide(text, shop=SHOP)
    assert decision.action is Action.NONE
    assert decision.text == ""
    assert decision.needs_attention is False


@pytest.mark.parametrize("lang", sorted(TEMPLATES))
def test_templates_are_complete_and_short(lang):
    assert TEMPLATES[lang].keys() == TEMPLATES["fr"].keys()
    longest_name = "Marie-Charlotte"
    for key, body in TEMPLATES[lang].items():
        filled = body.format(
            name=longest_name,
            shop=SHOP.name,
            hours=SHOP.hours_note,
            address=SHOP.address,
            website=SHOP.website,
            phone=SHOP.phone,
        )
        assert len(filled) <= 200, (lang, key)


@pytest.mark.parametrize(
    ("text", "_lang", "_intent"), INTENT_CASES + [(t, lang, "") for t, lang in ESCALATIONS]
)
def test_full_replies_fit_in_two_sms(text, _lang, _intent):
    decision = decide(text, shop=SHOP, first_name="Marie-Charlotte")
    assert len(decision.text) <= 320
    assert "{" not in decision.text


# --- robustness ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "\x00",
        "\x00STOP\x00",
        "👍🏻🙏❤️",
        "a" * 5000,
        "Bonjour " * 700,
        "stop " * 1000,
        "{name} {shop} %s %d",
        "\u202e\u200b\ufeff",
        "こんにちは",
        "😡😡😡 !!!",
        "é" * 3000 + "?",
    ],
)
def test_garbage_input_never_raises(text):
    decision = decide(text, shop=SHOP, first_name="Julie")
    assert isinstance(decision.action, Action)
    assert decision.language in TEMPLATES
    assert (decision.text == "") == (decision.action is Action.NONE)


def test_non_string_input_is_treated_as_empty():
    decision = decide(None, shop=SHOP)  # type: ignore[arg-type]
    assert decision.action is Action.NONE


def test_long_text_is_not_an_opt_out():
    assert decide("stop " * 1000, shop=SHOP).action is not Action.OPT_OUT


# --- labelled sets ---------------------------------------------------------------------------


def _accuracies(path: Path) -> tuple[float, float, list[str]]:
    cases = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    lang_ok = action_ok = 0
    failures = []
    for case in cases:
        decision = decide(case["text"], shop=SHOP)
        expected = {"reply_or_none": {"reply", "none"}}.get(case["action"], {case["action"]})
        lang_ok += decision.language == case["lang"]
        action_ok += decision.action in expected
        if decision.language != case["lang"] or decision.action not in expected:
            failures.append(f"{case['text']!r}: {decision.language}/{decision.action}")
    return lang_ok / len(cases), action_ok / len(cases), failures


@pytest.mark.parametrize("path", [DEV_SET, HOLDOUT_SET], ids=["dev", "holdout"])
def test_labelled_set_accuracy(path):
    if not path.exists():
        pytest.skip(f"{path} not found")
    lang_accuracy, action_accuracy, failures = _accuracies(path)
    assert lang_accuracy >= 0.9, failures
    assert action_accuracy >= 0.9, failures


def test_holdout_is_big_and_varied():
    cases = [
        json.loads(line) for line in HOLDOUT_SET.read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    assert len(cases) >= 100
    assert {"fr", "en", "es", "it", "de"} <= {c["lang"] for c in cases}
    assert {"reply", "escalate", "opt_out", "reply_or_none"} <= {c["action"] for c in cases}


# --- form: punctuation and signature (issue 16) ---------------------------------------------------


def test_the_owners_text_never_doubles_the_full_stop():
    only_note = ShopInfo(
        name="Lou", language="fr", hours_note="Du mardi au samedi de 10h à 19h… Fermé le lundi."
    )
    text = decide("vos horaires ?", shop=only_note).text
    assert text == "Bonjour, nos horaires : Du mardi au samedi de 10h à 19h… Fermé le lundi. À bientôt !"
    for reply in (
        decide(t, shop=SHOP).text for t in ("horaires ?", "opening hours?", "adresse ?", "where are you?")
    ):
        assert ".." not in reply.replace("...", "") and " ." not in reply, reply


def test_an_english_customer_never_gets_the_french_free_text_hours():
    only_note = ShopInfo(name="Lou", language="fr", hours_note="Du mardi au samedi de 10h à 19h.")
    decision = decide("What are your opening hours?", shop=only_note)
    assert "mardi" not in decision.text and decision.needs_attention is True


def test_no_signature_unless_the_owner_chose_one():
    assert decide("Merci !", shop=BARE_SHOP).text == "Bonjour, avec plaisir, à bientôt !"
    signed = dataclasses.replace(BARE_SHOP, signature="  Lou,\n Chez Lou ")
    assert decide("Merci !", shop=signed).text == "Bonjour, avec plaisir, à bientôt !\nLou, Chez Lou"
