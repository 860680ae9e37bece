"""Usage rows and unanswered questions for `nmbot report`, written behind the answers.

A report reads these rows days later; an answer should not wait on a database
write for them, and under load one INSERT per answer costs more than the answer.
Rows are kept in memory and written together by a background thread at least
every `flush_seconds`, when `flush_rows` pile up, and at shutdown. A crash (not
a SIGTERM) can lose the last second of counts; never an answer.
"""
from __future__ import annotations

import logging
import threading
from typing import Optional

from ..engine.privacy import mask_msisdns
from ..settings import Settings
from ..store import StateStore, StoreError, UsageEvent

log = logging.getLogger(__name__)


class UsageLog:
    """Through a store outage, the newest `rows_kept` rows (and as many questions) wait; older ones are dropped."""

    def __init__(self, store: StateStore, *, flush_seconds: float = Settings.usage_flush_seconds,
                 flush_rows: int = Settings.usage_flush_rows, rows_kept: int = Settings.usage_rows_kept):
        self._store = store
        self._flush_seconds = flush_seconds
        self._flush_rows, self._rows_kept = flush_rows, rows_kept
        self._pending: list[UsageEvent] = []
        self._questions: list[dict] = []  # record_unanswered's arguments, phone numbers already masked
        self._lock = threading.Lock()  # guards _pending
        self._flushing = threading.Lock()  # one write at a time keeps rows in order
        self._due = threading.Event()
        self._stopped = threading.Event()
        self._dropped = 0
        self._thread: Optional[threading.Thread] = None

    def start(self) -> "UsageLog":
        self._thread = threading.Thread(target=self._loop, name="usage-writer", daemon=True)
        self._thread.start()
        return self

    def add(self, *, kind: str, surface: str, channel: str, code: Optional[int]) -> None:
        row = UsageEvent(kind, surface, channel, code, self._store.now())
        with self._lock:
            self._pending.append(row)
            self._trim(self._pending)
            due = len(self._pending) >= self._flush_rows
        if due:
            self._due.set()

    def add_unanswered(self, *, text: str, surface: str, channel: str, suggestions: list[int]) -> None:
        question = dict(text=mask_msisdns(text), surface=surface, channel=channel, suggestions=list(suggestions))
        with self._lock:
            self._questions.append(question)
            self._trim(self._questions)

    def _trim(self, kept: list) -> None:
        """Drop the oldest beyond `rows_kept` (with the lock held): an outage costs counts, never memory."""
        over = len(kept) - self._rows_kept
        if over > 0:
            del kept[:over]
            self._dropped += over

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._pending) + len(self._questions)

    def flush(self) -> int:
        """Write what is pending now; the number of rows written (what the store refused is kept for later)."""
        with self._flushing:
            return self._flush_events() + self._flush_questions()

    def _flush_events(self) -> int:
        with self._lock:
            rows, self._pending = self._pending, []
        if not rows:
            return 0
        try:
            self._store.record_events(rows)
        except StoreError as exc:
            with self._lock:
                self._pending[:0] = rows
                self._trim(self._pending)
            log.debug("could not write %d usage rows (kept for the next try): %s", len(rows), exc)
            return 0
        except (ValueError, TypeError) as exc:  # no retry makes a malformed row acceptable
            log.warning("dropped %d usage rows the store refused: %s", len(rows), exc)
            return 0
        return len(rows)

    def _flush_questions(self) -> int:
        with self._lock:
            questions, self._questions = self._questions, []
        for i, question in enumerate(questions):
            try:
                self._store.record_unanswered(**question)
            except StoreError as exc:
                with self._lock:
                    self._questions[:0] = questions[i:]
                    self._trim(self._questions)
                log.debug("could not write %d unanswered questions (kept for the next try): %s",
                          len(questions) - i, exc)
                return i
            except (ValueError, TypeError) as exc:
                log.warning("dropped an unanswered question the store refused: %s", exc)
        return len(questions)

    def close(self) -> None:
        """Stop the writer and write what is left (called before the store closes)."""
        self._stopped.set()
        self._due.set()
        if self._thread is not None:
            self._thread.join(5.0)
        self.flush()
        if self._dropped:
            log.warning("%d usage rows were dropped while the state store was failing", self._dropped)

    def _loop(self) -> None:
        while not self._stopped.is_set():
            self._due.wait(self._flush_seconds)
            self._due.clear()
            if not self._stopped.is_set():
                self.flush()
