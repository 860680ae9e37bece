"""Find Number Masking error codes in pasted logs and log files.

Two stages. A fast byte-level prefilter finds candidate lines (a signed
four-digit number, or an official message) in large chunks; only those lines
are decoded and judged by the rules below, so cost is linear in the input and
memory is bounded by the chunk size, whatever the input. Lines are known by
their byte offset; only each code's first line is given a number.

In a log a code counts only with its minus sign and an error context: the
value of an error-like key (`errorCode=-2004`, `"errorCode": "-2004"`), or a
line that reads like an error (`NumberMaskingError: failed with -2004`), or
a line that also quotes the code's official message. Unknown codes count
only as the value of an error-like key. An official message quoted without
its code counts as one occurrence of its code; quoted beside its code, on
the same line or as neighbouring fields of one pretty-printed object (a
session summary's errorCode and errorMsg), the two are one occurrence.
A message on a line that carries a -1xxx code or names another product (a
Voice API statusCode, an SMS or chat-app error) is that product's, and
counts for nothing: the Voice API's messages read like some of ours.
Positive numbers never count, so SMS, chat-app and Number Lookup codes
(positive 2001-2010 among them) give no finding.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import BinaryIO, Iterable, Iterator

from .codes import looks_like_family, normalise_dashes
from .knowledge import Entry, KnowledgeBase
from .prefilter import build_prefilter
from .products import names_another_product
from .privacy import mask_msisdns
from .scan_input import Lines, Stretch, group_by_line, line_numbers, rereadable_from, stretches

CHUNK_SIZE = 1 << 20
EVIDENCE_CHARS = 240

# Starts with the literal '-' so the regex engine can skip ahead; what may stand before the sign
# is checked in `_sign_stands_alone` (a leading look-behind would be tried at every position).
_SIGNED = re.compile(r"-(?P<digits>\d{3,6})(?![\w\-]|[.,]\d)")
_ERROR_KEY = re.compile(r"err|fail|code$|^(?:status|reason|cause|result)$", re.IGNORECASE)
_ERROR_WORDS = re.compile(r"err|fail|exception|code|refused|rejected|denied", re.IGNORECASE)
# One `key: value` per line, as in pretty-printed JSON or YAML; a log line
# with several key=value pairs is a record of its own. Matched whole with
# `fullmatch` on the line less its trailing `,` and white space (see
# `is_field_line`): trimming those by hand keeps every quantifier here next to
# characters it cannot also take, so one match reads the line once. Keys are
# bounded as in `_key_before`.
_FIELD_LINE = re.compile(
    r"""\s*["']?[A-Za-z_][\w.\-]{0,79}["']?\s*
        (?:=\s*(?:"[^"]*"|'[^']*'|[^\s"']+) | :\s*(?:"[^"]*"|'[^']*'|[^"'{\[\s].*|-?\d+))""",
    re.VERBOSE,
)


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


@dataclass
class _Tally:
    code: int
    count: int
    first: int  # input offset of the line of the first occurrence ...
    line: int  # ... and its number (0 until `line_numbers` finds it)
    evidence: str
    open_code: int | None = None  # input offset of the line of the last unpaired code hit ...
    open_message: int | None = None  # ... and message hit; only field lines stay open


class Scanner:
    """Scans text or byte streams against one knowledge base. Build once, reuse."""

    def __init__(self, kb: KnowledgeBase, *, large_inputs: bool = True):
        """`large_inputs`: logs of hundreds of megabytes may come (`nmbot scan`), worth Hyperscan's
        one-pass search; a chat bot reads pastes and files of a few megabytes at most, which the plain
        prefilter reads in milliseconds, without Hyperscan's library and database in every process."""
        self.kb = kb
        self._known = {e.code: e for e in kb}
        self._messages = sorted(((e.message.lower(), e.code) for e in kb), key=lambda m: -len(m[0]))
        self._prefilter = build_prefilter([e.message for e in kb], [e.code for e in kb], fast=large_inputs)

    # --- public API ------------------------------------------------------------------------

    def scan_text(self, text: str) -> list[Finding]:
        return self.scan_chunks([text.encode("utf-8", "surrogatepass")])

    def scan_stream(self, stream: BinaryIO, chunk_size: int = CHUNK_SIZE) -> list[Finding]:
        """Scans `stream` from where it stands to its end, and leaves it at its end.

        Line numbers are wanted only for each code's first line, yet counting the line
        breaks of the whole input costs about as much as the search itself. So when the
        stream can be read again (a file), the scan notes input offsets only, and a second
        read that stops at the last first occurrence numbers them. A pipe is numbered as
        it is read, like `scan_chunks`.
        """
        start = rereadable_from(stream)
        chunks = iter(lambda: stream.read(chunk_size), b"")
        if start is None:
            return self.scan_chunks(chunks)
        tallies = self._tally(chunks, Lines(numbering=False))
        end = stream.tell()
        try:
            numbers = line_numbers(stream, start, {t.first for t in tallies}, chunk_size)
        finally:
            stream.seek(end)
        for t in tallies:
            t.line = numbers[t.first]
        return self._findings(tallies)

    def scan_chunks(self, chunks: Iterable[bytes]) -> list[Finding]:
        return self._findings(self._tally(chunks, Lines(numbering=True)))

    def follow(self, chunks: Iterable[bytes]) -> Iterator[Finding]:
        """Each occurrence as soon as the chunk that completes its line has arrived (`tail -f | grep`).

        The same rules as a scan, occurrence by occurrence: a code and its message on neighbouring
        field lines are one occurrence, given once. Each Finding's `line` is that occurrence's line
        and its `count` how many of its code there have been so far.
        """
        lines = Lines(numbering=True)
        tallies: dict[int, _Tally] = {}
        for stretch in stretches(chunks):
            lines.enter(stretch)
            for pos, line, may_quote in self._candidate_lines(stretch):
                hits = self.judge_line(line, may_quote)
                field = bool(hits) and is_field_line(line)
                for code, kind, at in hits:
                    before = tallies[code].count if code in tallies else 0
                    self._count(tallies, code, kind, pos, line, at, lines, field)
                    if tallies[code].count > before:
                        yield Finding(code, code in self._known, tallies[code].count, lines.number(pos),
                                      _evidence(line, at), self._known.get(code))
            lines.leave()

    def judge_line(self, line: str, may_quote: bool = True) -> list[tuple[int, str, int]]:
        """(code, "code" | "message", position) for each code this line reports, once per code.

        `may_quote` False says the prefilter saw no official message on the line.
        """
        if not line.isascii():
            line = normalise_dashes(line)
        quoted = self._quoted_messages(line) if may_quote else {}
        if quoted and names_another_product(self._without_messages(line, quoted)):
            quoted = {}  # a Voice API status, an SMS or chat-app error: the message is that product's own
        error_word_end: int | None = None  # found once per line, only if a code needs it
        hits: dict[int, tuple[int, str, int]] = {}
        for m in _SIGNED.finditer(line):
            start = m.start()
            code = -int(m.group("digits"))
            if code in hits or not _sign_stands_alone(line, start):
                continue
            verdict = self._judge_by_key(line, start, code)
            if verdict is None:  # free text: a known code needs its message or an error word before it
                if error_word_end is None:
                    words = _ERROR_WORDS.search(line)
                    error_word_end = words.end() if words else len(line) + 1
                verdict = code in self._known and (code in quoted or error_word_end <= start)
            if verdict:
                hits[code] = (code, "code", start)
        for code, at in quoted.items():
            if code not in hits:
                hits[code] = (code, "message", at)
        return sorted(hits.values(), key=lambda h: h[2])

    # --- judging one line ---------------------------------------------------------------

    def _quoted_messages(self, line: str) -> dict[int, int]:
        """Code -> position of each official message the line quotes (any letter case)."""
        lowered = line.lower()
        quoted: dict[int, int] = {}
        for message, code in self._messages:
            at = lowered.find(message)
            if at >= 0 and code not in quoted:
                quoted[code] = at
        return quoted

    def _without_messages(self, line: str, quoted: dict[int, int]) -> str:
        """The line (lower-cased) less the official messages it quotes."""
        lowered = line.lower()
        for message, code in self._messages:
            if code in quoted:
                lowered = lowered.replace(message, " ")
        return lowered

    def _judge_by_key(self, line: str, start: int, code: int) -> bool | None:
        """True or False when the code is the value of a key (the key decides); None in free text."""
        if code not in self._known and not looks_like_family(code):
            return False
        name = _key_before(line, start)
        if name is None:
            return None
        return bool(_ERROR_KEY.search(name.rsplit(".", 1)[-1].rsplit(":", 1)[-1]))

    # --- counting -----------------------------------------------------------------------

    def _tally(self, chunks: Iterable[bytes], lines: Lines) -> list[_Tally]:
        tallies: dict[int, _Tally] = {}
        for stretch in stretches(chunks):
            lines.enter(stretch)
            for pos, line, may_quote in self._candidate_lines(stretch):
                hits = self.judge_line(line, may_quote)
                field = bool(hits) and is_field_line(line)  # once per line, however many codes it holds
                for code, kind, at in hits:
                    self._count(tallies, code, kind, pos, line, at, lines, field)
            lines.leave()
        return list(tallies.values())

    def _findings(self, tallies: list[_Tally]) -> list[Finding]:
        return [
            Finding(t.code, t.code in self._known, t.count, t.line, t.evidence, self._known.get(t.code))
            for t in sorted(tallies, key=lambda t: (t.line, t.code))
        ]

    @staticmethod
    def _count(tallies: dict[int, _Tally], code: int, kind: str, pos: int, line: str, at: int, lines: Lines,
               field: bool) -> None:
        """Counts one hit on the line starting at input offset `pos` (a field line when `field`), unless it
        completes an open event."""
        tally = tallies.get(code)
        if tally is None:
            tally = tallies[code] = _Tally(code, 0, pos, lines.number(pos), _evidence(line, at))
        other = "open_message" if kind == "code" else "open_code"
        mine = "open_code" if kind == "code" else "open_message"
        opened = getattr(tally, other)
        if opened is not None and lines.near(opened, pos):
            setattr(tally, other, None)  # the other half of an event already counted
            return
        tally.count += 1
        setattr(tally, mine, pos if field else None)

    # --- stage one: candidate lines -------------------------------------------------------

    def _candidate_lines(self, stretch: Stretch) -> Iterator[tuple[int, str, bool]]:
        """(input offset of the line, decoded line, may quote a message) for every line of the
        stretch that may hold a code or a message."""
        block, base, start, end = stretch
        for first, stop, may_quote in group_by_line(block, start, end, self._prefilter(block, start, end)):
            yield base + first, _decode(block[first:stop]), may_quote



_KEY_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-:")


def _key_before(line: str, at: int) -> str | None:
    """The key whose value starts at `at`: `key=`, `"key": "`, `key: ` or `<key>`; None in free text.

    Read backwards by hand: a regex anchored at `at` would be retried at every
    position before it, and this runs for every candidate code.
    """
    i = at
    while i > 0 and line[i - 1] in " \t\"'":
        i -= 1
    if i == 0:
        return None
    mark = line[i - 1]
    if mark == ">":
        opening = line.rfind("<", max(0, i - 80), i - 1)
        tag = line[opening + 1 : i - 1] if opening >= 0 else ""
        return tag if tag and tag[0].isalpha() and all(c in _KEY_CHARS for c in tag) else None
    if mark not in "=:":
        return None
    i -= 1
    while i > 0 and line[i - 1] in " \t\"'":
        i -= 1
    end = i
    while i > 0 and line[i - 1] in _KEY_CHARS and end - i < 80:
        i -= 1
    key = line[i:end].lstrip(".-:")
    return key if key and (key[0].isalpha() or key[0] == "_") else None


def is_field_line(line: str) -> bool:
    """The line is one `key: value` or `key=value` field, perhaps with a trailing comma."""
    end = len(line.rstrip())
    if _FIELD_LINE.fullmatch(line, 0, end):
        return True
    if end and line[end - 1] == ",":  # the comma closing a field, not a value of its own
        return _FIELD_LINE.fullmatch(line, 0, len(line[: end - 1].rstrip())) is not None
    return False


def _sign_stands_alone(line: str, at: int) -> bool:
    """The '-' at `at` is a sign, not part of a word, a number or a dash-joined id."""
    if at == 0:
        return True
    before = line[at - 1]
    return not (before.isalnum() or before in "_.-")


def _decode(raw: bytes) -> str:
    return raw.decode("utf-8", "replace").rstrip("\r")


def _evidence(line: str, at: int) -> str:
    text = line.strip()
    if len(text) > EVIDENCE_CHARS:
        begin = max(0, min(at - EVIDENCE_CHARS // 3, len(line) - EVIDENCE_CHARS))
        text = ("\u2026" if begin else "") + line[begin : begin + EVIDENCE_CHARS].strip() + "\u2026"
    return mask_msisdns(text)
