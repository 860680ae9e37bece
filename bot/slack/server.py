"""Running the app: Socket Mode, or Slack's HTTP requests on a production WSGI server.

`serve()` checks the whole configuration (tokens, knowledge base, database,
and the token against auth.test) before anything starts, and raises one
`SettingsError` naming what to fix.
"""
from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
from concurrent.futures import Executor
from typing import Callable, Iterable

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from ..engine.knowledge import KnowledgeBase
from ..settings import MANIFEST_HINT, Settings, SettingsError
from ..store import StateStore
from .app import assemble
from .deps import Deps, make_client, open_deps

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
WORKER_THREADS = 8  # Slack requests are short; threads cover bursts of events and clicks
WORKER_BOOT_ERROR = 3  # gunicorn's exit status for a worker that could not start


class SlackWsgiApp:
    """POST /slack/events for Slack, GET /healthz for the load balancer; anything else is 404."""

    def __init__(self, app: App, deps: Deps):
        self.app = app
        self.deps = deps
        self._slack = SlackRequestHandler(app, path=EVENTS_PATH)

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == HEALTH_PATH and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            return self._health(start_response)
        return self._slack(environ, start_response)

    def _health(self, start_response: Callable) -> list[bytes]:
        ready = self.deps.store.ping()
        body = json.dumps({"ok": ready, "knowledge_base": self.deps.kb.version}).encode()
        status = "200 OK" if ready else "503 Service Unavailable"
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]

    def close(self) -> None:
        self.deps.store.close()


def create_wsgi_app(settings: Settings, *, kb: KnowledgeBase | None = None, store: StateStore | None = None,
                    client: WebClient | None = None, listener_executor: Executor | None = None) -> SlackWsgiApp:
    settings.require("slack_bot_token", "slack_signing_secret")
    app, deps = assemble(settings, kb, store, client, listener_executor=listener_executor)
    return SlackWsgiApp(app, deps)


def serve(settings: Settings, *, http: bool, host: str | None = None, port: int | None = None) -> int:
    """Run until stopped; the process exit code. Raises SettingsError for configuration to fix."""
    _default_logging(settings)
    if http:
        settings.require("slack_bot_token", "slack_signing_secret")
        preflight(settings)
        return _run_http(settings, host or settings.host, settings.port if port is None else port)
    settings.require("slack_bot_token")
    try:
        settings.require("slack_app_token")
    except SettingsError as exc:
        raise SettingsError(f"{exc}; or run `nmbot serve --http` to receive Slack's HTTP requests "
                            "(needs SLACK_SIGNING_SECRET)") from None
    return _run_socket_mode(settings)


def preflight(settings: Settings) -> None:
    """Open and close everything the server will open, so configuration errors surface here
    and not in a worker process after the fork."""
    open_deps(settings, client=make_client(settings)).store.close()


# --- HTTP ----------------------------------------------------------------------------------

def _run_http(settings: Settings, host: str, port: int) -> int:
    from gunicorn.app.base import BaseApplication

    bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"

    class Server(BaseApplication):
        def load_config(self) -> None:
            options = {
                "bind": [bind],
                "workers": 1,  # I/O-bound work: threads suffice, and the knowledge base loads once
                "worker_class": "gthread",
                "threads": WORKER_THREADS,
                "timeout": 30,
                "graceful_timeout": 10,
                "loglevel": settings.log_level,
                "errorlog": "-",
                "proc_name": "nmbot",
                # Gunicorn >= 25 opens a control socket in $HOME by default; nmbot never uses it.
                "control_socket_disable": True,
            }
            for key, value in options.items():
                if key in self.cfg.settings:
                    self.cfg.set(key, value)

        def load(self) -> SlackWsgiApp:
            # Built in the worker, after the fork, so no database connection crosses it.
            try:
                return create_wsgi_app(settings)
            except SettingsError as exc:
                print(f"nmbot: {exc}", file=sys.stderr)
                sys.exit(WORKER_BOOT_ERROR)

    master = os.getpid()
    try:
        Server().run()
    except SystemExit as exc:
        if os.getpid() != master:
            raise  # a worker process ends exactly as gunicorn decided, without running the caller's code
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return 0


# --- Socket Mode -----------------------------------------------------------------------------

def _run_socket_mode(settings: Settings) -> int:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    app, deps = assemble(settings)
    handler = SocketModeHandler(app, settings.slack_app_token.reveal())
    try:
        handler.connect()
    except SlackApiError as exc:
        deps.store.close()
        error = exc.response.get("error") if exc.response is not None else "unknown_error"
        raise SettingsError(f"SLACK_APP_TOKEN was rejected by Slack ({error}): {MANIFEST_HINT}, then create it "
                            "under Basic Information > App-Level Tokens with the scope connections:write") from None
    except (SlackClientError, OSError) as exc:
        deps.store.close()
        raise SettingsError(f"cannot open a Socket Mode connection to Slack ({exc}): check the network") from None
    log.info("nmbot is connected to Slack in Socket Mode (knowledge base %s)", deps.kb.version)
    stop = threading.Event()
    _stop_on_signals(stop)
    try:
        while not stop.wait(1.0):
            pass
    finally:
        handler.close()
        deps.store.close()
    return 0


def _stop_on_signals(stop: threading.Event) -> None:
    if threading.current_thread() is not threading.main_thread():
        return  # signal handlers can only be set from the main thread
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())


def _default_logging(settings: Settings) -> None:
    """Plain log lines at the configured level, unless the caller set logging up already."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
