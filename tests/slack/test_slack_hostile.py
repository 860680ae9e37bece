"""Crafted input through the real server: a message cannot freeze the bot.

Before the scanner's patterns were made linear, one `/nmerror` of 2.5 KB held the
HTTP worker for about 30 s (health checks and acks timed out), and two such
pastes held both event workers.
"""
from __future__ import annotations

import threading
import time
from typing import Iterator

import pytest
from server_process import ServerProcess, bot_env
from slack_requests import SlackSender, get, message
from webapi_stub import WebApiStub

CRAFTED = "errorCode: -2004" + " " * 2500 + "x"
SLACK_ACK_SECONDS = 3.0


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[tuple[ServerProcess, WebApiStub]]:
    """One server for this module's tests, each of which waits for its own answers: it stops cleanly once
    they are done, having printed no traceback."""
    stub = WebApiStub().start()
    server = ServerProcess(bot_env(stub), tmp_path_factory.mktemp("bot"))
    try:
        server.start()
        yield server, stub
    finally:
        code = server.stop()
        stub.stop()
    assert code == 0
    assert "Traceback" not in server.text


@pytest.fixture
def server(served) -> ServerProcess:
    served[1].forget()  # the stand-in's calls from earlier tests
    return served[0]


@pytest.fixture
def stub(served) -> WebApiStub:
    return served[1]


def test_crafted_nmerror_is_acknowledged_in_time_while_health_answers(server):
    url = server.url
    slack = SlackSender(url)
    acked: dict = {}

    def send_crafted() -> None:
        started = time.monotonic()
        acked["status"] = slack.command(CRAFTED).status
        acked["seconds"] = time.monotonic() - started

    sender = threading.Thread(target=send_crafted)
    sender.start()
    health_started = time.monotonic()
    health = get(url + "/healthz")
    health_seconds = time.monotonic() - health_started
    sender.join(timeout=60)

    assert acked["status"] == 200 and acked["seconds"] < SLACK_ACK_SECONDS, acked
    assert health.status == 200 and health_seconds < SLACK_ACK_SECONDS
    assert "Traceback" not in server.text


def test_crafted_pastes_do_not_hold_the_replies_to_others(server, stub):
    slack = SlackSender(server.url)
    for ts in ("1700000001.000100", "1700000002.000100"):
        assert slack.event(message(CRAFTED + "\n" + CRAFTED, ts=ts)).status == 200
    assert slack.event(message("level=error errorCode=-2010", ts="1700000003.000100")).status == 200
    replies = stub.wait_for("chat.postMessage", count=3, timeout=SLACK_ACK_SECONDS * 2)
    by_thread = {r.body.get("thread_ts"): r for r in replies}
    assert "-2010" in by_thread["1700000003.000100"].blocks_text
    assert all("-2004" in by_thread[ts].blocks_text for ts in ("1700000001.000100", "1700000002.000100"))
    assert "Traceback" not in server.text
