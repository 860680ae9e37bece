"""Slack failing, and input meant to hurt: the reply still comes (or is given up cleanly),
the ack is never late, nothing crashes and nothing prints a traceback."""
from __future__ import annotations

import logging
import os
import re
import threading
import time
from urllib.parse import urlencode

import pytest
from metrics_page import metrics_of
from server_process import ServerProcess, bot_env
from slack_requests import CHANNEL, SlackSender, get, mention, message, post_unsigned, raw_request
from webapi_stub import Fault

from nmbot.settings import Settings
from nmbot.slack.calls import HINTS
from nmbot.slack.listeners.events.delivery import PLAIN_TEXT_CHARS

PASTE = "level=error sessionId=7d3f errorCode=-2010 errorMsg=\"The trunk capacity has been exceeded\""


def paste(bot, text: str = PASTE, **event) -> None:
    assert bot.slack.event(message(text, **event)).status == 200


def posts_after_idle(bot) -> list:
    bot.wait_idle()
    return bot.posts()


def slack_errors(bot) -> dict:
    """Failed Slack Web API attempts by (method, error), as the /metrics page counts them."""
    page = metrics_of(get(bot.probe_url + "/metrics").body)
    counted = (re.fullmatch(r'nmbot_slack_api_errors_total\{error="([^"]*)",method="([^"]*)"\}', sample)
               for sample in page)
    return {(found[2], found[1]): page[found[0]] for found in counted if found}


# --- Slack's Web API failing -----------------------------------------------------------------

def test_rate_limited_reply_waits_out_retry_after_then_posts(bot):
    bot.stub.fail_next("chat.postMessage", Fault(status=429, retry_after=1))
    paste(bot)
    bot.stub.wait_for("chat.postMessage", 1)
    refused_at = time.monotonic()
    bot.stub.wait_for("chat.postMessage", 2, timeout=5)
    assert time.monotonic() - refused_at >= 0.9  # Retry-After: 1 was honoured
    first, second = posts_after_idle(bot)
    assert first.body == second.body and "trunk capacity" in second.blocks_text
    assert slack_errors(bot) == {("chat.postMessage", "ratelimited"): 1}


@pytest.mark.parametrize("fault", [Fault(status=500), Fault(status=502), Fault(status=503), Fault(drop=True)],
                         ids=["500", "502", "503", "connection-dropped"])
def test_server_errors_and_dropped_connections_are_retried(bot, fault):
    bot.stub.fail_next("chat.postMessage", fault)
    paste(bot)
    bot.stub.wait_for("chat.postMessage", 2, timeout=5)
    assert len(posts_after_idle(bot)) == 2


def test_retries_are_bounded_and_the_bot_carries_on(bot, caplog):
    bot.stub.fail_next("chat.postMessage", *[Fault(status=503)] * (Settings().api_retries + 2))
    paste(bot)
    bot.stub.wait_for("chat.postMessage", Settings().api_retries + 1, timeout=8)
    bot.executor.wait_idle(timeout=8)
    assert len(bot.posts()) == Settings().api_retries + 1
    assert f"thread {bot.posts()[0].body['thread_ts']}, failed: internal_error" in caplog.text
    bot.stub.faults.clear()
    assert bot.slack.command("-2004").status == 200
    paste(bot, PASTE + " again")
    assert len(posts_after_idle(bot)) == Settings().api_retries + 2


@pytest.mark.parametrize("error", ["not_in_channel", "channel_not_found"])
def test_channel_errors_are_logged_with_context_and_not_retried(bot, caplog, error):
    caplog.set_level(logging.WARNING)
    bot.stub.fail_next("chat.postMessage", Fault(error=error))
    event = mention("what does -2004 mean?")
    assert bot.slack.event(event).status == 200
    assert len(posts_after_idle(bot)) == 1
    [record] = [r for r in caplog.records if getattr(r, "slack_error", None) == error]
    assert record.channel == CHANNEL and record.thread_ts == event["ts"]
    assert CHANNEL in record.getMessage() and HINTS[error] in record.getMessage()
    assert slack_errors(bot) == {("chat.postMessage", error): 1}


@pytest.mark.parametrize("error", ["msg_too_long", "invalid_blocks"])
def test_refused_blocks_are_retried_once_as_short_plain_text(bot, error):
    bot.stub.fail_next("chat.postMessage", Fault(error=error))
    paste(bot)
    card, plain = posts_after_idle(bot)
    assert card.body.get("blocks") and not plain.body.get("blocks")
    assert "-2010" in plain.body["text"] and len(plain.body["text"]) <= PLAIN_TEXT_CHARS + 60
    assert plain.body["thread_ts"] == card.body["thread_ts"]


