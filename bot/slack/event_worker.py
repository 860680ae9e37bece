"""Events API requests answered in a process of their own (HTTP mode).

An auto-reply costs several times its ack (a scan, a database claim, a Web API
call), and in one process every ack waits for the interpreter behind the
replies in progress. So the HTTP worker checks an event's signature, answers
Slack at once, and hands the request to this process, which runs the same Bolt
app and listeners on it, on the machine's other core. Slash commands, buttons
and shortcuts stay in the HTTP worker: their answer is the ack.

The HTTP worker owns the event processes (NMBOT_EVENT_WORKERS of them, each
with a queue of its own): it starts them (and starts one again if it dies),
forwards SIGHUP to them, adds their figures to /metrics, and at shutdown lets
them answer everything already acknowledged before they exit.
"""
from __future__ import annotations

import itertools
import json
import logging
import multiprocessing
import os
import queue
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from multiprocessing.queues import Queue
from multiprocessing.reduction import ForkingPickler
from typing import Optional

from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.signature import SignatureVerifier

from .. import logs
from ..settings import Settings, SettingsError

log = logging.getLogger(__name__)

# Reply threads per event process. Replies wait mostly on the Web API; more threads only add
# contention for the interpreter (measured on 2 cores: 2 processes x 4 threads sustained more than
# 1 x 8 or 1 x 32). A process whose threads all wait out rate limits gets no new work (`_next_child`).
REPLY_THREADS = 4
START_SECONDS = 60  # to load the knowledge base, open the store and ask Slack who the bot is
ASK_SECONDS = 2.0  # a /metrics scrape waits this long for the worker's figures
# Replies yield the CPU to acknowledgements: an ack is due within Slack's 3 s and is what users wait on,
# while a reply a few milliseconds later goes unnoticed. On 2 saturated cores (bench_load, 50 clients)
# 4 took the p99 ack from 77-107 ms to 55-64 ms; 10 starved the replies (throughput 0.7-0.78x bare Bolt).
NICENESS = 4
# Events acknowledged and waiting for a reply thread, per event process, beyond which new ones are refused
# (503: Slack delivers them again later) instead of queued without end. Far above real traffic: Slack
# sends a workspace at most 30,000 events an hour; this is for a flood the bot cannot keep up with.
MAX_BACKLOG = 2000
SALVAGE_SECONDS = 2.0  # how long the queue of a dead event process is read for what it never took
PARENT_CHECK_SECONDS = 1.0  # an orphaned worker notices within this and exits
_SPAWN = multiprocessing.get_context("spawn")  # never fork a process that runs threads


class Backlogged(RuntimeError):
    """Every event process is too far behind to take another event now."""


class _Requests(Queue):
    """An event process's queue, from which what a dead process never took can be read back.

    The reader end of the pipe is open in the HTTP worker too, so requests still in it outlive the
    process. They are read here without the queue's reader lock: a process killed while waiting in
    `get` dies holding that lock, and nothing else reads this queue once its process is gone.
    """

    def __init__(self):
        super().__init__(ctx=_SPAWN)

    def salvage(self) -> list:
        """Every request put here and not taken, in order; call only once the reading process is gone."""
        found = []
        deadline = time.monotonic() + SALVAGE_SECONDS
        # The feeder thread may still be writing what was put last; it finishes within moments.
        while time.monotonic() < deadline and (self._reader.poll(0.05) or self._buffer):
            if self._reader.poll(0):
                try:
                    found.append(ForkingPickler.loads(self._reader.recv_bytes()))
                except Exception:  # the process died partway through reading one: the rest is unreadable
                    log.warning("the queue of a dead event worker was cut mid-request; later requests are lost")
                    break
        return [item for item in found if item is not None]


