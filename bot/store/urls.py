"""Database URLs: what the operator writes (NMBOT_DATABASE_URL) turned into the URL to connect to, and
shown without secrets."""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Optional
from urllib.parse import quote

from sqlalchemy.engine import URL, make_url

from ..engine.privacy import SECRET_QUERY_KEYS, mask_url
from .errors import one_line
from .records import StoreError

__all__ = ["DEFAULT_SQLITE_PATH", "MEMORY_URLS", "display_url", "in_memory", "is_memory_url", "read_only_url",
           "resolve_url"]

#: Where `open_store(None)` keeps its SQLite file (relative to the working dir).
DEFAULT_SQLITE_PATH = "nmbot.sqlite3"
#: URLs of a SQLite database in the process's memory: nothing persisted, nothing shared (tests, offline use).
MEMORY_URLS = ("memory", "memory:", "memory://")
_SCHEME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]+:")


def is_memory_url(url: object) -> bool:
    """True for what the operator writes to keep the state in memory (any case, spaces around)."""
    return isinstance(url, str) and url.strip().lower() in MEMORY_URLS


def in_memory(url: URL) -> bool:
    """True for a resolved URL of a SQLite database in memory: private to one connection of one process."""
    return url.get_backend_name() == "sqlite" and (url.database or "") in ("", ":memory:")


def display_url(url: URL | str) -> str:
    """`url` fit for logs and error messages: every password shown as ***."""
    if isinstance(url, str):  # a URL-ish string SQLAlchemy could not parse
        return mask_url(url)
    query = {
        k: ("***" if any(s in k.lower() for s in SECRET_QUERY_KEYS) else v)
        for k, v in url.query.items()
    }
    return url.set(query=query).render_as_string(hide_password=True)


def resolve_url(url: Optional[str]) -> URL:
    """Turn what the operator wrote into the SQLAlchemy URL to connect to.

    None or "" -> the default SQLite file; a bare path -> that SQLite file;
    ``postgres://`` / ``postgresql://`` -> ``postgresql+psycopg://``; ``memory://``
    (`MEMORY_URLS`) -> a SQLite database in memory. Raises StoreError for anything else.
    """
    if isinstance(url, os.PathLike):
        url = os.fspath(url)
    if url is not None and not isinstance(url, str):
        raise TypeError(f"database URL must be a str, got {type(url).__name__}")
    if url is None or not url.strip():
        url = DEFAULT_SQLITE_PATH
    raw = url.strip()
    if is_memory_url(raw):
        return URL.create("sqlite+pysqlite")
    # "scheme:" of two or more letters is a URL (a typo in one must not quietly
    # become a SQLite file named "postgresql:"); "C:\\..." is still a path.
    if not _SCHEME_RE.match(raw):
        return URL.create("sqlite+pysqlite", database=str(Path(raw).expanduser()))
    try:
        parsed = make_url(raw)
    except Exception as exc:  # ArgumentError, ValueError (bad port) ...
        raise StoreError(
            f"invalid database URL {display_url(raw)!r}: {one_line(exc)}; "
            "expected sqlite:///path/to/file.sqlite3, postgresql://user@host:5432/db "
            "or a file path"
        ) from None
    name = parsed.drivername.lower()
    backend, _, driver = name.partition("+")
    if backend in ("postgres", "postgresql"):
        if driver not in ("", "psycopg"):
            raise StoreError(
                f"unsupported PostgreSQL driver {driver!r} in {display_url(parsed)}: "
                "use postgresql://... (psycopg 3)"
            )
        return parsed.set(drivername="postgresql+psycopg")
    if backend == "sqlite":
        if driver not in ("", "pysqlite"):
            raise StoreError(
                f"unsupported SQLite driver {driver!r} in {display_url(parsed)}: use sqlite:///path"
            )
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            database = str(Path(database).expanduser())
        return parsed.set(drivername="sqlite+pysqlite", database=database)
    raise StoreError(
        f"unsupported database URL {display_url(parsed)}: use sqlite:///path/to/file.sqlite3, "
        "postgresql://user@host:5432/db or a file path"
    )


def read_only_url(url: URL, display: str) -> URL:
    """`url` opened read-only: a SQLite file as a ``file:...?mode=ro`` URI (SQLite then never creates
    or writes the file); PostgreSQL unchanged (its transactions are made READ ONLY instead)."""
    if url.get_backend_name() != "sqlite":
        return url
    if in_memory(url):
        raise StoreError(f"state store {display} is a private in-memory database: there is nothing to read")
    database = url.database
    if not database.startswith("file:"):
        database = "file:" + quote(str(Path(database).resolve()))
    return url.set(database=database, query={**url.query, "mode": "ro", "uri": "true"})
