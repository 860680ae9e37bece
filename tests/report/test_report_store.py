"""`nmbot report` opens the state store read-only: it creates nothing, purges nothing, writes nothing, and a
PostgreSQL role with only SELECT will do. A database or tables that are not there: one line, exit 2."""
from __future__ import annotations

import contextlib
import hashlib
import sqlite3
import time
import uuid
from pathlib import Path
from typing import Iterator

import pytest
from pg_schema import fresh_schema, psycopg_conninfo, reachable_pg_url
from sqlalchemy.engine import make_url

from nmbot.cli.main import main
from nmbot.store import StoreError, UsageEvent, open_store

DAY = 86400.0


@pytest.fixture(autouse=True)
def no_slack(monkeypatch):
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    monkeypatch.setenv("NMBOT_KEEP_DAYS", "1")  # the bot would purge the 400-day-old rows below; a report must not


def fill(url: str) -> None:
    with open_store(url, keep_days=0) as store:
        store.record_events([UsageEvent("card", "command", "C1", -2004, time.time() - 400 * DAY)])
        store.record_events([UsageEvent("card", "command", "C1", -2010, store.now())])
        store.record_events([UsageEvent("not_sure", "mention", "C1", None, store.now())])
        store.record_unanswered(text="is the coffee machine fixed", surface="mention", channel="C1", suggestions=[])


def report(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["report", "--since", "1d", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def one_line_error(code: int, err: str, *expected: str) -> None:
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and err.startswith("nmbot: "), err
    for text in expected:
        assert text in err
    assert "Traceback" not in err


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- SQLite ------------------------------------------------------------------------------------

def test_sqlite_report_changes_nothing_in_the_file(tmp_path, monkeypatch, capsys):
    path = tmp_path / "nmbot.sqlite3"
    url = f"sqlite:///{path}"
    fill(url)
    monkeypatch.setenv("NMBOT_DATABASE_URL", url)
    before = digest(path)
    code, out, _ = report(capsys, "--format", "json")
    assert code == 0 and '"is the coffee machine fixed"' in out
    assert digest(path) == before
    with open_store(url, keep_days=0) as store:
        assert len(store.events()) == 3  # nothing purged


def test_sqlite_read_only_store_refuses_writes(tmp_path):
    url = f"sqlite:///{tmp_path / 'nmbot.sqlite3'}"
    fill(url)
    with open_store(url, read_only=True, keep_days=1) as store:
        assert store.read_only and len(store.events()) == 3
        with pytest.raises(StoreError, match="readonly"):
            store.record_events([UsageEvent("card", "command", "C1", -2004, store.now())])


def test_sqlite_without_nmbot_tables_is_one_line_and_stays_as_it_was(tmp_path, monkeypatch, capsys):
    path = tmp_path / "other.sqlite3"
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute("CREATE TABLE notes (text TEXT)")
        conn.commit()
    before = digest(path)
    monkeypatch.setenv("NMBOT_DATABASE_URL", f"sqlite:///{path}")
    code, out, err = report(capsys)
    one_line_error(code, err, "has no nmbot tables", "nmbot_events", "point NMBOT_DATABASE_URL at the bot's database")
    assert out == "" and digest(path) == before
    with contextlib.closing(sqlite3.connect(path)) as conn:
        assert [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")] == ["notes"]


def test_sqlite_missing_file_is_one_line_and_not_created(tmp_path, monkeypatch, capsys):
    path = tmp_path / "typo" / "nmbot.sqlite3"
    monkeypatch.setenv("NMBOT_DATABASE_URL", str(path))
    code, _, err = report(capsys)
    one_line_error(code, err, f"no database at {path}")
    assert not path.parent.exists()


def test_read_only_memory_store_has_nothing_to_read():
    with pytest.raises(StoreError, match="nothing to read"):
        open_store("memory://", read_only=True)


# --- PostgreSQL --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def pg_url() -> str:
    return reachable_pg_url()


@contextlib.contextmanager
def select_only_role(pg_url: str, schema: str) -> Iterator[str]:
    """A login role that may only read the tables of `schema`; dropped afterwards."""
    import psycopg

    role = f"nmbot_reader_{uuid.uuid4().hex[:10]}"
    conninfo = psycopg_conninfo(pg_url)
    with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE ROLE "{role}" LOGIN')
        conn.execute(f'GRANT USAGE ON SCHEMA "{schema}" TO "{role}"')
        conn.execute(f'GRANT SELECT ON ALL TABLES IN SCHEMA "{schema}" TO "{role}"')
    try:
        yield role
    finally:
        with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP OWNED BY "{role}"')
            conn.execute(f'DROP ROLE "{role}"')


def as_role(url: str, role: str) -> str:
    return make_url(url).set(username=role, password=None).render_as_string(hide_password=False)


def test_postgresql_report_with_a_select_only_role(pg_url, monkeypatch, capsys):
    with fresh_schema(pg_url) as (schema, url):
        fill(url)
        with select_only_role(pg_url, schema) as role:
            reader = as_role(url, role)
            with pytest.raises(StoreError, match="permission denied"):
                open_store(reader)  # the bot's way in: it creates its schema, which this role may not
            monkeypatch.setenv("NMBOT_DATABASE_URL", reader)
            code, out, err = report(capsys, "--format", "json")
            assert code == 0, err
            assert '"is the coffee machine fixed"' in out and '"answered": 1' in out
        with open_store(url, keep_days=0) as store:
            assert len(store.events()) == 3  # nothing purged


def test_postgresql_read_only_store_refuses_writes_even_to_the_owner(pg_url):
    with fresh_schema(pg_url) as (_, url):
        fill(url)
        with open_store(url, read_only=True) as store:
            with pytest.raises(StoreError, match="read-only transaction"):
                store.record_events([UsageEvent("card", "command", "C1", -2004, store.now())])
        with open_store(url, keep_days=0) as store:
            assert len(store.events()) == 3


def test_postgresql_without_nmbot_tables_is_one_line_and_creates_none(pg_url, monkeypatch, capsys):
    import psycopg

    with fresh_schema(pg_url) as (schema, url):
        monkeypatch.setenv("NMBOT_DATABASE_URL", url)
        code, _, err = report(capsys)
        one_line_error(code, err, "has no nmbot tables")
        with psycopg.connect(psycopg_conninfo(pg_url), connect_timeout=5) as conn:
            tables = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = %s", (schema,)).fetchone()
        assert tables == (0,)


def test_postgresql_missing_database_is_one_line(pg_url, monkeypatch, capsys):
    missing = make_url(pg_url).set(database=f"nmbot_missing_{uuid.uuid4().hex[:8]}")
    monkeypatch.setenv("NMBOT_DATABASE_URL", missing.render_as_string(hide_password=False))
    code, _, err = report(capsys)
    one_line_error(code, err, "does not exist")
