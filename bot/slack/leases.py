"""The acknowledged events one process is answering, their leases kept alive until each is finished.

An event is recorded in the state store's journal before Slack is told it
arrived (journal.py), leased to the process that recorded it. While the reply
is being built (a scan, files downloaded, a post waiting out a rate limit) one
background thread renews the leases of every event still held, so no other
process takes one up; when the process dies, renewals stop, the leases lapse
and a recovery pass elsewhere answers what was left.

An event answered by a reply is settled behind the reply: the same thread
writes the settles of every reply of the last `settle_seconds` in one statement,
and whatever is left at shutdown (`close`). A settle lost in a crash is
harmless: the reply names the event's claim key, and the recovery pass that
takes the event up finds it in the thread and posts nothing. Silence has no
such trace, so `finish` settles it at once.
"""
from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from typing import Optional

from ..settings import Settings
from ..store import StateStore, StoreError

log = logging.getLogger(__name__)

# A lease (NMBOT_EVENT_LEASE_SECONDS, 60 s by default) is renewed three times per its length, so two slow or
# failed renewals in a row (a store hiccup) still never let it lapse under a live process. Sixty seconds is
# far longer than any renewal can be late, and short enough that an event a dead process held is answered
# about a minute later, well inside the hour an answer is worth; shorter leases cost a write per held event
# every third of it.
RENEWALS_PER_LEASE = 3


class Leases:
    """What this process holds: keys it is answering, renewed every `lease / 3` seconds. Thread-safe.

    A key held longer than `longest` seconds stops being renewed: by then the event is too old to be taken up
    again anyway, and a key a listener forgot to finish must not be renewed for as long as the process lives.
    Settles are written at least every `settle_seconds`; through a store outage the newest `settles_kept` wait.
    """

    def __init__(self, store: StateStore, *, lease: float, longest: float,
                 settle_seconds: float = Settings.settle_seconds, settles_kept: int = Settings.settles_kept):
        # Host, pid and a nonce: a pid alone repeats across containers and restarts.
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.lease = lease
        self._store = store
        self._longest = longest
        self._settle_seconds, self._settles_kept = settle_seconds, settles_kept
        # key -> [when this process began holding it (monotonic), how many deliveries here hold it]: Slack's
        # retry of an event may reach the process still answering the first delivery.
        self._held: dict[str, list] = {}
        self._unwritten: list[str] = []  # keys of events answered by a reply, their settle not yet written
        self._changed = threading.Condition()
        self._renewer: Optional[threading.Thread] = None
        self._writing = threading.Lock()  # one settle write at a time: the thread's, or close's

    @property
    def held(self) -> int:
        with self._changed:
            return len(self._held)

    def hold(self, key: Optional[str]) -> None:
        """Keep renewing this event's lease until `finish`."""
        if key is None:
            return
        with self._changed:
            self._held.setdefault(key, [time.monotonic(), 0])[1] += 1
            self._start_thread()

    def finish(self, key: Optional[str], *, settled: bool, replied: bool = False) -> None:
        """Stop renewing; with `settled`, the event is answered (or the bot chose silence) and is never taken
        up again. Unsettled, its lease lapses and a recovery pass takes it up (a post Slack never received).
        `replied`: settled by a reply naming the event's claim key, so the settle is written behind.
        A key this process does not hold was never recorded (the store was down): there is nothing to settle."""
        if key is None:
            return
        with self._changed:
            held = self._held.get(key)
            if held is not None:
                held[1] -= 1
                if held[1] <= 0:
                    del self._held[key]
                if settled and replied:
                    self._unwritten.append(key)
                    self._start_thread()
        if settled and not replied and held is not None:
            try:
                self._store.settle_event(key)
            except StoreError:  # the store said it is down; a recovery pass will decide again
                log.debug("state store unavailable: a settled event stays in the journal")

    def close(self) -> None:
        """Write the settles still pending (at shutdown, before the store closes)."""
        self.write_settles()

    def write_settles(self) -> int:
        """Settle the events answered by a reply since the last write, in one statement; how many."""
        with self._writing:
            with self._changed:
                keys, self._unwritten = self._unwritten, []
            if not keys:
                return 0
            try:
                self._store.settle_events(keys)
            except StoreError:  # kept for the next write; past the bound, recovery finds their replies
                with self._changed:
                    self._unwritten[:0] = keys[-self._settles_kept:]
                    del self._unwritten[:-self._settles_kept]
                log.debug("state store unavailable: %d answered event(s) not settled yet", len(keys))
                return 0
            return len(keys)

    def _start_thread(self) -> None:
        """(With the lock held.) The thread lives only while something is held or unwritten."""
        if self._renewer is None:
            self._renewer = threading.Thread(target=self._work_until_idle, name="nmbot-leases", daemon=True)
            self._renewer.start()

    def _work_until_idle(self) -> None:
        every = self.lease / RENEWALS_PER_LEASE
        renew_at = time.monotonic() + every
        while True:
            with self._changed:
                self._changed.wait(timeout=max(0.0, min(self._settle_seconds, renew_at - time.monotonic())))
            self.write_settles()
            with self._changed:
                self._forget_older_than(self._longest)
                if not self._held and not self._unwritten:
                    self._renewer = None
                    return
                renewing = time.monotonic() >= renew_at
                keys = list(self._held) if renewing else []
            if renewing:
                renew_at = time.monotonic() + every
                self._renew(keys)

    def _renew(self, keys: list[str]) -> None:
        if not keys:
            return
        try:
            self._store.renew_leases(keys, lease=self.lease)
        except StoreError:
            log.debug("state store unavailable: %d lease(s) not renewed", len(keys))

    def _forget_older_than(self, seconds: float) -> None:
        """(With the lock held.)"""
        oldest = time.monotonic() - seconds
        for key in [k for k, (since, _) in self._held.items() if since < oldest]:
            log.warning("an event held for longer than %.0f s is no longer renewed", seconds)
            del self._held[key]
