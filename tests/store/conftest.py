"""Fixtures for the state-store tests: a fake clock, and stores of every backend.

The PostgreSQL backend runs against NMBOT_TEST_DATABASE_URL, else the local
server ``postgresql://postgres@127.0.0.1:5432/test``. Each test run works in a
schema of its own (emptied after every test, dropped at the end), and tests
that need a brand-new database get a fresh schema each, so runs never see each
other's rows. The PostgreSQL tests are skipped only when nothing listens at
that address.
"""
from __future__ import annotations

from typing import Callable, Iterator

import pytest
from helpers import FakeClock
from pg_schema import fresh_schema, psycopg_conninfo, reachable_pg_url

from nmbot.store import StateStore, open_store

BACKENDS = ("sqlite", "postgresql")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def pg_url() -> str:
    """The base PostgreSQL URL, or skip when its server is unreachable."""
    return reachable_pg_url()


@pytest.fixture
def pg_schema_url(pg_url: str) -> Iterator[str]:
    """A URL on a brand-new, empty schema of the test's own (dropped afterwards)."""
    with fresh_schema(pg_url) as (_, url):
        yield url


@pytest.fixture(scope="session")
def _pg_run_schema(pg_url: str) -> Iterator[tuple[str, str]]:
    with fresh_schema(pg_url) as schema_and_url:
        yield schema_and_url


@pytest.fixture
def pg_clean_url(pg_url: str, _pg_run_schema: tuple[str, str]) -> Iterator[str]:
    """A URL on this test run's schema, emptied after each test.

    Cheaper than a schema per test (the store's tables are created once per
    run); other runs, and other processes of this run, have their own schema.
    """
    import psycopg

    schema, url = _pg_run_schema
    yield url
    with psycopg.connect(psycopg_conninfo(pg_url), autocommit=True, connect_timeout=5) as conn:
        tables = [
            row[0]
            for row in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,))
        ]
        if tables:
            conn.execute(
                "TRUNCATE " + ", ".join(f'"{schema}"."{t}"' for t in tables) + " RESTART IDENTITY"
            )


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'state.sqlite3'}"


StoreFactory = Callable[..., StateStore]


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture
def store_url(backend: str, request) -> str:
    """A URL naming one fresh database of `backend`."""
    if backend == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("pg_clean_url")


@pytest.fixture
def make_store(store_url: str, clock: FakeClock) -> Iterator[StoreFactory]:
    """Open stores on the test's database (closed at teardown).

    Every call opens another store on the *same* database. Other keywords (`keep_days`) go to `open_store`.
    """
    opened: list[StateStore] = []

    def factory(*, clock: Callable[[], float] = clock, **options) -> StateStore:
        store = open_store(store_url, clock=clock, **options)
        opened.append(store)
        return store

    yield factory
    for store in opened:
        store.close()


@pytest.fixture
def store(make_store: StoreFactory) -> StateStore:
    return make_store()
