"""Channel names in `nmbot report`: `conversations.info` with the bot token, against the local Web API stand-in.

Names are looked up once per channel per run, the token goes only to Slack's hosts (or the loopback stand-in),
every lookup has a deadline, and any failure leaves the channel's ID in the report.
"""
from __future__ import annotations

import json
import socket
import threading
import time

import pytest
from webapi_stub import BOT_TOKEN, Fault

from nmbot.cli.main import main
from nmbot.report.channels import ChannelNames, token_may_go
from nmbot.store import UsageEvent, open_store

CHANNELS = {"C0SUPPORT": {"id": "C0SUPPORT", "name": "support", "is_channel": True},
            "G0PRIVATE": {"id": "G0PRIVATE", "name": "ops-private", "is_private": True},
            "D0DIRECT1": {"id": "D0DIRECT1", "is_im": True, "user": "U1"}}


@pytest.fixture
def names_stub(stub):
    stub.channels.update(CHANNELS)
    return stub


def test_names_are_looked_up_once_each(names_stub):
    names = ChannelNames(BOT_TOKEN, names_stub.api_url)
    wanted = ["C0SUPPORT", "G0PRIVATE", "D0DIRECT1", "C0UNKNOWN", "(none)", ""]
    assert names.names(wanted) == {"C0SUPPORT": "support", "G0PRIVATE": "ops-private"}
    assert names.names(wanted) == {"C0SUPPORT": "support", "G0PRIVATE": "ops-private"}  # from memory
    calls = names_stub.calls_to("conversations.info")
    assert sorted(c.body["channel"] for c in calls) == ["C0SUPPORT", "C0UNKNOWN", "D0DIRECT1", "G0PRIVATE"]
    assert {c.headers["authorization"] for c in calls} == {f"Bearer {BOT_TOKEN}"}
    assert names.problem is None  # an unknown channel is no problem for the others


def test_a_bad_token_stops_the_lookups_at_the_first_answer(names_stub):
    names = ChannelNames("xoxb-wrong", names_stub.api_url)
    assert names.names(["C0SUPPORT", "G0PRIVATE"]) == {}
    assert len(names_stub.calls_to("conversations.info")) == 1
    assert names.problem == "conversations.info: invalid_auth"


@pytest.mark.parametrize("fault, problem", [
    (Fault(error="missing_scope"), "missing_scope"),
    (Fault(status=429, retry_after=30), "ratelimited"),
    (Fault(status=500), "HTTP 500"),
    (Fault(drop=True), "from the Web API"),
])
def test_a_failing_web_api_leaves_the_ids(names_stub, fault, problem):
    names_stub.fail_next("conversations.info", fault)
    names = ChannelNames(BOT_TOKEN, names_stub.api_url)
    assert names.names(["C0SUPPORT", "G0PRIVATE"]) == {}
    assert len(names_stub.calls_to("conversations.info")) == 1
    assert problem in names.problem


def test_a_web_api_that_does_not_answer_is_given_up_at_the_deadline(names_stub):
    release = threading.Event()
    names_stub.fail_next("conversations.info", Fault(hold=release))
    names = ChannelNames(BOT_TOKEN, names_stub.api_url, lookup_seconds=0.5)
    started = time.monotonic()
    try:
        assert names.names(["C0SUPPORT", "G0PRIVATE"]) == {}
        assert time.monotonic() - started < 5
    finally:
        release.set()
    assert names.problem == "conversations.info: no answer within 0.5 s"
    assert len(names_stub.calls_to("conversations.info")) == 1


def test_all_lookups_share_one_deadline(names_stub):
    names = ChannelNames(BOT_TOKEN, names_stub.api_url, total_seconds=0.0)
    assert names.names(["C0SUPPORT"]) == {}
    assert names_stub.calls_to("conversations.info") == []
    assert "no answers within 0 s" in names.problem


@pytest.mark.parametrize("api_url, allowed", [
    ("https://slack.com/api/", True),
    ("https://slack-gov.com/api/", True),
    ("https://acme.enterprise.slack.com/api/", True),
    ("http://127.0.0.1:8080/api/", True),
    ("http://localhost:8080/api/", True),
    ("http://[::1]:8080/api/", True),
    ("http://slack.com/api/", False),  # the token never travels in the clear to a real host
    ("https://slack.com.example.net/api/", False),
    ("https://notslack.com/api/", False),
    ("https://user:pass@slack.com/api/", False),
    ("https://10.0.0.5/api/", False),
    ("https://169.254.169.254/api/", False),
    ("https://slack.com:bad/api/", False),
    ("ftp://slack.com/api/", False),
])
def test_where_the_token_may_go(api_url, allowed):
    assert token_may_go(api_url) is allowed


