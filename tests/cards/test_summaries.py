"""The reply to a pasted log: compact, a card button per known code, within Slack's limits, nothing injectable."""
from __future__ import annotations

import json

from block_checks import assert_within_limits, texts

from nmbot.cards.content import LogItem, LogSummary
from nmbot.cards.summaries import log_summary_message
from nmbot.engine.scanner import Finding

INJECTION = "<!channel> <!here> <@U0ATTACK> <https://evil.example|click> & more"


def item(code: int, known: bool = True, evidence: str = "errorCode=-2004") -> LogItem:
    return LogItem(code, known, 2, 7, evidence, "Title" if known else "Not in the knowledge base",
                   "Message" if known else "", "Do this first" if known else "")


def test_log_summary_is_compact_with_a_card_button_per_known_code():
    summary = LogSummary((item(-2004), item(-2099, known=False)), "nmbot knowledge base test")
    message = log_summary_message(summary)
    assert_within_limits(message)
    sections = [b for b in message["blocks"] if b["type"] == "section"]
    assert "found 2 Number Masking error codes" in sections[0]["text"]["text"]
    assert sections[1]["accessory"]["value"] == "-2004" and "accessory" not in sections[2]
    assert "2\u00d7, first on line 7" in sections[1]["text"]["text"]
    assert message["text"] == "Number Masking error codes found: -2004, -2099"


def test_log_summary_of_hundreds_of_codes_stays_within_limits():
    summary = LogSummary(tuple(item(-2100 - i, known=i % 2 == 0, evidence="e" * 1000) for i in range(300)), "f")
    message = log_summary_message(summary)
    assert_within_limits(message)
    assert "and 280 more" in json.dumps(message)


def test_log_summary_says_whose_first_step_it_is(kb):
    from nmbot.cards.content import log_summary

    findings = [Finding(-2005, True, 1, 1, "errorCode=-2005", kb.get(-2005)),
                Finding(-2001, True, 1, 2, "errorCode=-2001", kb.get(-2001))]
    sections = [b["text"]["text"] for b in log_summary_message(log_summary(kb, findings))["blocks"][1:3]]
    assert f"First step (8x8 docs): {kb.get(-2005).steps[0]}" in sections[0]  # 8x8's limit on `say` text
    assert f"First step (our notes): {kb.get(-2001).steps[0]}" in sections[1]


def test_log_summary_evidence_is_masked_and_escaped():
    message = log_summary_message(LogSummary((item(-2004, evidence=f"+6591234567 `{INJECTION}`"),), "f"))
    for text in texts(message):
        assert "6591234567" not in text and "<!channel>" not in text
