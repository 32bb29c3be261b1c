"""Measure webhooks.names.name_from_text on labelled JSONL files.

Usage: python scripts/eval_names.py [FILE ...]
Default files: ../shared/data/names-dev.jsonl (beside the repo), tests/data/names-holdout.jsonl and
tests/data/names-world.jsonl (names the first-name list does not know, and their traps).
Each line: {"text": ..., "first_name": str|null, "last_name": str|null}. No Django needed.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from webhooks.names import name_from_text  # noqa: E402

DEFAULT_FILES = (
    REPO_ROOT.parent / "shared" / "data" / "names-dev.jsonl",
    REPO_ROOT / "tests" / "data" / "names-holdout.jsonl",
    REPO_ROOT / "tests" / "data" / "names-world.jsonl",
)


@dataclass
class Report:
    count: int = 0
    exact: int = 0
    false_names: int = 0  # a name returned where none is expected, or a different name
    missed: int = 0  # no name (or only part of it) returned where one is expected
    failures: list[tuple[str, tuple, tuple]] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.exact / self.count if self.count else 0.0

    @property
    def false_rate(self) -> float:
        return self.false_names / self.count if self.count else 0.0


def load(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def evaluate(rows: list[dict]) -> Report:
    report = Report()
    for row in rows:
        expected = (row.get("first_name"), row.get("last_name"))
        result = name_from_text(row["text"])
        got = (result.first_name, result.last_name) if result else (None, None)
        report.count += 1
        if got == expected:
            report.exact += 1
            continue
        if got == (None, None) or all(g in (None, e) for g, e in zip(got, expected, strict=True)):
            report.missed += 1  # nothing, or a correct part of the name: incomplete, not wrong
        else:
            report.false_names += 1
        report.failures.append((row["text"], expected, got))
    return report


def main(argv: list[str]) -> int:
    paths = [Path(arg) for arg in argv] or list(DEFAULT_FILES)
    for path in paths:
        if not path.exists():
            print(f"{path}: missing, skipped")
            continue
        report = evaluate(load(path))
        print(f"== {path}")
        print(
            f"count={report.count} exact={report.exact} accuracy={report.accuracy:.3f} "
            f"false_names={report.false_names} ({report.false_rate:.1%}) missed={report.missed}"
        )
        for text, expected, got in report.failures:
            partial = all(g in (None, e) for g, e in zip(got, expected, strict=True))
            kind = "MISSED" if partial else "FALSE"
            print(f"  {kind}: {text!r}\n    expected={expected} got={got}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
