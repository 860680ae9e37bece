"""Each listener's handler on its own, with Bolt's arguments mocked (as in Bolt's starter template):
no server, no Web API, no threads. The end-to-end tests cover Bolt's wiring around them."""
from __future__ import annotations

import logging
from unittest.mock import MagicMock

import pytest

from nmbot.settings import Settings
from nmbot.slack.deps import Deps
from nmbot.slack.engine_holder import Engine
from nmbot.slack.listeners.actions import handle_open_card
from nmbot.slack.listeners.commands import handle_nmerror
from nmbot.slack.listeners.events import handle_message
from nmbot.store import open_store

LOG = logging.getLogger("test.listeners")
CHANNEL, USER = "C0000CHAN", "U0000USER"


@pytest.fixture
def deps(kb):
    engine = Engine.build(kb)
    deps = Deps(Settings(), engine.kb, engine.resolver, engine.scanner, open_store("memory://"), "U0000BOT")
    yield deps
    deps.listener_executor.shutdown()
    deps.file_readers.shutdown()
    deps.usage.close()
    deps.store.close()


def blocks_text(blocks: list) -> str:
    return repr(blocks)


def test_nmerror_answers_a_code_in_its_ack(deps):
    ack = MagicMock()
    handle_nmerror(deps, ack, {"text": "-2004", "channel_id": CHANNEL, "user_id": USER}, LOG)
    ack.assert_called_once()
    answer = ack.call_args.kwargs
    assert answer["response_type"] == "ephemeral" and "No coverage available" in blocks_text(answer["blocks"])
    assert deps.metrics.answers.values() == {("command",): 1}


def test_nmerror_without_a_match_says_so_in_its_ack(deps):
    ack = MagicMock()
    handle_nmerror(deps, ack, {"text": "my cat is purple", "channel_id": CHANNEL, "user_id": USER}, LOG)
    ack.assert_called_once()
    answer = ack.call_args.kwargs
    assert answer["text"].startswith("I'm not sure") and "my cat is purple" in blocks_text(answer["blocks"])
    assert deps.metrics.abstentions.values() == {("command",): 1} and deps.metrics.answers.values() == {}


def test_a_pasted_log_gets_one_threaded_reply(deps):
    client = MagicMock()
    event = {"type": "message", "channel": CHANNEL, "user": USER, "ts": "1700000001.000100",
             "text": "level=error errorCode=-2010 callee=+6591234567", "channel_type": "channel"}
    handle_message(deps, client, {"event_id": "Ev1", "event": event}, event, LOG)
    client.chat_postMessage.assert_called_once()
    posted = client.chat_postMessage.call_args.kwargs
    assert posted["channel"] == CHANNEL and posted["thread_ts"] == "1700000001.000100"
    assert "-2010" in blocks_text(posted["blocks"]) and "6591234567" not in blocks_text(posted["blocks"])


def test_a_message_without_codes_gets_no_reply(deps):
    client = MagicMock()
    event = {"type": "message", "channel": CHANNEL, "user": USER, "ts": "1700000002.000100", "text": "lunch?"}
    handle_message(deps, client, {"event_id": "Ev2", "event": event}, event, LOG)
    client.chat_postMessage.assert_not_called()


def test_a_suggestion_click_opens_the_card_for_the_clicker_only(deps):
    respond = MagicMock()
    body = {"user": {"id": USER}, "channel": {"id": CHANNEL},
            "actions": [{"action_id": "nm_open_card_-2004", "value": "-2004"}]}
    handle_open_card(deps, body, respond, LOG)
    respond.assert_called_once()
    answer = respond.call_args.kwargs
    assert answer.get("response_type", "ephemeral") == "ephemeral"
    assert "No coverage available" in blocks_text(answer["blocks"])
