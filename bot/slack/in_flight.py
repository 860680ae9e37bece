"""Work under way in a process, counted so that a stop can wait for it to finish."""
from __future__ import annotations

import threading
import time


class InFlight:
    """A thread-safe count of runs started and not yet finished, with `drain` to wait for none.

    `gauge` (a prometheus gauge) follows the count, for /metrics.
    """

    def __init__(self, gauge) -> None:
        self._gauge = gauge
        self._count = 0
        self._idle = threading.Condition()

    @property
    def count(self) -> int:
        with self._idle:
            return self._count

    def start(self, limit: int | None = None) -> bool:
        """Count one more run; False, and nothing counted, when `limit` runs are under way already."""
        with self._idle:
            if limit is not None and self._count >= limit:
                return False
            self._count += 1
        self._gauge.inc()
        return True

    def finish(self) -> None:
        self._gauge.dec()
        with self._idle:
            self._count -= 1
            self._idle.notify_all()

    def drain(self, timeout: float) -> bool:
        """Wait until no run is under way, at most `timeout` seconds; True when none is left."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._count:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
            return True
