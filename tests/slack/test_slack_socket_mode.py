"""`nmbot serve` in Socket Mode, a real child process, against local stand-ins for Slack's Socket Mode end
(`socket_stub.py`) and its Web API (`webapi_stub.py`): answers, the connection's life, and how it ends.

The bot pings every NMBOT_SOCKET_PING_SECONDS=1 here, so a dead connection shows in seconds (production's
10 s is measured by benchmarks/bench_socket_mode.py). The last tests run the runtime in-process, for the
dispatch and the state the health probes read. Every wait is on a condition with a deadline.
"""
from __future__ import annotations

import asyncio
import signal
import subprocess
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Iterator

import pytest
from bot_settings import settings_for
from helpers import poll_until
from server_process import NMBOT, ServerProcess, free_port, socket_env
from slack_requests import action_payload, command_form, event_envelope, get, message
from socket_stub import Link, SocketModeStub
from webapi_stub import APP_TOKEN, BOT_TOKEN, Fault, WebApiStub

from nmbot.slack.app import assemble
from nmbot.slack.server import stop_serving
from nmbot.slack.socket_mode import EXIT_GAVE_UP, SocketModeRuntime
from nmbot.store import open_store

PING = 1.0  # NMBOT_SOCKET_PING_SECONDS in these tests
CONNECTED = r"nmbot is connected to Slack in Socket Mode"
PASTE = "errorCode=-2010 on the prod trunk"


@pytest.fixture
def slack(stub: WebApiStub) -> Iterator[SocketModeStub]:
    socket = SocketModeStub().start()
    stub.socket_urls = socket.new_url
    yield socket
    socket.stop()


@pytest.fixture
def start(stub: WebApiStub, slack: SocketModeStub, tmp_path):
    """Starts `nmbot serve` in Socket Mode (env overrides as keywords); stops every one it started."""
    started: list[ServerProcess] = []

    def start_bot(cwd=tmp_path, **env: str) -> ServerProcess:
        server = ServerProcess(socket_env(stub, NMBOT_SOCKET_PING_SECONDS=str(PING), **env), cwd, http=False)
        started.append(server)
        return server

    yield start_bot
    for server in started:
        server.stop()


@dataclass
class Shared:
    """The bot one module's tests share while its state allows, connected on `link`, the newest connection."""

    server: ServerProcess
    stub: WebApiStub
    slack: SocketModeStub
    link: Link

    @property
    def next_link(self) -> int:
        """The number `wait_for_link` gives the connection that replaces `link`."""
        return len(self.slack.links) + 1


@pytest.fixture(scope="module")
def shared_bot(tmp_path_factory) -> Iterator[tuple[ServerProcess, WebApiStub, SocketModeStub]]:
    """The bot the `shared` tests use, with its probe port on: it stops cleanly once they are done, having
    printed no traceback and no token."""
    stub, slack = WebApiStub().start(), SocketModeStub().start()
    stub.socket_urls = slack.new_url
    env = socket_env(stub, NMBOT_SOCKET_PING_SECONDS=str(PING), NMBOT_METRICS_HOST="127.0.0.1",
                     NMBOT_METRICS_PORT=str(free_port()))
    server = ServerProcess(env, tmp_path_factory.mktemp("bot"), http=False)
    try:
        yield server, stub, slack
    finally:
        code = server.stop()
        slack.stop()
        stub.stop()
    assert code == 0
    assert "Traceback" not in server.text and APP_TOKEN not in server.text and BOT_TOKEN not in server.text


@pytest.fixture
def shared(shared_bot) -> Shared:
    """The shared bot once every connection opened so far is greeted (each says so in a line), with what the
    stand-ins and the log held from earlier tests set aside."""
    server, stub, slack = shared_bot
    slack.refuse_with = None  # as a test that failed half-way may have left it
    slack.wait_for_link(1)
    poll_until(lambda: server.text.count("connected to Slack in Socket Mode") == len(slack.links) and
               slack.links[-1].open, lambda: f"the shared bot connected; links: {slack.describe()}")
    server.log.skip_unread()
    stub.forget()
    return Shared(server, stub, slack, slack.links[-1])


def connected(server: ServerProcess, slack: SocketModeStub, count: int = 1):
    server.wait_for_line(CONNECTED)
    return slack.wait_for_link(count)


def reconnected(server: ServerProcess, slack: SocketModeStub, count: int, timeout: float):
    link = slack.wait_for_link(count, timeout)
    server.wait_for_line("reconnected to Slack in Socket Mode", timeout)
    return link


