"""A database that fails under a running store: PostgreSQL refusing connections, SQLite on a full disk,
tables dropped. The store keeps recognising retries it has seen, says it is down once and back once,
tells the truth when pinged, and creates dropped tables again."""
from __future__ import annotations

import contextlib
import logging
import re
import sqlite3
import threading
import uuid
from dataclasses import dataclass
from typing import Callable, Iterator

import psycopg
import pytest
from pg_schema import fresh_schema, psycopg_conninfo
from sqlalchemy.engine import make_url
from store_faults import OUTAGES, Unavailable, database_fault, drop_tables

from nmbot.store import StateStore, StoreError, UsageEvent, open_store
from nmbot.store.outage import RecentClaims

TTL = 7200.0


@dataclass
class Outage:
    """A store whose database fails between `begin()` and `end()`; the failure's reason matches `says`."""

    store: StateStore
    url: str
    begin: Callable[[], None]
    end: Callable[[], None]
    says: str


@pytest.fixture(params=OUTAGES)
def outage(request, tmp_path, clock) -> Iterator[Outage]:
    """The store of each kind of `OUTAGES`, on a database of the test's own."""
    try:
        with database_fault(request.param, tmp_path) as fault, open_store(fault.url, clock=clock) as store:
            yield Outage(store, fault.url, fault.begin, fault.end, fault.says)
    except Unavailable as exc:
        pytest.skip(str(exc))


def store_warnings(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name.startswith("nmbot.store") and r.levelno >= logging.WARNING]


# --- claims remembered in the process --------------------------------------------------------

def test_a_retry_during_an_outage_is_recognised_by_the_process_that_saw_it_first(outage):
    store = outage.store
    assert store.claim("msg:C1:1", TTL) is True
    assert store.claim_with_cooldowns("msg:C1:2", TTL, "C1:2", [-2004], 60) == [-2004]
    outage.begin()
    assert store.claim("msg:C1:1", TTL) is False, "claimed just before the outage"
    assert store.claim_with_cooldowns("msg:C1:2", TTL, "C1:2", [-2004], 60) is None
    with pytest.raises(StoreError):
        store.claim("msg:C1:3", TTL)  # nobody can tell: the caller answers rather than stay silent
    assert store.claim("msg:C1:3", TTL) is False, "the retry of a delivery answered without the database"
    with pytest.raises(StoreError):
        store.claim_with_cooldowns("msg:C1:4", TTL, "C1:4", [-2004], 60)
    assert store.claim_with_cooldowns("msg:C1:4", TTL, "C1:4", [-2004], 60) is None


# A SQLite full disk still answers a claim of a live key (nothing to write): only a lost connection shows this.
@pytest.mark.parametrize("outage", ["postgresql_refused"], indirect=True)
def test_claims_seen_taken_by_another_process_are_remembered_too(outage, clock):
    with open_store(outage.url, clock=clock) as other:
        assert other.claim("msg:C1:1", TTL) is True
    assert outage.store.claim("msg:C1:1", TTL) is False
    outage.begin()
    assert outage.store.claim("msg:C1:1", TTL) is False


def test_a_closed_store_still_refuses_every_claim():
    store = open_store("memory://")
    assert store.claim("msg:C1:1", TTL) is True
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.claim("msg:C1:1", TTL)


def test_recent_claims_keep_the_newest_keys_until_their_claim_ends():
    recent = RecentClaims(limit=3, longest=100.0)
    for n in range(4):
        recent.remember(f"k{n}", now=0.0, ttl=50.0)
    assert recent.first_time("k0", now=1.0, ttl=50.0), "the oldest key made room for the fourth"
    assert not recent.first_time("k3", now=1.0, ttl=50.0)
    assert recent.first_time("k3", now=50.0, ttl=50.0), "its claim has ended"
    recent.remember("long", now=0.0, ttl=1000.0)
    assert not recent.first_time("long", now=99.0, ttl=1.0)
    assert recent.first_time("long", now=100.0, ttl=1.0), "no key is kept longer than `longest`"


