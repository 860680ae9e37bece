"""What tests in every folder share: waiting for a condition with a deadline, a child process's output read
as it comes, a clock the test moves by hand, and fewer examples for costly property tests.

A wait that runs out fails, naming what it waited for: no test carries on as if the condition held.
"""
from __future__ import annotations

import queue
import re
import threading
import time
from typing import IO, Callable, TypeVar, Union

from hypothesis import settings

T = TypeVar("T")
# What a wait was for, in its failure message; a callable is asked only then, for what is known only at that
# time (a log, the calls recorded so far).
What = Union[str, Callable[[], str]]


def _timed_out(what: What, timeout: float) -> AssertionError:
    return AssertionError(f"timed out after {timeout:g}s waiting for {what() if callable(what) else what}")


def poll_until(condition: Callable[[], T], what: What, timeout: float = 20.0, every: float = 0.02) -> T:
    """Ask `condition` every `every` seconds until it returns something true, and return that; fail after
    `timeout` seconds. For state nothing announces (a file, another process, a port); where a stand-in
    notifies a Condition, `wait_on` wakes at once instead."""
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise _timed_out(what, timeout)
        time.sleep(every)
    return result


def wait_on(changed: threading.Condition, condition: Callable[[], object], what: What, timeout: float) -> None:
    """Wait until `condition` holds, woken each time whoever changes what it reads notifies `changed`;
    fail after `timeout` seconds."""
    with changed:
        if not changed.wait_for(condition, timeout):
            raise _timed_out(what, timeout)


class Lines:
    """A child process's output, read on a thread of its own as it comes: all of it so far (`output`,
    `text`), and the next line that matches a pattern (`wait_for`)."""

    def __init__(self, stream: IO[str]) -> None:
        self.output: list[str] = []
        self._unread: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, args=(stream,), name="lines", daemon=True).start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self.output.append(line)
            self._unread.put(line)

    @property
    def text(self) -> str:
        return "".join(self.output)

    def skip_unread(self) -> None:
        """Forget the lines not yet waited for: the next `wait_for` reads only what comes after now."""
        while True:
            try:
                self._unread.get_nowait()
            except queue.Empty:
                return

    def wait_for(self, pattern: str, timeout: float = 20.0) -> re.Match:
        """The next line (after those already waited for) matching `pattern`; fails after `timeout` seconds,
        showing the output so far."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self._unread.get(timeout=left)
            except queue.Empty:
                break
            if found := re.search(pattern, line):
                return found
        raise AssertionError(f"no line matching {pattern!r} within {timeout:g}s; output:\n{self.text}")


class FakeClock:
    """Time as the code under test reads it (`clock=`), moved by the test: `clock()` is `clock.now`."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def fewer_examples(share: int) -> settings:
    """Hypothesis settings for a property whose every example is costly (a long generated text read by
    several scanners): 1/`share` of the loaded profile's examples, so the long profile still runs thousands."""
    return settings(max_examples=max(10, settings().max_examples // share))
