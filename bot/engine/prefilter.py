"""Stage one of the scanner: find the byte positions worth a look, fast.

A candidate is a signed number of a code family (or a team's own code) in a
context the line rules could accept, or one of 8x8's official messages in any
letter case. Hyperscan does this in one SIMD pass where it is installed; the
fallback is one regex pass for codes plus a search per message. Both return
every position the line rules could care about, so the choice changes speed,
never findings (tests/engine/test_scanner.py compares them).
"""
from __future__ import annotations

import re
from typing import Callable, Iterable

from .codes import DASHES, looks_like_family

DASH_BYTES = tuple(d.encode() for d in DASHES)

# (block, start, end) -> sorted (position, is an official message) in block[start:end]
Prefilter = Callable[[bytes, int, int], list[tuple[int, bool]]]


def build_prefilter(messages: list[str], codes: list[int], *, fast: bool = True) -> Prefilter:
    """The prefilter for these official messages and codes: Hyperscan's where it is installed and `fast`
    is asked for, else the plain one."""
    hyperscan = None
    if fast:
        try:
            import hyperscan  # type: ignore[import-not-found]
        except ImportError:
            hyperscan = None
    extra_codes = sorted({str(c).encode() for c in codes if not looks_like_family(c)})
    code_pattern = b"|".join([rb"-[29][0-9]{3}", *(re.escape(c) for c in extra_codes)])
    patterns = [code_pattern] + [re.escape(m.lower().encode()) for m in messages]
    patterns += [re.escape(d) for d in DASH_BYTES]  # a pasted Unicode minus before a code
    if hyperscan is not None:
        try:
            db = hyperscan.Database()
            patterns[:1] = _contexts_of(code_pattern)
            flags = [hyperscan.HS_FLAG_MULTILINE] * 3 + [hyperscan.HS_FLAG_CASELESS] * (len(patterns) - 3)
            db.compile(expressions=patterns, ids=list(range(len(patterns))), elements=len(patterns), flags=flags)
        except Exception:  # an old CPU or a broken build: fall back, same results
            hyperscan = None
    if hyperscan is not None:
        return _hyperscan_prefilter(db, range(3, 3 + len(messages)))
    lowered_messages = [m.lower().encode() for m in messages]

    signed = re.compile(code_pattern)

    def plain(block: bytes, start: int, end: int) -> list[tuple[int, bool]]:
        hits = [(m.start(), False) for m in signed.finditer(block, start, end)]
        if not block.isascii():
            hits += [(at, False) for at in _all_positions(block, DASH_BYTES, start, end)]
        hits += [(at, True) for at in _all_positions(block.lower(), lowered_messages, start, end)]
        return sorted(hits)

    return plain


def _contexts_of(code: bytes) -> list[bytes]:
    """The code pattern in the contexts the line rules can accept, as three Hyperscan patterns.

    A superset of what `judge_line` accepts, never less: a sign in free text
    (after a space or quote, or right after punctuation), or the value of a key
    or tag whose name has an error word in it. Values of other keys
    (`offsetMs=-2004`) and dash-joined ids are left out, which is what makes
    the prefilter selective on busy logs.
    """
    return [
        rb"(?:^|[^=:>\"' \t])[ \t\"']+(?:" + code + rb")",
        rb"(?:^|[^\w.\-=:>\"' \t])(?:" + code + rb")",
        rb"(?i:err|fail|code|status|reason|cause|result)[\w.\-:]*[ \t\"']*[=:>][ \t\"']*(?:" + code + rb")",
    ]


def _hyperscan_prefilter(db, message_ids: range):
    import threading

    import hyperscan

    # Hyperscan needs a scratch space per concurrent scan. One per thread, made on a thread's first scan:
    # one shared space behind a lock queued every listener thread behind the one whose match callback
    # was waiting for the interpreter.
    scratches = threading.local()

    def scratch() -> "hyperscan.Scratch":
        space = getattr(scratches, "space", None)
        if space is None:
            space = scratches.space = hyperscan.Scratch(db)
        return space

    def scan(block: bytes, start: int, end: int) -> list[tuple[int, bool]]:
        hits: list[tuple[int, bool]] = []
        line_end = -1

        def on_match(pattern_id, _start, to, _flags, _ctx):
            nonlocal line_end
            if to > end:
                return True  # the rest is a partial line, scanned again with the next chunk
            if to <= start:
                return False  # the line a chunk boundary cut, judged joined with its other part
            # Many hits on one line need one look at that line, and whether any was a message.
            if to <= line_end:
                if pattern_id in message_ids and not hits[-1][1]:
                    hits[-1] = (hits[-1][0], True)
                return False
            hits.append((to - 1, pattern_id in message_ids))
            found = block.find(b"\n", to)
            line_end = len(block) if found < 0 else found
            return False

        try:
            db.scan(block, match_event_handler=on_match, scratch=scratch())
        except hyperscan.ScanTerminated:
            pass
        return hits

    return scan


def _all_positions(haystack: bytes, needles: Iterable[bytes], start: int, end: int) -> list[int]:
    found = []
    for needle in needles:
        at = haystack.find(needle, start, end)
        while at >= 0:
            found.append(at)
            at = haystack.find(needle, at + 1, end)
    return found
