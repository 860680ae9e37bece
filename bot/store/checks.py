"""Argument checks of the state store's public methods: every call is checked once, the same way, before
the database sees it."""
from __future__ import annotations

import math
from typing import Iterable, Optional

from ..engine.privacy import mask_msisdns
from .records import AUTOREPLY_MODES, VOTES, JournalEntry


def check_text(name: str, value: object, *, allow_empty: bool = False) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, got {type(value).__name__}")
    if not allow_empty and not value:
        raise ValueError(f"{name} must not be empty")
    return value


def check_seconds(name: str, value: object, *, allow_zero: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number of seconds, got {type(value).__name__}")
    seconds = float(value)
    if math.isnan(seconds) or seconds < 0 or (seconds == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be {bound} seconds, got {value!r}")
    return seconds


def check_keep_days(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"keep_days must be a number of days, got {type(value).__name__}")
    days = float(value)
    if not math.isfinite(days) or days < 0:
        raise ValueError(f"keep_days must be a number of days >= 0 (0 keeps everything), got {value!r}")
    return days


def check_code(name: str, value: object, *, optional: bool = False) -> Optional[int]:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    return value


def check_autoreply(value: object) -> str:
    if value not in AUTOREPLY_MODES:
        allowed = ", ".join(repr(m) for m in AUTOREPLY_MODES)
        raise ValueError(f"autoreply must be one of {allowed}; got {value!r}")
    return value  # type: ignore[return-value]


def check_vote(value: object) -> str:
    if value not in VOTES:
        raise ValueError(f"vote must be 'up' or 'down'; got {value!r}")
    return value  # type: ignore[return-value]


def check_muted_until(value: object) -> Optional[float]:
    """None stays None (meaning: leave unchanged); <= 0 means unmute."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise TypeError(f"muted_until must be an epoch time (float) or None, got {value!r}")
    return float(value)


def check_entry(entry: object) -> JournalEntry:
    """The entry with its fields checked and its text masked; times and attempts left for the store."""
    if not isinstance(entry, JournalEntry):
        raise TypeError(f"entry must be a JournalEntry, got {type(entry).__name__}")
    if isinstance(entry.files, (str, bytes)) or not all(isinstance(f, str) and f for f in entry.files):
        raise TypeError("files must be a sequence of file ids (non-empty str)")
    return JournalEntry(
        key=check_text("key", entry.key),
        event_type=check_text("event_type", entry.event_type),
        channel=check_text("channel", entry.channel),
        ts=check_text("ts", entry.ts),
        thread_ts=check_text("thread_ts", entry.thread_ts, allow_empty=True),
        user=check_text("user", entry.user, allow_empty=True),
        text=mask_msisdns(check_text("text", entry.text, allow_empty=True)),
        files=tuple(entry.files),
    )


def check_count(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{name} must be at least 1, got {value!r}")
    return value


def check_suggestions(value: Iterable[int]) -> tuple[int, ...]:
    if isinstance(value, (str, bytes)):
        raise TypeError("suggestions must be a list of error codes (ints)")
    codes = tuple(value)
    for code in codes:
        check_code("each suggestion", code)
    return codes
