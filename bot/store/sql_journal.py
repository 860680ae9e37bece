"""The journal in SQL: acknowledged events recorded before their ack, leased, settled, taken up again."""
from __future__ import annotations

import json
from typing import Any, Optional

import sqlalchemy as sa

from .database import Database
from .records import JournalEntry

__all__ = ["journal_event", "read_pending_events", "renew_leases", "settle_events", "take_lapsed_events"]


def _entry(row: Any, attempts: Optional[int] = None) -> JournalEntry:
    return JournalEntry(
        key=row.key, event_type=row.event_type, channel=row.channel, ts=row.ts, thread_ts=row.thread_ts,
        user=row.user_id, text=row.text, files=tuple(json.loads(row.files)), arrived_at=row.arrived_at,
        attempts=row.attempts if attempts is None else attempts,
    )


def journal_event(db: Database, entry: JournalEntry, owner: str, lease: float, keep: float, now: float) -> bool:
    params = dict(key=entry.key, event_type=entry.event_type, channel=entry.channel, ts=entry.ts,
                  thread_ts=entry.thread_ts, user_id=entry.user, text=entry.text,
                  files=json.dumps(list(entry.files)), arrived_at=now, expires_at=now + keep, owner=owner,
                  lease_until=now + lease, attempts=0, settled_at=None, now=now)
    with db.hot_tx() as write:
        return write(db.statement("journal", lambda: _journal_statement(db)), params)


def _journal_statement(db: Database) -> Any:
    """INSERT ... ON CONFLICT taking over only an expired row: every event the bot would answer runs it
    before its ack."""
    t = db.t["journal"]
    insert = db.insert(t)  # its values: the parameters it is run with
    fresh = {c.name: insert.excluded[c.name] for c in t.columns if c.name != "key"}
    return db.counting_rows(insert.on_conflict_do_update(
        index_elements=[t.c.key], set_=fresh, where=t.c.expires_at <= sa.bindparam("now")))


def renew_leases(db: Database, keys: list[str], until: float) -> int:
    def build() -> Any:  # runs every third of a lease while events are held
        t = db.t["journal"]
        return (sa.update(t).where(t.c.key.in_(sa.bindparam("keys", expanding=True)), t.c.settled_at.is_(None))
                .values(lease_until=sa.bindparam("until")))

    with db.tx() as conn:
        return conn.execute(db.statement("renew", build), {"keys": keys, "until": until}).rowcount


def settle_events(db: Database, keys: list[str], at: float) -> None:
    def build() -> Any:  # every answered event runs it
        t = db.t["journal"]
        return (sa.update(t).where(t.c.key.in_(sa.bindparam("keys", expanding=True)), t.c.settled_at.is_(None))
                .values(settled_at=sa.bindparam("at"), text="", files="[]"))

    with db.tx() as conn:
        conn.execute(db.statement("settle", build), {"keys": keys, "at": at})


def take_lapsed_events(db: Database, owner: str, lease: float, limit: int, max_attempts: int,
                       now: float) -> list[JournalEntry]:
    """The lapsed rows are read and taken in one transaction that no other taker can interleave with:
    on PostgreSQL the rows read are locked, and rows another taker locked are skipped, not waited for;
    SQLite has one writer at a time, so the transaction starts as the writer (BEGIN IMMEDIATE) before it
    reads what it will take."""
    t = db.t["journal"]
    lapsed = (sa.select(t)
              .where(t.c.settled_at.is_(None), t.c.lease_until <= now, t.c.expires_at > now,
                     t.c.attempts < max_attempts)
              .order_by(t.c.arrived_at, t.c.key).limit(limit))
    if db.dialect == "postgresql":
        lapsed = lapsed.with_for_update(skip_locked=True)
    with db.tx() as conn:
        if db.dialect == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        rows = conn.execute(lapsed).all()
        if rows:
            conn.execute(sa.update(t).where(t.c.key.in_([r.key for r in rows]))
                         .values(owner=owner, lease_until=now + lease, attempts=t.c.attempts + 1))
    return [_entry(r, attempts=r.attempts + 1) for r in rows]


def read_pending_events(db: Database, now: float) -> list[JournalEntry]:
    t = db.t["journal"]
    stmt = (sa.select(t).where(t.c.settled_at.is_(None), t.c.expires_at > now)
            .order_by(t.c.arrived_at, t.c.key))
    with db.tx() as conn:
        rows = conn.execute(stmt).all()
    return [_entry(r) for r in rows]
