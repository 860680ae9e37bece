"""Health and metrics on a port of their own (NMBOT_METRICS_HOST, NMBOT_METRICS_PORT), in both modes.

- `GET /healthz`: liveness. 200 while the process can serve.
- `GET /readyz`: readiness. 503 while it cannot answer at all (no knowledge base
  yet, stopping, or in Socket Mode not connected).
- `GET /metrics`: Prometheus' text format; never on the public Slack port.

Both health bodies report the knowledge base and the state store, but a store
outage fails neither: answering without dedupe beats silence, and
`nmbot_store_up` is what to alert on.

The server is the standard library's, on daemon threads, so a slow scrape never
takes a thread that answers Slack. Every process serving the bot runs one: in
Socket Mode the process itself; under gunicorn each worker, all on the same
port (SO_REUSEPORT: the kernel hands each connection to one of them; a dead
worker's socket is gone, so probes reach the living). With several workers
the /metrics page adds up all of them (see metrics.py), whichever answers.
"""
from __future__ import annotations

import json
import logging
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

from ..settings import Settings, SettingsError
from .metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE

log = logging.getLogger(__name__)

HEALTH_PATH, READY_PATH, METRICS_PATH = "/healthz", "/readyz", "/metrics"
POLL_SECONDS = 0.05  # how soon the server notices it is asked to stop (a stop waits for it)
JSON = "application/json"


def always() -> bool:
    return True


def bot_details(deps) -> dict:
    """What both health pages say about a bot (`deps`, a Deps): its knowledge base and its store."""
    store_up = deps.store.ping()
    details = {"knowledge_base": deps.engines.latest.kb.version, "store": "up" if store_up else "down"}
    if not store_up:
        details["store_problem"] = deps.store.problem or "it does not answer"
    if deps.engines.problem:
        details["knowledge_base_problem"] = f"the last reload was refused: {deps.engines.problem}"
    return details


class Probes:
    """The answers to /healthz, /readyz and /metrics for one serving process.

    `details()`: the health bodies' fields; `live()` and `ready()`: the two verdicts;
    `metrics()`: the /metrics page. Socket Mode passes its connection state in `live` and `ready`.
    """

    def __init__(self, details: Callable[[], dict], metrics: Callable[[], bytes], *,
                 live: Callable[[], bool] = always, ready: Callable[[], bool] = always):
        self.details, self.metrics, self.live, self.ready = details, metrics, live, ready

    def health(self) -> tuple[int, bytes]:
        return self._verdict(self.live)

    def readiness(self) -> tuple[int, bytes]:
        return self._verdict(self.ready)

    def _verdict(self, check: Callable[[], bool]) -> tuple[int, bytes]:
        try:
            ok = bool(check())
            body = {"ok": ok, **self.details()}
        except Exception as exc:  # a probe must answer, and say why, whatever broke
            log.exception("a health check failed")
            ok, body = False, {"ok": False, "problem": f"the health check failed ({type(exc).__name__})"}
        return (200 if ok else 503), json.dumps(body).encode()

    def answer(self, path: str) -> tuple[int, bytes, str]:
        """(status, body, content type) for a GET of `path`."""
        if path == HEALTH_PATH:
            return (*self.health(), JSON)
        if path == READY_PATH:
            return (*self.readiness(), JSON)
        if path == METRICS_PATH:
            return 200, self.metrics(), METRICS_CONTENT_TYPE
        return 404, b"Not Found", "text/plain; charset=utf-8"


class _Handler(BaseHTTPRequestHandler):
    server: "ProbeServer"
    server_version = "nmbot"
    sys_version = ""

    def setup(self) -> None:
        self.timeout = self.server.request_seconds  # the socket's timeout, which the standard library sets up
        super().setup()

    def do_GET(self) -> None:  # noqa: N802 - the standard library's name
        self._send(*self.server.probes.answer(self.path.partition("?")[0]), head=False)

    def do_HEAD(self) -> None:  # noqa: N802
        self._send(*self.server.probes.answer(self.path.partition("?")[0]), head=True)

    def _refuse(self) -> None:
        self._send(405, b"Method Not Allowed", "text/plain; charset=utf-8", head=False)

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _refuse

    def _send(self, status: int, body: bytes, content_type: str, *, head: bool) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the standard library's name
        log.debug("probe %s: " + format, self.address_string(), *args)


class ProbeServer(ThreadingHTTPServer):
    """The probes on `host:port` (0: any free port), served from a daemon thread once `start()`ed.

    `shared_port`: other processes bind the same port too (gunicorn's workers), each taking a share.
    A probe or scrape that has not sent its request within `request_seconds` is dropped.
    """

    daemon_threads = True

    def __init__(self, probes: Probes, host: str, port: int, *, shared_port: bool = False,
                 request_seconds: float = Settings.probe_seconds):
        self.probes = probes
        self.shared_port = shared_port
        self.request_seconds = request_seconds
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        super().__init__((host, port), _Handler)
        self.thread = threading.Thread(target=self.serve_forever, args=(POLL_SECONDS,), name="probes", daemon=True)

    def server_bind(self) -> None:
        if self.shared_port:
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        super().server_bind()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    def start(self) -> "ProbeServer":
        self.thread.start()
        return self

    def close(self) -> None:
        if self.thread.is_alive():
            self.shutdown()
        self.server_close()


def start_probes(probes: Probes, host: str, port: int, *, shared_port: bool = False,
                 request_seconds: float = Settings.probe_seconds) -> ProbeServer | None:
    """The probe server, serving; None when `port` is 0 (turned off). Raises SettingsError when it cannot listen."""
    if port == 0:
        return None
    try:
        server = ProbeServer(probes, host, port, shared_port=shared_port, request_seconds=request_seconds)
    except OSError as exc:
        raise SettingsError(f"NMBOT_METRICS_HOST, NMBOT_METRICS_PORT: cannot listen at {host}:{port} "
                            f"({exc.strerror or exc}): choose another port, or 0 to turn the probes off") from None
    log.info("health and metrics at %s (/healthz, /readyz, /metrics)", server.url)
    return server.start()
