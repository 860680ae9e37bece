"""Listener runs: each sees one knowledge base from start to end, and is counted while it runs.

Bolt runs listeners on its `listener_executor` (a plain thread pool here).
Every listener function is registered through `ListenerRuns.registering(app)`,
which wraps it so that the run is pinned to the engine that was current when
it started (`LiveEngine.pinned`) and counted, so a shutdown can wait for the
replies in flight (`drain`) and /metrics shows them. Wrapping the function,
not the executor, keeps this true whatever executor a test passes in.
"""
from __future__ import annotations

import functools
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

from slack_bolt import App

from .engine_holder import LiveEngine
from .in_flight import InFlight
from .metrics import Metrics

# The App methods that register a listener function with a decorator.
REGISTERS = ("command", "event", "message", "action", "block_action", "view", "view_submission", "view_closed",
             "shortcut", "global_shortcut", "message_shortcut", "options", "block_suggestion")


def listener_threads(count: int) -> ThreadPoolExecutor:
    """Bolt's listener executor: `count` threads (`Settings.listener_threads`)."""
    return ThreadPoolExecutor(max_workers=count, thread_name_prefix="listener")


class ListenerRuns:
    def __init__(self, engines: LiveEngine, metrics: Metrics):
        self._engines = engines
        self._runs = metrics.listener_runs
        self._runs_now = InFlight(metrics.in_flight("nmbot_listeners_in_flight",
                                                    "Listener runs started and not yet finished"))

    def wrap(self, fn: Callable) -> Callable:
        """`fn`, pinned to one knowledge base and counted while it runs. Bolt reads the names of the
        arguments to pass from the function `functools.wraps` records."""
        pinned = self._engines.pinned(fn)

        @functools.wraps(fn)
        def run(*args, **kwargs):
            self._runs_now.start()
            try:
                return pinned(*args, **kwargs)
            finally:
                self._runs.inc()
                self._runs_now.finish()

        return run

    def registering(self, app: App) -> "Registering":
        return Registering(app, self)

    @property
    def in_flight(self) -> int:
        return self._runs_now.count

    def drain(self, timeout: float) -> bool:
        """Wait until no listener runs, at most `timeout` seconds; True when none is left."""
        return self._runs_now.drain(timeout)


class Registering:
    """Stands in for the `App` while listeners register: `@app.event("message")` and the like register
    the wrapped function; nothing else of the App is reachable through it."""

    def __init__(self, app: App, runs: ListenerRuns):
        self._app = app
        self._runs = runs

    def __getattr__(self, name: str):
        if name not in REGISTERS:
            raise AttributeError(f"listeners register with one of {', '.join(REGISTERS)}, not App.{name}")
        register = getattr(self._app, name)

        def decorator(*args, **kwargs):
            decorate = register(*args, **kwargs)
            return lambda fn: decorate(self._runs.wrap(fn))

        return decorator
