"""Database failures as the store reports them: one line, the database named with its password masked."""
from __future__ import annotations

import re
import sqlite3
from typing import Optional

from ..engine.privacy import mask_url
from .records import StoreError

__all__ = ["TablesMissing", "failure", "one_line"]


class TablesMissing(StoreError):
    """A statement named a table of ours the database does not have (dropped, or a database restored empty)."""


def is_missing_table(exc: BaseException) -> bool:
    """For SQLAlchemy's errors and the driver's own (the SQLite hot path meets those)."""
    inner = getattr(exc, "orig", None) or exc
    if getattr(inner, "sqlstate", None) == "42P01":  # PostgreSQL's undefined_table
        return True
    return isinstance(inner, sqlite3.OperationalError) and str(inner).startswith("no such table")


def failure(display: str, exc: BaseException, secret: Optional[str] = None) -> StoreError:
    """The StoreError to raise for a database error met while the store `display` names was working."""
    kind = TablesMissing if is_missing_table(exc) else StoreError
    return kind(f"state store {display} failed: {one_line(exc, secret)}")


# Lines are joined by one space; the link is a short URL. Bounded, as the text may quote user input.
_BACKGROUND_LINK = re.compile(r" ?\(Background on this error at: [^)\s]{0,200}\)")


def one_line(exc: BaseException, secret: Optional[str] = None) -> str:
    """A driver error as one readable line, with `secret` scrubbed."""
    inner = getattr(exc, "orig", None) or exc
    lines = [line.strip() for line in str(inner).splitlines() if line.strip()]
    # SQLAlchemy appends "(Background on this error at: https://sqlalche.me/...)"
    lines = [line for line in lines if not line.startswith(("(Background on", "[SQL:", "[parameters:"))]
    text = " ".join(lines) or type(inner).__name__
    text = _BACKGROUND_LINK.sub("", text)
    if secret:
        text = text.replace(secret, "***")
    return mask_url(text)