def command(slack: SocketModeStub, text: str, **where) -> tuple[str, float]:
    """Send /nmerror; its envelope id and when it was sent."""
    sent = time.monotonic()
    return slack.send("slash_commands", command_form(text), **where), sent


def ack_seconds(slack: SocketModeStub, envelope_id: str, sent: float) -> float:
    return slack.wait_ack(envelope_id).at - sent


# --- answers -------------------------------------------------------------------------------------

def test_commands_events_and_clicks_are_answered(shared):
    server, slack, stub = shared.server, shared.slack, shared.stub
    envelope, _ = command(slack, "-2008")
    card = slack.wait_ack(envelope).payload
    assert card["response_type"] == "ephemeral" and "not whitelisted" in card["blocks"][0]["text"]["text"]

    event = slack.send("events_api", event_envelope(message(PASTE)))
    assert slack.wait_ack(event).payload is None
    [post] = stub.wait_for("chat.postMessage")
    assert "trunk capacity" in post.blocks_text

    click = slack.send("interactive", action_payload("nm_suggestion_-2004", "-2004", response_url=stub.response_url()))
    slack.wait_ack(click)
    [response] = stub.wait_for("response:r1")
    assert response.body["blocks"][0]["text"]["text"].startswith("-2004 \u00b7 No coverage")
    assert "Traceback" not in server.text and APP_TOKEN not in server.text and BOT_TOKEN not in server.text


def test_a_redelivered_event_is_answered_once(shared):
    server, slack, stub = shared.server, shared.slack, shared.stub
    paste = event_envelope(message(PASTE))
    slack.wait_ack(slack.send("events_api", paste))
    stub.wait_for("chat.postMessage")
    slack.wait_ack(slack.send("events_api", paste, retry_attempt=1))
    server.wait_for_line("duplicate delivery of a message dropped")
    assert len(stub.calls_to("chat.postMessage")) == 1


def test_a_malformed_envelope_is_acknowledged_and_dropped_in_one_line(shared):
    server, slack, stub = shared.server, shared.slack, shared.stub
    bad = event_envelope(message(PASTE))
    bad["event"]["text"] = ["not", "a", "string"]
    slack.wait_ack(slack.send("events_api", bad))  # acknowledged, or Slack would deliver it again and again
    server.wait_for_line("refused a signed request Slack would not send")
    assert stub.calls_to("chat.postMessage") == [] and "Traceback" not in server.text


def test_two_replicas_share_the_store_and_answer_once(start, slack, stub, tmp_path):
    first, second = start(), start()  # one working folder: one SQLite file
    first.wait_for_line(CONNECTED)
    second.wait_for_line(CONNECTED)
    links = [slack.wait_for_link(1), slack.wait_for_link(2)]
    for round_ in range(3):
        paste = event_envelope(message(f"{PASTE} #{round_}"))
        # Slack's retry of a delivery may reach the other connection, at once.
        for link in links:
            slack.send("events_api", paste, link=link, retry_attempt=None if link is links[0] else 1)
        stub.wait_for("chat.postMessage", round_ + 1)
        # One of the two says it dropped the other copy.
        pattern = "duplicate delivery of a message dropped"
        poll_until(lambda: sum(s.text.count(pattern) for s in (first, second)) >= round_ + 1,
                   "the other copy dropped", 10)
    assert len(stub.calls_to("chat.postMessage")) == 3


# --- staying connected ----------------------------------------------------------------------------

def test_a_refresh_loses_no_envelope_and_acks_within_a_second(shared):
    server, slack, stub, old = shared.server, shared.slack, shared.stub, shared.link
    paste = event_envelope(message(PASTE))
    in_flight = slack.send("events_api", paste, link=old)
    slack.refresh(old)
    # Sent on the old socket just after the refresh: the bot may be closing it already, and then Slack
    # delivers it again on the new one.
    on_old, sent_old = command(slack, "-2008", link=old)
    new = reconnected(server, slack, shared.next_link, timeout=5)
    on_new, sent_new = command(slack, "-2004", link=new)
    assert ack_seconds(slack, on_new, sent_new) < 1.0
    # The event in flight around the refresh is answered once, however many times Slack delivers it.
    slack.wait_until(lambda: in_flight in slack.acks, "the in-flight event acknowledged", 5)
    slack.wait_ack(slack.send("events_api", paste, link=new, retry_attempt=1))
    stub.wait_for("chat.postMessage")
    server.wait_for_line("duplicate delivery of a message dropped")
    assert len(stub.calls_to("chat.postMessage")) == 1
    slack.wait_until(lambda: not old.open, "the old socket closed", 5)
    assert on_old not in slack.acks or slack.acks[on_old].at - sent_old < 1.0


