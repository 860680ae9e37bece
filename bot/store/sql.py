"""`SqlStore`: the state store on SQLAlchemy Core, over SQLite or PostgreSQL.

* SQLite is the embedded default: one file, zero set-up, survives restarts,
  safe for several processes on one machine (WAL journal, busy timeout). In
  memory (``memory://``) it serves tests and offline use: nothing persisted.
* PostgreSQL is for several replicas. A plain ``postgresql://`` (or
  ``postgres://``) URL is rewritten to the psycopg 3 driver, which comes with
  the ``postgres`` extra (``pip install 'nmbot[postgres]'``).

Every check-and-set (claims, cool-downs, first votes) is one
``INSERT ... ON CONFLICT`` statement on a primary key, so it is atomic across
threads, processes and replicas: there is no read-then-write window. The schema
is created on start-up (schema.py), so two processes may start at once; tables
dropped under a running store (a database restored empty) are created again by
the next operation or ping that misses them.
"""
from __future__ import annotations

import re
import threading
import time
from typing import Any, Optional

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from ..settings import StoreTuning
from . import sql_journal, sql_records
from .base import StateStore
from .database import Database, Write
from .errors import TablesMissing, one_line
from .health import Health
from .records import DEFAULT_KEEP_DAYS, ChannelSettings, Clock, Feedback, JournalEntry, StoreError, Unanswered, \
    UsageEvent
from .schema import AGED_BY, check_schema, create_schema, say_created
from .urls import display_url, read_only_url, resolve_url

__all__ = ["SqlStore"]

_PREFIX_RE = re.compile(r"^[a-z_][a-z0-9_]{0,30}$")