class _Child:
    """One event process, its queue of requests and the pipe the HTTP worker asks it questions on.

    A queue of its own: a process killed while waiting on a shared queue would take the queue's
    lock with it and stall every other reader.
    """

    def __init__(self, settings: Settings):
        self.requests = _Requests()
        self.control, child_end = _SPAWN.Pipe()
        self.proc = _SPAWN.Process(target=run, args=(settings, self.requests, child_end), name="nmbot-events",
                                   daemon=True)
        self.proc.start()
        child_end.close()

    def wait_ready(self) -> None:
        if not self.control.poll(START_SECONDS):
            self.proc.kill()
            raise SettingsError(f"the event worker did not start within {START_SECONDS}s")
        started = self.control.recv()
        if started != "ready":
            self.proc.join(5)
            raise SettingsError(f"the event worker could not start: {started}")

    def ask_metrics(self) -> Optional[dict]:
        try:
            self.control.send("metrics")
            if self.control.poll(ASK_SECONDS):
                return self.control.recv()
        except (OSError, EOFError):
            pass
        return None


class EventWorker:
    """The HTTP worker's handle on the event processes (`settings.event_workers` of them)."""

    def __init__(self, settings: Settings):
        self._settings = settings
        self._verifier = SignatureVerifier(settings.slack_signing_secret.reveal())
        self._lock = threading.Lock()  # one start at a time, one question on the control pipes at a time
        self._stopping = False
        self._restarting: Optional[threading.Thread] = None
        self._children = [_Child(settings) for _ in range(settings.event_workers)]
        self._turns = itertools.count()
        try:
            for child in self._children:  # started together: they load at the same time
                child.wait_ready()
        except SettingsError:
            self.stop(0)
            raise
        log.info("%d event worker(s) answer pasted logs and mentions: %s", len(self._children),
                 ", ".join(str(pid) for pid in self.pids))

    # -- running them ---------------------------------------------------------------------

    @property
    def pids(self) -> list[int]:
        return [c.proc.pid for c in self._children if c.proc.pid is not None]

    @property
    def alive(self) -> bool:
        return all(c.proc.is_alive() for c in self._children)

    def ensure_running(self) -> bool:
        """Start any event process that died again; True when all run."""
        if self.alive or self._stopping:
            return self.alive
        with self._lock:
            for i, child in enumerate(self._children):
                if child.proc.is_alive():
                    continue
                if self._stopping:  # a process started now would outlive the stop
                    return False
                try:
                    fresh = _Child(self._settings)
                    fresh.wait_ready()
                except SettingsError as exc:
                    log.error("%s", exc)
                    return False
                self._children[i] = fresh  # first, so that new requests go to it while the old queue is read
                self._hand_over(child, fresh)
        return True

    @staticmethod
    def _hand_over(dead: _Child, fresh: _Child) -> None:
        """Give the new process what the dead one had been sent and never took. Requests it was already
        answering are lost: their replies may or may not have been posted, so they are not sent twice."""
        waiting = dead.requests.salvage()
        for item in waiting:
            fresh.requests.put(item)
        log.error("event worker %s exited (code %s); a new one, %s, answers the %d event(s) it had not taken. "
                  "Up to %d it was answering may have gone unanswered", dead.proc.pid, dead.proc.exitcode,
                  fresh.proc.pid, len(waiting), REPLY_THREADS)
        dead.requests.close()
        dead.requests.cancel_join_thread()  # nothing is left to feed: never wait on its feeder at exit
        dead.control.close()

    # -- the HTTP side ---------------------------------------------------------------------

    def take(self, body: str, headers: dict) -> Optional[BoltResponse]:
        """The ack for an Events API callback, now handed to the workers; None for any other request.
        Raises Backlogged when the workers are too far behind to take it."""
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
        child = self._next_child()
        if not child.proc.is_alive():  # one look on the ack path, not one per process
            child = self._instead_of_dead(child)
        waiting = _pending(child)
        if waiting >= MAX_BACKLOG:
            raise Backlogged(f"{waiting} acknowledged events are waiting for a reply")
        child.requests.put((body, headers))
        return BoltResponse(status=200, body="")

    def _instead_of_dead(self, dead: _Child) -> _Child:
        """A living process to take the event, with the dead one started again meanwhile. Starting takes
        seconds, longer than an ack may wait; with none alive the event waits in the dead one's queue,
        which goes to its successor."""
        if self._restarting is None or not self._restarting.is_alive():
            self._restarting = threading.Thread(target=self.ensure_running, name="events-restart", daemon=True)
            self._restarting.start()
        return next((c for c in self._children if c.proc.is_alive()), dead)

    def _next_child(self) -> _Child:
        """Each in turn, unless it is well behind the least busy one (a process whose reply threads all
        wait out rate limits takes no more until it catches up)."""
        turn = self._children[next(self._turns) % len(self._children)]
        least = min(self._children, key=_pending)
        return least if _pending(turn) > _pending(least) + REPLY_THREADS else turn

    def snapshots(self) -> list[dict]:
        """Each event process's figures (Metrics.snapshot); one that does not answer in time is left out."""
        with self._lock:
            found = [c.ask_metrics() for c in self._children if c.proc.is_alive()]
        if None in found:
            log.warning("an event worker did not report its figures; /metrics shows the others only")
        return [f for f in found if f is not None]

    def request_reload(self) -> None:
        """Pass SIGHUP on. Safe in a signal handler: signals only, no lock, no pipe."""
        for child in self._children:
            if child.proc.pid is not None and child.proc.is_alive():
                os.kill(child.proc.pid, signal.SIGHUP)

    def stop(self, timeout: float) -> bool:
        """Let the workers answer what was acknowledged, then end them; True when all finished in `timeout`."""
        self._stopping = True
        with self._lock:  # a start in progress ends first, and its process is stopped with the rest
            running = [c for c in self._children if c.proc.is_alive()]
        for child in running:
            child.requests.put(None)  # after everything already queued
        deadline = time.monotonic() + timeout
        for child in running:
            child.proc.join(max(0.0, deadline - time.monotonic()))
        late = [c for c in self._children if c.proc.is_alive()]
        for child in late:
            log.warning("event worker %s was still busy after %gs; stopping it", child.proc.pid, timeout)
            child.proc.kill()
            child.proc.join(5)
        for child in self._children:
            child.requests.close()
            child.control.close()
        return not late


