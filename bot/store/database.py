"""One database of the store's: its engine and tables, and the transactions every operation runs in.

The statements every event runs (its journal row, its claim and cool-downs) have a faster path on SQLite
(`hot_tx`): they run on the driver's own connection, their SQL compiled once from the same statement objects,
because at real traffic SQLAlchemy's work per execution cost more than SQLite's own (measured in
benchmarks/README.md). PostgreSQL keeps SQLAlchemy's path (its pool, pre-ping and RETURNING).
"""
from __future__ import annotations

import contextlib
import sqlite3
from typing import Any, Callable, Iterator, Optional

from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import URL, Connection
from sqlalchemy.exc import SQLAlchemyError

from ..settings import StoreTuning
from .connect import create_engine, insert_of
from .errors import failure
from .records import StoreError
from .schema import build_tables

__all__ = ["Database", "Write"]

# Runs one INSERT ... ON CONFLICT made by `counting_rows` with its parameters; True when it wrote a row.
Write = Callable[[Any, dict], bool]


class Database:
    """The engine, the tables (`t`, by short name), the dialect's INSERT ... ON CONFLICT (`insert`) and the
    lock the store's users take turns under; `tx` and `hot_tx` run transactions, failures as StoreError."""

    def __init__(self, url: URL, display: str, *, table_prefix: str, read_only: bool, tuning: StoreTuning):
        self.url, self.display, self.read_only = url, display, read_only
        self.dialect = url.get_backend_name()  # "sqlite" | "postgresql"
        self.metadata, self.t = build_tables(table_prefix)
        self.insert = insert_of(self.dialect)
        self.closed = False
        self._statements: dict[str, Any] = {}
        self._driver_sql: dict[int, str] = {}  # id of a statement in _statements -> its SQLite SQL
        self._driver: Any = None  # the SQLite driver connection the hot statements run on, opened on first use
        self.engine, self.lock = create_engine(url, read_only=read_only, tuning=tuning)

    def statement(self, name: str, build: Callable[[], Any]) -> Any:
        """The statement `build()` makes, built once: one reused with new parameters skips SQLAlchemy's
        construction and cache-key work, and the statements built here run on every event."""
        stmt = self._statements.get(name)
        if stmt is None:
            stmt = self._statements[name] = build()
        return stmt

    def counting_rows(self, stmt: Any) -> Any:
        """`stmt` (an INSERT ... ON CONFLICT) made to tell whether it wrote a row."""
        if self.dialect == "postgresql":
            # psycopg's rowcount for an INSERT is not kept by SQLAlchemy < 2.0.28;
            # RETURNING answers on every version.
            return stmt.returning(*stmt.table.primary_key.columns)
        # SQLite < 3.35 has no RETURNING; its rowcount is reliable. (The option
        # is needed on SQLAlchemy >= 2.0.28 and ignored before.)
        return stmt.execution_options(preserve_rowcount=True)

    def wrote_a_row(self, conn: Connection, stmt: Any, params: Optional[dict] = None) -> bool:
        """Run an INSERT ... ON CONFLICT made by `counting_rows`; True when it inserted or updated."""
        result = conn.execute(stmt, params or {})
        if self.dialect == "postgresql":
            return result.first() is not None
        return result.rowcount == 1

    def _refuse_if_closed(self) -> None:
        if self.closed:
            raise StoreError(f"state store is closed ({self.display})")

    @contextlib.contextmanager
    def tx(self) -> Iterator[Connection]:
        """One transaction; database failures come out as StoreError."""
        self._refuse_if_closed()
        try:
            with self.lock, self.engine.begin() as conn:
                yield conn
        except SQLAlchemyError as exc:
            raise failure(self.display, exc, self.url.password) from exc

    @contextlib.contextmanager
    def hot_tx(self) -> Iterator[Write]:
        """One transaction of the statements every event runs, as a function running one of them (made by
        `counting_rows`) and telling whether it wrote a row."""
        if self.dialect != "sqlite":
            with self.tx() as conn:
                yield lambda stmt, params: self.wrote_a_row(conn, stmt, params)
            return
        self._refuse_if_closed()
        with self.lock:
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
                raise failure(self.display, exc) from exc

    def _driver_connection(self) -> Any:
        """(With the lock held.) The driver connection, checked out of the engine's pool for the store's life."""
        if self._driver is None:
            self._driver = self.engine.raw_connection()
        return self._driver

    def _drop_driver_connection(self) -> None:
        """(With the lock held, or at close.)"""
        driver, self._driver = self._driver, None
        if driver is not None:
            with contextlib.suppress(Exception):
                driver.close()  # back to the pool, which discards it if it is broken

    def _sqlite_sql(self, stmt: Any) -> str:
        """The SQL of a statement built once (`statement`), with named parameters as sqlite3 takes them."""
        sql = self._driver_sql.get(id(stmt))
        if sql is None:
            sql = self._driver_sql[id(stmt)] = str(stmt.compile(dialect=sqlite_dialect.dialect(paramstyle="named")))
        return sql

    def close(self) -> None:
        """Release the connections; idempotent. Every transaction from now on is a StoreError."""
        self.closed = True
        with self.lock:
            self._drop_driver_connection()
        self.dispose()

    def dispose(self) -> None:
        with contextlib.suppress(Exception):
            self.engine.dispose()
