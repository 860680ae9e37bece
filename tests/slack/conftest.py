"""The app in HTTP mode on 127.0.0.1, talking to a local stand-in for Slack's Web API.

Listeners run on a tracking executor so a test can wait until the app has
finished with a request (`bot.wait_idle()`) before asserting that nothing
was posted: silence is checked on a condition, not after a sleep. The probe
server (/healthz, /readyz, /metrics) runs on a port of its own, as in production.
"""
from __future__ import annotations

import shutil
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Callable, Iterator
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest

from bot_settings import settings_for
from helpers import wait_on
from slack_requests import SlackSender
from webapi_stub import WebApiStub

from nmbot.engine.knowledge import KnowledgeBase
from nmbot.slack.probes import ProbeServer
from nmbot.slack.web import SlackWsgiApp, create_wsgi_app
from nmbot.store import StateStore, open_store

SHIPPED_KB = Path(__file__).resolve().parents[2] / "knowledge" / "number-masking.yaml"


class TrackingExecutor(ThreadPoolExecutor):
    """A thread pool that can say when every task it was given has finished."""

    def __init__(self) -> None:
        super().__init__(max_workers=4, thread_name_prefix="listener")
        self._pending: set[Future] = set()
        self._idle = threading.Condition()

    def submit(self, fn, /, *args, **kwargs) -> Future:
        future = super().submit(fn, *args, **kwargs)
        with self._idle:
            self._pending.add(future)
        future.add_done_callback(self._done)
        return future

    def _done(self, future: Future) -> None:
        with self._idle:
            self._pending.discard(future)
            self._idle.notify_all()

    def wait_idle(self, timeout: float = 5.0) -> None:
        wait_on(self._idle, lambda: not self._pending, "the listeners still running to finish", timeout)


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args) -> None:
        pass


@dataclass
class Bot:
    """The running app and everything a test pokes at."""

    url: str
    probe_url: str
    slack: SlackSender
    stub: WebApiStub
    store: StateStore
    wsgi: SlackWsgiApp
    executor: TrackingExecutor

    def wait_idle(self) -> None:
        """Every listener run finished, every message with files answered, and the usage rows they counted written."""
        self.executor.wait_idle()
        assert self.wsgi.deps.file_readers.drain(5.0), "messages with files still being read after 5 s"
        self.wsgi.deps.usage.flush()

    def posts(self) -> list:
        return self.stub.calls_to("chat.postMessage")


@pytest.fixture
def stub() -> Iterator[WebApiStub]:
    server = WebApiStub().start()
    yield server
    server.stop()


@pytest.fixture
def bot_env() -> dict:
    """Environment overrides for the `bot` fixture; a test overrides this fixture to change them."""
    return {}


@pytest.fixture
def bot_store() -> StateStore:
    """The `bot` fixture's state store (closed with the app); a test overrides this fixture to use another."""
    return open_store("memory://")


@pytest.fixture
def serve_wsgi() -> Iterator[Callable[[SlackWsgiApp], str]]:
    """Serves a WSGI app on a free loopback port until the test ends; gives its URL."""
    servers = []

    def serve(wsgi: SlackWsgiApp) -> str:
        server = make_server("127.0.0.1", 0, wsgi, server_class=_ThreadingWSGIServer, handler_class=_QuietHandler)
        threading.Thread(target=server.serve_forever, args=(0.05,), name="wsgi", daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}"

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def kb_file(tmp_path) -> Path:
    """A copy of the shipped knowledge base that a test may edit."""
    path = tmp_path / "kb" / "number-masking.yaml"
    path.parent.mkdir()
    shutil.copy(SHIPPED_KB, path)
    return path


@pytest.fixture
def bot(stub: WebApiStub, bot_env: dict, kb: KnowledgeBase, bot_store: StateStore, serve_wsgi) -> Iterator[Bot]:
    store = bot_store
    executor = TrackingExecutor()
    wsgi = create_wsgi_app(settings_for(stub, **bot_env), kb=kb, store=store, listener_executor=executor)
    probes = ProbeServer(wsgi.probes, "127.0.0.1", 0).start()
    url = serve_wsgi(wsgi)
    try:
        yield Bot(url, probes.url, SlackSender(url), stub, store, wsgi, executor)
    finally:
        executor.wait_idle()
        executor.shutdown(wait=True)
        wsgi.close()
        probes.close()