class SqlStore(StateStore):
    """The state store in a SQL database (SQLite file or in memory, or PostgreSQL).

    `table_prefix` names the tables (``nmbot_claims`` ...), so several bots or
    test runs can share one database. `keep_days` is the retention period (see
    `StateStore.purge_expired`); `tuning`, how the database and memory are used.
    Raises StoreError, never a driver error, when the database cannot be opened.
    """

    def __init__(
        self,
        url: Optional[str] = None,
        *,
        clock: Clock = time.time,
        table_prefix: str = "nmbot_",
        keep_days: float = DEFAULT_KEEP_DAYS,
        read_only: bool = False,
        tuning: StoreTuning = StoreTuning(),
    ) -> None:
        if not isinstance(table_prefix, str) or not _PREFIX_RE.match(table_prefix):
            raise ValueError(
                f"table_prefix must be lower-case letters, digits and '_' (max 31), got {table_prefix!r}"
            )
        super().__init__(clock=clock, keep_days=keep_days, tuning=tuning)
        url = resolve_url(url)
        display = display_url(url)
        if read_only:
            url = read_only_url(url, display)
        self._db: Optional[Database] = None
        try:
            self._db = Database(url, display, table_prefix=table_prefix, read_only=read_only, tuning=tuning)
            if read_only:
                check_schema(self._db)
            else:
                say_created(self._db, create_schema(self._db), at_start=True)
        except Exception as exc:  # driver missing, file unwritable, refused ...
            if self._db is not None:
                self._db.dispose()
            if isinstance(exc, StoreError):
                raise
            raise StoreError(f"cannot open state store {display}: {one_line(exc, url.password)}") from None
        self._schema_lock = threading.Lock()
        self._health = Health(self._db, self._recover, tuning.ping_seconds)

    def __repr__(self) -> str:
        return f"SqlStore({self._db.display!r})"

    @property
    def url(self) -> str:
        """The database URL with any password masked."""
        return self._db.display

    @property
    def dialect(self) -> str:
        return self._db.dialect

    @property
    def local(self) -> bool:
        return self._db.dialect == "sqlite"

    @property
    def read_only(self) -> bool:
        """True when opened with `read_only=True`: nothing is created, purged or written."""
        return self._db.read_only

    def _recover(self, exc: StoreError) -> bool:
        """Tables gone under a running store are created again, once for all the threads that noticed
        (never by a read-only store)."""
        if self._db.read_only or not isinstance(exc, TablesMissing):
            return False
        with self._schema_lock:
            try:
                created = create_schema(self._db)
            except (SQLAlchemyError, StoreError):
                return False
        say_created(self._db, created, at_start=False)
        return True

    # -- one-time keys and cool-downs -------------------------------------

    def _claim(self, key: str, ttl: float) -> bool:
        with self._db.hot_tx() as write:
            return self._take(write, "claims", {"key": key}, ttl, self._clock())

    def _cooldown(self, thread_key: str, code: int, seconds: float) -> bool:
        if seconds == 0:
            if self._closed:
                raise StoreError(f"state store is closed ({self._db.display})")
            return True
        with self._db.hot_tx() as write:
            return self._take(write, "cooldowns", {"thread_key": thread_key, "code": code}, seconds, self._clock())

    def _claim_with_cooldowns(self, key: str, ttl: float, thread_key: str, codes: list[int],
                              seconds: float) -> Optional[list[int]]:
        now = self._clock()
        with self._db.hot_tx() as write:
            if not self._take(write, "claims", {"key": key}, ttl, now):
                return None
            if seconds == 0:
                return list(codes)
            return [c for c in codes
                    if self._take(write, "cooldowns", {"thread_key": thread_key, "code": c}, seconds, now)]

    def _take(self, write: Write, name: str, keys: dict[str, Any], ttl: float, now: float) -> bool:
        """Claim `keys` in table `name` until now + ttl, unless a live row has it."""
        return write(self._db.statement(name, lambda: self._take_statement(name)),
                     {**keys, "expires_at": now + ttl, "now": now})

    def _take_statement(self, name: str) -> Any:
        """INSERT ... ON CONFLICT taking over only an expired row: every delivery runs one of these."""
        table = self._db.t[name]
        insert = self._db.insert(table)  # its values: the parameters it is run with
        return self._db.counting_rows(insert.on_conflict_do_update(
            index_elements=list(table.primary_key.columns),
            set_={"expires_at": insert.excluded.expires_at},
            where=table.c.expires_at <= sa.bindparam("now"),  # only an expired row is taken over
        ))

    # -- channel settings ---------------------------------------------------

    def _channel_settings(self, channel: str) -> ChannelSettings:
        with self._db.tx() as conn:
            return sql_records.channel_settings(self._db, conn, channel)

    def _update_channel_settings(self, channel: str, *, autoreply: Optional[str] = None,
                                 muted_until: Optional[float] = None,
                                 quiet_threads_add: Optional[str] = None) -> ChannelSettings:
        now = self._clock()
        changes: dict[str, Any] = {}
        if autoreply is not None:
            changes["autoreply"] = autoreply
        if muted_until is not None:
            changes["muted_until"] = muted_until if muted_until > 0 else None
        with self._db.tx() as conn:
            if changes:
                sql_records.update_channel_settings(self._db, conn, channel, changes, now)
            if quiet_threads_add is not None:
                sql_records.add_quiet(self._db, conn, channel, quiet_threads_add, now)
            return sql_records.channel_settings(self._db, conn, channel)

    def _is_thread_quiet(self, channel: str, thread_ts: str) -> bool:
        return sql_records.is_thread_quiet(self._db, channel, thread_ts)

    def _quiet_thread(self, channel: str, thread_ts: str) -> None:
        with self._db.tx() as conn:
            sql_records.add_quiet(self._db, conn, channel, thread_ts, self._clock())

    # -- feedback, unanswered questions, usage events -----------------------

    def _record_feedback(self, *, card_id: str, user: str, code: int, vote: str, surface: str, channel: str,
                         kb_version: str, comment: str = "") -> bool:
        return sql_records.record_feedback(self._db, card_id=card_id, user=user, now=self._clock(), code=code,
                                           vote=vote, surface=surface, channel=channel, kb_version=kb_version,
                                           comment=comment)

    def _read_feedback(self, since: Optional[float]) -> list[Feedback]:
        return sql_records.read_feedback(self._db, since)

    def _record_unanswered(self, *, text: str, surface: str, channel: str, suggestions: tuple[int, ...]) -> None:
        sql_records.record_unanswered(self._db, text=text, surface=surface, channel=channel,
                                      suggestions=suggestions, now=self._clock())

    def _read_unanswered(self, since: Optional[float]) -> list[Unanswered]:
        return sql_records.read_unanswered(self._db, since)

    def _record_events(self, events: list[UsageEvent]) -> None:
        sql_records.record_events(self._db, events)

    def _read_events(self, since: Optional[float]) -> list[UsageEvent]:
        return sql_records.read_events(self._db, since)

    # -- the journal ----------------------------------------------------------

    def _journal_event(self, entry: JournalEntry, owner: str, lease: float, keep: float) -> bool:
        return sql_journal.journal_event(self._db, entry, owner, lease, keep, self._clock())

    def _renew_leases(self, keys: list[str], lease: float) -> int:
        return sql_journal.renew_leases(self._db, keys, self._clock() + lease)

    def _settle_events(self, keys: list[str]) -> None:
        sql_journal.settle_events(self._db, keys, self._clock())

    def _take_lapsed_events(self, owner: str, lease: float, limit: int, max_attempts: int) -> list[JournalEntry]:
        return sql_journal.take_lapsed_events(self._db, owner, lease, limit, max_attempts, self._clock())

    def _read_pending_events(self) -> list[JournalEntry]:
        return sql_journal.read_pending_events(self._db, self._clock())

    # -- housekeeping ---------------------------------------------------------

    def _purge_expired(self) -> int:
        now = self._clock()
        cutoff = self._retention_cutoff(now)
        t = self._db.t
        with self._db.tx() as conn:
            removed = sum(conn.execute(sa.delete(t[name]).where(t[name].c.expires_at <= now)).rowcount
                          for name in ("claims", "cooldowns", "journal"))
            if cutoff is not None:
                removed += sum(conn.execute(sa.delete(t[name]).where(t[name].c[column] < cutoff)).rowcount
                               for name, column in AGED_BY.items())
        return removed

    def _check(self) -> Optional[str]:
        return self._health.check()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._db.close()
