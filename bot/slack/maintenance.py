"""Work a running bot does besides answering: re-reading the knowledge base, clearing expired keys, and
taking up acknowledged events a stopped process left unanswered (journal.py).

One background thread per process. A reload is asked for by SIGHUP
(`reload_on_sighup`) or, with NMBOT_WATCH_KNOWLEDGE=1, by a change to the
knowledge files; it validates the new files completely before swapping, so an
invalid edit leaves the previous knowledge base serving and logs the reason.
"""
from __future__ import annotations

import logging
import signal
import threading
import time
from typing import Callable

from ..engine.knowledge import KnowledgeError
from .deps import Deps, knowledge_paths, purge, read_knowledge
from .engine_holder import Engine
from .journal import Recovery

log = logging.getLogger(__name__)


def reload_knowledge(deps: Deps) -> bool:
    """Read, validate and swap in the configured knowledge base; True when the new one serves."""
    serving = deps.engines.latest.kb
    try:
        engine = Engine.build(read_knowledge(deps.settings))
    except KnowledgeError as exc:
        deps.engines.problem = str(exc)
        deps.metrics.knowledge_reloads.inc(result="refused")
        log.error("knowledge base not reloaded, still serving %s: %s", serving.version, exc)
        return False
    deps.engines.swap(engine)
    deps.metrics.knowledge_reloads.inc(result="reloaded")
    log.info("knowledge base reloaded: %s, %d codes (was %s)", engine.kb.version, len(engine.kb), serving.version)
    return True


def knowledge_stamp(deps: Deps) -> tuple:
    """What changes when a knowledge file is edited, replaced, added to a folder or removed."""
    try:
        paths = knowledge_paths(deps.settings)
    except KnowledgeError as exc:
        return (str(exc),)
    stamp = []
    for path in paths:
        try:
            st = path.stat()
            stamp.append((str(path), st.st_mtime_ns, st.st_size, st.st_ino))
        except OSError as exc:
            stamp.append((str(path), type(exc).__name__))
    return tuple(stamp)


class Maintenance:
    """The background thread: reloads when asked or when the files change, purges on schedule (the store
    was purged as it opened), and takes up unanswered events as it starts and then on schedule."""

    def __init__(self, deps: Deps, *, watch_every: float | None = None, purge_every: float | None = None,
                 recovery: Recovery | None = None):
        self.deps = deps
        settings = deps.settings
        self.watch_every = watch_every if watch_every is not None else (
            settings.watch_seconds if settings.watch_knowledge else 0)
        self.purge_every = purge_every if purge_every is not None else settings.purge_seconds
        self.recovery = recovery or Recovery(deps)
        self.recover_every = min(settings.recover_seconds, settings.event_lease_seconds)
        self._wake = threading.Event()
        self._reload_asked = False
        self._stopping = False
        # Taken now, not when the thread first runs, so an edit made in between is not mistaken for the baseline.
        self._stamp = knowledge_stamp(deps) if self.watch_every else None
        self._thread = threading.Thread(target=self._loop, name="nmbot-maintenance", daemon=True)

    def start(self) -> "Maintenance":
        self._thread.start()
        return self

    def request_reload(self) -> None:
        """Ask for a reload soon. Safe in a signal handler: it only sets a flag and an event
        that no code on the main thread ever waits on."""
        self._reload_asked = True
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping = True
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _loop(self) -> None:
        stamp = self._stamp
        next_purge = time.monotonic() + self.purge_every
        next_recovery = time.monotonic()  # at start-up: what a process that stopped left unanswered
        while True:
            waits = [next_purge, next_recovery]
            waits = [at - time.monotonic() for at in waits] + ([self.watch_every] if self.watch_every else [])
            self._wake.wait(max(0.0, min(waits)))
            self._wake.clear()
            if self._stopping:
                return
            stamp = self._reload_if_due(stamp)
            if time.monotonic() >= next_purge:
                purge(self.deps.store)
                next_purge = time.monotonic() + self.purge_every
            if time.monotonic() >= next_recovery:
                self._recover()
                next_recovery = time.monotonic() + self.recover_every

    def _reload_if_due(self, stamp: tuple | None) -> tuple | None:
        asked, self._reload_asked = self._reload_asked, False
        now = knowledge_stamp(self.deps) if self.watch_every else None
        if asked or now != stamp:
            try:
                reload_knowledge(self.deps)
            except Exception:  # the thread must outlive any surprise, or reloads stop for good
                log.exception("knowledge base reload failed")
        return now

    def _recover(self) -> None:
        try:
            self.recovery.run()
        except Exception:  # the thread must outlive any surprise, or reloads and purges stop for good
            log.exception("taking up unanswered events failed")


def reload_on_sighup(maintenance: Maintenance, *also: Callable[[], None]) -> None:
    """SIGHUP re-reads the knowledge base (main thread only, where Python runs signal handlers),
    and calls `also` (signal-safe callables: passing the signal on to another process)."""

    def reload(*_) -> None:
        maintenance.request_reload()
        for call in also:
            call()

    signal.signal(signal.SIGHUP, reload)
