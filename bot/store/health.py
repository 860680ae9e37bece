"""The store's health check: its own tables read and a write committed, answered within a deadline."""
from __future__ import annotations

import threading
import uuid
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, Callable, Optional

import sqlalchemy as sa

from .database import Database
from .errors import one_line
from .records import StoreError

__all__ = ["Health"]


class Health:
    """Checks `db` within `seconds`; `recover` may repair what failed a probe (dropped tables) once."""

    def __init__(self, db: Database, recover: Callable[[StoreError], bool], seconds: float):
        self._db, self._recover, self._seconds = db, recover, seconds
        self._lock = threading.Lock()
        self._pinging: Optional[Future] = None

    def check(self) -> Optional[str]:
        """The probe's answer within the deadline, else a problem saying it did not come.

        A health check that waited out a 10-second connect timeout to a vanished server would hold a
        server thread, and the load balancer's patience, for all of it. The slow probe goes on in the
        background; calls meanwhile wait on that one instead of starting more.
        """
        with self._lock:
            pinging = self._pinging
            if pinging is None or pinging.done():
                pinging = self._pinging = Future()
                threading.Thread(target=self._probe_into, args=(pinging,), name="store-ping", daemon=True).start()
        try:
            return pinging.result(timeout=self._seconds)
        except FutureTimeout:
            return f"state store {self._db.display} did not answer within {self._seconds:g} s"

    def _probe_into(self, result: Future) -> None:
        try:
            self._probe_mending()
            result.set_result(None)
        except StoreError as exc:
            result.set_result(str(exc))
        except Exception as exc:  # whatever the driver raises, a health check gets an answer
            result.set_result(f"state store {self._db.display} failed: {one_line(exc, self._db.url.password)}")

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
        names_every_table, heartbeat = self._db.statement("probes", self._statements)
        with self._db.tx() as conn:
            conn.execute(names_every_table).all()
            # SQLite writes nothing for a row set to what it holds: a new value makes the write real.
            conn.execute(heartbeat, {"nonce": uuid.uuid4().hex})

    def _statements(self) -> tuple[Any, Any]:
        tables = list(self._db.t.values())
        joined = tables[0]
        for table in tables[1:]:
            joined = joined.join(table, sa.true())
        # No row is read: a false WHERE is settled before any table is scanned.
        names_every_table = sa.select(sa.literal(1)).select_from(joined).where(sa.false())
        meta = self._db.t["meta"]
        insert = self._db.insert(meta).values(key="ping", value=sa.bindparam("nonce"))
        heartbeat = insert.on_conflict_do_update(index_elements=[meta.c.key], set_={"value": insert.excluded.value})
        return names_every_table, heartbeat
