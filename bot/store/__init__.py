"""The state store: one interface for everything nmbot remembers.

    store = open_store(database_url)  # None: ./nmbot.sqlite3
    if store.claim(f"event:{event_id}", ttl=3600):
        ...  # first delivery: handle it

One implementation, `SqlStore`, on SQLite (the default: a file, zero set-up;
or in memory, for tests and offline use) or PostgreSQL (several replicas).
See `StateStore` for the contract.
"""
from __future__ import annotations

import time
from typing import Optional

from .base import StateStore
from .journal import RECOVERY_ATTEMPTS
from .records import (
    AUTOREPLY_MODES,
    DEFAULT_KEEP_DAYS,
    ChannelSettings,
    Clock,
    Feedback,
    JournalEntry,
    StoreError,
    Unanswered,
    UsageEvent,
)
from .sql import SqlStore
from .urls import DEFAULT_SQLITE_PATH, MEMORY_URLS, is_memory_url

__all__ = [
    "AUTOREPLY_MODES",
    "DEFAULT_KEEP_DAYS",
    "DEFAULT_SQLITE_PATH",
    "MEMORY_URLS",
    "RECOVERY_ATTEMPTS",
    "ChannelSettings",
    "Feedback",
    "JournalEntry",
    "SqlStore",
    "StateStore",
    "StoreError",
    "Unanswered",
    "UsageEvent",
    "is_memory_url",
    "open_store",
]


def open_store(url: Optional[str], *, clock: Clock = time.time, keep_days: float = DEFAULT_KEEP_DAYS,
               read_only: bool = False) -> StateStore:
    """Open the state store named by `url`, creating its schema if needed.

    * None or ""                    -> SQLite file ``nmbot.sqlite3`` in the working directory
    * ``sqlite:///path`` or a path  -> that SQLite file (parent folders created)
    * ``postgresql://user@host:port/db`` (or ``postgres://``) -> PostgreSQL via psycopg 3
    * ``memory://`` (`MEMORY_URLS`) -> SQLite in this process's memory (nothing persisted)

    Feedback, unanswered questions, usage events and quiet threads older than
    `keep_days` (0: never) are purged along with expired claims by `purge_expired`.

    `read_only=True` (reports) creates nothing and purges nothing: a SQLite
    file is opened with ``mode=ro``, PostgreSQL transactions are READ ONLY
    (a role with only SELECT will do), and missing tables are a `StoreError`.
    A store in memory is never shared, so it has nothing to read.

    Raises `StoreError` (one line, password masked) when the URL is wrong or
    the database cannot be reached.
    """
    return SqlStore(url, clock=clock, keep_days=keep_days, read_only=read_only)
