"""`/nmerror`: an answer in the ack for the person who asked, or a channel setting announced to everyone."""
from __future__ import annotations

import logging

from replies_stubs import CHANNEL, USER

from nmbot.replies import answers
from nmbot.replies.commands import Command, answer_command
from nmbot.replies.threads import autoreply_mode

LOG = logging.getLogger("test.replies")


def ask(deps, text: str, channel: str = CHANNEL) -> list[tuple[str, dict]]:
    acks: list[tuple[str, dict]] = []
    answer_command(deps, Command(text=text, channel=channel, user=USER), lambda kind, message: acks.append(
        (kind, message)), LOG)
    return acks


def test_a_code_is_answered_privately_in_the_ack_and_counted(deps):
    [(response_type, message)] = ask(deps, "-2004")
    assert response_type == "ephemeral" and "No coverage available" in str(message["blocks"])
    assert deps.metrics.replies == [("card", "command")] and deps.usage.rows == [("card", "command", CHANNEL, -2004)]


def test_help_and_the_catalog_are_not_counted_as_answers(deps):
    assert [kind for kind, _ in ask(deps, "") + ask(deps, "list")] == ["ephemeral", "ephemeral"]
    assert deps.metrics.replies == [("help", "command"), ("catalog", "command")] and deps.usage.rows == []


def test_a_channel_setting_is_announced_in_the_channel_and_changes_auto_replies(deps):
    [(response_type, message)] = ask(deps, "autoreply shadow")
    assert response_type == "in_channel" and f"<@{USER}>" in message["text"]
    assert autoreply_mode(deps, CHANNEL, None) == "shadow"
    [(response_type, _)] = ask(deps, "mute 2h")
    assert response_type == "in_channel" and autoreply_mode(deps, CHANNEL, None) == "off"
    ask(deps, "unmute")
    assert autoreply_mode(deps, CHANNEL, None) == "shadow"
    assert deps.metrics.replies == []  # settings are not replies to count


def test_a_mistaken_setting_is_explained_privately_and_changes_nothing(deps):
    for text in ("autoreply loud", "mute forever", "mute 90d"):
        [(response_type, _)] = ask(deps, text)
        assert response_type == "ephemeral"
    [(_, message)] = ask(deps, "autoreply off", channel="")
    assert "need a channel" in message["text"]
    assert autoreply_mode(deps, CHANNEL, None) == "on"


def test_a_setting_the_store_cannot_save_says_so(deps):
    deps.store.close()
    [(response_type, message)] = ask(deps, "autoreply off")
    assert response_type == "ephemeral" and "nothing changed" in message["text"]


def test_a_failing_answer_is_still_acknowledged_with_an_apology(deps, monkeypatch, caplog):
    def broken(*_):
        raise RuntimeError("boom")

    monkeypatch.setattr(answers, "command_reply", broken)
    [(response_type, message)] = ask(deps, "-2004")
    assert response_type == "ephemeral" and "Something went wrong on my side" in message["text"]
    assert "boom" not in str(message) and "/nmerror could not build an answer" in caplog.text
