"""Answer quality on the labelled evaluation set.

    python tests/eval/evaluate.py            # print the figures, exit 1 if a target is missed
    python tests/eval/evaluate.py --misses   # also list every miss

The questions and logs under data/ were written the way users ask and paste,
independently of the knowledge base's own phrases. test_eval_quality.py runs
the same checks in the test suite, so no change can quietly lower quality.
"""
from __future__ import annotations

import argparse
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.engine.knowledge import KnowledgeBase, load
from bot.engine.resolver import Resolver
from bot.engine.scanner import Scanner

DATA = Path(__file__).parent / "data"
ANSWERING_KINDS = ("code-form", "message", "paraphrase", "typo")
ABSTAINING_KINDS = ("off-topic", "unknown-code")
# Minimum top-1 accuracy per kind (or group of kinds), and what must never happen.
TARGETS = {("code-form",): 1.0, ("message",): 1.0, ("paraphrase", "typo"): 0.97}
SCAN_PRECISION_TARGET = 1.0
SCAN_RECALL_TARGET = 0.97


@dataclass
class Report:
    accuracy: dict[str, tuple[int, int]] = field(default_factory=dict)  # kind -> (right, total)
    wrong_cards: dict[str, int] = field(default_factory=dict)  # abstaining kind -> answers given
    question_misses: list[str] = field(default_factory=list)
    scan_tp: int = 0
    scan_fp: int = 0
    scan_fn: int = 0
    decoy_findings: int = 0
    log_misses: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.scan_tp / max(self.scan_tp + self.scan_fp, 1)

    @property
    def recall(self) -> float:
        return self.scan_tp / max(self.scan_tp + self.scan_fn, 1)

    def failures(self) -> list[str]:
        failed = []
        for kinds, minimum in TARGETS.items():
            right = sum(self.accuracy.get(k, (0, 0))[0] for k in kinds)
            total = sum(self.accuracy.get(k, (0, 0))[1] for k in kinds)
            if total == 0 or right / total < minimum:
                failed.append(f"{' + '.join(kinds)}: {right}/{total} right, target {minimum:.0%}")
        for kind, wrong in self.wrong_cards.items():
            if wrong:
                failed.append(f"{kind}: {wrong} card(s) posted where none should be")
        if self.decoy_findings:
            failed.append(f"decoy logs: {self.decoy_findings} finding(s), target 0")
        if self.precision < SCAN_PRECISION_TARGET:
            failed.append(f"scan precision {self.precision:.1%}, target {SCAN_PRECISION_TARGET:.0%}")
        if self.recall < SCAN_RECALL_TARGET:
            failed.append(f"scan recall {self.recall:.1%}, target {SCAN_RECALL_TARGET:.0%}")
        return failed

    def lines(self) -> list[str]:
        out = ["questions (top-1 accuracy):"]
        for kind in ANSWERING_KINDS:
            right, total = self.accuracy.get(kind, (0, 0))
            out.append(f"  {kind:<12} {right:>3}/{total:<3} {right / max(total, 1):7.1%}")
        for kind in ABSTAINING_KINDS:
            right, total = self.accuracy.get(kind, (0, 0))
            out.append(f"  {kind:<12} {right:>3}/{total:<3} {right / max(total, 1):7.1%}   "
                       f"wrong cards: {self.wrong_cards.get(kind, 0)}")
        right = sum(self.accuracy.get(k, (0, 0))[0] for k in ("paraphrase", "typo"))
        total = sum(self.accuracy.get(k, (0, 0))[1] for k in ("paraphrase", "typo"))
        out.append(f"  {'paraphrase + typo':<12} {right:>3}/{total:<3} {right / max(total, 1):7.1%}")
        out.append("logs:")
        out.append(f"  scan precision {self.precision:.1%}  recall {self.recall:.1%}  "
                   f"(tp {self.scan_tp}, fp {self.scan_fp}, fn {self.scan_fn})")
        out.append(f"  findings on decoy logs: {self.decoy_findings}")
        return out


def load_questions() -> list[dict]:
    return yaml.safe_load((DATA / "questions.yaml").read_text(encoding="utf-8"))


def load_logs() -> list[dict]:
    return yaml.safe_load((DATA / "logs.yaml").read_text(encoding="utf-8"))


def evaluate(kb: KnowledgeBase | None = None) -> Report:
    kb = kb or load()
    report = Report()
    evaluate_questions(Resolver(kb), report)
    evaluate_logs(Scanner(kb), report)
    return report


def evaluate_questions(resolver: Resolver, report: Report) -> None:
    tally: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for item in load_questions():
        kind, expect = item["kind"], item["expect"]
        result = resolver.resolve(item["q"])
        got = result.answer.code if result.answer else None
        tally[kind][1] += 1
        if got == expect:
            tally[kind][0] += 1
        else:
            report.question_misses.append(f"[{kind}] {item['q']!r}: expected {expect}, got {got} ({result.explain()})")
        if kind in ABSTAINING_KINDS and got is not None:
            report.wrong_cards[kind] = report.wrong_cards.get(kind, 0) + 1
    for kind in ABSTAINING_KINDS:
        report.wrong_cards.setdefault(kind, 0)
    report.accuracy = {k: (v[0], v[1]) for k, v in tally.items()}


def evaluate_logs(scanner: Scanner, report: Report) -> None:
    for item in load_logs():
        expect = Counter({int(k): v for k, v in (item.get("expect") or {}).items()})
        with open(DATA / "logs" / item["file"], "rb") as f:
            got = Counter({x.code: x.count for x in scanner.scan_stream(f)})
        for code in expect.keys() | got.keys():
            report.scan_tp += min(expect[code], got[code])
            report.scan_fp += max(0, got[code] - expect[code])
            report.scan_fn += max(0, expect[code] - got[code])
        if item["kind"] == "decoy":
            report.decoy_findings += sum(got.values())
        if got != expect:
            report.log_misses.append(f"[{item['kind']}] {item['file']}: expected {dict(expect)}, got {dict(got)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--misses", action="store_true", help="list every miss")
    args = parser.parse_args(argv)
    report = evaluate()
    print("\n".join(report.lines()))
    if args.misses:
        print("misses:")
        for miss in report.question_misses + report.log_misses:
            print("  " + miss)
    failures = report.failures()
    print("targets: " + ("all met" if not failures else "MISSED: " + "; ".join(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
