"""Opening a database: SQLAlchemy's engine for SQLite or PostgreSQL, set up the way the store uses it."""
from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Callable

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import URL
from sqlalchemy.pool import StaticPool

from ..settings import StoreTuning
from .records import StoreError
from .urls import in_memory

__all__ = ["POSTGRES_EXTRA_MISSING", "create_engine", "insert_of", "require_psycopg"]

POSTGRES_EXTRA_MISSING = "PostgreSQL needs the postgres extra: pip install 'nmbot[postgres]'"


def insert_of(dialect: str) -> Any:
    """The dialect's INSERT with ON CONFLICT. PostgreSQL's dialect is imported only when used: a SQLite
    process would otherwise carry it in memory for nothing."""
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert
    return sqlite_dialect.insert


def require_psycopg() -> None:
    """Raise StoreError naming the extra to install when the PostgreSQL driver cannot be imported.

    SQLAlchemy would say only "No module named 'psycopg'"; psycopg without its binary part (and no libpq
    on the machine) fails to import too, and the extra brings that part.
    """
    try:
        import psycopg  # noqa: F401
    except ImportError:
        raise StoreError(POSTGRES_EXTRA_MISSING) from None


def create_engine(url: URL, *, read_only: bool, tuning: StoreTuning) -> tuple[sa.Engine, Any]:
    """The engine for `url`, and the lock its users take turns under (a no-op where the database itself
    serialises them)."""
    if url.get_backend_name() == "postgresql":
        return _postgresql_engine(url, read_only, tuning), contextlib.nullcontext()
    if in_memory(url):
        # A private in-memory database lives in one connection; share it across threads, one user at a time.
        return sa.create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False}), \
            threading.RLock()
    # SQLite writes one transaction at a time; threads that queue here wait exactly as long as needed,
    # where SQLite's busy handler would sleep in growing steps (and stall every listener thread).
    database = url.database or ""
    if not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url, connect_args={"timeout": tuning.sqlite_busy_seconds, "check_same_thread": False})
    sa.event.listen(engine, "connect", _sqlite_read_only if read_only else _sqlite_setup(tuning))
    return engine, threading.RLock()


def _postgresql_engine(url: URL, read_only: bool, tuning: StoreTuning) -> sa.Engine:
    require_psycopg()
    connect_args: dict[str, Any] = {}
    if "connect_timeout" not in url.query:
        connect_args["connect_timeout"] = tuning.pg_connect_seconds
    if "application_name" not in url.query:
        connect_args["application_name"] = "nmbot"
    engine = sa.create_engine(
        url,
        pool_pre_ping=True,  # survive a database restart
        pool_size=tuning.pg_pool_size,
        max_overflow=tuning.pg_pool_overflow,
        connect_args=connect_args,
    )
    # Every transaction READ ONLY: the server itself refuses a write, whatever the role may do.
    return engine.execution_options(postgresql_readonly=True) if read_only else engine


def _sqlite_setup(tuning: StoreTuning) -> Callable[[Any, Any], None]:
    """The set-up of each new SQLite connection (SQLAlchemy's "connect" event)."""

    def set_up(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        try:
            # WAL lets readers run while another process writes; NORMAL is durable
            # enough for a bot's memory and much faster than FULL under WAL.
            _switch_to_wal(cur, deadline=time.monotonic() + tuning.sqlite_busy_seconds)
            cur.execute("PRAGMA synchronous=NORMAL")
            # SQLite caches up to 2 MiB of pages per connection by default; the bot's working set is the few
            # index pages of recent keys, and the OS caches the file anyway. A long-lived server would keep the
            # whole default resident in every connection.
            cur.execute(f"PRAGMA cache_size=-{int(tuning.sqlite_cache_kib)}")
        finally:
            cur.close()

    return set_up


def _switch_to_wal(cur: Any, deadline: float) -> None:
    """Switching a new file to WAL needs an exclusive lock and SQLite reports "database is locked" at once,
    without waiting out the busy timeout, when another process is opening the same file: retry."""
    delay = 0.002
    while True:
        try:
            cur.execute("PRAGMA journal_mode=WAL").fetchall()
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.1)


def _sqlite_read_only(dbapi_conn: Any, _record: Any) -> None:
    """A read-only connection changes nothing, not even the journal mode; `query_only` makes SQLite
    itself refuse any write on it."""
    cur = dbapi_conn.cursor()
    try:
        cur.execute("PRAGMA query_only=1")
    finally:
        cur.close()
