"""The threads Bolt runs listeners on.

Bolt's default pool has five threads, and a slash command's ack is computed on
that same pool: five replies waiting out Slack's rate limit would make every
`/nmerror` miss its 3-second deadline. Threads here are created on demand and
cost little while idle, so the pool is wide.

Each run sees one knowledge base from start to end (`LiveEngine.pinned`), and
is counted, so a shutdown can wait for the replies in flight (`drain`).
"""
from __future__ import annotations

import threading
import time
from concurrent.futures import Executor, Future, ThreadPoolExecutor

from .engine_holder import LiveEngine
from .metrics import Metrics

LISTENER_THREADS = 32


class ListenerPool(Executor):
    def __init__(self, engines: LiveEngine, metrics: Metrics, inner: Executor | None = None):
        self._inner = inner or ThreadPoolExecutor(max_workers=LISTENER_THREADS, thread_name_prefix="listener")
        self._engines = engines
        self._metrics = metrics
        self._in_flight = 0
        self._idle = threading.Condition()
        self._here = threading.local()
        metrics.gauge("nmbot_listeners_in_flight", "Listener runs started and not yet finished",
                      lambda: self.in_flight)

    def run_next_here(self) -> None:
        """Run the next listener submitted from this thread in this thread, at once.

        For a listener whose whole job is its ack (a slash command): Bolt polls for
        an ack in 10 ms steps, so a hand-off to another thread costs every answer
        that wait; run here, the ack is ready when Bolt first looks.
        """
        self._here.next = True

    @property
    def in_flight(self) -> int:
        with self._idle:
            return self._in_flight

    def submit(self, fn, /, *args, **kwargs) -> Future:
        with self._idle:
            self._in_flight += 1
        if getattr(self._here, "next", False):
            self._here.next = False
            return self._run_here(fn, args, kwargs)
        try:
            return self._inner.submit(self._run, self._engines.pinned(fn), args, kwargs)
        except BaseException:
            self._finished()
            raise

    def _run_here(self, fn, args, kwargs) -> Future:
        done: Future = Future()
        try:
            done.set_result(self._run(self._engines.pinned(fn), args, kwargs))
        except BaseException as exc:  # Bolt's listener wrapper handles its own errors; this keeps the Future honest
            done.set_exception(exc)
        return done

    def _run(self, fn, args, kwargs):
        try:
            return fn(*args, **kwargs)
        finally:
            self._finished()
            self._metrics.listener_runs.inc()

    def _finished(self) -> None:
        with self._idle:
            self._in_flight -= 1
            self._idle.notify_all()

    def drain(self, timeout: float) -> bool:
        """Wait until no listener runs, at most `timeout` seconds; True when none is left."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._in_flight:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
            return True

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._inner.shutdown(wait=wait, cancel_futures=cancel_futures)
