"""Measure the offline reply engine on labelled message files.

Usage: python scripts/eval_replies.py [FILE ...]

Each FILE is JSON lines of {"text", "lang", "action"}; action is reply, escalate, opt_out,
opt_in or reply_or_none (either a reply or staying silent is fine). Without arguments it reads
../shared/data/replies-dev.jsonl (beside the repo) and tests/data/replies-holdout.jsonl.
Prints count, language accuracy, action accuracy, the action confusion and every failure.

Files of {"text", "lang", "fact", "day"} (a "fact" key: hours, address, delivery, payment, returns,
services, parking; "day" the date an hours question is about, or null) measure whether the reply carries
the right fact in the right language, for FACTS_SHOP on FACTS_NOW; without arguments
tests/data/replies-facts.jsonl, replies-facts-holdout.jsonl and replies-facts-final.jsonl, each written
by a helper session that had not read the engine; the rules were tuned on the first two, never on the
final one (see eval_facts.py and the README). No Django needed.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from eval_facts import evaluate_facts, print_facts_report  # noqa: E402

from webhooks.replies import Action, ShopInfo, decide  # noqa: E402

DEFAULT_FILES = (
    REPO_ROOT.parent / "shared" / "data" / "replies-dev.jsonl",
    REPO_ROOT / "tests" / "data" / "replies-holdout.jsonl",
    REPO_ROOT / "tests" / "data" / "replies-facts.jsonl",
    REPO_ROOT / "tests" / "data" / "replies-facts-holdout.jsonl",
    REPO_ROOT / "tests" / "data" / "replies-facts-final.jsonl",
)
# A typical client: a French boutique that filled in all of its details.
EVAL_SHOP = ShopInfo(
    name="Boutique Coccinelle",
    language="fr",
    address="12 rue des Lilas, 69002 Lyon",
    hours_note="Mar-Sam 10h-19h, Dim 14h-18h",
    website="https://coccinelle.example",
    phone="04 72 00 00 00",
)


@dataclass(frozen=True)
class Result:
    text: str
    want_lang: str
    want_action: str
    got_lang: str
    got_action: str
    intent: str

    @property
    def lang_ok(self) -> bool:
        return self.got_lang == self.want_lang

    @property
    def action_ok(self) -> bool:
        return action_matches(self.want_action, self.got_action)


def action_matches(expected: str, got: str) -> bool:
    if expected == "reply_or_none":
        return got in (Action.REPLY, Action.NONE)
    return got == expected


def load_cases(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def evaluate(cases: list[dict], shop: ShopInfo = EVAL_SHOP) -> list[Result]:
    results = []
    for case in cases:
        decision = decide(case["text"], shop=shop)
        results.append(
            Result(
                case["text"],
                case["lang"],
                case["action"],
                decision.language,
                decision.action,
                decision.intent,
            )
        )
    return results


def accuracy(results: list[Result], attribute: str) -> float:
    return sum(getattr(r, attribute) for r in results) / len(results) if results else 0.0


def print_report(path: Path, results: list[Result]) -> None:
    print(f"== {path}")
    print(f"count: {len(results)}")
    print(f"language accuracy: {accuracy(results, 'lang_ok'):.3f}")
    print(f"action accuracy:   {accuracy(results, 'action_ok'):.3f}")
    confusion = Counter((r.want_action, str(r.got_action)) for r in results)
    print("action confusion (expected -> got: n):")
    for (want, got), count in sorted(confusion.items()):
        print(f"  {want:>13} -> {got:<9} {count}")
    failures = [r for r in results if not (r.lang_ok and r.action_ok)]
    print(f"failures: {len(failures)}")
    for r in failures:
        print(
            f"  {r.text[:70]!r}: lang {r.want_lang}->{r.got_lang}, "
            f"action {r.want_action}->{r.got_action} (intent {r.intent})"
        )


def main(argv: list[str]) -> int:
    paths = [Path(arg) for arg in argv] or [p for p in DEFAULT_FILES if p.exists()]
    if not paths:
        print("no input files found", file=sys.stderr)
        return 2
    for path in paths:
        cases = load_cases(path)
        if cases and "fact" in cases[0]:
            print_facts_report(path, evaluate_facts(cases))
        else:
            print_report(path, evaluate(cases))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