def test_recent_claims_let_one_of_many_racing_threads_through():
    recent, winners = RecentClaims(limit=100, longest=100.0), []
    barrier = threading.Barrier(8)

    def race() -> None:
        barrier.wait(5)
        if recent.first_time("k", now=0.0, ttl=10.0):
            winners.append(threading.get_ident())

    threads = [threading.Thread(target=race) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert len(winners) == 1


# --- one line down, one line back, a count for the rest ------------------------------------------

def test_an_outage_is_logged_once_down_and_once_back_and_every_failure_counted(outage, caplog):
    store, failed = outage.store, []
    store.on_error(failed.append)
    caplog.set_level(logging.INFO)
    outage.begin()
    for n in range(20):
        with contextlib.suppress(StoreError):
            store.claim(f"msg:C1:{n}", TTL)
        with contextlib.suppress(StoreError):
            store.record_events([UsageEvent("autoreply", "event", "C1", -2004, store.now())])
    assert len(failed) == 40 and set(failed) == {"claim", "record_events"}
    [down] = store_warnings(caplog)
    assert "state store down" in down.getMessage() and re.search(outage.says, down.getMessage())
    assert down.exc_info is None and "\n" not in down.getMessage(), "one line, no traceback"
    outage.end()
    assert store.claim("msg:C1:after", TTL) is True
    assert store.claim("msg:C1:later", TTL) is True
    down_again, back = store_warnings(caplog)
    assert down_again is down and "state store back" in back.getMessage()
    assert store.problem is None


def test_reads_that_still_work_do_not_end_an_outage(outage, caplog):
    store = outage.store
    caplog.set_level(logging.INFO)
    outage.begin()
    for n in range(5):
        with contextlib.suppress(StoreError):
            store.claim(f"msg:C1:{n}", TTL)
        with contextlib.suppress(StoreError):
            store.channel_settings("C1")  # SQLite on a full disk still reads
    assert len(store_warnings(caplog)) == 1
    assert store.problem is not None


# --- ping tells the truth ---------------------------------------------------------------------

def test_ping_and_problem_tell_the_truth_about_an_outage(outage):
    store = outage.store
    assert store.ping() is True and store.problem is None
    outage.begin()
    assert store.ping() is False
    assert re.search(outage.says, store.problem)
    outage.end()
    assert store.ping() is True and store.problem is None


@pytest.mark.parametrize("db", ["sqlite", "postgresql"])
def test_ping_says_no_for_tables_that_cannot_be_created_again(db, tmp_path, request):
    with _uncreatable_tables(db, tmp_path, request) as (store, allow):
        assert store.ping() is False
        assert "nmbot_" in store.problem
        allow()
        assert store.ping() is True and store.problem is None
        assert store.claim("msg:C1:1", TTL) is True


@contextlib.contextmanager
def _uncreatable_tables(db: str, tmp_path, request):
    """A store whose tables were dropped, and which may not create them until `allow()`."""
    if db == "sqlite":
        with open_store(str(tmp_path / "state.sqlite3")) as store:
            drop_tables(str(tmp_path / "state.sqlite3"))
            # A view of the same name: CREATE TABLE IF NOT EXISTS skips it, reads of it fail.
            with contextlib.closing(sqlite3.connect(tmp_path / "state.sqlite3")) as raw, raw:
                raw.execute("CREATE VIEW nmbot_claims AS SELECT 1 AS other")

            def allow() -> None:
                with contextlib.closing(sqlite3.connect(tmp_path / "state.sqlite3")) as raw, raw:
                    raw.execute("DROP VIEW nmbot_claims")

            yield store, allow
        return
    pg_url = request.getfixturevalue("pg_url")
    role = f"nmbot_test_{uuid.uuid4().hex[:10]}"
    admin = psycopg_conninfo(pg_url)
    with fresh_schema(pg_url) as (schema, url):
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE ROLE "{role}" LOGIN')
            conn.execute(f'GRANT USAGE, CREATE ON SCHEMA "{schema}" TO "{role}"')
        try:
            with open_store(make_url(url).set(username=role).render_as_string(hide_password=False)) as store:
                drop_tables(url)
                with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
                    conn.execute(f'REVOKE CREATE ON SCHEMA "{schema}" FROM "{role}"')

                def allow() -> None:
                    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
                        conn.execute(f'GRANT CREATE ON SCHEMA "{schema}" TO "{role}"')

                yield store, allow
        finally:
            with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
                conn.execute(f'DROP ROLE IF EXISTS "{role}"')


# --- tables dropped under a running store --------------------------------------------------------

@pytest.fixture(params=["sqlite", "postgresql"])
def own_db_url(request, tmp_path) -> str:
    """A database of the test's own (the tests drop its tables)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state.sqlite3'}"
    return request.getfixturevalue("pg_schema_url")


def test_dropped_tables_are_created_again_once_for_every_thread_that_noticed(own_db_url, caplog):
    with open_store(own_db_url) as store:
        store.update_channel_settings("C1", autoreply="off")
        drop_tables(own_db_url)
        caplog.clear()
        won, barrier = [], threading.Barrier(6)

        def claim(n: int) -> None:
            barrier.wait(5)
            won.append(store.claim(f"msg:C1:{n}", TTL))

        threads = [threading.Thread(target=claim, args=(n,)) for n in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        assert won == [True] * 6
        assert store.channel_settings("C1").autoreply == "on", "the setting went with its table"
        [line] = store_warnings(caplog)
        assert "was missing tables" in line.getMessage() and "channel settings" in line.getMessage()
        assert store.problem is None


def test_a_ping_creates_dropped_tables_again(own_db_url, caplog):
    with open_store(own_db_url) as store:
        drop_tables(own_db_url)
        caplog.clear()
        assert store.ping() is True and store.problem is None
        assert len(store_warnings(caplog)) == 1, "the tables were created again, and it was said"
        assert store.claim("msg:C1:1", TTL) is True
        assert len(store_warnings(caplog)) == 1


# --- a new database at start-up ----------------------------------------------------------------

def test_a_deleted_sqlite_file_is_announced_at_start(tmp_path, caplog):
    path = tmp_path / "state.sqlite3"
    caplog.set_level(logging.INFO)
    with open_store(str(path)) as store:
        store.update_channel_settings("C1", autoreply="off")
    [first_start] = store_warnings(caplog)
    assert "was new" in first_start.getMessage()
    caplog.clear()
    with open_store(str(path)) as store:
        assert store.channel_settings("C1").autoreply == "off"
    assert store_warnings(caplog) == [], "an existing database is not news"
    for leftover in tmp_path.glob("state.sqlite3*"):
        leftover.unlink()
    with open_store(str(path)) as store:
        assert store.channel_settings("C1").autoreply == "on"
    [line] = store_warnings(caplog)
    assert "was new" in line.getMessage() and "autoreply off" in line.getMessage()
    assert str(path) in line.getMessage()


def test_an_in_memory_sqlite_database_is_not_announced(caplog):
    with open_store("sqlite:///:memory:"):
        pass
    assert store_warnings(caplog) == []
