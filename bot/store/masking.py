"""Masking of phone numbers (MSISDNs) in free text before it is stored.

A pure function with no dependency on the rest of the store, so another module
can import it (or take it over) without pulling in a database driver.
"""
from __future__ import annotations

import re

__all__ = ["MASK", "mask_msisdns"]

#: What replaces every digit of a phone number but the last two. The width is
#: fixed so the stored text does not reveal how long the number was.
MASK = "\u2022" * 7  # "•••••••"

# A run of 7 or more digits, optionally led by "+", with single spaces or
# dashes allowed between digits ("+65 9123-4567"). The look-arounds keep the
# match to whole digit runs: never the tail of a longer number.
_MSISDN = re.compile(r"(?<![\d+])(\+?)(\d(?:[ \-]?\d){6,})(?!\d)")


def _mask(match: re.Match[str]) -> str:
    plus, number = match.group(1), match.group(2)
    digits = [c for c in number if c.isdigit()]
    return f"{plus}{MASK}{''.join(digits[-2:])}"


def mask_msisdns(text: str) -> str:
    """Mask phone numbers in `text`, keeping only their last 2 digits.

    >>> mask_msisdns("call +6591234567 now")
    'call +•••••••67 now'
    >>> mask_msisdns("+65 9123-4567")
    '+•••••••67'
    >>> mask_msisdns("error -2004 at 12:30")
    'error -2004 at 12:30'
    """
    if not text:
        return text
    return _MSISDN.sub(_mask, text)
