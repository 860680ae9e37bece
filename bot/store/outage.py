"""What a store keeps in the process for when its database fails: recent claims, and whether it is down.

`RecentClaims` lets a retry that reaches the same process during an outage be
recognised although the database cannot say; `OutageWatch` turns a stream of
failed operations into one line when the store goes down, one when it is back,
and a call per failure for whoever counts them.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from typing import Callable, Optional

__all__ = ["OutageWatch", "RecentClaims"]

log = logging.getLogger(__name__)


class RecentClaims:
    """Keys this process claimed or saw claimed: the newest `limit`, each until its claim ends or
    `longest` seconds pass, whichever is sooner (`StoreTuning.claims_kept`, `claims_kept_seconds`). Thread-safe."""

    def __init__(self, limit: int, longest: float) -> None:
        self._limit, self._longest = limit, longest
        self._until: OrderedDict[str, float] = OrderedDict()  # key -> forgotten at; oldest first
        self._lock = threading.Lock()

    def remember(self, key: str, now: float, ttl: float) -> None:
        with self._lock:
            self._put(key, now, ttl)

    def first_time(self, key: str, now: float, ttl: float) -> bool:
        """True, and remember `key`, unless it is remembered already (then False)."""
        with self._lock:
            if self._until.get(key, now) > now:
                return False
            self._put(key, now, ttl)
            return True

    def _put(self, key: str, now: float, ttl: float) -> None:
        self._until[key] = now + min(ttl, self._longest)
        self._until.move_to_end(key)
        while self._until and (len(self._until) > self._limit or next(iter(self._until.values())) <= now):
            self._until.popitem(last=False)


class OutageWatch:
    """Up or down, from what operations report: one WARNING going down (the reason, one line), one
    coming back, and `on_error` listeners called for every failure in between. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._problem: Optional[str] = None
        self._down_since = 0.0
        self._failures = 0
        self._listeners: list[Callable[[str], None]] = []

    @property
    def problem(self) -> Optional[str]:
        """Why the store is down (one line, no secret); None while it is up."""
        return self._problem

    def on_error(self, listener: Callable[[str], None]) -> None:
        """Call `listener(operation)` for each failed operation from now on."""
        with self._lock:
            self._listeners.append(listener)

    def failed(self, operation: str, reason: str) -> None:
        with self._lock:
            went_down = self._problem is None
            if went_down:
                self._down_since, self._failures = time.monotonic(), 0
            self._problem = reason
            self._failures += 1
            listeners = list(self._listeners)
        for listener in listeners:
            listener(operation)
        if went_down:
            log.warning("state store down: %s; answering without it until it is back (a message may be answered "
                        "twice; nmbot_store_errors_total counts the failed operations)", reason)

    def succeeded(self) -> None:
        if self._problem is None:  # the common case, without taking the lock
            return
        with self._lock:
            if self._problem is None:
                return
            self._problem = None
            lasted, failures = time.monotonic() - self._down_since, self._failures
        log.warning("state store back after %.0f s and %d failed operations", lasted, failures)
