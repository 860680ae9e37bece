"""Running the app: Socket Mode, or Slack's HTTP requests on a production WSGI server.

`serve()` checks the whole configuration (tokens, knowledge base, database,
and the token against auth.test) before anything starts, and raises one
`SettingsError` naming what to fix.

HTTP mode is gunicorn with one threaded worker. Its master turns SIGHUP into a
knowledge-base reload inside the worker (gunicorn's own HUP starts a new
worker, and a new worker that finds an invalid knowledge base cannot start,
which stops the server; reloading in place keeps the old one serving). SIGTERM
stops taking requests, lets the listener threads finish their replies, then exits.
"""
from __future__ import annotations

import json
import logging
import os
import signal
import sys
import time
from concurrent.futures import Executor
from typing import Callable, Iterable

from slack_bolt import App
from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest
from slack_bolt.adapter.wsgi.http_response import WsgiHttpResponse
from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk import WebClient

from .. import logs
from ..engine.knowledge import KnowledgeBase
from ..settings import Settings, SettingsError
from ..store import MemoryStore, StateStore
from .app import assemble
from .deps import Deps, make_client, open_deps
from .event_worker import Backlogged, EventWorker
from .maintenance import Maintenance, reload_on_sighup
from .metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
METRICS_PATH = "/metrics"
WORKER_THREADS = 8  # Slack requests are short; threads cover bursts of events and clicks
WORKER_BOOT_ERROR = 3  # gunicorn's exit status for a worker that could not start
# Slack's largest request, a 40,000-character message with its rich-text copy, is a few hundred kB.
MAX_BODY_BYTES = 1 << 20
REFUSAL_LOG_SECONDS = 10.0  # a flood of refused requests logs one line per reason this often, not one each
GRACEFUL_SECONDS = 15  # SIGTERM to exit: requests in progress, then the replies they started
DRAIN_SECONDS = GRACEFUL_SECONDS - 3  # the replies' share, so gunicorn's SIGKILL never cuts one off


