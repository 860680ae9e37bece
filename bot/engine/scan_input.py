"""A scan's input as stretches of whole lines, and what the scan needs to know about those lines.

The input arrives in chunks of bytes; a chunk is judged in place, and only the line a chunk
boundary cuts is joined from its parts. Lines are known by their input offset; their numbers are
counted as the stretches go by, or, for a file, by a second read that stops at the last one wanted.
"""
from __future__ import annotations

from collections import deque
from typing import BinaryIO, Iterable, Iterator, NamedTuple

MAX_LINE = 1 << 20  # longer lines are judged in pieces of this size
PAIR_WINDOW = 6  # a code and its message field within this many lines are one event


class ScanInputError(ValueError):
    """Input the scanner cannot read as text."""


class Stretch(NamedTuple):
    """block[start:end] holds whole lines of the input (or a piece of a very long one).

    Input offsets count bytes from where the scan began.
    """

    block: bytes
    base: int  # input offset of block[0]
    start: int
    end: int


def stretches(chunks: Iterable[bytes]) -> Iterator[Stretch]:
    """The input as stretches of whole lines, in order.

    A chunk is judged in place, from its first line break to its last; only the line that
    a chunk boundary cuts is joined from its parts (gluing each chunk onto the part carried
    over would copy the whole input once more). A line that reaches MAX_LINE without ending
    is judged in pieces, so memory stays within a chunk plus MAX_LINE whatever the input.
    """
    offset = 0  # input offset of chunk[0]
    unfinished = bytearray()  # the line that no chunk has ended yet, as far as it is read
    for chunk in chunks:
        _refuse_binary(chunk, offset)
        first = chunk.find(b"\n") + 1
        if first == 0:  # the line goes on
            unfinished += chunk
            if len(unfinished) >= MAX_LINE:
                yield _stretch_of(unfinished, offset + len(chunk))
        else:
            start = 0
            if unfinished:
                unfinished += memoryview(chunk)[:first]
                yield _stretch_of(unfinished, offset + first)
                start = first
            last = chunk.rfind(b"\n") + 1
            if last > start:
                yield Stretch(chunk, offset, start, last)
            unfinished += memoryview(chunk)[last:]
        offset += len(chunk)
    if unfinished:
        yield _stretch_of(unfinished, offset)


def _stretch_of(unfinished: bytearray, end: int) -> Stretch:
    """The carried-over line (or piece of one) ending at input offset `end`, as a stretch; empties `unfinished`."""
    block = bytes(unfinished)
    unfinished.clear()
    return Stretch(block, end - len(block), 0, len(block))


def _refuse_binary(chunk: bytes, offset: int) -> None:
    nul = chunk.find(b"\0")
    if nul >= 0:
        raise ScanInputError(f"the input looks binary (a NUL byte at byte {offset + nul}); scan reads text logs")


class Lines:
    """The two things the tally needs to know about lines, without counting every line break.

    Hits are known by the input offset where their line starts. Pairing asks whether two
    hits are at most PAIR_WINDOW lines apart: the PAIR_WINDOW + 1 line breaks before the
    later hit are searched back from it, in the current stretch and then among the last
    line breaks of earlier stretches kept here, so a pair across chunk boundaries pairs
    and each question costs a few lines. A code's first line number is counted as the
    stretches go by when `numbering`; otherwise it is left to `line_numbers`.
    """

    def __init__(self, numbering: bool):
        self._numbering = numbering
        self._stretch = Stretch(b"", 0, 0, 0)
        self._recent: deque[int] = deque(maxlen=PAIR_WINDOW + 1)  # input offsets of the last line breaks before it
        self._counted_to = 0  # index in the stretch's block up to which line breaks are counted ...
        self._breaks = 0  # ... and how many the input has before that
        self._window = (-1, -1)  # the last line asked about, and where its pairing window opens

    def enter(self, stretch: Stretch) -> None:
        self._stretch = stretch
        self._counted_to = stretch.start

    def leave(self) -> None:
        block, base, start, end = self._stretch
        if self._numbering:
            self._breaks += block.count(b"\n", self._counted_to, end)
        self._recent.extend(base + i for i in reversed(_last_breaks(block, start, end, PAIR_WINDOW + 1)))

    def number(self, pos: int) -> int:
        """The number of the line starting at input offset `pos` (in the current stretch, never
        before a position asked about already); 0 when not numbering."""
        if not self._numbering:
            return 0
        block, base = self._stretch.block, self._stretch.base
        self._breaks += block.count(b"\n", self._counted_to, pos - base)
        self._counted_to = pos - base
        return self._breaks + 1

    def near(self, earlier: int, later: int) -> bool:
        """At most PAIR_WINDOW line breaks lie between the line starts `earlier` and `later`
        (`later` in the current stretch)."""
        if self._window[0] != later:  # every hit on a line asks the same
            self._window = (later, self._window_opens(later))
        return earlier > self._window[1]

    def _window_opens(self, pos: int) -> int:
        """Input offset of the (PAIR_WINDOW + 1)th line break before `pos`; -1 if there are fewer."""
        block, base, start, _ = self._stretch
        wanted = PAIR_WINDOW + 1
        found = _last_breaks(block, start, pos - base, wanted)
        if len(found) == wanted:
            return base + found[-1]
        missing = wanted - len(found)
        return self._recent[-missing] if len(self._recent) >= missing else -1


def _last_breaks(block: bytes, start: int, stop: int, most: int) -> list[int]:
    """Indexes of the last `most` line breaks in block[start:stop], the last first."""
    found: list[int] = []
    while len(found) < most:
        stop = block.rfind(b"\n", start, stop)
        if stop < 0:
            break
        found.append(stop)
    return found


def rereadable_from(stream: BinaryIO) -> int | None:
    """Where a stream that can be read again (a file) stands; None for a pipe or a socket."""
    try:
        return stream.tell() if stream.seekable() else None
    except (AttributeError, OSError, ValueError):
        return None


def line_numbers(stream: BinaryIO, start: int, offsets: set[int], chunk_size: int) -> dict[int, int]:
    """The line number of each input offset, counting line breaks in a second read of the
    stream from `start` that stops at the last offset."""
    stream.seek(start)
    numbers: dict[int, int] = {}
    read = breaks = 0
    for target in sorted(offsets):
        while read < target:
            chunk = stream.read(min(chunk_size, target - read))
            if not chunk:
                raise ScanInputError("the input got shorter while it was being scanned")
            breaks += chunk.count(b"\n")
            read += len(chunk)
        numbers[target] = breaks + 1
    return numbers


def group_by_line(block: bytes, start: int, end: int, hits: list[tuple[int, bool]]) -> Iterator[tuple[int, int, bool]]:
    """(line start, line end, any hit a message) for the lines of block[start:end] holding the sorted hits."""
    current: list = []  # [start, stop, may_quote] of the line being gathered
    for pos, is_message in hits:
        if current and pos < current[1]:
            current[2] = current[2] or is_message
            continue
        if current:
            yield tuple(current)
        stop = block.find(b"\n", pos, end)
        current = [max(start, block.rfind(b"\n", start, pos) + 1), end if stop < 0 else stop, is_message]
    if current:
        yield tuple(current)
