"""The event worker: Events API requests acknowledged by the HTTP side and answered in a process of its own."""
from __future__ import annotations

import os
import signal
import threading
import time
from typing import Iterator

import pytest
from bot_settings import settings_for
from slack_requests import SlackSender, get, message, post_unsigned
from webapi_stub import Fault, WebApiStub

from bot.slack import event_worker
from bot.slack.event_worker import REPLY_THREADS
from bot.slack.server import SlackWsgiApp, create_wsgi_app

PASTE = "level=error errorCode=-2010 callee=+6591234567"
TITLE = "title: Concurrent call limit of the account reached"


class Served:
    def __init__(self, wsgi: SlackWsgiApp, url: str):
        self.wsgi, self.url, self.slack = wsgi, url, SlackSender(url)


def event_worker_app(stub: WebApiStub, tmp_path, kb_file) -> SlackWsgiApp:
    settings = settings_for(stub, NMBOT_DATABASE_URL=f"sqlite:///{tmp_path / 'state.sqlite3'}",
                            NMBOT_KNOWLEDGE=str(kb_file))
    return create_wsgi_app(settings, event_worker=True)


@pytest.fixture
def served(stub: WebApiStub, tmp_path, kb_file, serve_wsgi) -> Iterator[Served]:
    wsgi = event_worker_app(stub, tmp_path, kb_file)
    try:
        yield Served(wsgi, serve_wsgi(wsgi))
    finally:
        wsgi.shutdown(drain_seconds=10)


def test_a_paste_is_acknowledged_here_and_answered_by_the_worker(served, stub):
    started = time.perf_counter()
    assert served.slack.event(message(PASTE)).status == 200
    acked = time.perf_counter() - started
    [post] = stub.wait_for("chat.postMessage")
    assert "-2010" in post.blocks_text and "6591234567" not in post.blocks_text
    assert acked < 1.0
    assert os.getpid() not in served.wsgi.events.pids and served.wsgi.events.alive


def test_replies_yield_the_cpu_to_acknowledgements(served):
    here = os.getpriority(os.PRIO_PROCESS, 0)
    assert [os.getpriority(os.PRIO_PROCESS, pid) for pid in served.wsgi.events.pids] == \
        [min(19, here + event_worker.NICENESS)] * len(served.wsgi.events.pids)


def test_an_event_with_a_bad_signature_is_refused_and_never_answered(served, stub):
    response = served.slack.post('{"type": "event_callback", "event": {"type": "message", "text": "errorCode=-2004"}}',
                                 "application/json", signature="v0=bad")
    assert response.status == 401
    time.sleep(0.5)
    assert stub.calls_to("chat.postMessage") == []


def test_commands_are_still_answered_in_the_ack(served, stub):
    response = served.slack.command("-2004")
    assert response.status == 200 and "-2004" in response.body


def kill_workers(wsgi: SlackWsgiApp, pids: list[int]) -> None:
    """SIGKILL these event processes and wait until the HTTP worker sees them gone."""
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    wait_until(lambda: not {c.proc.pid for c in wsgi.events._children if c.proc.is_alive()} & set(pids), 5)


def wait_until(condition, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)


def metrics_page_with(url: str, lines: list[str], seconds: float = 5) -> str:
    """The /metrics page once every line shows: each process counts a reply just after posting it."""
    deadline = time.monotonic() + seconds
    page = get(url + "/metrics").body
    while not all(line in page for line in lines) and time.monotonic() < deadline:
        time.sleep(0.05)
        page = get(url + "/metrics").body
    return page


def test_metrics_add_up_both_processes(served, stub):
    assert served.slack.event(message(PASTE)).status == 200
    assert served.slack.command("-2004").status == 200
    stub.wait_for("chat.postMessage")
    expected = ['nmbot_requests_total{surface="event"} 1',  # counted in the worker
                'nmbot_requests_total{surface="command"} 1',  # counted here
                'nmbot_autoreplies_total{mode="on"} 1',
                'nmbot_answers_total{surface="command"} 1',
                "nmbot_ack_seconds_count 2"]
    page = metrics_page_with(served.url, expected)
    assert [line for line in expected if line not in page] == []


def test_a_worker_that_dies_is_started_again(served, stub):
    [old, *_] = served.wsgi.events.pids
    kill_workers(served.wsgi, [old])
    health = get(served.url + "/healthz")
    assert health.status == 200 and health.json()["ok"] is True
    assert old not in served.wsgi.events.pids
    assert served.slack.event(message(PASTE)).status == 200
    stub.wait_for("chat.postMessage")


class Busy:
    """One event process, its every reply thread held on chat.postMessage until `release` is set."""

    def __init__(self, stub: WebApiStub, tmp_path, kb_file, serve_wsgi):
        self.stub, self.release = stub, threading.Event()
        stub.fail_next("chat.postMessage", *[Fault(hold=self.release) for _ in range(REPLY_THREADS)])
        settings = settings_for(stub, NMBOT_DATABASE_URL=f"sqlite:///{tmp_path / 'state.sqlite3'}",
                                NMBOT_KNOWLEDGE=str(kb_file), NMBOT_EVENT_WORKERS="1")
        self.wsgi = create_wsgi_app(settings, event_worker=True)
        self.url = serve_wsgi(self.wsgi)
        self.slack = SlackSender(self.url)

    def hold_every_thread(self) -> None:
        for _ in range(REPLY_THREADS):
            assert self.slack.event(message(PASTE)).status == 200
        self.stub.wait_for("chat.postMessage", REPLY_THREADS)  # all held: the next events wait in the queue

    def posts_after(self, count: int) -> list:
        """The replies after the held ones, once there are `count`."""
        return self.stub.wait_for("chat.postMessage", REPLY_THREADS + count, timeout=20)[REPLY_THREADS:]


