"""Slack's HTTP requests in a gunicorn worker: Bolt's own WSGI handler, behind what it lacks.

`slack_bolt.adapter.wsgi.SlackRequestHandler` serves POST /slack/events. In
front of it, `SlackWsgiApp` adds only what the stock handler does not do:

- a body limit: over 1 MiB is 413, refused unread when Content-Length says so;
- chunked bodies (gunicorn de-chunks them and sets `wsgi.input_terminated`):
  read to their end, within the limit; a body with neither a length nor a
  known end is 411;
- a deadline on the whole body (NMBOT_BODY_SECONDS): a client trickling its
  body would otherwise hold one of the worker's threads for as long as it
  likes; past the deadline it gets a 408;
- 400, never a 500 or a traceback, for a body that is not UTF-8 or that Bolt
  cannot parse (Bolt parses before it checks the signature, so anyone can
  send one);
- GET /healthz for load balancers, the same page as on the probe port.

/metrics and /readyz are on the probe port only (probes.py).
"""
from __future__ import annotations

import contextlib
import io
import logging
import socket
import time
from concurrent.futures import Executor
from http import HTTPStatus
from typing import Callable, Iterable

from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient

from ..engine.knowledge import KnowledgeBase
from ..settings import Settings
from ..store import StateStore
from .app import assemble
from .deps import Deps
from .maintenance import Maintenance, reload_on_sighup
from .probes import HEALTH_PATH, JSON, ProbeServer, Probes, bot_details, start_probes
from .process_memory import release_freed_memory
from .server import stop_serving

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
# Slack's largest request, a 40,000-character message with its rich-text copy, is a few hundred kB.
MAX_BODY_BYTES = 1 << 20
BODY_CHUNK_BYTES = 64 * 1024
TEXT = "text/plain; charset=utf-8"


class Refused(Exception):
    """A request answered before Bolt sees it: `status`, and `reason` for nmbot_refused_requests_total."""

    def __init__(self, reason: str, status: int, text: str):
        super().__init__(text)
        self.reason, self.status, self.text = reason, status, text


def read_body(environ: dict, seconds: float) -> bytes:
    """The request body, whole, read within `seconds`; raises Refused when it is too large, has no known end
    or does not arrive in time."""
    declared = (environ.get("CONTENT_LENGTH") or "").strip()
    if declared:
        if not (declared.isascii() and declared.isdigit()):
            raise Refused("bad_length", 400, "Content-Length is not a number")
        if int(declared) > MAX_BODY_BYTES:
            # Refused unread: reading it would cost the time and memory the limit protects.
            raise Refused("too_large", 413, f"the request body is larger than {MAX_BODY_BYTES} bytes")
        return _read_within(environ, int(declared), seconds)
    if not environ.get("wsgi.input_terminated"):
        # No length and a server that cannot tell where the body ends: reading would wait for the client to close.
        raise Refused("no_length", 411, "the request has no Content-Length")
    body = _read_within(environ, MAX_BODY_BYTES + 1, seconds)
    if len(body) > MAX_BODY_BYTES:
        raise Refused("too_large", 413, f"the request body is larger than {MAX_BODY_BYTES} bytes")
    return body


def _read_within(environ: dict, limit: int, seconds: float) -> bytes:
    """Up to `limit` bytes of the body (fewer when it ends first), all of them within `seconds`.

    Each read waits at most for the time left, on the client's socket (gunicorn puts it in the environ as
    `gunicorn.socket`); elsewhere, as under a test's WSGI server, the reads are only checked between them."""
    stream, sock = environ["wsgi.input"], environ.get("gunicorn.socket")
    deadline = time.monotonic() + seconds
    chunks, got = [], 0
    try:
        while got < limit:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            if isinstance(sock, socket.socket):
                sock.settimeout(left)
            chunk = stream.read(min(BODY_CHUNK_BYTES, limit - got))
            if not chunk:
                break
            chunks.append(chunk)
            got += len(chunk)
    except TimeoutError:
        if isinstance(sock, socket.socket):
            # gunicorn would otherwise keep the connection and, before the next request, read the rest of
            # this body for as long as the client trickles it; with nothing more to read it closes after the 408.
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RD)
        raise Refused("slow_body", 408, f"the request body did not arrive within {seconds:g} s") from None
    finally:
        if isinstance(sock, socket.socket):
            sock.settimeout(None)  # gunicorn reads the next request on a blocking socket
    return b"".join(chunks)


