"""Answer quality on the independent evaluation set must meet its targets."""
from __future__ import annotations

from collections import Counter

import pytest
from evaluate import (
    ANSWERABLE_TARGET,
    KINDS,
    LOOKALIKE_QUESTION_KINDS,
    TARGETS,
    evaluate,
    load_logs,
    load_questions,
)

# The look-alike targets (other products' codes, chatter, symptoms) are being built in
# issue 11; the lead removes this mark when the features land.
@pytest.fixture(scope="module")
def report(kb):
    return evaluate(kb)


def test_evaluation_set_is_as_large_as_promised():
    questions = load_questions()
    assert len(questions) >= 300 and {q["kind"] for q in questions} == set(KINDS)
    kinds = Counter(q["kind"] for q in questions)
    assert kinds["symptom"] >= 40 and kinds["chatter"] >= 30 and kinds["voice-api"] >= 12
    assert kinds["bare-number"] >= 10
    other_product = [q for q in questions if q["kind"] == "other-product"]
    assert sum(q["expect"] is None for q in other_product) >= 30
    assert sum(q["expect"] is not None for q in other_product) >= 8
    logs = load_logs()
    assert len(logs) >= 38 and sum(item["kind"] == "decoy" for item in logs) >= 10
    assert sum(item["kind"] == "decoy-other-product" for item in logs) >= 4
    assert sum(item["kind"] == "mixed-other-product" for item in logs) >= 3


def test_every_question_that_expects_a_card_expects_a_number_masking_code():
    for item in load_questions():
        assert item["expect"] is None or item["expect"] == -9999 or -2010 <= item["expect"] <= -2001, item


def test_quality_targets_are_met(report):
    assert report.established_failures() == [], "\n".join(
        report.lines() + report.question_misses + report.log_misses)


def test_targets_are_the_promised_ones():
    assert TARGETS == {("code-form",): 1.0, ("message",): 1.0, ("paraphrase", "typo"): 0.97}
    assert ANSWERABLE_TARGET == 0.97


def test_no_wrong_cards_and_no_decoy_findings(report):
    assert report.wrong_cards["off-topic"] == 0 and report.wrong_cards["unknown-code"] == 0
    assert report.decoy_findings == 0


def test_answerable_questions_get_the_right_card(report):
    right, total = report.answerable
    assert right / total >= ANSWERABLE_TARGET, "\n".join(report.lines() + report.question_misses)


def test_no_cards_for_other_products_codes_or_chatter(report):
    assert {kind: report.wrong_cards[kind] for kind in LOOKALIKE_QUESTION_KINDS} == dict.fromkeys(
        LOOKALIKE_QUESTION_KINDS, 0), "\n".join(report.lines() + report.question_misses)


def test_other_products_logs_report_only_number_masking_codes(report):
    assert report.other_product_decoy_findings == 0, "\n".join(report.log_misses)
    assert report.other_product_mixed_misses == 0, "\n".join(report.log_misses)