def _pending(child: _Child) -> int:
    try:
        return child.requests.qsize()
    except NotImplementedError:  # macOS has no semaphore count: spread evenly instead
        return 0


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

    threads = _ReplyThreads(REPLY_THREADS)
    try:
        app, deps = assemble(settings, verified_upstream=True, listener_executor=threads)
    except SettingsError as exc:
        control.send(str(exc))
        return
    maintenance = Maintenance(deps).start()
    reload_on_sighup(maintenance)
    threading.Thread(target=_answer_questions, args=(control, deps), name="events-control", daemon=True).start()
    _yield_to_acks()  # after starting: a worker started again is needed at once
    control.send("ready")
    _dispatch_until_stopped(app, requests, threads)
    stop_serving(deps, maintenance)


def _yield_to_acks() -> None:
    try:
        os.nice(NICENESS)
    except (AttributeError, OSError):  # no nice() here, or not allowed: the same work at the same priority
        pass


class _ReplyThreads(ThreadPoolExecutor):
    """Threads that take a new request only when one is free: what is not being answered waits in this
    process's queue, where the HTTP worker sees it and sends new requests elsewhere. (So a listener run
    here must not hand work to this pool and wait for it: no event listener does.)"""

    def __init__(self, threads: int):
        super().__init__(threads, thread_name_prefix="reply")
        self._free = threading.BoundedSemaphore(threads)

    def submit(self, fn, /, *args, **kwargs):
        self._free.acquire()
        try:
            future = super().submit(fn, *args, **kwargs)
        except BaseException:
            self._free.release()
            raise
        future.add_done_callback(lambda _: self._free.release())
        return future

    def wait_free(self, timeout: float) -> bool:
        """True once a thread is free. Only the dispatching thread takes threads, so one stays free
        until it submits."""
        if not self._free.acquire(timeout=timeout):
            return False
        self._free.release()
        return True


def _dispatch_until_stopped(app, requests: "multiprocessing.Queue", threads: _ReplyThreads) -> None:
    """Take a request only when a reply thread is free to start it: what this process has not taken, the
    HTTP worker can hand to another process, or to the next one should this one die."""
    parent = os.getppid()
    while True:
        try:
            if not threads.wait_free(PARENT_CHECK_SECONDS):
                raise queue.Empty
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
