"""`SqlStore`: the state store on SQLAlchemy Core, over SQLite or PostgreSQL.

* SQLite is the embedded default: one file, zero set-up, survives restarts,
  safe for several processes on one machine (WAL journal, busy timeout).
* PostgreSQL is for several replicas. A plain ``postgresql://`` (or
  ``postgres://``) URL is rewritten to the psycopg 3 driver, which comes with
  the ``postgres`` extra (``pip install 'nmbot[postgres]'``).

Every check-and-set (claims, cool-downs, first votes) is one
``INSERT ... ON CONFLICT`` statement on a primary key, so it is atomic across
threads, processes and replicas: there is no read-then-write window. The schema
is created on start-up with ``CREATE ... IF NOT EXISTS`` (under an advisory
lock on PostgreSQL, where concurrent ``CREATE TABLE IF NOT EXISTS`` can still
collide), so two processes may start at once; tables dropped under a running
store (a database restored empty) are created again by the next operation or
ping that misses them.
"""
from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import sqlite3
import threading
import time
import uuid
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from urllib.parse import quote
from typing import Any, Callable, Iterator, Optional

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import StaticPool
from sqlalchemy.schema import CreateIndex, CreateTable

from ..engine.privacy import SECRET_QUERY_KEYS, mask_url
from .base import (
    DEFAULT_AUTOREPLY,
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

__all__ = ["DEFAULT_SQLITE_PATH", "SCHEMA_VERSION", "SqlStore", "display_url", "resolve_url"]

log = logging.getLogger(__name__)

#: Where `open_store(None)` keeps its SQLite file (relative to the working dir).
DEFAULT_SQLITE_PATH = "nmbot.sqlite3"
SCHEMA_VERSION = 1
PURGE_EVERY = 600.0  # seconds between opportunistic purges of expired keys and rows past retention
SQLITE_BUSY_TIMEOUT = 30.0  # seconds a writer waits for another process's lock
PG_CONNECT_TIMEOUT = 10  # seconds; psycopg's default is to wait forever
POSTGRES_EXTRA_MISSING = "PostgreSQL needs the postgres extra: pip install 'nmbot[postgres]'"
PING_SECONDS = 2.0  # a health check's answer: slower than this counts as down
# What an operator should know when the bot's tables start out empty: what people told the bot is gone.
_SETTINGS_RESET = "channel settings (autoreply off, mutes, quiet threads) start from defaults"
# Any constant will do: it only serialises schema creation between processes.
_PG_SCHEMA_LOCK = 0x6E6D626F74  # "nmbot"
_SCHEME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]+:")
_PREFIX_RE = re.compile(r"^[a-z_][a-z0-9_]{0,30}$")
# Tables a later version added: on a database made before them, creating them at start is the upgrade, not
# a loss worth a warning.
_ADDED_LATER = frozenset({"journal"})
# The tables the retention period applies to, each with the column saying when a row was last written
# (indexed, so a purge finds the old rows without reading the table).
_AGED_BY = {"feedback": "updated_at", "unanswered": "at", "events": "at", "quiet": "created_at"}


# --------------------------------------------------------------------------
# URLs


def display_url(url: URL | str) -> str:
    """`url` fit for logs and error messages: every password shown as ***."""
    if isinstance(url, str):  # a URL-ish string SQLAlchemy could not parse
        return mask_url(url)
    query = {
        k: ("***" if any(s in k.lower() for s in SECRET_QUERY_KEYS) else v)
        for k, v in url.query.items()
    }
    return url.set(query=query).render_as_string(hide_password=True)


def resolve_url(url: Optional[str]) -> URL:
    """Turn what the operator wrote into the SQLAlchemy URL to connect to.

    None or "" -> the default SQLite file; a bare path -> that SQLite file;
    ``postgres://`` / ``postgresql://`` -> ``postgresql+psycopg://``.
    Raises StoreError for anything else.
    """
    if isinstance(url, os.PathLike):
        url = os.fspath(url)
    if url is not None and not isinstance(url, str):
        raise TypeError(f"database URL must be a str, got {type(url).__name__}")
    if url is None or not url.strip():
        url = DEFAULT_SQLITE_PATH
    raw = url.strip()
    # "scheme:" of two or more letters is a URL (a typo in one must not quietly
    # become a SQLite file named "postgresql:"); "C:\\..." is still a path.
    if not _SCHEME_RE.match(raw):
        return URL.create("sqlite+pysqlite", database=str(Path(raw).expanduser()))
    try:
        parsed = make_url(raw)
    except Exception as exc:  # ArgumentError, ValueError (bad port) ...
        raise StoreError(
            f"invalid database URL {display_url(raw)!r}: {_one_line(exc)}; "
            "expected sqlite:///path/to/file.sqlite3, postgresql://user@host:5432/db "
            "or a file path"
        ) from None
    name = parsed.drivername.lower()
    backend, _, driver = name.partition("+")
    if backend in ("postgres", "postgresql"):
        if driver not in ("", "psycopg"):
            raise StoreError(
                f"unsupported PostgreSQL driver {driver!r} in {display_url(parsed)}: "
                "use postgresql://... (psycopg 3)"
            )
        return parsed.set(drivername="postgresql+psycopg")
    if backend == "sqlite":
        if driver not in ("", "pysqlite"):
            raise StoreError(
                f"unsupported SQLite driver {driver!r} in {display_url(parsed)}: use sqlite:///path"
            )
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            database = str(Path(database).expanduser())
        return parsed.set(drivername="sqlite+pysqlite", database=database)
    raise StoreError(
        f"unsupported database URL {display_url(parsed)}: use sqlite:///path/to/file.sqlite3, "
        "postgresql://user@host:5432/db or a file path"
    )