class SlackWsgiApp:
    """POST /slack/events through Bolt's SlackRequestHandler; GET /healthz for the load balancer."""

    def __init__(self, app, deps: Deps, maintenance: Maintenance | None = None):
        self.handler = SlackRequestHandler(app, path=EVENTS_PATH)
        self.deps = deps
        self.maintenance = maintenance
        self.stopping = False
        self.probes = Probes(lambda: bot_details(deps), deps.metrics.render, ready=lambda: not self.stopping)
        self.probe_server: ProbeServer | None = None
        self._refusals_logged: dict[str, float] = {}  # reason -> when a refusal for it was last logged

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        method, path = environ.get("REQUEST_METHOD"), environ.get("PATH_INFO")
        if path == HEALTH_PATH and method in ("GET", "HEAD"):
            return _send(start_response, *self.probes.health(), JSON)
        if path == EVENTS_PATH and method == "POST":
            return self._slack(environ, start_response)
        return self.handler(environ, start_response)  # Bolt's 404 (or 400 for what is not HTTP)

    def _slack(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        started = time.perf_counter()
        try:
            body = read_body(environ, self.deps.settings.body_seconds)
            body.decode("utf-8")  # Bolt decodes it too, and would raise on bad bytes
        except Refused as refused:
            return self._refuse(start_response, refused)
        except UnicodeDecodeError:
            return self._refuse(start_response, Refused("malformed", 400, "the request body is not UTF-8"))
        statuses: list[str] = []

        def noting_status(status: str, headers: list, exc_info=None):
            statuses.append(status)
            return start_response(status, headers, exc_info)

        whole = {**environ, "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body))}
        try:
            answer = self.handler(whole, noting_status)
        except Exception as exc:
            if statuses:
                raise
            # Bolt parses the body before it checks the signature, so junk and JSON nested a thousand
            # deep reach this point from anyone; they get a 400, not a traceback.
            return self._refuse(start_response, Refused(
                "malformed", 400, f"the request body is not a Slack request ({type(exc).__name__})"))
        if not 400 <= int(statuses[0][:3]) < 500:
            self.deps.metrics.ack_seconds.observe(time.perf_counter() - started)
        return answer

    def _refuse(self, start_response: Callable, refused: Refused) -> list[bytes]:
        self.deps.metrics.refused.inc(reason=refused.reason)
        now, every = time.monotonic(), self.deps.settings.refusal_log_seconds
        if now - self._refusals_logged.get(refused.reason, -every) >= every:
            self._refusals_logged[refused.reason] = now
            log.warning("refused a request: %s (nmbot_refused_requests_total counts them all)", refused.text)
        return _send(start_response, refused.status, refused.text.encode(), TEXT)

    def serve_probes(self, host: str, port: int, *, shared_port: bool = False) -> "SlackWsgiApp":
        """Start /healthz, /readyz and /metrics on a port of their own (not when `port` is 0)."""
        self.probe_server = start_probes(self.probes, host, port, shared_port=shared_port,
                                         request_seconds=self.deps.settings.probe_seconds)
        return self

    def shutdown(self, drain_seconds: float | None = None) -> None:
        if self.stopping:
            return
        self.stopping = True  # /readyz says so while the replies finish
        stop_serving(self.deps, self.maintenance, drain_seconds)
        if self.probe_server is not None:
            self.probe_server.close()

    close = shutdown


def _send(start_response: Callable, status: int, body: bytes, content_type: str) -> list[bytes]:
    code = HTTPStatus(status)
    start_response(f"{code.value} {code.phrase}", [("content-type", content_type), ("content-length", str(len(body)))])
    return [body]


def create_wsgi_app(settings: Settings, *, kb: KnowledgeBase | None = None, store: StateStore | None = None,
                    client: WebClient | None = None, listener_executor: Executor | None = None) -> SlackWsgiApp:
    """The whole bot as a WSGI app; raises SettingsError naming what to fix."""
    settings.require("slack_bot_token", "slack_signing_secret")
    app, deps = assemble(settings, kb, store, client, listener_executor=listener_executor)
    return SlackWsgiApp(app, deps, Maintenance(deps).start())


def worker_app(settings: Settings) -> SlackWsgiApp:
    """The bot in a gunicorn worker, built after the fork (no connection or thread crosses it): checks the
    tokens, knowledge base and store, and raises SettingsError naming what to fix."""
    wsgi = create_wsgi_app(settings)
    try:
        wsgi.serve_probes(settings.metrics_host, settings.metrics_port, shared_port=True)
    except BaseException:
        wsgi.close(0)
        raise
    reload_on_sighup(wsgi.maintenance)
    release_freed_memory()
    log.info("nmbot is serving Slack's requests (knowledge base %s)", wsgi.deps.kb.version)
    return wsgi
