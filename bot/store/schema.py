"""The store's tables, and creating them: at start, and again when they are found dropped under a running
store (a database restored empty). `CREATE ... IF NOT EXISTS` lets two processes start at once; on PostgreSQL,
where concurrent creation can still collide, they take turns under an advisory lock."""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.schema import CreateIndex, CreateTable

from .records import StoreError
from .urls import in_memory

if TYPE_CHECKING:
    from .database import Database

__all__ = ["AGED_BY", "SCHEMA_VERSION", "build_tables", "check_schema", "create_schema", "say_created"]

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
# What an operator should know when the bot's tables start out empty: what people told the bot is gone.
SETTINGS_RESET = "channel settings (autoreply off, mutes, quiet threads) start from defaults"
# Any constant will do: it only serialises schema creation between processes.
PG_SCHEMA_LOCK = 0x6E6D626F74  # "nmbot"
# Tables a later version added: on a database made before them, creating them at start is the upgrade, not
# a loss worth a warning.
ADDED_LATER = frozenset({"journal"})
# The tables the retention period applies to, each with the column saying when a row was last written
# (indexed, so a purge finds the old rows without reading the table).
AGED_BY = {"feedback": "updated_at", "unanswered": "at", "events": "at", "quiet": "created_at"}


def build_tables(prefix: str) -> tuple[sa.MetaData, dict[str, sa.Table]]:
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


def create_schema(db: "Database") -> list[str]:
    """Create whatever of the schema is missing; the names of the tables that were."""
    with db.lock, db.engine.begin() as conn:
        if db.dialect == "postgresql":
            # Two replicas creating the same tables at once can still clash
            # on PostgreSQL's catalogue despite IF NOT EXISTS; take turns.
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": PG_SCHEMA_LOCK})
        existing = set(sa.inspect(conn).get_table_names())
        missing = [t.name for t in db.metadata.sorted_tables if t.name not in existing]
        for table in db.metadata.sorted_tables:
            conn.execute(CreateTable(table, if_not_exists=True))
            for index in sorted(table.indexes, key=lambda i: i.name or ""):
                conn.execute(CreateIndex(index, if_not_exists=True))
        meta = db.t["meta"]
        conn.execute(
            db.insert(meta)
            .values(key="schema_version", value=str(SCHEMA_VERSION))
            .on_conflict_do_nothing(index_elements=[meta.c.key])
        )
        found = conn.execute(
            sa.select(meta.c.value).where(meta.c.key == "schema_version")
        ).scalar_one()
    _check_version(db, found)
    return missing


def check_schema(db: "Database") -> None:
    """(Read-only.) The tables a reader needs are there, in a schema version this nmbot understands."""
    needed = [db.t[name].name for name in ("meta", "feedback", "unanswered", "events")]
    with db.tx() as conn:
        existing = set(sa.inspect(conn).get_table_names())
        missing = [name for name in needed if name not in existing]
        if missing:
            raise StoreError(
                f"state store {db.display} has no nmbot tables ({', '.join(missing)} missing): "
                "point NMBOT_DATABASE_URL at the bot's database (the bot creates them when it starts)"
            )
        meta = db.t["meta"]
        found = conn.execute(sa.select(meta.c.value).where(meta.c.key == "schema_version")).scalar()
    if found is not None:
        _check_version(db, found)


def _check_version(db: "Database", found: str) -> None:
    if int(found) > SCHEMA_VERSION:
        raise StoreError(f"state store {db.display} has schema version {found}, newer than this "
                         f"nmbot understands ({SCHEMA_VERSION}): upgrade nmbot")


def say_created(db: "Database", tables: list[str], *, at_start: bool) -> None:
    """One line when tables had to be created: whatever they held is gone (a deleted SQLite file,
    a database restored empty), and the operator should know channel settings were reset."""
    if not tables or in_memory(db.url):
        return
    if len(tables) == len(db.t) and at_start:
        log.warning("the state store %s was new (expected on a first start): created its tables; %s",
                    db.display, SETTINGS_RESET)
        return
    added = {db.t[name].name for name in ADDED_LATER}
    if at_start and set(tables) <= added:
        log.info("the state store %s gained the tables of this version: %s", db.display, ", ".join(tables))
        return
    settings_lost = {db.t["channels"].name, db.t["quiet"].name} & set(tables)
    log.warning("the state store %s was missing tables (%s): created them%s", db.display,
                ", ".join(tables), f"; {SETTINGS_RESET}" if settings_lost else "")
