"""SqlStore specifics: URLs, errors, persistence, schema, cross-process races.

The behaviour every backend shares is in test_contract.py.
"""
from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from helpers import poll_until

from nmbot.settings import StoreTuning
from nmbot.store import ChannelSettings, JournalEntry, SqlStore, StoreError, UsageEvent, open_store
from nmbot.store.schema import SCHEMA_VERSION
from nmbot.store.urls import DEFAULT_SQLITE_PATH, display_url, resolve_url

SECRET = "hunter2-s3cret"
WORKER = Path(__file__).with_name("claim_worker.py")
REPO = Path(__file__).resolve().parents[2]


# -- URLs --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "given, drivername, database",
    [
        ("postgresql://postgres@127.0.0.1:5432/test", "postgresql+psycopg", "test"),
        ("postgres://bot@db.internal/nmbot", "postgresql+psycopg", "nmbot"),
        ("postgresql+psycopg://bot@db/nmbot", "postgresql+psycopg", "nmbot"),
        ("sqlite:///state/nmbot.sqlite3", "sqlite+pysqlite", "state/nmbot.sqlite3"),
        ("sqlite:////var/lib/nmbot/state.db", "sqlite+pysqlite", "/var/lib/nmbot/state.db"),
        ("/var/lib/nmbot/state.db", "sqlite+pysqlite", "/var/lib/nmbot/state.db"),
        ("state.db", "sqlite+pysqlite", "state.db"),
        ("  state.db\n", "sqlite+pysqlite", "state.db"),
        (Path("state") / "nmbot.db", "sqlite+pysqlite", "state/nmbot.db"),
        (None, "sqlite+pysqlite", DEFAULT_SQLITE_PATH),
        ("", "sqlite+pysqlite", DEFAULT_SQLITE_PATH),
    ],
)
def test_resolve_url(given, drivername: str, database: str) -> None:
    url = resolve_url(given)
    assert url.drivername == drivername
    assert url.database == database


def test_resolve_url_keeps_credentials_host_and_options() -> None:
    url = resolve_url(f"postgres://bot:{SECRET}@10.0.0.5:6543/nmbot?sslmode=require")
    assert (url.username, url.password, url.host, url.port) == ("bot", SECRET, "10.0.0.5", 6543)
    assert url.query == {"sslmode": "require"}


