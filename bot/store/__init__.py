"""The state store: one interface for everything nmbot remembers.

    store = open_store(database_url)  # None: ./nmbot.sqlite3
    if store.claim(f"event:{event_id}", ttl=3600):
        ...  # first delivery: handle it

Backends: SQLite (the default: a file, zero set-up), PostgreSQL (several
replicas) and memory (tests, offline use). See `StateStore` for the contract.
"""
from __future__ import annotations

import time
from typing import Optional

from .base import (
    AUTOREPLY_MODES,
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
from ..engine.privacy import mask_msisdns
from .memory import MemoryStore
from .sql import DEFAULT_SQLITE_PATH, SqlStore

__all__ = [
    "AUTOREPLY_MODES",
    "DEFAULT_KEEP_DAYS",
    "DEFAULT_SQLITE_PATH",
    "ChannelSettings",
    "Feedback",
    "JournalEntry",
    "MemoryStore",
    "SqlStore",
    "StateStore",
    "StoreError",
    "Unanswered",
    "UsageEvent",
    "mask_msisdns",
    "open_store",
]

_MEMORY_URLS = ("memory", "memory:", "memory://")


def open_store(url: Optional[str], *, clock: Clock = time.time, keep_days: float = DEFAULT_KEEP_DAYS,
               read_only: bool = False) -> StateStore:
    """Open the state store named by `url`, creating its schema if needed.

    * None or ""                    -> SQLite file ``nmbot.sqlite3`` in the working directory
    * ``sqlite:///path`` or a path  -> that SQLite file (parent folders created)
    * ``postgresql://user@host:port/db`` (or ``postgres://``) -> PostgreSQL via psycopg 3
    * ``memory://``                 -> `MemoryStore` (nothing persisted)

    Feedback, unanswered questions, usage events and quiet threads older than
    `keep_days` (0: never) are purged along with expired claims.

    `read_only=True` (reports) creates nothing and purges nothing: a SQLite
    file is opened with ``mode=ro``, PostgreSQL transactions are READ ONLY
    (a role with only SELECT will do), and missing tables are a `StoreError`.
    A memory store is never shared, so it has nothing to read.

    Raises `StoreError` (one line, password masked) when the URL is wrong or
    the database cannot be reached.
    """
    if isinstance(url, str) and url.strip().lower() in _MEMORY_URLS:
        if read_only:
            raise StoreError("memory:// keeps nothing outside the process that wrote it: there is nothing to read")
        return MemoryStore(clock=clock, keep_days=keep_days)
    return SqlStore(url, clock=clock, keep_days=keep_days, read_only=read_only)