@pytest.fixture
def busy(stub, tmp_path, kb_file, serve_wsgi) -> Iterator[Busy]:
    held = Busy(stub, tmp_path, kb_file, serve_wsgi)
    try:
        yield held
    finally:
        held.release.set()
        held.wsgi.shutdown(drain_seconds=10)


def test_events_a_dead_worker_never_took_are_answered_by_the_next(busy):
    busy.hold_every_thread()
    waiting = [message(PASTE) for _ in range(3)]
    for event in waiting:
        assert busy.slack.event(event).status == 200
    [dead] = busy.wsgi.events.pids
    kill_workers(busy.wsgi, [dead])
    assert get(busy.url + "/healthz").status == 200  # a health check starts the worker again
    assert sorted(p.body["thread_ts"] for p in busy.posts_after(3)) == sorted(e["ts"] for e in waiting)
    assert dead not in busy.wsgi.events.pids


def test_events_beyond_the_backlog_are_refused_for_slack_to_deliver_again(busy, monkeypatch, caplog):
    busy.hold_every_thread()  # the worker has taken every event so far: none waits
    monkeypatch.setattr(event_worker, "MAX_BACKLOG", 2)
    queued, refused = [message(PASTE) for _ in range(2)], [message(PASTE) for _ in range(2)]
    assert [busy.slack.event(e).status for e in queued + refused] == [200, 200, 503, 503]
    assert caplog.text.count("the event workers are behind") == 1  # a flood logs one line, not one each
    busy.release.set()
    assert len(busy.posts_after(2)) == 2
    assert busy.slack.event(refused[0], retry=1).status == 200  # Slack's next delivery is answered
    replied = {p.body["thread_ts"] for p in busy.posts_after(3)}
    assert replied == {e["ts"] for e in queued + refused[:1]}
    assert 'nmbot_refused_requests_total{reason="backlog"} 2' in get(busy.url + "/metrics").body


def test_an_event_with_every_worker_dead_is_acknowledged_at_once_and_answered_by_the_next(served, stub):
    dead = served.wsgi.events.pids
    kill_workers(served.wsgi, dead)
    event = message(PASTE)
    assert served.slack.event(event).status == 200
    assert not served.wsgi.events.alive  # acknowledged without waiting for a worker to start
    [post] = stub.wait_for("chat.postMessage", timeout=20)
    assert post.body["thread_ts"] == event["ts"]
    wait_until(lambda: served.wsgi.events.alive, 20)  # the second is started after the first
    assert served.wsgi.events.alive and not set(dead) & set(served.wsgi.events.pids)


def test_shutdown_answers_every_event_already_acknowledged(stub, tmp_path, kb_file, serve_wsgi):
    release = threading.Event()
    stub.fail_next("chat.postMessage", Fault(hold=release))
    wsgi = event_worker_app(stub, tmp_path, kb_file)
    slack = SlackSender(serve_wsgi(wsgi))
    try:
        for _ in range(5):
            assert slack.event(message(PASTE)).status == 200
        stub.wait_for("chat.postMessage")  # the first reply is held: the rest are queued or in flight
    finally:
        threading.Timer(0.5, release.set).start()
        wsgi.shutdown(drain_seconds=10)
    assert len(stub.calls_to("chat.postMessage")) == 5
    assert not wsgi.events.alive


def test_a_reload_reaches_the_worker(served, stub, kb_file):
    kb_file.write_text(kb_file.read_text().replace(TITLE, TITLE + " (edited)"))
    served.wsgi.maintenance.request_reload()
    served.wsgi.events.request_reload()  # what SIGHUP does in the server
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        before = len(stub.calls_to("chat.postMessage"))
        assert served.slack.event(message(PASTE)).status == 200
        [*_, post] = stub.wait_for("chat.postMessage", before + 1)
        if "(edited)" in post.blocks_text:
            return
        time.sleep(0.2)
    pytest.fail("the worker never answered from the edited knowledge base")


@pytest.mark.parametrize("body", [
    '{"type": "event_callback", "x": ' + '{"a":' * 50_000 + "1" + "}" * 50_001,
    '{"type": "event_callback", "event": ',
    '["event_callback"]',
    '{"type": "event_callback", "event": {"type": "message", "text": "\udcff"}}'.encode("utf-8", "surrogatepass"),
], ids=["nested", "truncated", "array", "bad-utf8"])
def test_junk_that_looks_like_an_event_gets_a_400_here(served, stub, caplog, body):
    assert post_unsigned(served.url, body, "application/json").endswith("400 Bad Request")
    assert "Traceback" not in caplog.text
    assert served.slack.event(message(PASTE)).status == 200  # the workers are fine
    stub.wait_for("chat.postMessage")


def test_a_memory_store_keeps_events_in_this_process(stub, serve_wsgi):
    """Event workers cannot share a store that lives in memory: dedupe and mutes would split."""
    wsgi = create_wsgi_app(settings_for(stub, NMBOT_DATABASE_URL="memory://"), event_worker=True)
    try:
        assert wsgi.events is None
        slack = SlackSender(serve_wsgi(wsgi))
        assert slack.event(message(PASTE)).status == 200
        stub.wait_for("chat.postMessage")
    finally:
        wsgi.shutdown(drain_seconds=10)
