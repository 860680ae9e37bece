"""A PostgreSQL schema of a test's own, on the local server (or NMBOT_TEST_DATABASE_URL).

Shared by the state-store tests and the replica tests: each run works in a
uniquely named schema, dropped with everything in it afterwards, so runs never
see each other's rows. Tests skip, saying why, only when nothing listens at
the server's address.
"""
from __future__ import annotations

import contextlib
import os
import socket
import uuid
from typing import Iterator

from sqlalchemy.engine import make_url

from nmbot.store.urls import display_url

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/test"


def pg_base_url() -> str:
    return os.environ.get("NMBOT_TEST_DATABASE_URL") or DEFAULT_PG_URL


def pg_unreachable(url: str) -> str | None:
    """Why the server cannot be reached, or None when something listens."""
    parsed = make_url(url)
    host, port = parsed.host, parsed.port or 5432
    if not host:  # a Unix socket: let the real connection decide
        return None
    try:
        with socket.create_connection((host, port), timeout=2):
            return None
    except OSError as exc:
        return (
            f"PostgreSQL server unreachable at {display_url(parsed)} ({exc}): "
            "start it, or point NMBOT_TEST_DATABASE_URL at one"
        )


def reachable_pg_url() -> str:
    """The base PostgreSQL URL; the calling test (or fixture) is skipped when its server is unreachable."""
    import pytest

    url = pg_base_url()
    reason = pg_unreachable(url)
    if reason:
        pytest.skip(reason)
    return url


def psycopg_conninfo(url: str) -> str:
    parsed = make_url(url)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


@contextlib.contextmanager
def fresh_schema(pg_url: str) -> Iterator[tuple[str, str]]:
    """Create a uniquely named schema; yield (its name, a URL whose search_path
    is that schema); drop it, with everything in it, afterwards."""
    import psycopg

    schema = f"nmbot_test_{os.getpid()}_{uuid.uuid4().hex[:10]}"
    conninfo = psycopg_conninfo(pg_url)
    with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    url = make_url(pg_url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield schema, url.render_as_string(hide_password=False)
    finally:
        with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
