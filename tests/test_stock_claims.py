"""What the LLM guard (webhooks/stock_claims.py) reads as a stock claim, in six languages, and what it
does not: every sentence here is checked both ways, and every offline reply text must pass it (the
offline engine answers when the guard refuses). The tool rounds that use it are in test_llm_tools.py."""

import pytest

from webhooks import llm_tools, stock_claims
from webhooks.replies.templates import TEMPLATES

# --- what counts as a stock claim --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "quantities"),
    [
        ("Oui, il en reste 2 en taille 38 !", {2}),
        ("Il nous en reste une en M.", {1}),
        ("La robe rouge en 38 est disponible à 89 €.", set()),
        ("Désolée, elle est épuisée.", set()),
        ("Yes, we have 3 in stock.", {3}),
        ("Only two left in size 10!", {2}),
        ("Sí, quedan dos en talla 38.", {2}),
        ("Ne restano 3 in magazzino.", {3}),
        ("Ja, es sind noch 2 da.", {2}),
        ("Das Kleid ist in Größe 38 vorrätig.", set()),
        ("Wir haben es auf Lager.", set()),
        ("Il ne reste plus que 2 robes en 38.", {2}),
        ("Il n'en reste qu'une.", {1}),
        ("Quedan pocas en talla M.", set()),
        ("Ja, noch ein paar da!", set()),
        ("Oui, la 38 est disponible, la 40 aussi.", set()),
        ("Yes, the 10 is available.", set()),
    ],
)
def test_stock_claims_are_seen_in_five_languages(text, quantities):
    assert stock_claims.claim(text)
    assert stock_claims.quantities(text) == quantities


@pytest.mark.parametrize(
    ("text", "sizes"),
    [
        # "we have" and its like, then a size within a few words
        ("Oui, nous l'avons en 38 !", {"38"}),
        ("On l'a en 38", {"38"}),
        ("Nous avons encore la robe en 38.", {"38"}),
        ("Oui, on a la jupe en taille M.", {"M"}),
        ("Yes, we have the blue dress in size 38.", {"38"}),
        ("We've got 2 in size 38", {"38"}),
        ("We have it in blue, size 10.", {"10"}),
        ("Sí, la tenemos en la talla 38.", {"38"}),
        ("Tenemos la falda en M", {"M"}),
        ("Lo tenemos en 42.", {"42"}),
        ("Ce l'abbiamo in 38", {"38"}),
        ("Sì, l'abbiamo nella 38", {"38"}),
        ("Abbiamo la gonna in taglia S.", {"S"}),
        ("Ja, wir haben das Kleid in Größe 38.", {"38"}),
        ("Haben wir in M da", {"M"}),
        ("Temos em 38", {"38"}),
        ("Sim, temos o vestido no tamanho 40.", {"40"}),
        ("Tem no 38!", {"38"}),
        # the claim words, with a size
        ("It's in stock in M", {"M"}),
        ("Sim, está disponível em 38.", {"38"}),
    ],
)
def test_having_a_size_is_a_stock_claim(text, sizes):
    assert stock_claims.claim(text)
    assert stock_claims.unsupported(text, looked_up=False, figures=set()) is not None
    assert stock_claims.sizes(text) == sizes


@pytest.mark.parametrize(
    ("text", "looked_up_sizes", "refused"),
    [
        ("Oui, nous l'avons en 38 !", {"38", "40"}, False),
        ("Oui, nous l'avons en 42 !", {"38", "40"}, True),
        ("Oui, la 38 est disponible, la 40 aussi.", {"38"}, True),
        ("Yes, we have it in size M.", {"M/L"}, False),
        ("Yes, we have it in size XL.", {"S", "M"}, True),
        ("Ja, in Größe 38 ist es vorrätig.", {"38 EU"}, False),
        # a product-wide claim names no size: the lookup that found the product covers it
        ("Oui, elle est disponible.", {"38"}, False),
    ],
)
def test_a_claimed_size_must_be_a_looked_up_size(text, looked_up_sizes, refused):
    problem = stock_claims.unsupported(text, looked_up=True, figures=set(), looked_up_sizes=looked_up_sizes)
    assert (problem is not None) == refused
    if refused:
        assert "sizes" in problem


def test_only_a_lookup_that_found_variants_counts():
    ledger = llm_tools.Ledger()
    ledger.calls.append(llm_tools.Call("check_stock", {}, {"found": False, "reason": "not sold here"}, False))
    ledger.calls.append(llm_tools.Call("check_stock", {}, {"found": True, "variants": []}, False))
    assert not ledger.stock_looked_up() and ledger.looked_up_sizes() == set()
    found = {"found": True, "variants": [{"size": "38", "available": 2}, {"size": "", "available": 1}]}
    ledger.calls.append(llm_tools.Call("check_stock", {}, found, False))
    assert ledger.stock_looked_up()
    assert ledger.looked_up_sizes() == {"38"} and ledger.available_figures() == {1, 2}


@pytest.mark.parametrize(
    "text",
    [
        "Oui, nous ouvrons dimanche de 14h à 18h. — Boutique Coccinelle",
        "Nous sommes au 12 rue des Lilas, à 2 minutes du métro.",
        "Just a moment, a member of the team will reply soon.",
        "Un membre de l'équipe vous répond vite.",
        # the handover the offline engine itself sends: checking availability states none
        "Une personne de la boutique vérifie la disponibilité et vous répond vite.",
        "Jemand aus dem Laden prüft die Verfügbarkeit.",
        # "stays" and "we remain", not stock
        "Elle reste ouverte jusqu'à 19h.",
        "Quedamos a su disposición.",
        "Il negozio resta aperto fino alle 19.",
        "Wir sind noch bis 19 Uhr da.",
        # "we have" without a size: receipts, hours, places
        "Nous avons bien reçu votre message.",
        "Nous avons bien noté votre taille 38, on vous répond vite.",
        "We have received your order.",
        "We have received your order in size 38.",
        "We have a store in Paris.",
        "Tenemos horario de 10 a 19.",
        "Te lo tenemos listo en 30 minutos.",
        "Wir haben bis 19 Uhr geöffnet.",
        "Abbiamo ricevuto il tuo messaggio.",
        "Abbiamo un negozio in via Roma 40.",
        "Temos uma loja em Lisboa.",
        "Nous avons 40 ans d'expérience.",
    ],
)
def test_other_answers_are_not_stock_claims(text):
    assert stock_claims.unsupported(text, looked_up=False, figures=set()) is None


@pytest.mark.parametrize("language", sorted(TEMPLATES))
def test_the_offline_engines_texts_are_not_stock_claims(language):
    """When the guard refuses, the offline engine answers: its own texts must pass the guard."""
    claims = {key: stock_claims.claim(text) for key, text in TEMPLATES[language].items()}
    assert {key: words for key, words in claims.items() if words} == {}
