"""What a reply says: one function from text and files to findings, one limit on a question's length."""
from __future__ import annotations

from nmbot.replies import MAX_QUESTION_CHARS
from nmbot.replies.answers import FileScan, answer_text, findings_in, remember
from nmbot.replies.kinds import Surface


def test_text_and_files_are_one_list_of_findings_with_counts_added(deps):
    files = FileScan(findings=[deps.scanner.scan_text("errorCode=-2004\nerrorCode=-2004"),
                               deps.scanner.scan_text("errorCode=-2010")])
    found = {f.code: f.count for f in findings_in(deps, "errorCode=-2004", files)}
    assert found == {-2004: 3, -2010: 1}
    assert findings_in(deps, "lunch?", FileScan()) == []


def test_binary_junk_holds_no_findings(deps):
    assert findings_in(deps, "\x00\x01\x02 errorCode=-2004 \x00", FileScan()) == []


def test_a_question_is_read_whole_up_to_slacks_message_limit(deps):
    question = "hello " * 500 + "what does -2004 mean?"  # past the first 2,000 characters
    reply = answer_text(deps, question)
    assert (reply.kind, reply.codes) == ("card", (-2004,))
    remember(deps, answer_text(deps, "x" * (MAX_QUESTION_CHARS + 10)), surface=Surface.COMMAND, channel="C1",
             question="x" * (MAX_QUESTION_CHARS + 10))
    [kept] = deps.usage.questions
    assert len(kept["text"]) == MAX_QUESTION_CHARS == 40_000