def test_a_close_frame_is_followed_by_a_new_connection_within_two_seconds(shared):
    slack, old = shared.slack, shared.link
    closed = time.monotonic()
    slack.close_frame(old)
    new = slack.wait_for_link(shared.next_link, timeout=2)
    assert new.opened_at - closed < 2.0
    envelope, sent = command(slack, "-2008", link=new)
    assert ack_seconds(slack, envelope, sent) < 1.0


def test_a_dropped_connection_is_noticed_and_replaced(shared):
    server, slack, old = shared.server, shared.slack, shared.link
    dropped = time.monotonic()
    slack.drop(old)  # no close frame: the TCP connection just ends
    new = reconnected(server, slack, shared.next_link, timeout=10 * PING)
    assert new.opened_at - dropped < 10 * PING
    envelope, sent = command(slack, "-2008", link=new)
    assert ack_seconds(slack, envelope, sent) < 1.0


def test_a_silent_connection_is_noticed_without_spinning(shared):
    server, slack, old = shared.server, shared.slack, shared.link
    cpu_before, silenced = server.cpu_seconds(), time.monotonic()
    slack.silence(old)  # nothing comes back, not even pongs: a dead network path
    new = reconnected(server, slack, shared.next_link, timeout=10 * PING)
    took, cpu = time.monotonic() - silenced, server.cpu_seconds() - cpu_before
    assert new.opened_at - silenced < 5 * PING
    assert cpu < 0.25 * took, f"{cpu:.2f}s of CPU in {took:.2f}s without a connection"
    envelope, sent = command(slack, "-2008", link=new)
    assert ack_seconds(slack, envelope, sent) < 1.0


# --- when Slack says no ---------------------------------------------------------------------------

def test_a_refused_upgrade_is_never_connected_is_retried_with_backoff_then_gives_up(start, slack, stub):
    slack.refuse_with = 403
    began = time.monotonic()
    server = start(NMBOT_SOCKET_GIVE_UP="8")
    assert server.proc.wait(timeout=30) == EXIT_GAVE_UP
    took = time.monotonic() - began
    assert "connected to Slack" not in server.text and "Traceback" not in server.text
    attempts = slack.attempts
    assert len(attempts) >= 3 and all(a.status == 403 for a in attempts)
    assert len({a.ticket for a in attempts}) == len(attempts), "each attempt on a URL of its own"
    assert len(stub.calls_to("apps.connections.open")) == len(attempts)
    gaps = [b.at - a.at for a, b in zip(attempts, attempts[1:])]
    assert all(later > earlier * 1.4 for earlier, later in zip(gaps, gaps[1:-1])), gaps  # the last is cut short
    lines = server.text.splitlines()
    refusals = [line for line in lines if "Slack refused the WebSocket upgrade (HTTP 403)" in line]
    assert len(refusals) == len(attempts)
    assert "exiting with status 75" in lines[-1] and "NMBOT_SOCKET_GIVE_UP" in lines[-1]
    assert 8 <= took < 25


def test_refused_reconnections_are_retried_until_slack_accepts_again(shared):
    server, slack, old, next_link = shared.server, shared.slack, shared.link, shared.next_link
    slack.refuse_with = 500
    slack.close_frame(old)
    server.wait_for_line(r"Slack refused the WebSocket upgrade \(HTTP 500\); trying again")
    server.wait_for_line(r"Slack refused the WebSocket upgrade \(HTTP 500\); trying again")
    slack.refuse_with = None
    new = reconnected(server, slack, next_link, timeout=10)
    envelope, sent = command(slack, "-2008", link=new)
    assert ack_seconds(slack, envelope, sent) < 1.0


def test_the_probe_port_says_ready_only_while_connected(shared):
    server, slack, link, next_link = shared.server, shared.slack, shared.link, shared.next_link
    probes = server.probe_url
    poll_until(lambda: status_of(probes + "/readyz") == 200, "ready once connected", 5)
    assert get(probes + "/healthz").json()["store"] == "up"
    assert "nmbot_socket_mode_connected 1.0" in get(probes + "/metrics").body
    slack.refuse_with = 403
    slack.drop(link)
    poll_until(lambda: status_of(probes + "/readyz") == 503, "not ready once the connection is lost", 10)
    assert status_of(probes + "/healthz") == 200  # alive: still inside the give-up window
    slack.refuse_with = None
    reconnected(server, slack, next_link, timeout=15)
    poll_until(lambda: status_of(probes + "/readyz") == 200, "ready again", 5)


def status_of(url: str) -> int:
    return get(url).status