def test_plain_text_retry_happens_once(bot):
    bot.stub.fail_next("chat.postMessage", Fault(error="msg_too_long"), Fault(error="msg_too_long"))
    paste(bot)
    assert len(posts_after_idle(bot)) == 2


def test_acks_stay_prompt_while_many_replies_wait_on_slack(stub, tmp_path):
    """Bolt's own listener pool has five threads, shared with the slash command's answer: replies
    stuck behind a slow Slack must not hold up anyone's /nmerror."""
    release = threading.Event()
    stuck = 8
    stub.fail_next("chat.postMessage", *[Fault(hold=release)] * stuck)
    server = ServerProcess(bot_env(stub), tmp_path)
    try:
        slack = SlackSender(server.start())
        for i in range(stuck):
            assert slack.event(message(f"{PASTE} #{i}")).status == 200
        stub.wait_for("chat.postMessage", stuck)
        started = time.monotonic()
        ack = slack.command("-2004")
        assert ack.status == 200 and time.monotonic() - started < 1.0
        assert "No coverage available" in ack.body
    finally:
        release.set()
        assert server.stop() == 0
    assert len(stub.calls_to("chat.postMessage")) == stuck


# --- hostile and oversized input --------------------------------------------------------------

def test_oversized_body_is_refused_without_being_read(bot):
    head = ("POST /slack/events HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
            f"Content-Length: {2 << 20}\r\n\r\n")
    # The body never comes: a server that tried to read it would wait until the socket timed out.
    assert raw_request(bot.url, head).endswith("413 Request Entity Too Large")
    assert bot.wsgi.deps.metrics.refused.value(reason="too_large") == 1


def assert_ack_in_time(response_time: float) -> None:
    assert response_time < 3.0, f"ack took {response_time:.2f}s, Slack gives up after 3"


def timed_event(bot, event: dict) -> float:
    started = time.monotonic()
    assert bot.slack.event(event).status == 200
    return time.monotonic() - started


def test_a_40000_character_line_of_codes_is_handled_quickly(bot):
    # Linear in the line's length: this paste once took the scanner 20 seconds of CPU.
    assert_ack_in_time(timed_event(bot, message("-2004 " * 6666)))
    bot.executor.wait_idle(timeout=3)
    assert bot.posts() == []  # codes without any error context are not an error report


def test_a_40000_character_paste_gets_its_answer(bot):
    lines = "".join(f"2026-11-27T10:{i % 60:02d}:00Z ERROR call failed errorCode=-2010 callee=+6591234567\n"
                    for i in range(560))
    assert len(lines) > 39_000
    assert_ack_in_time(timed_event(bot, message(lines[:40_000])))
    [post] = posts_after_idle(bot)
    assert "trunk capacity" in post.blocks_text and "6591234567" not in post.blocks_text


def test_a_one_megabyte_line_is_acknowledged_in_time_and_never_sticks_a_worker(bot):
    line = "errorCode=-2004 " * 62_000
    assert len(line) > 990_000
    assert_ack_in_time(timed_event(bot, mention(line)))
    bot.executor.wait_idle(timeout=15)
    [post] = bot.posts()
    assert "No coverage available" in post.blocks_text
    started = time.monotonic()
    assert bot.slack.command("-2004").status == 200 and time.monotonic() - started < 1.0


@pytest.mark.parametrize("body,content_type", [
    ('{"a":' * 50_000 + "1" + "}" * 50_000, "application/json"),
    ("[" * 100_000 + "]" * 100_000, "application/json"),
    (os.urandom(4096), "application/json"),
    (b"\xff\xfe\x00binary" * 512, "application/x-www-form-urlencoded"),
    ('{"type": "event_callback", "event": ', "application/json"),
    ("[1, 2, 3]", "application/json"),
    (urlencode({"payload": "{not json"}), "application/x-www-form-urlencoded"),
], ids=["nested-objects", "nested-arrays", "random-bytes", "binary-form", "truncated-json", "json-array",
        "bad-payload"])
def test_junk_gets_a_clear_400_and_no_traceback(bot, caplog, body, content_type):
    assert post_unsigned(bot.url, body, content_type).endswith("400 Bad Request")
    assert "Traceback" not in caplog.text
    assert bot.slack.command("-2004").status == 200  # the worker is fine
