"""Answer quality on the independent evaluation set must meet its targets."""
from __future__ import annotations

import pytest
from evaluate import TARGETS, evaluate, load_logs, load_questions


@pytest.fixture(scope="module")
def report(kb):
    return evaluate(kb)


def test_evaluation_set_is_as_large_as_promised():
    questions = load_questions()
    kinds = {q["kind"] for q in questions}
    assert len(questions) >= 150 and kinds == {"code-form", "message", "paraphrase", "typo", "off-topic", "unknown-code"}
    logs = load_logs()
    assert len(logs) >= 30 and sum(item["kind"] == "decoy" for item in logs) >= 10


def test_quality_targets_are_met(report):
    assert report.failures() == [], "\n".join(report.lines() + report.question_misses + report.log_misses)


def test_targets_are_the_promised_ones():
    assert TARGETS == {("code-form",): 1.0, ("message",): 1.0, ("paraphrase", "typo"): 0.97}


def test_no_wrong_cards_and_no_decoy_findings(report):
    assert report.wrong_cards == {"off-topic": 0, "unknown-code": 0}
    assert report.decoy_findings == 0
