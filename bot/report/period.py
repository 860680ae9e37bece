"""Durations as people type them: 30m, 2h, 1d, 7d, 1w."""
from __future__ import annotations

import re

UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_NAMES = {"m": "minute", "h": "hour", "d": "day", "w": "week"}
_DURATION = re.compile(r"(\d{1,6})\s*(m|mins?|minutes?|h|hrs?|hours?|d|days?|w|wks?|weeks?)")
EXAMPLES = "30m, 2h or 1d"


def parse_duration(text: str) -> float:
    """Seconds in a duration such as "30m", "2h", "1d" or "7d"; ValueError for anything else."""
    match = _DURATION.fullmatch((text or "").strip().lower())
    if match is None or int(match.group(1)) == 0:
        raise ValueError(f"use a duration such as {EXAMPLES}")
    return int(match.group(1)) * UNITS[match.group(2)[0]]


def describe_duration(seconds: float) -> str:
    """ "2 hours", "30 minutes", "7 days": the largest whole unit that fits (weeks are said in days)."""
    seconds = int(seconds)
    for unit in ("d", "h", "m"):
        size = UNITS[unit]
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {_NAMES[unit]}{'' if count == 1 else 's'}"
    minutes = max(1, round(seconds / 60))
    return f"{minutes} minute{'' if minutes == 1 else 's'}"