def test_resolve_url_expands_home(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert resolve_url("~/nmbot.db").database == str(tmp_path / "nmbot.db")
    assert resolve_url("sqlite:///~/nmbot.db").database == str(tmp_path / "nmbot.db")


def test_display_url_masks_passwords() -> None:
    shown = display_url(resolve_url(f"postgresql://bot:{SECRET}@h/db?password={SECRET}&sslmode=require"))
    assert SECRET not in shown
    assert shown.startswith("postgresql+psycopg://bot:***@h/db")
    assert "sslmode=require" in shown
    assert display_url(f"weird://bot:{SECRET}@h:x/db") == "weird://bot:***@h:x/db"
    assert display_url(f"weird://bot:a@{SECRET}@h:x/db") == "weird://bot:***@h:x/db"


# -- errors ---------------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _assert_clean(err: StoreError, *needles: str) -> None:
    message = str(err)
    assert "\n" not in message, message
    assert SECRET not in message and SECRET not in repr(err)
    assert err.__cause__ is None, "no chained driver traceback"
    assert err.__context__ is None or err.__suppress_context__, "no chained driver traceback"
    for needle in needles:
        assert needle in message, message


@pytest.mark.parametrize(
    "url, needles",
    [
        (f"mysql://bot:{SECRET}@127.0.0.1/db", ["unsupported database URL", "mysql://bot:***@127.0.0.1/db"]),
        (f"postgresql+psycopg2://bot:{SECRET}@127.0.0.1/db", ["psycopg2", "bot:***@"]),
        (f"postgresql://bot:{SECRET}@127.0.0.1:notaport/db", ["invalid database URL", "bot:***@"]),
        (f"sqlite+aiosqlite:///x.db?password={SECRET}", ["aiosqlite"]),
        (f"postgresql:/bot:{SECRET}@127.0.0.1/db", ["invalid database URL"]),
    ],
)
def test_bad_url_is_store_error_without_password(url: str, needles: list[str]) -> None:
    with pytest.raises(StoreError) as caught:
        open_store(url)
    _assert_clean(caught.value, *needles)


def test_unreachable_postgresql_is_store_error_without_password() -> None:
    port = _closed_port()
    with pytest.raises(StoreError) as caught:
        open_store(f"postgresql://bot:{SECRET}@127.0.0.1:{port}/nmbot")
    _assert_clean(
        caught.value,
        "cannot open state store",
        f"postgresql+psycopg://bot:***@127.0.0.1:{port}/nmbot",
        "refused",
    )


def test_missing_postgresql_database_is_store_error(pg_url: str) -> None:
    url = sa.make_url(pg_url).set(database="nmbot_no_such_database", password=SECRET)
    with pytest.raises(StoreError) as caught:
        open_store(url.render_as_string(hide_password=False))
    _assert_clean(caught.value, "nmbot_no_such_database", "does not exist")


def test_sqlite_file_that_is_not_a_database(tmp_path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("not a database, just text " * 100)
    with pytest.raises(StoreError) as caught:
        open_store(str(path))
    _assert_clean(caught.value, str(path), "not a database")


def test_sqlite_path_that_cannot_be_created(tmp_path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(StoreError) as caught:
        open_store(str(blocker / "sub" / "state.db"))
    _assert_clean(caught.value, "cannot open state store", "a-file")


def test_database_failure_after_open_is_store_error(tmp_path) -> None:
    path = tmp_path / "state.db"
    store = open_store(str(path))
    with sqlite3.connect(path) as raw:  # a table of ours that creating the missing schema cannot mend
        raw.execute("DROP TABLE nmbot_claims")
        raw.execute("CREATE TABLE nmbot_claims (other TEXT)")
    with pytest.raises(StoreError, match="nmbot_claims"):
        store.claim("k", ttl=1)
    store.close()


def test_a_ping_that_cannot_finish_in_time_says_no_in_time(tmp_path) -> None:
    path = tmp_path / "state.db"
    store = SqlStore(str(path), tuning=StoreTuning(ping_seconds=0.2))
    stuck = sqlite3.connect(path, isolation_level=None)  # another process's write holding the database
    stuck.execute("BEGIN IMMEDIATE")
    started = time.monotonic()
    assert store.ping() is False and store.ping() is False
    assert time.monotonic() - started < 1.0, "each answer came within PING_SECONDS"
    stuck.execute("ROLLBACK")
    stuck.close()
    poll_until(store.ping, "the store to answer pings again", 5)
    assert store.ping() is True
    store.close()


def test_newer_schema_is_refused(tmp_path) -> None:
    path = tmp_path / "state.db"
    open_store(str(path)).close()
    with sqlite3.connect(path) as raw:
        raw.execute("UPDATE nmbot_meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),))
    with pytest.raises(StoreError, match="newer than this nmbot"):
        open_store(str(path))


def test_a_database_made_before_the_retention_rule_gets_its_index(tmp_path) -> None:
    path = tmp_path / "state.db"
    open_store(str(path)).close()
    with sqlite3.connect(path) as raw:
        raw.execute("DROP INDEX nmbot_quiet_threads_created_at")
    open_store(str(path)).close()
    with sqlite3.connect(path) as raw:
        plan = raw.execute("EXPLAIN QUERY PLAN DELETE FROM nmbot_quiet_threads WHERE created_at < 1").fetchall()
    assert "USING INDEX nmbot_quiet_threads_created_at" in str(plan), "the purge finds old rows without a scan"


def test_a_database_made_before_the_journal_gains_it_quietly(tmp_path, caplog) -> None:
    path = tmp_path / "state.db"
    with open_store(str(path)) as store:
        store.update_channel_settings("C1", autoreply="off")
    with sqlite3.connect(path) as raw:
        raw.execute("DROP TABLE nmbot_journal")
    caplog.clear()
    caplog.set_level("INFO", logger="nmbot.store")
    with open_store(str(path)) as store:
        assert store.channel_settings("C1").autoreply == "off"
        assert store.journal_event(JournalEntry("msg:C1:1.0", "message", "C1", "1.0"), owner="o", lease=60,
                                   keep=3600)
    [line] = [r for r in caplog.records if r.name.startswith("nmbot.store")]
    assert line.levelname == "INFO" and "gained the tables of this version: nmbot_journal" in line.getMessage()


def test_bad_table_prefix(tmp_path) -> None:
    with pytest.raises(ValueError, match="table_prefix"):
        SqlStore(str(tmp_path / "x.db"), table_prefix="drop table;")


# -- SQLite ---------------------------------------------------------------------------


def test_default_url_is_a_sqlite_file_in_the_working_directory(monkeypatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)
    store = open_store(None)
    assert store.claim("k", ttl=1)
    store.close()
    assert (tmp_path / DEFAULT_SQLITE_PATH).is_file()


def test_sqlite_creates_parent_folders(tmp_path) -> None:
    path = tmp_path / "var" / "lib" / "nmbot" / "state.sqlite3"
    with open_store(f"sqlite:///{path}") as store:
        assert store.ping()
    assert path.is_file()


def test_sqlite_persists_across_reopen(tmp_path, clock) -> None:
    path = tmp_path / "state.sqlite3"
    store = open_store(str(path), clock=clock)
    store.claim("event:Ev1", ttl=3600)
    store.cooldown("C1:1.0", -2004, seconds=3600)
    store.update_channel_settings("C1", autoreply="shadow", muted_until=clock.now + 60)
    store.quiet_thread("C1", "1.0")
    store.record_feedback(card_id="c1", user="U1", code=-2004, vote="up", surface="slack",
                          channel="C1", kb_version="v1")
    store.record_unanswered(text="hm", surface="cli", channel="", suggestions=[1])
    store.record_events([UsageEvent("answer", "slack", "C1", -2004, store.now())])
    store.close()

    clock.advance(60)  # a restart later, every claim still alive
    again = open_store(f"sqlite:///{path}", clock=clock)
    assert not again.claim("event:Ev1", ttl=3600)
    assert not again.cooldown("C1:1.0", -2004, seconds=3600)
    assert again.channel_settings("C1") == ChannelSettings("C1", "shadow", clock.now)
    assert again.is_thread_quiet("C1", "1.0")
    assert [f.vote for f in again.feedback()] == ["up"]
    assert again.record_feedback(card_id="c1", user="U1", code=-2004, vote="down", surface="slack",
                                 channel="C1", kb_version="v1") is False
    assert [u.suggestions for u in again.unanswered()] == [(1,)]
    assert [e.code for e in again.events()] == [-2004]
    clock.advance(3600)
    assert again.claim("event:Ev1", ttl=3600)
    again.close()


def test_in_memory_sqlite_is_shared_between_threads() -> None:
    store = open_store("sqlite://")
    results: list[bool] = []
    threads = [
        threading.Thread(target=lambda: results.append(store.claim("k", ttl=60))) for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert sorted(results) == [False, False, False, True]
    store.close()


def test_table_prefixes_keep_bots_apart(tmp_path) -> None:
    url = str(tmp_path / "shared.db")
    a, b = SqlStore(url, table_prefix="bot_a_"), SqlStore(url, table_prefix="bot_b_")
    assert a.claim("event:1", ttl=60) and b.claim("event:1", ttl=60)
    a.close()
    b.close()
    with sqlite3.connect(url) as raw:
        names = {r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"bot_a_claims", "bot_b_claims"} <= names


# -- PostgreSQL ---------------------------------------------------------------------


def test_plain_postgresql_url_uses_psycopg3(pg_schema_url: str) -> None:
    assert pg_schema_url.startswith("postgresql://")
    with open_store(pg_schema_url) as store:
        assert isinstance(store, SqlStore)
        assert store.dialect == "postgresql"
        assert store.url.startswith("postgresql+psycopg://")
        assert store.ping()


def test_postgresql_schema_creation_is_idempotent(pg_schema_url: str) -> None:
    stores = [open_store(pg_schema_url) for _ in range(3)]
    assert [s.claim("k", ttl=60) for s in stores] == [True, False, False]
    for s in stores:
        s.close()


# -- two OS processes racing for the same keys --------------------------------------


@pytest.mark.parametrize("db", ["sqlite", "postgresql"])
def test_two_processes_claim_each_key_exactly_once(db: str, request, tmp_path) -> None:
    """Two OS processes open the store at the same moment (racing to create the
    schema), then race through the same 200 keys in the same order."""
    url = request.getfixturevalue("sqlite_url" if db == "sqlite" else "pg_schema_url")
    count, peers = 200, 2
    sync = tmp_path / "sync"
    sync.mkdir()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    procs: list[subprocess.Popen] = []
    try:
        for me in range(peers):
            procs.append(
                subprocess.Popen(
                    [sys.executable, str(WORKER), url, str(sync), str(me), str(peers), str(count)],
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=str(REPO),
                )
            )
        poll_until(
            lambda: all((sync / f"ready-{n}").exists() for n in range(peers))
            or any(p.poll() is not None for p in procs),
            "the worker processes to start", every=0.005,
        )
        (sync / "go").touch()
        won: list[list[str]] = []
        for proc in procs:
            out, err = proc.communicate(timeout=30)
            assert proc.returncode == 0, f"worker failed: {err.strip()[-2000:]}"
            won.append(json.loads(out))
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.communicate(timeout=5)
    claimed = [key for keys in won for key in keys]
    assert len(claimed) == len(set(claimed)) == count, "no key claimed twice"
    assert set(claimed) == {f"race:{i}" for i in range(count)}, "every key claimed"
