"""Channel settings, quiet threads, votes, unanswered questions and usage events in SQL."""
from __future__ import annotations

import json
from typing import Any, Optional

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .database import Database
from .records import DEFAULT_AUTOREPLY, ChannelSettings, Feedback, Unanswered, UsageEvent

__all__ = ["add_quiet", "channel_settings", "is_thread_quiet", "read_events", "read_feedback", "read_unanswered",
           "record_events", "record_feedback", "record_unanswered", "update_channel_settings"]


# -- channel settings and quiet threads --------------------------------------------------------

def channel_settings(db: Database, conn: Connection, channel: str) -> ChannelSettings:
    def build() -> Any:  # every pasted log reads the settings
        t = db.t["channels"]
        return sa.select(t.c.autoreply, t.c.muted_until).where(t.c.channel == sa.bindparam("channel"))

    row = conn.execute(db.statement("settings", build), {"channel": channel}).first()
    if row is None:
        return ChannelSettings(channel)
    return ChannelSettings(channel, row.autoreply, row.muted_until)


def update_channel_settings(db: Database, conn: Connection, channel: str, changes: dict[str, Any],
                            now: float) -> None:
    """Set the `changes` (autoreply, muted_until: None to unmute) of `channel`'s settings."""
    t = db.t["channels"]
    conn.execute(
        db.insert(t)
        .values(channel=channel, autoreply=changes.get("autoreply", DEFAULT_AUTOREPLY),
                muted_until=changes.get("muted_until"), updated_at=now)
        .on_conflict_do_update(index_elements=[t.c.channel], set_={**changes, "updated_at": now})
    )


def add_quiet(db: Database, conn: Connection, channel: str, thread_ts: str, now: float) -> None:
    t = db.t["quiet"]
    conn.execute(
        db.insert(t)
        .values(channel=channel, thread_ts=thread_ts, created_at=now)
        .on_conflict_do_nothing(index_elements=[t.c.channel, t.c.thread_ts])
    )


def is_thread_quiet(db: Database, channel: str, thread_ts: str) -> bool:
    def build() -> Any:  # every paste in a thread asks
        t = db.t["quiet"]
        return sa.select(sa.literal(1)).where(t.c.channel == sa.bindparam("channel"),
                                              t.c.thread_ts == sa.bindparam("thread_ts"))

    with db.tx() as conn:
        return conn.execute(db.statement("is_quiet", build), {"channel": channel, "thread_ts": thread_ts}).first() \
            is not None


# -- votes, unanswered questions, usage events ---------------------------------------------------

def record_feedback(db: Database, *, card_id: str, user: str, now: float, **fields: Any) -> bool:
    """The vote of `user` on `card_id` (`fields`: code, vote, surface, channel, kb_version, comment);
    True when it is the first."""
    t = db.t["feedback"]
    fields = {**fields, "updated_at": now}
    with db.tx() as conn:
        first = db.wrote_a_row(
            conn,
            db.counting_rows(
                db.insert(t)
                .values(user_id=user, card_id=card_id, created_at=now, **fields)
                .on_conflict_do_nothing(index_elements=[t.c.user_id, t.c.card_id])
            ),
        )
        if not first:
            conn.execute(sa.update(t).where(t.c.user_id == user, t.c.card_id == card_id).values(**fields))
        return first


def read_feedback(db: Database, since: Optional[float]) -> list[Feedback]:
    t = db.t["feedback"]
    rows = _read(db, sa.select(t).order_by(t.c.updated_at, t.c.created_at, t.c.user_id, t.c.card_id),
                 t.c.updated_at, since)
    return [
        Feedback(card_id=r.card_id, user=r.user_id, code=r.code, vote=r.vote, surface=r.surface, channel=r.channel,
                 kb_version=r.kb_version, comment=r.comment, created_at=r.created_at, updated_at=r.updated_at)
        for r in rows
    ]


def record_unanswered(db: Database, *, text: str, surface: str, channel: str, suggestions: tuple[int, ...],
                      now: float) -> None:
    with db.tx() as conn:
        conn.execute(sa.insert(db.t["unanswered"]).values(
            text=text, surface=surface, channel=channel, suggestions=json.dumps(list(suggestions)), at=now))


def read_unanswered(db: Database, since: Optional[float]) -> list[Unanswered]:
    t = db.t["unanswered"]
    rows = _read(db, sa.select(t).order_by(t.c.at, t.c.id), t.c.at, since)
    return [Unanswered(r.text, r.surface, r.channel, tuple(json.loads(r.suggestions)), r.at) for r in rows]


def record_events(db: Database, events: list[UsageEvent]) -> None:
    with db.tx() as conn:
        conn.execute(
            sa.insert(db.t["events"]),
            [dict(kind=e.kind, surface=e.surface, channel=e.channel, code=e.code, at=e.at) for e in events],
        )


def read_events(db: Database, since: Optional[float]) -> list[UsageEvent]:
    t = db.t["events"]
    rows = _read(db, sa.select(t).order_by(t.c.at, t.c.id), t.c.at, since)
    return [UsageEvent(r.kind, r.surface, r.channel, r.code, r.at) for r in rows]


def _read(db: Database, stmt: Any, at: Any, since: Optional[float]) -> list:
    """The rows of `stmt`, with `since`: those whose `at` column is at or after it."""
    if since is not None:
        stmt = stmt.where(at >= since)
    with db.tx() as conn:
        return conn.execute(stmt).all()