class SlackWsgiApp:
    """POST /slack/events for Slack, GET /healthz for the load balancer, GET /metrics for Prometheus."""

    def __init__(self, app: App, deps: Deps, maintenance: Maintenance | None = None,
                 events: EventWorker | None = None):
        self.app = app
        self.deps = deps
        self.maintenance = maintenance
        self.events = events  # None: events are answered in this process, on the listener threads
        self._refusals_logged: dict[str, float] = {}  # reason -> when a refusal for it was last logged

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO"), environ.get("REQUEST_METHOD")
        if method in ("GET", "HEAD") and path == HEALTH_PATH:
            return self._health(start_response)
        if method in ("GET", "HEAD") and path == METRICS_PATH:
            return _send(start_response, 200, self._metrics(), METRICS_CONTENT_TYPE)
        if method == "POST" and path == EVENTS_PATH:
            return self._slack(environ, start_response)
        return _send(start_response, 404, "Not Found", "text/plain; charset=utf-8")

    def _slack(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        started = time.perf_counter()
        response = self._dispatch(environ)
        if response.status < 400 or response.status >= 500:
            self.deps.metrics.ack_seconds.observe(time.perf_counter() - started)
        http = WsgiHttpResponse(status=response.status, headers=response.headers, body=response.body)
        start_response(http.status, http.get_headers())
        return http.get_body()

    def _dispatch(self, environ: dict) -> BoltResponse:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return self._refuse("bad_length", 400, "Content-Length is not a number")
        if length > MAX_BODY_BYTES:
            # Refused unread: reading it would cost the time and memory the limit protects.
            return self._refuse("too_large", 413, f"the request body is larger than {MAX_BODY_BYTES} bytes")
        raw = environ["wsgi.input"].read(length) if length > 0 else b""
        try:
            body, headers = raw.decode("utf-8"), WsgiHttpRequest(environ).get_headers()
            taken = self.events.take(body, headers) if self.events is not None else None
            if taken is not None:
                return taken
            request = BoltRequest(body=body, query=environ.get("QUERY_STRING", ""), headers=headers)
        except Backlogged as exc:
            return self._refuse("backlog", 503, f"the event workers are behind, Slack will deliver it again: {exc}")
        except Exception as exc:
            # Bolt parses the body before it checks the signature, so junk, bad UTF-8 and JSON nested a
            # thousand deep reach this point from anyone; they get a 400, not a traceback.
            return self._refuse("malformed", 400, f"the request body is not a Slack request ({type(exc).__name__})")
        return self.app.dispatch(request)

    def _refuse(self, reason: str, status: int, text: str) -> BoltResponse:
        self.deps.metrics.refused.inc(reason=reason)
        now = time.monotonic()
        if now - self._refusals_logged.get(reason, -REFUSAL_LOG_SECONDS) >= REFUSAL_LOG_SECONDS:
            self._refusals_logged[reason] = now
            log.warning("refused a request: %s (nmbot_refused_requests_total counts them all)", text)
        return BoltResponse(status=status, body=text, headers={"content-type": "text/plain; charset=utf-8"})

    def _metrics(self) -> str:
        return self.deps.metrics.render(self.events.snapshots() if self.events is not None else [])

    def _health(self, start_response: Callable) -> list[bytes]:
        """Ready when the knowledge base is loaded (always, once started), the store reads and writes
        its tables, and the event worker runs."""
        ready = self.deps.store.ping()
        health = {"ok": ready, "knowledge_base": self.deps.engines.latest.kb.version,
                  "store": "up" if ready else "down"}
        if not ready:
            health["problem"] = "the state store is down"
            health["store_problem"] = self.deps.store.problem or "it does not answer"
        if self.events is not None and not self.events.ensure_running():
            ready = health["ok"] = False
            health["problem"] = "the event worker cannot start"
        if self.deps.engines.problem:
            health["knowledge_base_problem"] = f"the last reload was refused: {self.deps.engines.problem}"
        return _send(start_response, 200 if ready else 503, json.dumps(health), "application/json")

    def shutdown(self, drain_seconds: float = DRAIN_SECONDS) -> None:
        if self.events is not None:
            self.events.stop(drain_seconds)  # first: it holds most of the replies still owed
        stop_serving(self.deps, self.maintenance, drain_seconds)

    close = shutdown


def stop_serving(deps: Deps, maintenance: Maintenance | None, drain_seconds: float = DRAIN_SECONDS) -> None:
    """Let listener runs and messages with files finish their replies (at most `drain_seconds` in all),
    then release everything."""
    deadline = time.monotonic() + drain_seconds
    if maintenance is not None:
        maintenance.stop()
    pending = deps.listeners.in_flight
    if pending:
        log.info("waiting for %d listener run(s) to finish their replies", pending)
    if not deps.listeners.drain(drain_seconds):
        log.warning("%d listener run(s) still busy after %gs; stopping anyway", deps.listeners.in_flight,
                    drain_seconds)
    # After the listeners: a listener run may still hand a message with files over.
    if not deps.file_readers.drain(max(0.0, deadline - time.monotonic())):
        log.warning("%d message(s) with files still being read after %gs; stopping anyway",
                    deps.file_readers.in_flight, drain_seconds)
    deps.listeners.shutdown(wait=False)
    deps.file_readers.shutdown()
    deps.usage.close()
    deps.store.close()


def _send(start_response: Callable, status: int, body: str, content_type: str) -> list[bytes]:
    http = WsgiHttpResponse(status=status, headers={"content-type": [content_type]}, body=body)
    start_response(http.status, http.get_headers())
    return list(http.get_body())


def create_wsgi_app(settings: Settings, *, kb: KnowledgeBase | None = None, store: StateStore | None = None,
                    client: WebClient | None = None, listener_executor: Executor | None = None,
                    event_worker: bool = False) -> SlackWsgiApp:
    """The WSGI app; with `event_worker`, Events API requests are answered in a process of their own."""
    settings.require("slack_bot_token", "slack_signing_secret")
    app, deps = assemble(settings, kb, store, client, listener_executor=listener_executor)
    if event_worker and isinstance(deps.store, MemoryStore):
        # Other processes cannot see this store: their dedupe and channel settings would be their own.
        log.info("the state store is in memory: events are answered in this process")
        event_worker = False
    try:
        events = EventWorker(settings) if event_worker else None
    except BaseException:  # the workers did not start: nothing will close the store otherwise
        deps.store.close()
        raise
    return SlackWsgiApp(app, deps, Maintenance(deps).start(), events)


def serve(settings: Settings, *, http: bool, host: str | None = None, port: int | None = None) -> int:
    """Run until stopped; the process exit code. Raises SettingsError for configuration to fix."""
    logs.configure(settings)
    if http:
        settings.require("slack_bot_token", "slack_signing_secret")
        preflight(settings)
        host = host or settings.host
        return run_gunicorn(lambda: _worker_app(settings), settings, host, settings.port if port is None else port)
    settings.require("slack_bot_token")
    try:
        settings.require("slack_app_token")
    except SettingsError as exc:
        raise SettingsError(f"{exc}; or run `nmbot serve --http` to receive Slack's HTTP requests "
                            "(needs SLACK_SIGNING_SECRET)") from None
    from .socket_mode import run_socket_mode  # aiohttp and the Socket Mode client load in Socket Mode only

    return run_socket_mode(settings)


def preflight(settings: Settings) -> None:
    """Open and close everything the server will open, so configuration errors surface here
    and not in a worker process after the fork."""
    open_deps(settings, client=make_client(settings)).store.close()


# --- HTTP ----------------------------------------------------------------------------------

def _worker_app(settings: Settings) -> SlackWsgiApp:
    # Built in the worker, after the fork, so no database connection crosses it.
    try:
        wsgi = create_wsgi_app(settings, event_worker=True)
    except SettingsError as exc:
        print(f"nmbot: {exc}", file=sys.stderr)
        sys.exit(WORKER_BOOT_ERROR)
    reload_on_sighup(wsgi.maintenance, *([wsgi.events.request_reload] if wsgi.events is not None else []))
    log.info("nmbot is serving Slack's requests (knowledge base %s)", wsgi.deps.kb.version)
    return wsgi


def _drain_worker(_arbiter, worker) -> None:
    """gunicorn's worker_exit hook: requests are answered by now, the replies they started may not be."""
    wsgi = getattr(worker, "wsgi", None)
    if isinstance(wsgi, SlackWsgiApp):
        wsgi.shutdown()


def gunicorn_options(settings: Settings, host: str, port: int) -> dict:
    return {
        "bind": [f"[{host}]:{port}" if ":" in host else f"{host}:{port}"],
        "workers": 1,  # I/O-bound work: threads suffice, and the knowledge base loads once
        "worker_class": "gthread",
        "threads": WORKER_THREADS,
        "timeout": 30,
        "graceful_timeout": GRACEFUL_SECONDS,
        "loglevel": settings.log_level,
        "errorlog": "-",
        "logger_class": logs.gunicorn_logger_class(),
        "worker_exit": _drain_worker,
        "proc_name": "nmbot",
        # Gunicorn >= 25 opens a control socket in $HOME by default; nmbot never uses it.
        "control_socket_disable": True,
    }


def run_gunicorn(load: Callable[[], Callable], settings: Settings, host: str, port: int) -> int:
    """Serve the WSGI app `load()` builds in the worker, the way nmbot serves itself; the exit code."""
    from gunicorn.app.base import BaseApplication
    from gunicorn.arbiter import Arbiter

    class ReloadingArbiter(Arbiter):
        def handle_hup(self) -> None:
            self.log.info("Hang up: reloading the knowledge base in the worker")
            self.kill_workers(signal.SIGHUP)

    class Server(BaseApplication):
        def load_config(self) -> None:
            for key, value in gunicorn_options(settings, host, port).items():
                if key in self.cfg.settings:
                    self.cfg.set(key, value)

        def load(self) -> Callable:
            return load()

        def run(self) -> None:
            try:
                ReloadingArbiter(self).run()
            except RuntimeError as exc:  # what BaseApplication.run does with gunicorn's configuration errors
                print(f"nmbot: {exc}", file=sys.stderr)
                sys.exit(1)

    master = os.getpid()
    try:
        Server().run()
    except SystemExit as exc:
        if os.getpid() != master:
            raise  # a worker process ends exactly as gunicorn decided, without running the caller's code
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return 0
