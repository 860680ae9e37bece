"""Events API requests answered in a process of their own (HTTP mode).

An auto-reply costs several times its ack (a scan, a database claim, a Web API
call), and in one process every ack waits for the interpreter behind the
replies in progress. So the HTTP worker checks an event's signature, answers
Slack at once, and hands the request to this process, which runs the same Bolt
app and listeners on it, on the machine's other core. Slash commands, buttons
and shortcuts stay in the HTTP worker: their answer is the ack.

The HTTP worker owns the event worker: it starts it (and starts it again if it
dies), forwards SIGHUP to it, reads its figures for /metrics, and at shutdown
lets it answer everything already acknowledged before it exits.
"""
from __future__ import annotations

import json
import logging
import multiprocessing
import os
import queue
import signal
import threading
from multiprocessing.connection import Connection
from typing import Optional

from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.signature import SignatureVerifier

from .. import logs
from ..settings import Settings, SettingsError

log = logging.getLogger(__name__)

START_SECONDS = 60  # to load the knowledge base, open the store and ask Slack who the bot is
ASK_SECONDS = 2.0  # a /metrics scrape waits this long for the worker's figures
PARENT_CHECK_SECONDS = 1.0  # an orphaned worker notices within this and exits
_SPAWN = multiprocessing.get_context("spawn")  # never fork a process that runs threads


class EventWorker:
    """The HTTP worker's handle on the event process."""

    def __init__(self, settings: Settings):
        self._settings = settings
        self._verifier = SignatureVerifier(settings.slack_signing_secret.reveal())
        self._lock = threading.Lock()  # one start at a time, one question on the control pipe at a time
        self._stopping = False
        self._start()

    # -- running it -----------------------------------------------------------------------

    def _start(self) -> None:
        self._requests = _SPAWN.Queue()
        self._control, child_end = _SPAWN.Pipe()
        self._proc = _SPAWN.Process(target=run, args=(self._settings, self._requests, child_end),
                                    name="nmbot-events", daemon=True)
        self._proc.start()
        child_end.close()
        if not self._control.poll(START_SECONDS):
            self._proc.kill()
            raise SettingsError(f"the event worker did not start within {START_SECONDS}s")
        started = self._control.recv()
        if started != "ready":
            self._proc.join(5)
            raise SettingsError(f"the event worker could not start: {started}")
        log.info("event worker %d answers pasted logs and mentions", self._proc.pid)

    @property
    def pid(self) -> Optional[int]:
        return self._proc.pid

    @property
    def alive(self) -> bool:
        return self._proc.is_alive()

    def ensure_running(self) -> bool:
        """Start the worker again if it died; True when it runs."""
        if self._proc.is_alive() or self._stopping:
            return self._proc.is_alive()
        with self._lock:
            if self._proc.is_alive():
                return True
            log.error("the event worker exited (code %s); starting a new one. Events it had not answered "
                      "are lost", self._proc.exitcode)
            try:
                self._start()
            except SettingsError as exc:
                log.error("%s", exc)
                return False
            return True

    # -- the HTTP side ---------------------------------------------------------------------

    def take(self, body: str, headers: dict) -> Optional[BoltResponse]:
        """The ack for an Events API callback, now handed to the worker; None for any other request."""
        if '"event_callback"' not in body:  # cheap test first: most requests that are not events stop here
            return None
        try:
            payload = json.loads(body)
        except (ValueError, RecursionError):  # Bolt's path refuses it, with the reason
            return None
        if not isinstance(payload, dict) or payload.get("type") != "event_callback":
            return None
        if not self._verifier.is_valid(body=body, timestamp=_header(headers, "x-slack-request-timestamp"),
                                       signature=_header(headers, "x-slack-signature")):
            return BoltResponse(status=401, body={"error": "invalid request"})  # what Bolt answers
        self.ensure_running()
        self._requests.put((body, headers))
        return BoltResponse(status=200, body="")

    def snapshot(self) -> Optional[dict]:
        """The worker's figures (Metrics.snapshot), or None when it does not answer in time."""
        with self._lock:
            try:
                self._control.send("metrics")
                if self._control.poll(ASK_SECONDS):
                    return self._control.recv()
            except (OSError, EOFError):
                pass
        log.warning("the event worker did not report its figures; /metrics shows this process's only")
        return None

    def request_reload(self) -> None:
        """Pass SIGHUP on. Safe in a signal handler: a signal, no lock, no pipe."""
        pid = self._proc.pid
        if pid is not None and self._proc.is_alive():
            os.kill(pid, signal.SIGHUP)

    def stop(self, timeout: float) -> bool:
        """Let the worker answer what was acknowledged, then end it; True when it finished in `timeout`."""
        self._stopping = True
        if self._proc.is_alive():
            self._requests.put(None)
            self._proc.join(timeout)
        finished = not self._proc.is_alive()
        if not finished:
            log.warning("the event worker was still busy after %gs; stopping it", timeout)
            self._proc.kill()
            self._proc.join(5)
        self._requests.close()
        self._control.close()
        return finished


def _header(headers: dict, name: str) -> str:
    value = headers.get(name, "")
    return value[0] if isinstance(value, (list, tuple)) and value else str(value or "")


# --- the event process ----------------------------------------------------------------------

def run(settings: Settings, requests: "multiprocessing.Queue", control: Connection) -> None:
    """The event process: the bot's Bolt app, fed the requests the HTTP worker acknowledged."""
    # The HTTP worker decides when this process stops; a Ctrl-C to the process group must not cut a reply off.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    logs.configure(settings)
    from .app import assemble
    from .maintenance import Maintenance, reload_on_sighup
    from .server import stop_serving

    try:
        app, deps = assemble(settings, verified_upstream=True)
    except SettingsError as exc:
        control.send(str(exc))
        return
    maintenance = Maintenance(deps).start()
    reload_on_sighup(maintenance)
    threading.Thread(target=_answer_questions, args=(control, deps), name="events-control", daemon=True).start()
    control.send("ready")
    _dispatch_until_stopped(app, requests)
    stop_serving(deps, maintenance)


def _dispatch_until_stopped(app, requests: "multiprocessing.Queue") -> None:
    parent = os.getppid()
    while True:
        try:
            item = requests.get(timeout=PARENT_CHECK_SECONDS)
        except queue.Empty:
            if os.getppid() != parent:
                log.warning("the HTTP worker is gone; the event worker stops")
                return
            continue
        if item is None:
            return
        body, headers = item
        try:
            app.dispatch(BoltRequest(body=body, headers=headers))
        except Exception:  # one odd request must not stop the replies to all that follow
            log.exception("an acknowledged event could not be dispatched")


def _answer_questions(control: Connection, deps) -> None:
    while True:
        try:
            question = control.recv()
        except (EOFError, OSError):
            return
        if question == "metrics":
            control.send(deps.metrics.snapshot())
