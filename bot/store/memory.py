"""`MemoryStore`: the state store in a process's memory (tests, offline use).

Same contract as the SQL backend, minus persistence: everything is gone when
the process ends, and nothing is shared with other processes.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace
from typing import Callable, Optional

from .base import (
    DEFAULT_KEEP_DAYS,
    ChannelSettings,
    Clock,
    Feedback,
    JournalEntry,
    StateStore,
    StoreError,
    Unanswered,
    UsageEvent,
)

__all__ = ["MemoryStore"]

PURGE_EVERY = 600.0  # seconds between opportunistic purges of expired keys and rows past retention


@dataclass
class _Journaled:
    """One journal row: the entry and who holds it until when."""

    entry: JournalEntry
    owner: str
    lease_until: float
    expires_at: float
    settled: bool = False


class MemoryStore(StateStore):
    """Thread-safe in-process backend; one lock guards all state."""

    def __init__(self, *, clock: Clock = time.time, keep_days: float = DEFAULT_KEEP_DAYS) -> None:
        super().__init__(clock=clock, keep_days=keep_days)
        self._lock = threading.RLock()
        self._claims: dict[str, float] = {}  # key -> expires_at
        self._cooldowns: dict[tuple[str, int], float] = {}
        self._settings: dict[str, ChannelSettings] = {}
        self._quiet: dict[tuple[str, str], float] = {}  # (channel, thread_ts) -> first quieted at
        self._feedback: dict[tuple[str, str], Feedback] = {}  # (user, card_id)
        self._unanswered: list[Unanswered] = []
        self._events: list[UsageEvent] = []
        self._journal: dict[str, _Journaled] = {}
        self._next_purge = clock() + PURGE_EVERY

    @property
    def local(self) -> bool:
        return True

    def __repr__(self) -> str:
        return "MemoryStore()"

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError("state store is closed (memory)")

    # -- one-time keys and cool-downs -------------------------------------

    def _take(self, table: dict, key: object, ttl: float) -> bool:
        with self._lock:
            return self._take_now(table, key, ttl, self._now_open())

    def _now_open(self) -> float:
        """The time, once the store is known open and due purges are done (call with the lock held)."""
        self._check_open()
        now = self._clock()
        if now >= self._next_purge:
            self._purge(now)
        return now

    @staticmethod
    def _take_now(table: dict, key: object, ttl: float, now: float) -> bool:
        expires_at = table.get(key)
        if expires_at is not None and now < expires_at:
            return False
        table[key] = now + ttl
        return True

    def _claim_with_cooldowns(self, key: str, ttl: float, thread_key: str, codes: list[int],
                              seconds: float) -> Optional[list[int]]:
        with self._lock:
            now = self._now_open()
            if not self._take_now(self._claims, key, ttl, now):
                return None
            if seconds == 0:
                return list(codes)
            return [c for c in codes if self._take_now(self._cooldowns, (thread_key, c), seconds, now)]

    def _claim(self, key: str, ttl: float) -> bool:
        return self._take(self._claims, key, ttl)

    def _cooldown(self, thread_key: str, code: int, seconds: float) -> bool:
        if seconds == 0:
            with self._lock:
                self._check_open()
            return True
        return self._take(self._cooldowns, (thread_key, code), seconds)

    # -- channel settings ---------------------------------------------------

    def _channel_settings(self, channel: str) -> ChannelSettings:
        with self._lock:
            self._check_open()
            return self._settings.get(channel) or ChannelSettings(channel)

    def _update_channel_settings(
        self,
        channel: str,
        *,
        autoreply: Optional[str] = None,
        muted_until: Optional[float] = None,
        quiet_threads_add: Optional[str] = None,
    ) -> ChannelSettings:
        with self._lock:
            self._check_open()
            current = self._settings.get(channel) or ChannelSettings(channel)
            if autoreply is not None or muted_until is not None:
                new_muted = current.muted_until
                if muted_until is not None:
                    new_muted = muted_until if muted_until > 0 else None
                current = ChannelSettings(
                    channel,
                    autoreply if autoreply is not None else current.autoreply,
                    new_muted,
                )
                self._settings[channel] = current
            if quiet_threads_add is not None:
                self._quiet.setdefault((channel, quiet_threads_add), self._clock())
            return current

    def _is_thread_quiet(self, channel: str, thread_ts: str) -> bool:
        with self._lock:
            self._check_open()
            return (channel, thread_ts) in self._quiet

    def _quiet_thread(self, channel: str, thread_ts: str) -> None:
        with self._lock:
            self._check_open()
            self._quiet.setdefault((channel, thread_ts), self._clock())

    # -- feedback, unanswered questions, usage events -----------------------

    def _record_feedback(
        self,
        *,
        card_id: str,
        user: str,
        code: int,
        vote: str,
        surface: str,
        channel: str,
        kb_version: str,
        comment: str = "",
    ) -> bool:
        with self._lock:
            self._check_open()
            now = self._clock()
            previous = self._feedback.get((user, card_id))
            self._feedback[(user, card_id)] = Feedback(
                card_id=card_id,
                user=user,
                code=code,
                vote=vote,
                surface=surface,
                channel=channel,
                kb_version=kb_version,
                comment=comment,
                created_at=previous.created_at if previous else now,
                updated_at=now,
            )
            return previous is None

    def _read_feedback(self, since: Optional[float]) -> list[Feedback]:
        with self._lock:
            self._check_open()
            rows = list(self._feedback.values())  # insertion order = first vote
        rows.sort(key=lambda f: f.updated_at)  # stable: ties keep first-vote order
        if since is not None:
            rows = [f for f in rows if f.updated_at >= since]
        return rows

    def _record_unanswered(
        self, *, text: str, surface: str, channel: str, suggestions: list[int]
    ) -> None:
        codes = suggestions
        with self._lock:
            self._check_open()
            self._unanswered.append(
                Unanswered(text, surface, channel, codes, self._clock())
            )

    def _read_unanswered(self, since: Optional[float]) -> list[Unanswered]:
        with self._lock:
            self._check_open()
            rows = list(self._unanswered)
        rows.sort(key=lambda u: u.at)
        return [u for u in rows if since is None or u.at >= since]

    def _record_events(self, events: list[UsageEvent]) -> None:
        with self._lock:
            self._check_open()
            self._events.extend(events)

    def _read_events(self, since: Optional[float]) -> list[UsageEvent]:
        with self._lock:
            self._check_open()
            rows = list(self._events)
        rows.sort(key=lambda e: e.at)
        return [e for e in rows if since is None or e.at >= since]

    # -- the journal ----------------------------------------------------------

    def _journal_event(self, entry: JournalEntry, owner: str, lease: float, keep: float) -> bool:
        with self._lock:
            now = self._now_open()
            current = self._journal.get(entry.key)
            if current is not None and now < current.expires_at:
                return False
            self._journal[entry.key] = _Journaled(replace(entry, arrived_at=now), owner, now + lease, now + keep)
            return True

    def _renew_leases(self, keys: list[str], lease: float) -> int:
        with self._lock:
            now = self._now_open()
            live = [row for row in map(self._journal.get, keys) if row is not None and not row.settled]
            for row in live:
                row.lease_until = now + lease
            return len(live)

    def _settle_events(self, keys: list[str]) -> None:
        with self._lock:
            self._check_open()
            for row in map(self._journal.get, keys):
                if row is not None and not row.settled:
                    row.settled = True
                    row.entry = replace(row.entry, text="", files=())

    def _take_lapsed_events(self, owner: str, lease: float, limit: int, max_attempts: int) -> list[JournalEntry]:
        with self._lock:
            now = self._now_open()
            lapsed = sorted((row for row in self._journal.values()
                             if not row.settled and row.lease_until <= now < row.expires_at
                             and row.entry.attempts < max_attempts),
                            key=lambda row: (row.entry.arrived_at, row.entry.key))[:limit]
            for row in lapsed:
                row.owner, row.lease_until = owner, now + lease
                row.entry = replace(row.entry, attempts=row.entry.attempts + 1)
            return [row.entry for row in lapsed]

    def _read_pending_events(self) -> list[JournalEntry]:
        with self._lock:
            now = self._now_open()
            rows = [row.entry for row in self._journal.values() if not row.settled and now < row.expires_at]
        return sorted(rows, key=lambda entry: (entry.arrived_at, entry.key))

    # -- housekeeping ---------------------------------------------------------

    def _purge(self, now: float) -> int:
        """Drop what has expired or aged past retention (call with the lock held)."""
        removed = sum(_drop_where(table, lambda expires_at: expires_at <= now)
                      for table in (self._claims, self._cooldowns))
        removed += _drop_where(self._journal, lambda row: row.expires_at <= now)
        cutoff = self._retention_cutoff(now)
        if cutoff is not None:
            removed += self._forget_before(cutoff)
        self._next_purge = now + PURGE_EVERY
        return removed

    def _forget_before(self, cutoff: float) -> int:
        removed = _drop_where(self._feedback, lambda f: f.updated_at < cutoff)
        removed += _drop_where(self._quiet, lambda quieted_at: quieted_at < cutoff)
        kept_questions = [u for u in self._unanswered if u.at >= cutoff]
        kept_events = [e for e in self._events if e.at >= cutoff]
        removed += len(self._unanswered) - len(kept_questions) + len(self._events) - len(kept_events)
        self._unanswered, self._events = kept_questions, kept_events
        return removed

    def _purge_expired(self) -> int:
        with self._lock:
            self._check_open()
            return self._purge(self._clock())

    def _check(self) -> Optional[str]:
        return None  # nothing to fail but closing, which `ping` answers itself

    def close(self) -> None:
        with self._lock:
            self._closed = True


def _drop_where(table: dict, gone: Callable[[object], bool]) -> int:
    """Delete the entries whose value is `gone`; return how many went."""
    keys = [k for k, v in table.items() if gone(v)]
    for k in keys:
        del table[k]
    return len(keys)