def require_psycopg() -> None:
    """Raise StoreError naming the extra to install when the PostgreSQL driver cannot be imported.

    SQLAlchemy would say only "No module named 'psycopg'"; psycopg without its binary part (and no libpq
    on the machine) fails to import too, and the extra brings that part.
    """
    try:
        import psycopg  # noqa: F401
    except ImportError:
        raise StoreError(POSTGRES_EXTRA_MISSING) from None


class _TablesMissing(StoreError):
    """A statement named a table of ours the database does not have (dropped, or a database restored empty)."""


def _is_missing_table(exc: Exception) -> bool:
    """For SQLAlchemy's errors and the driver's own (the SQLite hot path meets those)."""
    inner = getattr(exc, "orig", None) or exc
    if getattr(inner, "sqlstate", None) == "42P01":  # PostgreSQL's undefined_table
        return True
    return isinstance(inner, sqlite3.OperationalError) and str(inner).startswith("no such table")


# Lines are joined by one space; the link is a short URL. Bounded, as the text may quote user input.
_BACKGROUND_LINK = re.compile(r" ?\(Background on this error at: [^)\s]{0,200}\)")


def _one_line(exc: BaseException, secret: Optional[str] = None) -> str:
    """A driver error as one readable line, with `secret` scrubbed."""
    inner = getattr(exc, "orig", None) or exc
    lines = [line.strip() for line in str(inner).splitlines() if line.strip()]
    # SQLAlchemy appends "(Background on this error at: https://sqlalche.me/...)"
    lines = [line for line in lines if not line.startswith(("(Background on", "[SQL:", "[parameters:"))]
    text = " ".join(lines) or type(inner).__name__
    text = _BACKGROUND_LINK.sub("", text)
    if secret:
        text = text.replace(secret, "***")
    return mask_url(text)


# --------------------------------------------------------------------------
# Schema


