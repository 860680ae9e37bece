"""The plain handlers behind the listeners, without Slack."""
from __future__ import annotations

import logging

import pytest

from nmbot.engine.resolver import Resolver
from nmbot.engine.scanner import Scanner
from nmbot.settings import Settings
from nmbot.replies import answers
from nmbot.slack.deps import Deps
from nmbot.slack.files import log_files, may_send_token
from nmbot.slack.listeners.actions.buttons import parse_value
from nmbot.slack.listeners.commands import nmerror
from nmbot.slack.listeners.events.messages import is_person_posting
from nmbot.store import open_store

BOT = "UBOT0001"


@pytest.fixture
def deps(kb) -> Deps:
    return Deps(Settings(), kb, Resolver(kb), Scanner(kb), open_store("memory://"), BOT)


def test_question_naming_a_code_gets_the_card_without_log_evidence(deps):
    reply = answers.answer_text(deps, "what does error -2004 mean?")
    assert (reply.kind, reply.codes) == ("card", (-2004,))
    assert "Seen in your log" not in str(reply.message)


def test_pasted_log_with_one_code_gets_the_card_with_evidence(deps):
    reply = answers.answer_text(deps, "seeing this:\n  errorCode=-2004 callee=+6591234567")
    assert reply.kind == "card" and "Seen in your log" in str(reply.message)


def test_text_with_several_codes_is_summarised(deps):
    reply = answers.answer_text(deps, 'errorCode=-2004 then errorCode="-2010"')
    assert reply.kind == "summary" and sorted(reply.codes) == [-2010, -2004]


def test_command_words(deps):
    assert answers.command_reply(deps, "").kind == "help"
    assert answers.command_reply(deps, " List ").kind == "catalog"
    assert answers.command_reply(deps, "-2009").message["blocks"][0]["type"] == "header"
    assert answers.command_reply(deps, "what is -2042").kind == "suggestions"
    assert answers.command_reply(deps, "is lunch ready").kind == "not_sure"


def test_unanswered_questions_are_remembered_with_phone_numbers_masked(deps):
    reply = answers.answer_text(deps, "why does +6591234567 not ring")
    answers.remember(deps, reply, surface="command", channel="C1", question="why does +6591234567 not ring")
    deps.usage.flush()
    [row] = deps.store.unanswered()
    assert "6591234567" not in row.text


def test_a_closed_store_does_not_break_answers(deps):
    deps.store.close()
    answers.remember(deps, answers.answer_text(deps, "-2004"), surface="command", channel="C1")


def test_mentions_are_recognised_and_removed():
    assert answers.mentions(f"hey <@{BOT}> look", BOT) and answers.mentions(f"<@{BOT}|nmbot>", BOT)
    assert not answers.mentions("hey <@U0OTHER> look", BOT) and not answers.mentions("hey", "")
    assert answers.without_mention(f"<@{BOT}> what about <@U0OTHER>?", BOT) == "what about <@U0OTHER>?"


def test_who_counts_as_a_person_posting(deps):
    person = {"type": "message", "user": "U1", "text": "errorCode=-2004", "ts": "1.1", "channel": "C1"}
    assert is_person_posting(deps, person)
    assert is_person_posting(deps, {**person, "subtype": "thread_broadcast"})
    for other in ({"bot_id": "B1"}, {"subtype": "bot_message"}, {"user": BOT}, {"subtype": "message_changed"},
                  {"text": f"<@{BOT}> errorCode=-2004"}, {"user": None}):
        assert not is_person_posting(deps, {**person, **other}), other


def test_button_values():
    assert parse_value("-2004") == (-2004, None)
    assert parse_value("-2004@1700000000.000100") == (-2004, "1700000000.000100")
    for bad in (None, "", "2004", "-2004@<!channel>", "-2004@1.2@3", 7):
        assert parse_value(bad) == (None, None)


def test_only_log_like_files_are_read():
    files = [{"name": "a.log"}, {"name": "b.PNG", "filetype": "png"}, {"name": "Untitled", "mode": "snippet"},
             {"name": "c.JSON"}, {"id": "F1", "file_access": "check_file_info"}, "junk"]
    assert [f.get("name", f.get("id")) for f in log_files({"files": files})] == ["a.log", "Untitled", "c.JSON", "F1"]
    assert log_files({}) == [] and log_files({"files": [{"name": f"{i}.log"} for i in range(9)]})[-1]["name"] == "4.log"


def test_the_bot_token_travels_only_to_slacks_file_hosts_or_a_loopback_api_stand_in():
    api = "http://127.0.0.1:8080/api/"
    assert may_send_token("https://files.slack.com/files-pri/T1-F1/a.log", "https://slack.com/api/")
    assert may_send_token("http://127.0.0.1:8080/files/F1", api)
    assert not may_send_token("http://files.example/F1", api)
    assert not may_send_token("https://files.example/F1", api)
    assert not may_send_token("http://127.0.0.1:9999/files/F1", api)


def test_a_failing_answer_is_still_acknowledged(deps, monkeypatch):
    def broken(*_):
        raise RuntimeError("boom")

    monkeypatch.setattr(answers, "command_reply", broken)
    acks = []
    nmerror.handle_nmerror(deps, lambda **kw: acks.append(kw), {"text": "-2004"}, logging.getLogger("test"))
    [ack] = acks
    assert ack["response_type"] == "ephemeral" and "Something went wrong on my side" in ack["text"]
    assert "boom" not in str(ack)


def test_another_products_code_is_a_reply_kind_of_its_own(deps):
    reply = answers.answer_text(deps, "Number Lookup 2004")
    assert (reply.kind, reply.codes, reply.answered) == ("other_product", (), False)
    assert "provider timeout" in str(reply.message)
    answers.remember(deps, reply, surface="mention", channel="C1", question="Number Lookup 2004")
    deps.usage.flush()
    assert [(e.kind, e.surface) for e in deps.store.events()] == [("other_product", "mention")]
    assert deps.store.unanswered() == []
    assert deps.metrics.abstentions.value(surface="mention") == 1  # no card given
    assert deps.metrics.answers.value(surface="mention") == 0


def test_a_voice_api_line_with_a_number_masking_message_is_not_a_finding(deps):
    reply = answers.answer_text(deps, '{"statusCode": -1015, "statusMessage": "The validity period of the call flow '
                                      'request has expired"}')
    assert reply.kind == "other_product" and "-1015" in reply.message["text"]


def test_a_question_in_doubt_gets_the_code_as_a_suggestion(deps):
    reply = answers.command_reply(deps, "what does 2003 mean")
    assert (reply.kind, reply.suggested) == ("suggestions", (-2003,))
    assert "no minus sign" in str(reply.message)
