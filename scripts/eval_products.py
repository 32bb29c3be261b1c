"""Measure the stock-question matcher and its answers on labelled questions.

Usage: python scripts/eval_products.py [--split dev|holdout|all] [--verbose] [--no-fail]
                                       [--questions FILE] [--catalogue FILE]

Reads tests/data/product-questions.jsonl (JSON lines of {"text", "lang", "expect"}) against
tests/data/catalogue-demo.json. `expect` is {"variant": SKU}, {"product": SKU, "ask": "size"|"color"},
{"ambiguous": [SKU, ...]}, {"none": true} or {"not_a_stock_question": true}; product-level labels are
scored by the product of the SKU (an ambiguous answer must name the same set of products).

The split is fixed before any rule is written: a question is in HOLDOUT when the first byte of the
sha256 of its text is divisible by 4 (about a quarter), else in DEV. Rules are tuned on DEV only.

Prints accuracy per language and per expected kind, the overall kind accuracy, the VARIANT-MATCHING
ACCURACY (rows labelled variant: exact SKU) and the FALSE-STOCK STATEMENTS: answers that offer to hold
(so say "in stock") a variant other than the labelled one, or one the catalogue has none of, or state
a count that is not the catalogue's. Exits 1 when variant accuracy < 95 % or any false-stock
statement (unless --no-fail). Pure: no Django.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from catalog.answers import StockAnswer, stock_answer  # noqa: E402
from catalog.matching import Catalogue, Match, match_question  # noqa: E402

QUESTIONS = REPO_ROOT / "tests" / "data" / "product-questions.jsonl"
CATALOGUE = REPO_ROOT / "tests" / "data" / "catalogue-demo.json"
VARIANT_TARGET = 0.95
FALSE_STOCK_TARGET = 0
HOLD_HOURS = 24
_NUMBER_RE = re.compile(r"(?<![\w.,])\d+(?![\w.,]\d)")


def in_holdout(text: str) -> bool:
    return hashlib.sha256(text.encode("utf-8")).digest()[0] % 4 == 0


def load_rows(path: Path, split: str) -> list[dict]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if split == "all":
        return rows
    return [row for row in rows if in_holdout(row["text"]) == (split == "holdout")]


@dataclass
class Result:
    row: dict
    expected: str
    match: Match
    answer: StockAnswer
    kind_ok: bool
    ok: bool
    false_stock: str  # why, or ""


@dataclass
class Report:
    results: list[Result] = field(default_factory=list)

    def accuracy(self, results: list[Result], attribute: str = "ok") -> float:
        return sum(getattr(r, attribute) for r in results) / len(results) if results else 0.0

    @property
    def variant_rows(self) -> list[Result]:
        return [r for r in self.results if r.expected == "variant"]

    @property
    def variant_accuracy(self) -> float:
        return self.accuracy(self.variant_rows)

    @property
    def false_stock(self) -> list[Result]:
        return [r for r in self.results if r.false_stock]

    def targets_met(self) -> bool:
        return self.variant_accuracy >= VARIANT_TARGET and len(self.false_stock) <= FALSE_STOCK_TARGET


def expected_kind(expect: dict) -> str:
    return next(k for k in ("variant", "product", "ambiguous", "none", "not_a_stock_question") if k in expect)


def is_right(expect: dict, match: Match, product_of: dict[str, str]) -> bool:
    kind = expected_kind(expect)
    if match.kind != kind:
        return False
    if kind == "variant":
        return match.item is not None and match.item.sku == expect["variant"]
    if kind == "product":
        return (
            bool(match.items)
            and match.items[0].product == product_of.get(expect["product"])
            and (match.ask == expect.get("ask", match.ask))
        )
    if kind == "ambiguous":
        return {i.product for i in match.items} == {product_of.get(sku) for sku in expect["ambiguous"]}
    return True


def false_stock(expect: dict, answer: StockAnswer, catalogue: Catalogue) -> str:
    """Why the answer states stock it should not, or "" when every stock statement is right."""
    if answer.item is None:
        return "a count without an item" if _counts(answer, catalogue) else ""
    current = {i.sku: i for i in catalogue.items}.get(answer.item.sku)
    if current is None:
        return f"{answer.item.sku} is not in the catalogue"
    counts = _counts(answer, catalogue)
    if answer.offer == "hold":
        if expect.get("variant") != current.sku:
            return f"says {current.sku} is in stock; the question is about {json.dumps(expect)}"
        if current.available <= 0:
            return f"says {current.sku} is in stock; the catalogue has {current.available}"
        if any(count != current.available for count in counts):
            return f"states {counts} for {current.sku}; the catalogue has {current.available}"
    elif counts:
        return f"states {counts} for {current.sku}, which is out"
    return ""


def _counts(answer: StockAnswer, catalogue: Catalogue) -> list[int]:
    """Numbers in the text that are neither a size of the shop's nor the hold's hours: counts."""
    sizes = {item.size for item in catalogue.items}
    numbers = _NUMBER_RE.findall(answer.text)
    return [int(n) for n in numbers if n not in sizes and int(n) != HOLD_HOURS]


def evaluate(rows: list[dict], catalogue: Catalogue) -> Report:
    product_of = {item.sku: item.product for item in catalogue.items}
    report = Report()
    for row in rows:
        expect, language = row["expect"], row.get("lang", "fr")
        match = match_question(row["text"], catalogue, language=language)
        answer = stock_answer(match, language=language, catalogue=catalogue, hold_hours=HOLD_HOURS)
        kind = expected_kind(expect)
        report.results.append(
            Result(
                row,
                kind,
                match,
                answer,
                kind_ok=match.kind == kind,
                ok=is_right(expect, match, product_of),
                false_stock=false_stock(expect, answer, catalogue),
            )
        )
    return report


def _line(label: str, results: list[Result], report: Report) -> str:
    return (
        f"  {label:<22} {len(results):>4}   kind {report.accuracy(results, 'kind_ok'):6.1%}"
        f"   right {report.accuracy(results):6.1%}"
    )


def print_report(report: Report, split: str, verbose: bool) -> None:
    by_language: dict[str, list[Result]] = defaultdict(list)
    by_kind: dict[str, list[Result]] = defaultdict(list)
    for result in report.results:
        by_language[result.row.get("lang", "?")].append(result)
        by_kind[result.expected].append(result)
    print(f"split: {split}, {len(report.results)} questions")
    print("per language (count, kind accuracy, right: kind and product/variant):")
    for language in sorted(by_language):
        print(_line(language, by_language[language], report))
    print("per expected kind:")
    for kind in sorted(by_kind):
        print(_line(kind, by_kind[kind], report))
    print(_line("overall", report.results, report))
    print(f"overall kind accuracy: {report.accuracy(report.results, 'kind_ok'):.1%}")
    variants = report.variant_rows
    print(
        f"VARIANT-MATCHING ACCURACY: {report.variant_accuracy:.1%} "
        f"({sum(r.ok for r in variants)}/{len(variants)}, target >= {VARIANT_TARGET:.0%})"
    )
    print(f"FALSE-STOCK STATEMENTS: {len(report.false_stock)} (target {FALSE_STOCK_TARGET})")
    if verbose:
        for result in report.results:
            if not result.ok or result.false_stock:
                _print_failure(result)


def _print_failure(result: Result) -> None:
    match = result.match
    got = match.item.sku if match.item else ",".join(i.sku for i in match.items[:3])
    print(f"- [{result.row.get('lang')}] {result.row['text']!r}")
    print(f"    expected {json.dumps(result.row['expect'])}; got {match.kind} {got} ask={match.ask!r}")
    if result.false_stock:
        print(f"    FALSE STOCK: {result.false_stock}")
    if result.answer.text:
        print(f"    answer: {result.answer.text}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", choices=("dev", "holdout", "all"), default="all")
    parser.add_argument("--verbose", action="store_true", help="list every failure")
    parser.add_argument("--no-fail", action="store_true", help="exit 0 even when targets are missed")
    parser.add_argument("--questions", type=Path, default=QUESTIONS)
    parser.add_argument("--catalogue", type=Path, default=CATALOGUE)
    args = parser.parse_args(argv)
    report = evaluate(load_rows(args.questions, args.split), Catalogue.from_json(args.catalogue))
    print_report(report, args.split, args.verbose)
    if report.targets_met() or args.no_fail:
        return 0
    print("targets missed")
    return 1


if __name__ == "__main__":
    sys.exit(main())