def test_no_connection_at_all_to_another_host(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError(f"a connection was attempted: {args}")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    names = ChannelNames(BOT_TOKEN, "https://slack.example.net/api/")
    assert names.names(["C0SUPPORT"]) == {}
    assert "not one of Slack's hosts" in names.problem


# --- the command line ----------------------------------------------------------------------------

@pytest.fixture
def database(tmp_path, monkeypatch) -> str:
    url = f"sqlite:///{tmp_path / 'nmbot.sqlite3'}"
    monkeypatch.setenv("NMBOT_DATABASE_URL", url)
    with open_store(url) as store:
        for channel in ("C0SUPPORT", "C0UNKNOWN"):
            store.record_events([UsageEvent("card", "command", channel, -2004, store.now())])
        store.record_events([UsageEvent("not_sure", "mention", "G0PRIVATE", None, store.now())])
        store.record_unanswered(text="is the coffee machine fixed", surface="mention", channel="G0PRIVATE",
                                suggestions=[])
    return url


def test_cli_report_names_channels(database, names_stub, monkeypatch, capsys):
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_API_URL", names_stub.api_url)
    assert main(["report", "--since", "1h"]) == 0
    captured = capsys.readouterr()
    assert "  #support  " in captured.out and "  C0UNKNOWN  " in captured.out
    assert "in #ops-private" in captured.out
    assert captured.err == "" and BOT_TOKEN not in captured.out
    assert main(["report", "--since", "1h", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [c["channel"] for c in data["channels"]] == [
        {"id": "C0SUPPORT", "name": "support"}, {"id": "C0UNKNOWN", "name": None},
        {"id": "G0PRIVATE", "name": "ops-private"}]
    assert len(names_stub.calls_to("conversations.info")) == 2 * 3  # one per channel in each run


def test_cli_report_without_a_token_asks_slack_nothing(database, names_stub, monkeypatch, capsys):
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    monkeypatch.setenv("SLACK_API_URL", names_stub.api_url)
    assert main(["report", "--since", "1h"]) == 0
    captured = capsys.readouterr()
    assert "  C0SUPPORT  " in captured.out and captured.err == ""
    assert names_stub.calls == []


def test_cli_report_says_once_why_it_shows_ids(database, names_stub, monkeypatch, capsys):
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_API_URL", names_stub.api_url)
    names_stub.fail("conversations.info", "missing_scope")
    assert main(["report", "--since", "1h", "--format", "html"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ("nmbot: warning: channel names unavailable (conversations.info: missing_scope); "
                            "the report shows channel IDs\n")
    assert "C0SUPPORT" in captured.out


# --- hostile answers and settings ------------------------------------------------------------

@pytest.fixture
def raw_answer():
    """A loopback server that answers every request with the bytes the test gives it."""
    import socketserver

    answer = {"body": b""}

    class Handler(socketserver.BaseRequestHandler):
        def handle(self):
            self.request.recv(65536)
            body = answer["body"]
            self.request.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                 b"Content-Length: %d\r\n\r\n%s" % (len(body), body))

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield answer, f"http://127.0.0.1:{server.server_address[1]}/api/"
    finally:
        server.shutdown()
        server.server_close()


def test_an_answer_nested_too_deep_leaves_the_ids(raw_answer):
    answer, api_url = raw_answer
    answer["body"] = b"[" * 100_000
    names = ChannelNames(BOT_TOKEN, api_url, lookup_seconds=2)
    assert names.names(["C0SUPPORT"]) == {}
    assert names.problem == "conversations.info: an answer that is not JSON"


@pytest.mark.parametrize("name", ["\x1b]0;owned\x07support", "sup\u202eport", "x" * 81, "line\nbreak"])
def test_a_name_slack_would_not_allow_is_not_shown(raw_answer, name):
    answer, api_url = raw_answer
    answer["body"] = json.dumps({"ok": True, "channel": {"id": "C0SUPPORT", "name": name}}).encode()
    assert ChannelNames(BOT_TOKEN, api_url, lookup_seconds=2).names(["C0SUPPORT"]) == {}


@pytest.mark.parametrize("api_url", ["https://evil.example .slack.com/api/", "https://evil.example\\.slack.com/api/",
                                     "https://evil.example%2f.slack.com/api/", "https://evil.example;.slack.com/api/"])
def test_a_host_name_no_resolver_should_read_is_refused(api_url, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError(f"a connection was attempted: {args}")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    assert token_may_go(api_url) is False
    names = ChannelNames(BOT_TOKEN, api_url)
    assert names.names(["C0SUPPORT"]) == {}
    assert "not one of Slack's hosts" in names.problem
