"""scripts/eval_products.py: the fixed dev/holdout split, the figures it prints, its exit status, and
the false-stock check it relies on (fed answers that do state wrong stock)."""

import json
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from catalog.answers import StockAnswer
from catalog.matching import Catalogue, Item

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "eval_products.py"
sys.path.insert(0, str(SCRIPT.parent))
import eval_products  # noqa: E402

CATALOGUE = Catalogue(
    (
        Item("RB-38", "Robe bleue", "38", "bleu", Decimal("89"), 2),
        Item("RB-40", "Robe bleue", "40", "bleu", Decimal("89"), 0),
    )
)


def run(*args, cwd=ROOT):
    # Without Django settings: the script is pure.
    env = {"PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=120
    )


def figure(output, label):
    found = re.search(rf"{label}: ([\d.]+)", output)
    assert found, output
    return float(found.group(1))


def test_the_report_prints_the_figures_and_exits_by_the_targets():
    result = run("--split", "dev")
    out = result.stdout
    assert result.stderr == ""
    for heading in ("per language", "per expected kind", "overall kind accuracy"):
        assert heading in out
    for language in ("fr", "en", "es", "it", "de"):
        assert re.search(rf"^  {language} +\d+ +kind +[\d.]+% +right +[\d.]+%$", out, re.M), out
    variant_accuracy = figure(out, "VARIANT-MATCHING ACCURACY")
    false_stock = figure(out, "FALSE-STOCK STATEMENTS")
    met = variant_accuracy >= 95 and false_stock == 0
    assert result.returncode == (0 if met else 1)
    assert ("targets missed" in out) == (not met)


def test_the_split_is_fixed_and_about_a_quarter_is_held_out():
    every = eval_products.load_rows(eval_products.QUESTIONS, "all")
    dev = eval_products.load_rows(eval_products.QUESTIONS, "dev")
    holdout = eval_products.load_rows(eval_products.QUESTIONS, "holdout")
    assert len(dev) + len(holdout) == len(every)
    assert {r["text"] for r in dev}.isdisjoint(r["text"] for r in holdout)
    assert 0.15 < len(holdout) / len(every) < 0.35
    assert eval_products.in_holdout("x") == eval_products.in_holdout("x")


@pytest.fixture
def questions(tmp_path):
    def write(*rows):
        path = tmp_path / "questions.jsonl"
        path.write_text("\n".join(json.dumps(row) for row in rows), encoding="utf-8")
        return str(path)

    return write


def test_missed_targets_exit_1_and_no_fail_exits_0(questions):
    # A wrong label: the matcher finds the 38, the label says 40, so variant accuracy is 0 %.
    path = questions(
        {
            "text": "la robe portefeuille bleue en 38 ?",
            "lang": "fr",
            "expect": {"variant": "ROB-PORT-BLEU-40"},
        }
    )
    failed = run("--questions", path, "--verbose")
    assert failed.returncode == 1
    assert "VARIANT-MATCHING ACCURACY: 0.0% (0/1" in failed.stdout
    # --verbose lists the failure, and the hold offered on the wrong variant is a false-stock statement.
    assert "la robe portefeuille bleue en 38" in failed.stdout
    assert "FALSE-STOCK STATEMENTS: 1" in failed.stdout
    assert "FALSE STOCK: says ROB-PORT-BLEU-38 is in stock" in failed.stdout
    assert run("--questions", path, "--no-fail").returncode == 0


def test_met_targets_exit_0(questions):
    path = questions(
        {
            "text": "la robe portefeuille bleue en 38 ?",
            "lang": "fr",
            "expect": {"variant": "ROB-PORT-BLEU-38"},
        },
        {"text": "Vous êtes ouverts dimanche ?", "lang": "fr", "expect": {"not_a_stock_question": True}},
    )
    result = run("--questions", path)
    assert result.returncode == 0, result.stdout
    assert "VARIANT-MATCHING ACCURACY: 100.0% (1/1" in result.stdout


HOLD_38 = StockAnswer(
    "oui, on l'a : Robe bleue, taille 38 ! Il en reste 2. De côté 24 h ?", "hold", CATALOGUE.items[0], False
)


@pytest.mark.parametrize(
    ("expect", "answer", "why"),
    [
        ({"variant": "RB-38"}, HOLD_38, ""),
        ({"variant": "RB-40"}, HOLD_38, "says RB-38 is in stock"),
        ({"ambiguous": ["RB-38"]}, HOLD_38, "says RB-38 is in stock"),
        ({"none": True}, HOLD_38, "says RB-38 is in stock"),
        (
            {"variant": "RB-38"},
            StockAnswer("oui, taille 38 ! Il en reste 5.", "hold", CATALOGUE.items[0], False),
            "states [5] for RB-38",
        ),
        (
            {"variant": "RB-40"},
            StockAnswer("oui, taille 40 !", "hold", CATALOGUE.items[1], False),
            "the catalogue has 0",
        ),
        (
            {"variant": "RB-40"},
            StockAnswer("plus de 40, il en reste 1 en 38.", "notify", CATALOGUE.items[1], False),
            "states [1] for RB-40, which is out",
        ),
        (
            {"variant": "RB-40"},
            StockAnswer("plus de 40, on l'a en 38.", "notify", CATALOGUE.items[1], False),
            "",
        ),
        ({"none": True}, StockAnswer("il en reste 3 !", "", None, True), "a count without an item"),
    ],
)
def test_false_stock_statements_are_caught(expect, answer, why):
    found = eval_products.false_stock(expect, answer, CATALOGUE)
    assert (why in found) if why else found == ""
    assert bool(found) == bool(why)
