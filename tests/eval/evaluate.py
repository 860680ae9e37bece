"""Answer quality on the labelled evaluation set.

    python tests/eval/evaluate.py            # print the figures, exit 1 if a target is missed
    python tests/eval/evaluate.py --misses   # also list every miss

The questions and logs under data/ were written the way users ask and paste,
independently of the knowledge base's own phrases: besides codes, messages,
paraphrases and typos, symptoms without a code, other 8x8 products' look-alike
codes (SMS, chat apps, Number Lookup, Voice API) and chatter full of numbers.
test_eval_quality.py runs the same checks in the test suite, so no change can
quietly lower quality.
"""
from __future__ import annotations

import argparse
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from nmbot.engine.kb_files import load
from nmbot.engine.knowledge import KnowledgeBase
from nmbot.engine.resolver import Resolver
from nmbot.engine.scanner import Scanner

DATA = Path(__file__).parent / "data"
ANSWERING_KINDS = ("code-form", "message", "paraphrase", "typo", "symptom")
# Kinds that mostly expect no card; the few of their questions that also name a
# Number Masking code expect that code and count with the answerable ones.
ABSTAINING_KINDS = ("off-topic", "unknown-code", "other-product", "chatter", "voice-api")
# Judged question by question by its expect: a bare 2001-2010 is ours only in context.
MIXED_KINDS = ("bare-number",)
KINDS = ANSWERING_KINDS + ABSTAINING_KINDS + MIXED_KINDS
# Minimum top-1 accuracy per kind (or group of kinds), and what must never happen.
TARGETS = {("code-form",): 1.0, ("message",): 1.0, ("paraphrase", "typo"): 0.97}
# Right card over every question that expects one, whatever its kind; no card counts as a miss.
ANSWERABLE_TARGET = 0.97
SCAN_PRECISION_TARGET = 1.0
SCAN_RECALL_TARGET = 0.97
# The targets that came with telling Number Masking codes from other products' codes and
# chatter are reported apart, so the test suite can follow them while the features land.
LOOKALIKE_QUESTION_KINDS = ("other-product", "chatter", "voice-api", "bare-number")
LOOKALIKE_LOG_KINDS = ("decoy-other-product", "mixed-other-product")


