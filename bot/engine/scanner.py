"""Find Number Masking error codes in pasted logs and log files.

Two stages. A fast byte-level prefilter finds candidate lines (a signed
four-digit number, or an official message) in large chunks; only those lines
are decoded and judged by the rules below, so cost is linear in the input and
memory is bounded by the chunk size, whatever the input.

In a log a code counts only with its minus sign and an error context: the
value of an error-like key (`errorCode=-2004`, `"errorCode": "-2004"`), or a
line that reads like an error (`NumberMaskingError: failed with -2004`), or
a line that also quotes the code's official message. Unknown codes count
only as the value of an error-like key. An official message quoted without
its code counts as one occurrence of its code; quoted beside its code, on
the same line or as neighbouring fields of one pretty-printed object (a
session summary's errorCode and errorMsg), the two are one occurrence.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import BinaryIO, Iterable, Iterator

from .codes import DASHES, looks_like_family
from .knowledge import Entry, KnowledgeBase
from .privacy import mask_msisdns

CHUNK_SIZE = 1 << 20
MAX_LINE = 1 << 20  # longer lines are judged in pieces of this size
PAIR_WINDOW = 6  # a code and its message field within this many lines are one event
EVIDENCE_CHARS = 240

_SIGNED = re.compile(r"(?<![\w.\-])-(?P<digits>\d{3,6})(?![\w\-]|[.,]\d)")
_KEY_BEFORE = re.compile(
    r"""(?:
        (?P<key>[A-Za-z_][\w.\-]*)["']?\s*[:=]\s*["']?     # key=, "key": "
      | <(?P<tag>[A-Za-z_][\w.\-:]*)>\s*                   # <errorCode>
    )$""",
    re.VERBOSE,
)
_ERROR_KEY = re.compile(r"err|fail|code$|^(?:status|reason|cause|result)$", re.IGNORECASE)
_ERROR_WORDS = re.compile(r"err|fail|exception|code|refused|rejected|denied", re.IGNORECASE)
# One `key: value` per line, as in pretty-printed JSON or YAML; a log line
# with several key=value pairs is a record of its own.
_FIELD_LINE = re.compile(
    r"""^\s*["']?[A-Za-z_][\w.\-]*["']?\s*
        (?:=\s*(?:"[^"]*"|'[^']*'|[^\s"']+) | :\s*(?:"[^"]*"|'[^']*'|[^"'{\[\s].*?|-?\d+))
        \s*,?\s*$""",
    re.VERBOSE,
)
_DASH_BYTES = tuple(d.encode() for d in DASHES)


class ScanInputError(ValueError):
    """Input the scanner cannot read as text."""


@dataclass(frozen=True)
class Finding:
    code: int
    known: bool
    count: int
    line: int
    evidence: str
    entry: Entry | None = None

    def as_dict(self) -> dict:
        return {"code": self.code, "known": self.known, "count": self.count, "line": self.line, "evidence": self.evidence}


_NEVER = -(10**9)


@dataclass
class _Tally:
    code: int
    count: int
    line: int
    evidence: str
    open_code: int = _NEVER  # line of the last unpaired code hit ...
    open_message: int = _NEVER  # ... and message hit; only field lines stay open


class Scanner:
    """Scans text or byte streams against one knowledge base. Build once, reuse."""

    def __init__(self, kb: KnowledgeBase):
        self.kb = kb
        self._known = {e.code: e for e in kb}
        self._messages = sorted(((e.message.lower(), e.code) for e in kb), key=lambda m: -len(m[0]))
        self._prefilter = _build_prefilter([e.message for e in kb], [e.code for e in kb])

    # --- public API ------------------------------------------------------------------------

    def scan_text(self, text: str) -> list[Finding]:
        return self.scan_chunks([text.encode("utf-8", "surrogatepass")])

    def scan_stream(self, stream: BinaryIO, chunk_size: int = CHUNK_SIZE) -> list[Finding]:
        return self.scan_chunks(iter(lambda: stream.read(chunk_size), b""))

    def scan_chunks(self, chunks: Iterable[bytes]) -> list[Finding]:
        tallies: dict[int, _Tally] = {}
        for number, line in self._candidate_lines(chunks):
            for code, kind, at in self.judge_line(line):
                self._count(tallies, code, kind, number, line, at)
        return [
            Finding(t.code, t.code in self._known, t.count, t.line, t.evidence, self._known.get(t.code))
            for t in sorted(tallies.values(), key=lambda t: (t.line, t.code))
        ]

    def judge_line(self, line: str) -> list[tuple[int, str, int]]:
        """(code, "code" | "message", position) for each code this line reports, once per code."""
        line = line.translate(_DASH_TABLE)
        lowered = line.lower()
        quoted = {}
        for message, code in self._messages:
            at = lowered.find(message)
            if at >= 0 and code not in quoted:
                quoted[code] = at
        hits: dict[int, tuple[int, str, int]] = {}
        for m in _SIGNED.finditer(line):
            code = -int(m.group("digits"))
            if code not in hits and self._is_error_code(line, m.start(), code, quoted):
                hits[code] = (code, "code", m.start())
        for code, at in quoted.items():
            if code not in hits:
                hits[code] = (code, "message", at)
        return sorted(hits.values(), key=lambda h: h[2])

    # --- judging one line ---------------------------------------------------------------

    def _is_error_code(self, line: str, start: int, code: int, quoted: dict[int, int]) -> bool:
        known = code in self._known
        if not known and not looks_like_family(code):
            return False
        key = _KEY_BEFORE.search(line, max(0, start - 80), start)
        if key is not None:
            name = (key.group("key") or key.group("tag")).rsplit(".", 1)[-1].rsplit(":", 1)[-1]
            return bool(_ERROR_KEY.search(name))
        if not known:
            return False
        return code in quoted or bool(_ERROR_WORDS.search(line, 0, start))

    @staticmethod
    def _count(tallies: dict[int, _Tally], code: int, kind: str, number: int, line: str, at: int) -> None:
        tally = tallies.get(code)
        if tally is None:
            tally = tallies[code] = _Tally(code, 0, number, _evidence(line, at))
        other = "open_message" if kind == "code" else "open_code"
        mine = "open_code" if kind == "code" else "open_message"
        if number - getattr(tally, other) <= PAIR_WINDOW:
            setattr(tally, other, _NEVER)  # the other half of an event already counted
            return
        tally.count += 1
        setattr(tally, mine, number if _FIELD_LINE.match(line) else _NEVER)

    # --- stage one: candidate lines -------------------------------------------------------

    def _candidate_lines(self, chunks: Iterable[bytes]) -> Iterator[tuple[int, str]]:
        """(line number, decoded line) for every line that may hold a code or a message."""
        line_no = 1  # number of the first line in `buffer`
        buffer = b""
        offset = 0
        for chunk in chunks:
            nul = chunk.find(b"\0")
            if nul >= 0:
                raise ScanInputError(f"the input looks binary (a NUL byte at byte {offset + nul}); scan reads text logs")
            offset += len(chunk)
            buffer += chunk
            end = buffer.rfind(b"\n") + 1
            if end == 0:
                if len(buffer) < MAX_LINE:
                    continue
                end = len(buffer)  # one very long line: judge it in pieces
            yield from self._lines_of(buffer, end, line_no)
            line_no += buffer.count(b"\n", 0, end)
            buffer = buffer[end:]
        if buffer:
            yield from self._lines_of(buffer, len(buffer), line_no)

    def _lines_of(self, block: bytes, end: int, first_line: int) -> Iterator[tuple[int, str]]:
        last_start = -1
        counted_to, line_no = 0, first_line
        for pos in self._prefilter(block, end):
            start = block.rfind(b"\n", 0, pos) + 1
            if start == last_start:
                continue
            last_start = start
            stop = block.find(b"\n", pos, end)
            stop = end if stop < 0 else stop
            line_no += block.count(b"\n", counted_to, start)
            counted_to = start
            yield line_no, _decode(block[start:stop])


_DASH_TABLE = str.maketrans({d: "-" for d in DASHES})


def _decode(raw: bytes) -> str:
    return raw.decode("utf-8", "replace").rstrip("\r")


def _evidence(line: str, at: int) -> str:
    text = line.strip()
    if len(text) > EVIDENCE_CHARS:
        begin = max(0, min(at - EVIDENCE_CHARS // 3, len(line) - EVIDENCE_CHARS))
        text = ("\u2026" if begin else "") + line[begin : begin + EVIDENCE_CHARS].strip() + "\u2026"
    return mask_msisdns(text)


def _build_prefilter(messages: list[str], codes: list[int]):
    """A function (block, end) -> sorted positions worth a look.

    Uses Hyperscan where it is installed (many patterns in one SIMD pass);
    otherwise one regex pass for codes plus a search per message in the
    lower-cased block. Both return every position the line rules could care
    about, so the choice changes speed only, never findings.
    """
    try:
        import hyperscan  # type: ignore[import-not-found]
    except ImportError:
        hyperscan = None
    extra_codes = sorted({str(c).encode() for c in codes if not looks_like_family(c)})
    code_pattern = b"|".join([rb"-[29][0-9]{3}", *(re.escape(c) for c in extra_codes)])
    patterns = [code_pattern] + [re.escape(m.lower().encode()) for m in messages]
    patterns += [re.escape(d) for d in _DASH_BYTES]  # a pasted Unicode minus before a code
    if hyperscan is not None:
        try:
            db = hyperscan.Database()
            flags = [0] + [hyperscan.HS_FLAG_CASELESS] * (len(patterns) - 1)
            db.compile(expressions=patterns, ids=list(range(len(patterns))), elements=len(patterns), flags=flags)
        except Exception:  # an old CPU or a broken build: fall back, same results
            hyperscan = None
    if hyperscan is not None:
        return _hyperscan_prefilter(db)
    lowered_messages = [m.lower().encode() for m in messages]

    signed = re.compile(code_pattern)

    def plain(block: bytes, end: int) -> list[int]:
        positions = [m.start() for m in signed.finditer(block, 0, end)]
        if not block.isascii():
            positions += _all_positions(block, _DASH_BYTES, end)
        lowered = block.lower()
        positions += _all_positions(lowered, lowered_messages, end)
        return sorted(positions)

    return plain


def _hyperscan_prefilter(db):
    def scan(block: bytes, end: int) -> list[int]:
        positions: list[int] = []
        line_end = [-1]

        def on_match(_id, start, to, _flags, _ctx):
            # Many hits on one line need only one look at that line.
            if to > line_end[0]:
                positions.append(to - 1)
                found = block.find(b"\n", to)
                line_end[0] = len(block) if found < 0 else found
            return False

        db.scan(block[:end] if end < len(block) else block, match_event_handler=on_match)
        return positions

    return scan


def _all_positions(haystack: bytes, needles: Iterable[bytes], end: int) -> list[int]:
    found = []
    for needle in needles:
        at = haystack.find(needle, 0, end)
        while at >= 0:
            found.append(at)
            at = haystack.find(needle, at + 1, end)
    return found