def _build_tables(prefix: str) -> tuple[sa.MetaData, dict[str, sa.Table]]:
    md = sa.MetaData()
    # BIGINT autoincrement on PostgreSQL; INTEGER (the rowid alias) on SQLite.
    row_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    t: dict[str, sa.Table] = {}
    t["meta"] = sa.Table(
        f"{prefix}meta", md,
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    t["claims"] = sa.Table(
        f"{prefix}claims", md,
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("expires_at", sa.Float, nullable=False),
        sa.Index(f"{prefix}claims_expires_at", "expires_at"),
    )
    t["cooldowns"] = sa.Table(
        f"{prefix}cooldowns", md,
        sa.Column("thread_key", sa.Text, primary_key=True),
        sa.Column("code", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("expires_at", sa.Float, nullable=False),
        sa.Index(f"{prefix}cooldowns_expires_at", "expires_at"),
    )
    t["channels"] = sa.Table(
        f"{prefix}channel_settings", md,
        sa.Column("channel", sa.Text, primary_key=True),
        sa.Column("autoreply", sa.Text, nullable=False),
        sa.Column("muted_until", sa.Float, nullable=True),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    t["quiet"] = sa.Table(
        f"{prefix}quiet_threads", md,
        sa.Column("channel", sa.Text, primary_key=True),
        sa.Column("thread_ts", sa.Text, primary_key=True),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Index(f"{prefix}quiet_threads_created_at", "created_at"),
    )
    t["feedback"] = sa.Table(
        f"{prefix}feedback", md,
        sa.Column("user_id", sa.Text, primary_key=True),
        sa.Column("card_id", sa.Text, primary_key=True),
        sa.Column("code", sa.Integer, nullable=False),
        sa.Column("vote", sa.Text, nullable=False),
        sa.Column("surface", sa.Text, nullable=False),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("kb_version", sa.Text, nullable=False),
        sa.Column("comment", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
        sa.Index(f"{prefix}feedback_updated_at", "updated_at"),
    )
    t["unanswered"] = sa.Table(
        f"{prefix}unanswered", md,
        sa.Column("id", row_id, primary_key=True, autoincrement=True),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("surface", sa.Text, nullable=False),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("suggestions", sa.Text, nullable=False),  # JSON list of ints
        sa.Column("at", sa.Float, nullable=False),
        sa.Index(f"{prefix}unanswered_at", "at"),
    )
    t["events"] = sa.Table(
        f"{prefix}events", md,
        sa.Column("id", row_id, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("surface", sa.Text, nullable=False),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("code", sa.Integer, nullable=True),
        sa.Column("at", sa.Float, nullable=False),
        sa.Index(f"{prefix}events_at", "at"),
    )
    t["journal"] = sa.Table(
        f"{prefix}journal", md,
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("event_type", sa.Text, nullable=False),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("ts", sa.Text, nullable=False),
        sa.Column("thread_ts", sa.Text, nullable=False),
        sa.Column("user_id", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),  # phone numbers masked; emptied once settled
        sa.Column("files", sa.Text, nullable=False),  # JSON list of file ids
        sa.Column("arrived_at", sa.Float, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
        sa.Column("owner", sa.Text, nullable=False),
        sa.Column("lease_until", sa.Float, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("settled_at", sa.Float, nullable=True),
        sa.Index(f"{prefix}journal_lease_until", "lease_until"),
        sa.Index(f"{prefix}journal_expires_at", "expires_at"),
    )
    return md, t


def _entry(row: Any, attempts: Optional[int] = None) -> JournalEntry:
    return JournalEntry(
        key=row.key, event_type=row.event_type, channel=row.channel, ts=row.ts, thread_ts=row.thread_ts,
        user=row.user_id, text=row.text, files=tuple(json.loads(row.files)), arrived_at=row.arrived_at,
        attempts=row.attempts if attempts is None else attempts,
    )


# Runs one INSERT ... ON CONFLICT of `_take_statements` with its parameters; True when it wrote a row.
Write = Callable[[Any, dict], bool]


SQLITE_CACHE_KIB = 256  # each connection's page cache


def _insert_of(dialect: str) -> Any:
    """The dialect's INSERT with ON CONFLICT. PostgreSQL's dialect is imported only when used: a SQLite
    process would otherwise carry it in memory for nothing."""
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert
    return sqlite_dialect.insert


def _sqlite_on_connect(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    try:
        # WAL lets readers run while another process writes; NORMAL is durable
        # enough for a bot's memory and much faster than FULL under WAL.
        # Switching a new file to WAL needs an exclusive lock and SQLite
        # reports "database is locked" at once, without waiting out the busy
        # timeout, when another process is opening the same file: retry.
        deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT
        delay = 0.002
        while True:
            try:
                cur.execute("PRAGMA journal_mode=WAL").fetchall()
                break
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() >= deadline:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 0.1)
        cur.execute("PRAGMA synchronous=NORMAL")
        # SQLite caches up to 2 MiB of pages per connection by default; the bot's working set is the few
        # index pages of recent keys, and the OS caches the file anyway. A long-lived server would keep the
        # whole default resident in every connection.
        cur.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    finally:
        cur.close()


def _sqlite_read_only(dbapi_conn: Any, _record: Any) -> None:
    """A read-only connection changes nothing, not even the journal mode; `query_only` makes SQLite
    itself refuse any write on it."""
    cur = dbapi_conn.cursor()
    try:
        cur.execute("PRAGMA query_only=1")
    finally:
        cur.close()


def _read_only_url(url: URL, display: str) -> URL:
    """`url` opened read-only: a SQLite file as a ``file:...?mode=ro`` URI (SQLite then never creates
    or writes the file); PostgreSQL unchanged (its transactions are made READ ONLY instead)."""
    if url.get_backend_name() != "sqlite":
        return url
    database = url.database or ""
    if database in ("", ":memory:"):
        raise StoreError(f"state store {display} is a private in-memory database: there is nothing to read")
    if not database.startswith("file:"):
        database = "file:" + quote(str(Path(database).resolve()))
    return url.set(database=database, query={**url.query, "mode": "ro", "uri": "true"})


# --------------------------------------------------------------------------
# The store


class SqlStore(StateStore):
    """The state store in a SQL database (SQLite file or PostgreSQL).

    `table_prefix` names the tables (``nmbot_claims`` ...), so several bots or
    test runs can share one database. `keep_days` is the retention period (see
    `StateStore.purge_expired`). Raises StoreError, never a driver error, when
    the database cannot be opened.
    """

    def __init__(
        self,
        url: Optional[str] = None,
        *,
        clock: Clock = time.time,
        table_prefix: str = "nmbot_",
        keep_days: float = DEFAULT_KEEP_DAYS,
        read_only: bool = False,
    ) -> None:
        if not isinstance(table_prefix, str) or not _PREFIX_RE.match(table_prefix):
            raise ValueError(
                f"table_prefix must be lower-case letters, digits and '_' (max 31), got {table_prefix!r}"
            )
        super().__init__(clock=clock, keep_days=keep_days)
        self._read_only = read_only
        self._url = resolve_url(url)
        self._display = display_url(self._url)
        if read_only:
            self._url = _read_only_url(self._url, self._display)
        self._dialect = self._url.get_backend_name()  # "sqlite" | "postgresql"
        self._metadata, self._t = _build_tables(table_prefix)
        self._insert = _insert_of(self._dialect)
        # One shared connection needs one user at a time (in-memory SQLite).
        self._lock: Any = contextlib.nullcontext()
        self._purge_lock = threading.Lock()
        self._next_purge = 0.0
        self._take_statements: dict[str, Any] = {}
        self._driver_sql: dict[int, str] = {}  # id of a statement in _take_statements -> its SQLite SQL
        self._driver: Any = None  # the SQLite driver connection the hot statements run on, opened on first use
        self._ping_lock = threading.Lock()
        self._pinging: Optional[Future] = None
        self._settings_query: Any = None
        self._probes: Any = None
        self._schema_lock = threading.Lock()
        try:
            self._engine = self._create_engine()
            if read_only:
                self._check_schema()
            else:
                self._say_created(self._create_schema(), at_start=True)
                self._purge_expired()
        except StoreError:
            self._dispose_quietly()
            raise
        except Exception as exc:  # driver missing, file unwritable, refused ...
            self._dispose_quietly()
            raise StoreError(
                f"cannot open state store {self._display}: {_one_line(exc, self._url.password)}"
            ) from None

    def __repr__(self) -> str:
        return f"SqlStore({self._display!r})"

    @property
    def url(self) -> str:
        """The database URL with any password masked."""
        return self._display

    @property
    def dialect(self) -> str:
        return self._dialect

    @property
    def local(self) -> bool:
        return self._dialect == "sqlite"

    @property
    def read_only(self) -> bool:
        """True when opened with `read_only=True`: nothing is created, purged or written."""
        return self._read_only

    # -- set-up -------------------------------------------------------------

    def _create_engine(self) -> sa.Engine:
        url = self._url
        if self._dialect == "postgresql":
            require_psycopg()
            connect_args: dict[str, Any] = {}
            if "connect_timeout" not in url.query:
                connect_args["connect_timeout"] = PG_CONNECT_TIMEOUT
            if "application_name" not in url.query:
                connect_args["application_name"] = "nmbot"
            engine = sa.create_engine(
                url,
                pool_pre_ping=True,  # survive a database restart
                pool_size=5,
                max_overflow=5,
                connect_args=connect_args,
            )
            # Every transaction READ ONLY: the server itself refuses a write, whatever the role may do.
            return engine.execution_options(postgresql_readonly=True) if self._read_only else engine
        database = url.database or ""
        if database in ("", ":memory:"):
            # A private in-memory database lives in one connection; share it
            # across threads, one user at a time.
            self._lock = threading.RLock()
            return sa.create_engine(
                url, poolclass=StaticPool, connect_args={"check_same_thread": False}
            )
        # SQLite writes one transaction at a time; threads that queue here wait exactly as long as needed,
        # where SQLite's busy handler would sleep in growing steps (and stall every listener thread).
        self._lock = threading.RLock()
        if not database.startswith("file:"):
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(
            url,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT, "check_same_thread": False},
        )
        sa.event.listen(engine, "connect", _sqlite_read_only if self._read_only else _sqlite_on_connect)
        return engine

    def _create_schema(self) -> list[str]:
        """Create whatever of the schema is missing; the names of the tables that were."""
        with self._lock, self._engine.begin() as conn:
            if self._dialect == "postgresql":
                # Two replicas creating the same tables at once can still clash
                # on PostgreSQL's catalogue despite IF NOT EXISTS; take turns.
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_SCHEMA_LOCK})
            existing = set(sa.inspect(conn).get_table_names())
            missing = [t.name for t in self._metadata.sorted_tables if t.name not in existing]
            for table in self._metadata.sorted_tables:
                conn.execute(CreateTable(table, if_not_exists=True))
                for index in sorted(table.indexes, key=lambda i: i.name or ""):
                    conn.execute(CreateIndex(index, if_not_exists=True))
            meta = self._t["meta"]
            conn.execute(
                self._insert(meta)
                .values(key="schema_version", value=str(SCHEMA_VERSION))
                .on_conflict_do_nothing(index_elements=[meta.c.key])
            )
            found = conn.execute(
                sa.select(meta.c.value).where(meta.c.key == "schema_version")
            ).scalar_one()
        if int(found) > SCHEMA_VERSION:
            raise StoreError(
                f"state store {self._display} has schema version {found}, newer than this "
                f"nmbot understands ({SCHEMA_VERSION}): upgrade nmbot"
            )
        return missing

    def _check_schema(self) -> None:
        """(Read-only.) The tables a reader needs are there, in a schema version this nmbot understands."""
        needed = [self._t[name].name for name in ("meta", "feedback", "unanswered", "events")]
        with self._tx() as conn:
            existing = set(sa.inspect(conn).get_table_names())
            missing = [name for name in needed if name not in existing]
            if missing:
                raise StoreError(
                    f"state store {self._display} has no nmbot tables ({', '.join(missing)} missing): "
                    "point NMBOT_DATABASE_URL at the bot's database (the bot creates them when it starts)"
                )
            meta = self._t["meta"]
            found = conn.execute(sa.select(meta.c.value).where(meta.c.key == "schema_version")).scalar()
        if found is not None and int(found) > SCHEMA_VERSION:
            raise StoreError(
                f"state store {self._display} has schema version {found}, newer than this "
                f"nmbot understands ({SCHEMA_VERSION}): upgrade nmbot"
            )

    def _say_created(self, tables: list[str], *, at_start: bool) -> None:
        """One line when tables had to be created: whatever they held is gone (a deleted SQLite file,
        a database restored empty), and the operator should know channel settings were reset."""
        if not tables or self._url.database in (None, "", ":memory:"):
            return
        if len(tables) == len(self._t) and at_start:
            log.warning("the state store %s was new (expected on a first start): created its tables; %s",
                        self._display, _SETTINGS_RESET)
            return
        added = {self._t[name].name for name in _ADDED_LATER}
        if at_start and set(tables) <= added:
            log.info("the state store %s gained the tables of this version: %s", self._display, ", ".join(tables))
            return
        settings_lost = {self._t["channels"].name, self._t["quiet"].name} & set(tables)
        log.warning("the state store %s was missing tables (%s): created them%s", self._display,
                    ", ".join(tables), f"; {_SETTINGS_RESET}" if settings_lost else "")

    def _recover(self, exc: StoreError) -> bool:
        """Tables gone under a running store are created again, once for all the threads that noticed
        (never by a read-only store)."""
        if self._read_only or not isinstance(exc, _TablesMissing):
            return False
        with self._schema_lock:
            try:
                created = self._create_schema()
            except (SQLAlchemyError, StoreError):
                return False
        self._say_created(created, at_start=False)
        return True

    def _dispose_quietly(self) -> None:
        engine = getattr(self, "_engine", None)
        if engine is not None:
            with contextlib.suppress(Exception):
                engine.dispose()

    # -- plumbing -----------------------------------------------------------

    @contextlib.contextmanager
    def _tx(self) -> Iterator[Connection]:
        """One transaction; database failures come out as StoreError."""
        if self._closed:
            raise StoreError(f"state store is closed ({self._display})")
        try:
            with self._lock, self._engine.begin() as conn:
                yield conn
        except SQLAlchemyError as exc:
            kind = _TablesMissing if _is_missing_table(exc) else StoreError
            raise kind(f"state store {self._display} failed: {_one_line(exc, self._url.password)}") from exc

    def _maybe_purge(self, now: float) -> None:
        with self._purge_lock:
            if now < self._next_purge:
                return
            self._next_purge = now + PURGE_EVERY
        self._purge(now)

    def _take_statement(self, name: str) -> Any:
        """INSERT ... ON CONFLICT taking over only an expired row, built once per table.

        Every delivery runs one of these; a statement object reused with new
        parameters skips SQLAlchemy's per-call construction and cache-key work.
        """
        stmt = self._take_statements.get(name)
        if stmt is None:
            table = self._t[name]
            insert = self._insert(table)  # its values: the parameters it is run with
            stmt = insert.on_conflict_do_update(
                index_elements=list(table.primary_key.columns),
                set_={"expires_at": insert.excluded.expires_at},
                where=table.c.expires_at <= sa.bindparam("now"),  # only an expired row is taken over
            )
            stmt = self._counting_rows(stmt)
            self._take_statements[name] = stmt
        return stmt

    def _take(self, name: str, keys: dict[str, Any], ttl: float) -> bool:
        """Claim `keys` in table `name` until now + ttl, unless a live row has it."""
        now = self._clock()
        self._maybe_purge(now)
        with self._hot_tx() as write:
            return self._take_in(write, name, keys, ttl, now)

    def _take_in(self, write: Write, name: str, keys: dict[str, Any], ttl: float, now: float) -> bool:
        return write(self._take_statement(name), {**keys, "expires_at": now + ttl, "now": now})

    def _claim_with_cooldowns(self, key: str, ttl: float, thread_key: str, codes: list[int],
                              seconds: float) -> Optional[list[int]]:
        now = self._clock()
        self._maybe_purge(now)
        with self._hot_tx() as write:
            if not self._take_in(write, "claims", {"key": key}, ttl, now):
                return None
            if seconds == 0:
                return list(codes)
            return [c for c in codes if self._take_in(write, "cooldowns", {"thread_key": thread_key, "code": c},
                                                      seconds, now)]

    @contextlib.contextmanager
    def _hot_tx(self) -> Iterator[Write]:
        """One transaction of the statements every event runs (its journal row, its claim and cool-downs), as
        a function running one of them and telling whether it wrote a row.

        On SQLite they run on the driver's own connection, their SQL compiled once from the same statement
        objects: at real traffic SQLAlchemy's work per execution cost more than SQLite's own (measured in
        benchmarks/README.md). PostgreSQL keeps SQLAlchemy's path (its pool, pre-ping and RETURNING)."""
        if self._dialect != "sqlite":
            with self._tx() as conn:
                yield lambda stmt, params: self._wrote_a_row(conn, stmt, params)
            return
        if self._closed:
            raise StoreError(f"state store is closed ({self._display})")
        with self._lock:
            try:
                driver = self._driver_connection()
                cursor = driver.cursor()
                try:
                    yield lambda stmt, params: cursor.execute(self._sqlite_sql(stmt), params).rowcount == 1
                    driver.commit()
                except BaseException:
                    with contextlib.suppress(sqlite3.Error):
                        driver.rollback()
                    raise
                finally:
                    cursor.close()
            except (sqlite3.Error, SQLAlchemyError) as exc:  # SQLAlchemy's own when the connection cannot open
                self._drop_driver_connection()  # a fresh one next time, whatever state this one is in
                kind = _TablesMissing if _is_missing_table(exc) else StoreError
                raise kind(f"state store {self._display} failed: {_one_line(exc)}") from exc

    def _driver_connection(self) -> Any:
        """(With the lock held.) The driver connection, checked out of the engine's pool for the store's life."""
        if self._driver is None:
            self._driver = self._engine.raw_connection()
        return self._driver

    def _drop_driver_connection(self) -> None:
        """(With the lock held, or at close.)"""
        driver, self._driver = self._driver, None
        if driver is not None:
            with contextlib.suppress(Exception):
                driver.close()  # back to the pool, which discards it if it is broken

    def _sqlite_sql(self, stmt: Any) -> str:
        """The SQL of a statement built once (`_take_statements`), with named parameters as sqlite3 takes them."""
        sql = self._driver_sql.get(id(stmt))
        if sql is None:
            sql = self._driver_sql[id(stmt)] = str(stmt.compile(dialect=sqlite_dialect.dialect(paramstyle="named")))
        return sql

    def _counting_rows(self, stmt: Any) -> Any:
        """`stmt` (an INSERT ... ON CONFLICT) made to tell whether it wrote a row."""
        if self._dialect == "postgresql":
            # psycopg's rowcount for an INSERT is not kept by SQLAlchemy < 2.0.28;
            # RETURNING answers on every version.
            return stmt.returning(*stmt.table.primary_key.columns)
        # SQLite < 3.35 has no RETURNING; its rowcount is reliable. (The option
        # is needed on SQLAlchemy >= 2.0.28 and ignored before.)
        return stmt.execution_options(preserve_rowcount=True)

    def _wrote_a_row(self, conn: Connection, stmt: Any, params: Optional[dict] = None) -> bool:
        """Run an INSERT ... ON CONFLICT made by `_counting_rows`; True when it inserted or updated."""
        result = conn.execute(stmt, params or {})
        if self._dialect == "postgresql":
            return result.first() is not None
        return result.rowcount == 1

    # -- one-time keys and cool-downs -------------------------------------

    def _claim(self, key: str, ttl: float) -> bool:
        return self._take("claims", {"key": key}, ttl)

    def _cooldown(self, thread_key: str, code: int, seconds: float) -> bool:
        if seconds == 0:
            if self._closed:
                raise StoreError(f"state store is closed ({self._display})")
            return True
        return self._take("cooldowns", {"thread_key": thread_key, "code": code}, seconds)

    # -- channel settings ---------------------------------------------------

    def _read_settings(self, conn: Connection, channel: str) -> ChannelSettings:
        if self._settings_query is None:  # built once: every pasted log reads the settings
            t = self._t["channels"]
            self._settings_query = sa.select(t.c.autoreply, t.c.muted_until).where(
                t.c.channel == sa.bindparam("channel")
            )
        row = conn.execute(self._settings_query, {"channel": channel}).first()
        if row is None:
            return ChannelSettings(channel)
        return ChannelSettings(channel, row.autoreply, row.muted_until)

    def _channel_settings(self, channel: str) -> ChannelSettings:
        with self._tx() as conn:
            return self._read_settings(conn, channel)

    def _update_channel_settings(
        self,
        channel: str,
        *,
        autoreply: Optional[str] = None,
        muted_until: Optional[float] = None,
        quiet_threads_add: Optional[str] = None,
    ) -> ChannelSettings:
        now = self._clock()
        changes: dict[str, Any] = {}
        if autoreply is not None:
            changes["autoreply"] = autoreply
        if muted_until is not None:
            changes["muted_until"] = muted_until if muted_until > 0 else None
        with self._tx() as conn:
            if changes:
                t = self._t["channels"]
                conn.execute(
                    self._insert(t)
                    .values(
                        channel=channel,
                        autoreply=changes.get("autoreply", DEFAULT_AUTOREPLY),
                        muted_until=changes.get("muted_until"),
                        updated_at=now,
                    )
                    .on_conflict_do_update(
                        index_elements=[t.c.channel], set_={**changes, "updated_at": now}
                    )
                )
            if quiet_threads_add is not None:
                self._add_quiet(conn, channel, quiet_threads_add, now)
            return self._read_settings(conn, channel)

    def _add_quiet(self, conn: Connection, channel: str, thread_ts: str, now: float) -> None:
        t = self._t["quiet"]
        conn.execute(
            self._insert(t)
            .values(channel=channel, thread_ts=thread_ts, created_at=now)
            .on_conflict_do_nothing(index_elements=[t.c.channel, t.c.thread_ts])
        )

    def _is_thread_quiet(self, channel: str, thread_ts: str) -> bool:
        stmt = self._take_statements.get("is_quiet")
        if stmt is None:  # built once: every paste in a thread asks
            t = self._t["quiet"]
            stmt = sa.select(sa.literal(1)).where(t.c.channel == sa.bindparam("channel"),
                                                  t.c.thread_ts == sa.bindparam("thread_ts"))
            self._take_statements["is_quiet"] = stmt
        with self._tx() as conn:
            return conn.execute(stmt, {"channel": channel, "thread_ts": thread_ts}).first() is not None

    def _quiet_thread(self, channel: str, thread_ts: str) -> None:
        with self._tx() as conn:
            self._add_quiet(conn, channel, thread_ts, self._clock())

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
        now = self._clock()
        t = self._t["feedback"]
        fields = dict(
            code=code,
            vote=vote,
            surface=surface,
            channel=channel,
            kb_version=kb_version,
            comment=comment,
            updated_at=now,
        )
        with self._tx() as conn:
            first = self._wrote_a_row(
                conn,
                self._counting_rows(
                    self._insert(t)
                    .values(user_id=user, card_id=card_id, created_at=now, **fields)
                    .on_conflict_do_nothing(index_elements=[t.c.user_id, t.c.card_id])
                ),
            )
            if not first:
                conn.execute(
                    sa.update(t).where(t.c.user_id == user, t.c.card_id == card_id).values(**fields)
                )
            return first

    def _read_feedback(self, since: Optional[float]) -> list[Feedback]:
        t = self._t["feedback"]
        stmt = sa.select(t).order_by(t.c.updated_at, t.c.created_at, t.c.user_id, t.c.card_id)
        if since is not None:
            stmt = stmt.where(t.c.updated_at >= since)
        with self._tx() as conn:
            rows = conn.execute(stmt).all()
        return [
            Feedback(
                card_id=r.card_id,
                user=r.user_id,
                code=r.code,
                vote=r.vote,
                surface=r.surface,
                channel=r.channel,
                kb_version=r.kb_version,
                comment=r.comment,
                created_at=r.created_at,
                updated_at=r.updated_at,
            )
            for r in rows
        ]

    def _record_unanswered(
        self, *, text: str, surface: str, channel: str, suggestions: list[int]
    ) -> None:
        codes = suggestions
        with self._tx() as conn:
            conn.execute(
                sa.insert(self._t["unanswered"]).values(
                    text=text,
                    surface=surface,
                    channel=channel,
                    suggestions=json.dumps(list(codes)),
                    at=self._clock(),
                )
            )

    def _read_unanswered(self, since: Optional[float]) -> list[Unanswered]:
        t = self._t["unanswered"]
        stmt = sa.select(t).order_by(t.c.at, t.c.id)
        if since is not None:
            stmt = stmt.where(t.c.at >= since)
        with self._tx() as conn:
            rows = conn.execute(stmt).all()
        return [
            Unanswered(r.text, r.surface, r.channel, tuple(json.loads(r.suggestions)), r.at)
            for r in rows
        ]

    def _record_events(self, events: list[UsageEvent]) -> None:
        with self._tx() as conn:
            conn.execute(
                sa.insert(self._t["events"]),
                [dict(kind=e.kind, surface=e.surface, channel=e.channel, code=e.code, at=e.at) for e in events],
            )

    def _read_events(self, since: Optional[float]) -> list[UsageEvent]:
        t = self._t["events"]
        stmt = sa.select(t).order_by(t.c.at, t.c.id)
        if since is not None:
            stmt = stmt.where(t.c.at >= since)
        with self._tx() as conn:
            rows = conn.execute(stmt).all()
        return [UsageEvent(r.kind, r.surface, r.channel, r.code, r.at) for r in rows]

    # -- the journal ----------------------------------------------------------

    def _journal_event(self, entry: JournalEntry, owner: str, lease: float, keep: float) -> bool:
        now = self._clock()
        params = dict(key=entry.key, event_type=entry.event_type, channel=entry.channel, ts=entry.ts,
                      thread_ts=entry.thread_ts, user_id=entry.user, text=entry.text,
                      files=json.dumps(list(entry.files)), arrived_at=now, expires_at=now + keep, owner=owner,
                      lease_until=now + lease, attempts=0, settled_at=None, now=now)
        with self._hot_tx() as write:
            return write(self._journal_statement(), params)

    def _journal_statement(self) -> Any:
        """INSERT ... ON CONFLICT taking over only an expired row, built once: every event the bot would
        answer runs it before its ack, and a statement reused with new parameters skips SQLAlchemy's
        construction and cache-key work."""
        stmt = self._take_statements.get("journal")
        if stmt is None:
            t = self._t["journal"]
            insert = self._insert(t)  # its values: the parameters it is run with
            fresh = {c.name: insert.excluded[c.name] for c in t.columns if c.name != "key"}
            stmt = self._counting_rows(insert.on_conflict_do_update(
                index_elements=[t.c.key], set_=fresh, where=t.c.expires_at <= sa.bindparam("now")))
            self._take_statements["journal"] = stmt
        return stmt

    def _renew_leases(self, keys: list[str], lease: float) -> int:
        stmt = self._take_statements.get("renew")
        if stmt is None:  # built once: runs every third of a lease while events are held
            t = self._t["journal"]
            stmt = (sa.update(t).where(t.c.key.in_(sa.bindparam("keys", expanding=True)), t.c.settled_at.is_(None))
                    .values(lease_until=sa.bindparam("until")))
            self._take_statements["renew"] = stmt
        with self._tx() as conn:
            return conn.execute(stmt, {"keys": keys, "until": self._clock() + lease}).rowcount

    def _settle_events(self, keys: list[str]) -> None:
        stmt = self._take_statements.get("settle")
        if stmt is None:  # built once: every answered event runs it
            t = self._t["journal"]
            stmt = (sa.update(t).where(t.c.key.in_(sa.bindparam("keys", expanding=True)), t.c.settled_at.is_(None))
                    .values(settled_at=sa.bindparam("at"), text="", files="[]"))
            self._take_statements["settle"] = stmt
        with self._tx() as conn:
            conn.execute(stmt, {"keys": keys, "at": self._clock()})

    def _take_lapsed_events(self, owner: str, lease: float, limit: int, max_attempts: int) -> list[JournalEntry]:
        """The lapsed rows are read and taken in one transaction that no other taker can interleave with:
        on PostgreSQL the rows read are locked, and rows another taker locked are skipped, not waited for;
        SQLite has one writer at a time, so the transaction starts as the writer (BEGIN IMMEDIATE) before it
        reads what it will take."""
        t = self._t["journal"]
        now = self._clock()
        lapsed = (sa.select(t)
                  .where(t.c.settled_at.is_(None), t.c.lease_until <= now, t.c.expires_at > now,
                         t.c.attempts < max_attempts)
                  .order_by(t.c.arrived_at, t.c.key).limit(limit))
        if self._dialect == "postgresql":
            lapsed = lapsed.with_for_update(skip_locked=True)
        with self._tx() as conn:
            if self._dialect == "sqlite":
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            rows = conn.execute(lapsed).all()
            if rows:
                conn.execute(sa.update(t).where(t.c.key.in_([r.key for r in rows]))
                             .values(owner=owner, lease_until=now + lease, attempts=t.c.attempts + 1))
        return [_entry(r, attempts=r.attempts + 1) for r in rows]

    def _read_pending_events(self) -> list[JournalEntry]:
        t = self._t["journal"]
        stmt = (sa.select(t).where(t.c.settled_at.is_(None), t.c.expires_at > self._clock())
                .order_by(t.c.arrived_at, t.c.key))
        with self._tx() as conn:
            rows = conn.execute(stmt).all()
        return [_entry(r) for r in rows]

    # -- housekeeping ---------------------------------------------------------

    def _purge(self, now: float) -> int:
        cutoff = self._retention_cutoff(now)
        with self._tx() as conn:
            removed = sum(self._delete(conn, name, self._t[name].c.expires_at <= now)
                          for name in ("claims", "cooldowns", "journal"))
            if cutoff is not None:
                removed += sum(self._delete(conn, name, self._t[name].c[column] < cutoff)
                               for name, column in _AGED_BY.items())
        return removed

    def _delete(self, conn: Connection, name: str, condition: Any) -> int:
        """Delete the rows of table `name` meeting `condition`; return how many went."""
        return conn.execute(sa.delete(self._t[name]).where(condition)).rowcount

    def _purge_expired(self) -> int:
        now = self._clock()
        with self._purge_lock:
            self._next_purge = now + PURGE_EVERY
        return self._purge(now)

    def _check(self) -> Optional[str]:
        """The probe's answer within PING_SECONDS, else a problem saying it did not come.

        A health check that waited out a 10-second connect timeout to a vanished server would hold a
        server thread, and the load balancer's patience, for all of it. The slow probe goes on in the
        background; calls meanwhile wait on that one instead of starting more.
        """
        with self._ping_lock:
            pinging = self._pinging
            if pinging is None or pinging.done():
                pinging = self._pinging = Future()
                threading.Thread(target=self._probe_into, args=(pinging,), name="store-ping", daemon=True).start()
        try:
            return pinging.result(timeout=PING_SECONDS)
        except FutureTimeout:
            return f"state store {self._display} did not answer within {PING_SECONDS:g} s"

    def _probe_into(self, result: Future) -> None:
        try:
            self._probe_mending()
            result.set_result(None)
        except StoreError as exc:
            result.set_result(str(exc))
        except Exception as exc:  # whatever the driver raises, a health check gets an answer
            result.set_result(f"state store {self._display} failed: {_one_line(exc, self._url.password)}")

    def _probe_mending(self) -> None:
        try:
            self._probe()
        except StoreError as exc:
            if not self._recover(exc):
                raise
            self._probe()

    def _probe(self) -> None:
        """Read every table of ours and commit a write: `SELECT 1` answers with the tables dropped,
        and a full disk or a read-only database still serves reads."""
        if self._probes is None:
            self._probes = self._probe_statements()
        names_every_table, heartbeat = self._probes
        with self._tx() as conn:
            conn.execute(names_every_table).all()
            # SQLite writes nothing for a row set to what it holds: a new value makes the write real.
            conn.execute(heartbeat, {"nonce": uuid.uuid4().hex})

    def _probe_statements(self) -> tuple[Any, Any]:
        tables = list(self._t.values())
        joined = tables[0]
        for table in tables[1:]:
            joined = joined.join(table, sa.true())
        # No row is read: a false WHERE is settled before any table is scanned.
        names_every_table = sa.select(sa.literal(1)).select_from(joined).where(sa.false())
        meta = self._t["meta"]
        insert = self._insert(meta).values(key="ping", value=sa.bindparam("nonce"))
        heartbeat = insert.on_conflict_do_update(index_elements=[meta.c.key], set_={"value": insert.excluded.value})
        return names_every_table, heartbeat

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        with self._lock:
            self._drop_driver_connection()
        self._dispose_quietly()
