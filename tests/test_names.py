"""Tests for webhooks.names: reading the sender's name, never somebody else's.

Plain pytest, no database: run with or without the Django plugin.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from webhooks.names import PersonName, _first_names, name_from_profile, name_from_text

REPO_ROOT = Path(__file__).resolve().parent.parent
DEV_FILE = REPO_ROOT.parent / "shared" / "data" / "names-dev.jsonl"
HOLDOUT_FILE = REPO_ROOT / "tests" / "data" / "names-holdout.jsonl"


def _pair(result: PersonName | None) -> tuple[str | None, str | None]:
    return (result.first_name, result.last_name) if result else (None, None)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Bonjour, je m'appelle Julie Martin.", ("Julie", "Martin")),
        ("je m'appelle sarah cohen", ("Sarah", "Cohen")),
        ("JE M'APPELLE NICOLAS BLANC", ("Nicolas", "Blanc")),
        ("Je m\u2019appelle Marie-Hélène Le Roux et j'ai une question", ("Marie-Hélène", "Le Roux")),
        ("je m appelle dylan", ("Dylan", None)),
        ("Moi c'est Louis Fabre, je cherche une ceinture", ("Louis", "Fabre")),
        ("Coucou c'est Emma, vous êtes ouverts ?", ("Emma", None)),
        ("Ici Sandrine Morel, pour ma retouche", ("Sandrine", "Morel")),
        ("Bonjour, je suis Héloïse Caron", ("Héloïse", "Caron")),
        ("Mon nom est Bernard Lefèvre", ("Bernard", "Lefèvre")),
        ("C'est Mme Perrin pour la jupe plissée", (None, "Perrin")),
        ("Bonjour c'est Madame Nathalie Robin", ("Nathalie", "Robin")),
        ("Je m'appelle Anne-Sophie de La Tour", ("Anne-Sophie", "de La Tour")),
        ("Bonjour, je m'appelle Sofia Da Silva", ("Sofia", "Da Silva")),
        ("A bientôt.\nCordialement,\nGérard Lemoine", ("Gérard", "Lemoine")),
        ("Merci pour tout !\nAgnès", ("Agnès", None)),
        ("Je passerai jeudi.\nBien à vous,\nDUPONT Marie", ("Marie", "Dupont")),
        ("Cordialement, Éric Vasseur", ("Éric", "Vasseur")),
        ("Bonjour Sarah ! C'est Océane, le pull est arrivé ?", ("Océane", None)),
        ("Hi, my name is Jack Wilson", ("Jack", "Wilson")),
        ("hello it's amy", ("Amy", None)),
        ("I'm Rachel, do you have gift cards?", ("Rachel", None)),
        ("This is Megan, I bought a scarf", ("Megan", None)),
        ("Cheers,\nHarry", ("Harry", None)),
        ("Thanks,\nEmily", ("Emily", None)),
        ("Best,\nNathan Cooper", ("Nathan", "Cooper")),
        ("Hola, me llamo Lucía Fernández", ("Lucía", "Fernández")),
        ("Hola, soy Marta García", ("Marta", "García")),
        ("Ciao, mi chiamo Francesca Bianchi", ("Francesca", "Bianchi")),
        ("Ciao sono Matteo", ("Matteo", None)),
        ("Hallo, mein Name ist Felix", ("Felix", None)),
        ("Hallo, ich bin Jonas und suche eine Jacke", ("Jonas", None)),
        ("Olá, meu nome é João Pereira", ("João", "Pereira")),
        ("Je suis Claire, une amie de Sophie", ("Claire", None)),
    ],
)
def test_reads_the_senders_name(text: str, expected: tuple[str | None, str | None]) -> None:
    assert _pair(name_from_text(text)) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Je suis intéressé par le costume gris",
        "Je suis ravie de mon achat !",
        "Je suis désolée, je ne pourrai pas venir",
        "Je suis à Lyon ce week-end",
        "Je suis Bretonne et je cherche une marinière",
        "C'est Pâques dimanche, vous ouvrez ?",
        "C'est Noël bientôt",
        "C'est trop cher pour moi",
        "C'est Paul qui passera à ma place",
        "C'est Sézane ou Maje cette veste ?",
        "Ma sœur c'est Amandine, elle viendra",
        "Bonjour Sarah, le manteau est toujours dispo ?",
        "Merci Camille pour vos conseils !",
        "Ma collègue Julie m'a parlé de vous",
        "Mon fils s'appelle Lucas, il a 8 ans",
        "Vous avez la collection Isabel Marant ?",
        "Je cherche un pull Paul Smith",
        "Vous avez du Ba&sh en ce moment ?",
        "I'm looking for a black coat",
        "I'm so happy with my order!",
        "It's May already",
        "My daughter's name is Ava",
        "Hi Sarah, quick question about returns",
        "Soy muy fan de vuestra tienda",
        "Sono contenta del vestito",
        "Sono felice di aver trovato il vostro negozio",
        "Ich bin interessiert an dem Mantel",
        "Ich bin gleich da",
        "Je m'appelle comment déjà la vendeuse ?",
        "On se voit demain.\nParis",
        "Merci pour l'info\nSarah ?",
        "Voici ma commande.\nCordialement,\nCabinet Moreau & Associés",
        "Merci beaucoup",
        "STOP",
        "👍",
        "",
    ],
)
def test_reads_no_name_from_traps(text: str) -> None:
    assert name_from_text(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "\x00",
        "\x00je m'appelle\x00",
        "🙏" * 5000,
        "a" * 100_000,
        "je m'appelle " * 50_000,
        "\u202e\ufeff",
        "'" * 999,
    ],
)
def test_odd_input_never_raises_and_stays_fast(text: str) -> None:
    started = time.perf_counter()
    result = name_from_text(text)
    assert result is None or isinstance(result, PersonName)
    assert time.perf_counter() - started < 1.0


def test_nul_bytes_are_ignored() -> None:
    assert _pair(name_from_text("\x00 je m'appelle \x00Lise")) == ("Lise", None)


def test_long_message_is_capped_but_signature_still_read() -> None:
    body = "Bonjour, la robe est superbe. " * 500
    assert _pair(name_from_text(body + "\nCordialement,\nLaurent Guérin")) == ("Laurent", "Guérin")


def test_first_name_list_is_installed() -> None:
    # Without gender-guesser's data every weak cue would silently read nothing.
    names = _first_names()
    assert len(names) > 10_000
    assert {"julie", "oceane", "matteo"} <= names
    assert "paques" not in names


@pytest.mark.parametrize(
    ("profile", "expected"),
    [
        ("Julie Martin", ("Julie", "Martin")),
        ("julie 🌸", ("Julie", None)),
        ("📸 Max", ("Max", None)),
        ("Marie-Hélène Le Roux", ("Marie-Hélène", "Le Roux")),
        ("DUPONT Marie", ("Marie", "Dupont")),
        ("Mme Perrin", (None, "Perrin")),
        ("Boutique Luna Paris", (None, None)),
        ("Sézane", (None, None)),
        ("J.", (None, None)),
        ("Elodie B.", ("Elodie", None)),
        ("+33 6 12 34 56 78", (None, None)),
        ("Titou", (None, None)),
        ("Maman de Léo et Lucas", (None, None)),
        ("", (None, None)),
        ("\x00", (None, None)),
    ],
)
def test_profile_names(profile: str, expected: tuple[str | None, str | None]) -> None:
    assert _pair(name_from_profile(profile)) == expected


def _score(path: Path) -> tuple[int, int, int, list[str]]:
    """(count, exact, false names, failures) where a false name is any returned field that is wrong."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    exact = false_names = 0
    failures = []
    for row in rows:
        expected = (row["first_name"], row["last_name"])
        got = _pair(name_from_text(row["text"]))
        if got == expected:
            exact += 1
            continue
        failures.append(f"{row['text']!r}: expected {expected}, got {got}")
        if any(g is not None and g != e for g, e in zip(got, expected, strict=True)):
            false_names += 1
    return len(rows), exact, false_names, failures


@pytest.mark.parametrize("path", [DEV_FILE, HOLDOUT_FILE], ids=["dev", "holdout"])
def test_accuracy_on_labelled_messages(path: Path) -> None:
    if not path.exists():
        pytest.skip(f"{path} not available")
    count, exact, false_names, failures = _score(path)
    assert count >= 40
    assert exact / count >= 0.95, failures
    assert false_names / count <= 0.01, failures


def test_holdout_is_large_and_disjoint_from_dev() -> None:
    holdout = {json.loads(line)["text"] for line in HOLDOUT_FILE.read_text(encoding="utf-8").splitlines()}
    assert len(holdout) >= 120
    if DEV_FILE.exists():
        dev = {json.loads(line)["text"] for line in DEV_FILE.read_text(encoding="utf-8").splitlines()}
        # Short traps such as "STOP" may be in both; real messages must not be copied.
        assert not {text for text in holdout & dev if len(text) > 10}