def test_a_rejected_app_token_is_one_line(stub, slack, tmp_path):
    env = socket_env(stub, SLACK_APP_TOKEN="xapp-wrong-token", NMBOT_DATABASE_URL="memory://")
    proc = subprocess.run([*NMBOT, "serve"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=30)
    assert proc.returncode != 0 and proc.stdout == ""
    assert proc.stderr.startswith("nmbot: SLACK_APP_TOKEN was rejected by Slack (invalid_auth)")
    assert proc.stderr.count("\n") == 1 and "xapp-wrong-token" not in proc.stderr
    assert slack.attempts == []


# --- stopping and reloading -----------------------------------------------------------------------

def test_sigterm_closes_the_connection_and_lets_replies_finish(start, slack, stub):
    release = threading.Event()
    stub.fail_next("chat.postMessage", Fault(hold=release))
    server = start()
    link = connected(server, slack)
    slack.wait_ack(slack.send("events_api", event_envelope(message(PASTE))))
    stub.wait_for("chat.postMessage")  # the reply is on its way, held by the stand-in
    server.signal(signal.SIGTERM)
    server.wait_for_line(r"waiting for 1 listener run\(s\) to finish")
    slack.wait_until(lambda: not link.open, "the connection closed", 5)
    assert server.proc.poll() is None  # still finishing the reply
    release.set()
    assert server.proc.wait(timeout=20) == 0
    assert "Traceback" not in server.text


def test_sighup_reloads_the_knowledge_base(shared):
    server = shared.server
    server.signal(signal.SIGHUP)
    server.wait_for_line(r"knowledge base reloaded: ")
    assert server.proc.poll() is None


# --- in process: the dispatch, and the state the health probes read --------------------------------

class InProcess:
    """The Socket Mode runtime on a thread of the test, on its own event loop, with the state in memory."""

    def __init__(self, stub: WebApiStub, kb, **env: str):
        settings = settings_for(stub, SLACK_APP_TOKEN=APP_TOKEN, NMBOT_SOCKET_PING_SECONDS=str(PING), **env)
        self.app, self.deps = assemble(settings, kb, open_store("memory://"))
        self.runtime = SocketModeRuntime(settings, self.app, self.deps)
        self.exit_code: Future[int] = Future()
        threading.Thread(target=self._run, name="socket-mode", daemon=True).start()

    def _run(self) -> None:
        try:
            self.exit_code.set_result(asyncio.run(self.runtime.run()))
        except BaseException as exc:
            self.exit_code.set_exception(exc)

    def close(self) -> int:
        if not self.exit_code.done():
            self.runtime.stop()
        try:
            return self.exit_code.result(timeout=15)
        finally:
            stop_serving(self.deps, None, 5)


@pytest.fixture
def in_process(stub, slack, kb):
    running: list[InProcess] = []

    def run(**env: str) -> InProcess:
        running.append(InProcess(stub, kb, **env))
        return running[-1]

    yield run
    for bot in running:
        bot.close()


def test_a_listener_holding_its_ack_does_not_hold_up_other_envelopes(in_process, slack):
    bot = in_process()
    release = threading.Event()

    @bot.app.command("/slow")
    def slow(ack):
        release.wait(5)
        ack()

    slack.wait_for_link(1)
    held = slack.send("slash_commands", command_form("", command="/slow"))
    envelope, sent = command(slack, "-2008")
    try:
        assert ack_seconds(slack, envelope, sent) < 1.0
        assert held not in slack.acks
    finally:
        release.set()
    slack.wait_ack(held)
    assert bot.close() == 0


def test_the_probes_see_connected_lost_and_back(in_process, slack):
    bot = in_process()
    state = bot.runtime.state
    link = slack.wait_for_link(1)
    poll_until(state.ready, "ready", 5)
    assert state.snapshot()["connected"] is True and state.alive()
    slack.refuse_with = 403  # the client cannot restore it by itself
    slack.drop(link)
    poll_until(lambda: not state.ready(), "not ready once the connection is lost", 5)
    assert state.alive() and not state.gave_up  # inside the give-up window
    slack.refuse_with = None
    poll_until(state.ready, "ready again", 10)
    assert state.connections == 2
    assert bot.close() == 0 and not state.ready()


def test_the_probes_see_a_process_that_gave_up(in_process, slack):
    slack.refuse_with = 403
    bot = in_process(NMBOT_SOCKET_GIVE_UP="3")
    state = bot.runtime.state
    slack.wait_until(lambda: len(slack.attempts) >= 1, "a refused attempt")
    assert state.alive() and not state.ready()
    assert bot.exit_code.result(timeout=15) == EXIT_GAVE_UP
    assert state.gave_up and not state.alive() and not state.ready() and state.connections == 0