@dataclass
class Report:
    accuracy: dict[str, tuple[int, int]] = field(default_factory=dict)  # kind -> (right, total)
    wrong_cards: dict[str, int] = field(default_factory=dict)  # kind -> cards where none was expected
    wrong_codes: dict[str, int] = field(default_factory=dict)  # kind -> cards for another code
    no_cards: dict[str, int] = field(default_factory=dict)  # kind -> no card where one was expected
    answerable: tuple[int, int] = (0, 0)  # (right, total) over questions that expect a card
    question_misses: list[str] = field(default_factory=list)
    scan_tp: int = 0
    scan_fp: int = 0
    scan_fn: int = 0
    decoy_findings: int = 0
    other_product_decoy_findings: int = 0
    other_product_mixed_misses: int = 0
    other_product_mixed_logs: int = 0
    log_misses: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.scan_tp / max(self.scan_tp + self.scan_fp, 1)

    @property
    def recall(self) -> float:
        return self.scan_tp / max(self.scan_tp + self.scan_fn, 1)

    def failures(self) -> list[str]:
        return self.established_failures() + self.lookalike_failures()

    def established_failures(self) -> list[str]:
        failed = []
        for kinds, minimum in TARGETS.items():
            right, total = self.right_of(kinds)
            if total == 0 or right / total < minimum:
                failed.append(f"{' + '.join(kinds)}: {right}/{total} right, target {minimum:.0%}")
        for kind in ABSTAINING_KINDS:
            if kind not in LOOKALIKE_QUESTION_KINDS and self.wrong_cards.get(kind):
                failed.append(f"{kind}: {self.wrong_cards[kind]} card(s) posted where none should be")
        if self.decoy_findings:
            failed.append(f"decoy logs: {self.decoy_findings} finding(s), target 0")
        if self.precision < SCAN_PRECISION_TARGET:
            failed.append(f"scan precision {self.precision:.1%}, target {SCAN_PRECISION_TARGET:.0%}")
        if self.recall < SCAN_RECALL_TARGET:
            failed.append(f"scan recall {self.recall:.1%}, target {SCAN_RECALL_TARGET:.0%}")
        return failed

    def lookalike_failures(self) -> list[str]:
        failed = []
        right, total = self.answerable
        if total == 0 or right / total < ANSWERABLE_TARGET:
            failed.append(f"answerable questions: {right}/{total} right, target {ANSWERABLE_TARGET:.0%}")
        for kind in LOOKALIKE_QUESTION_KINDS:
            if self.wrong_cards.get(kind):
                failed.append(f"{kind}: {self.wrong_cards[kind]} card(s) posted where none should be")
        if self.other_product_decoy_findings:
            failed.append(f"other products' logs: {self.other_product_decoy_findings} finding(s), target 0")
        if self.other_product_mixed_misses:
            failed.append(f"other products' codes beside ours: {self.other_product_mixed_misses} of "
                          f"{self.other_product_mixed_logs} log(s) not reported exactly")
        return failed

    def right_of(self, kinds: tuple[str, ...]) -> tuple[int, int]:
        right = sum(self.accuracy.get(k, (0, 0))[0] for k in kinds)
        total = sum(self.accuracy.get(k, (0, 0))[1] for k in kinds)
        return right, total

    def lines(self) -> list[str]:
        out = ["questions (top-1 accuracy; wrong card = card where none should be, "
               "wrong code = card for another code, no card = abstained where one was expected):"]
        for kind in KINDS:
            right, total = self.accuracy.get(kind, (0, 0))
            out.append(f"  {kind:<14} {right:>3}/{total:<3} {right / max(total, 1):7.1%}   "
                       f"wrong cards: {self.wrong_cards.get(kind, 0):<3} wrong code: "
                       f"{self.wrong_codes.get(kind, 0):<3} no card: {self.no_cards.get(kind, 0)}")
        right, total = self.right_of(("paraphrase", "typo"))
        out.append(f"  {'paraphrase + typo':<17} {right:>3}/{total:<3} {right / max(total, 1):7.1%}")
        right, total = self.answerable
        out.append(f"  {'all answerable':<17} {right:>3}/{total:<3} {right / max(total, 1):7.1%}   "
                   f"target {ANSWERABLE_TARGET:.0%}")
        out.append(f"  cards where none should be, all kinds: {sum(self.wrong_cards.values())}")
        out.append("logs:")
        out.append(f"  scan precision {self.precision:.1%}  recall {self.recall:.1%}  "
                   f"(tp {self.scan_tp}, fp {self.scan_fp}, fn {self.scan_fn})")
        out.append(f"  findings on decoy logs: {self.decoy_findings}")
        out.append(f"  findings on other products' logs: {self.other_product_decoy_findings}")
        out.append(f"  other products' codes beside ours, reported exactly: "
                   f"{self.other_product_mixed_logs - self.other_product_mixed_misses}/{self.other_product_mixed_logs}")
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
    wrong_cards, wrong_codes, no_cards = Counter(), Counter(), Counter()
    answerable = [0, 0]
    for item in load_questions():
        kind, expect = item["kind"], item["expect"]
        result = resolver.resolve(item["q"])
        got = result.answer.code if result.answer else None
        tally[kind][1] += 1
        if expect is not None:
            answerable[1] += 1
            answerable[0] += got == expect
        if got == expect:
            tally[kind][0] += 1
            continue
        report.question_misses.append(f"[{kind}] {item['q']!r}: expected {expect}, got {got} ({result.explain()})")
        if expect is None:
            wrong_cards[kind] += 1
        elif got is None:
            no_cards[kind] += 1
        else:
            wrong_codes[kind] += 1
    report.accuracy = {k: (v[0], v[1]) for k, v in tally.items()}
    report.wrong_cards = {k: wrong_cards[k] for k in KINDS if k not in ANSWERING_KINDS}
    report.wrong_codes = dict(wrong_codes)
    report.no_cards = dict(no_cards)
    report.answerable = (answerable[0], answerable[1])


def evaluate_logs(scanner: Scanner, report: Report) -> None:
    for item in load_logs():
        kind = item["kind"]
        expect = Counter({int(k): v for k, v in (item.get("expect") or {}).items()})
        with open(DATA / "logs" / item["file"], "rb") as f:
            got = Counter({x.code: x.count for x in scanner.scan_stream(f)})
        if got != expect:
            report.log_misses.append(f"[{kind}] {item['file']}: expected {dict(expect)}, got {dict(got)}")
        if kind in LOOKALIKE_LOG_KINDS:
            tally_other_product_log(report, kind, expect, got)
        else:
            tally_established_log(report, kind, expect, got)


def tally_established_log(report: Report, kind: str, expect: Counter, got: Counter) -> None:
    for code in expect.keys() | got.keys():
        report.scan_tp += min(expect[code], got[code])
        report.scan_fp += max(0, got[code] - expect[code])
        report.scan_fn += max(0, expect[code] - got[code])
    if kind == "decoy":
        report.decoy_findings += sum(got.values())


def tally_other_product_log(report: Report, kind: str, expect: Counter, got: Counter) -> None:
    if kind == "decoy-other-product":
        report.other_product_decoy_findings += sum(got.values())
    else:
        report.other_product_mixed_logs += 1
        report.other_product_mixed_misses += got != expect


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
