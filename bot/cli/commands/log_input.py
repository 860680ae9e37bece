"""A log to scan, as bytes: a file or standard input, gunzipped, with a progress line and a UTF-8 check."""
from __future__ import annotations

import io
import os
import sys
import time
from contextlib import contextmanager
from typing import BinaryIO, Iterator

from ..main import CliError
from .shared import warn_once

GLOB_CHARS = frozenset("*?[")
GZIP_MAGIC = b"\x1f\x8b"
PROGRESS_BYTES = 100_000_000  # files larger than this show how far the scan is, on a terminal
PROGRESS_SECONDS = 0.5
STDIN_HINT = ("nmbot scan: reading a log from the terminal: paste it, then press Ctrl-D on a line of its own "
              "(or give files: nmbot scan app.log 'logs/*.gz')")


def input_label(name: str) -> str:
    return "standard input" if name == "-" else name


@contextmanager
def open_log(name: str) -> Iterator[BinaryIO]:
    """The log as bytes: a file or standard input, gunzipped when it is gzip data (whatever its name), with
    a progress line on a terminal for a large file, and one warning if it is not UTF-8."""
    import gzip

    label = input_label(name)
    if name == "-":
        raw = sys.stdin.buffer
        if sys.stdin.isatty():
            print(STDIN_HINT, file=sys.stderr)
            # Read up to the Ctrl-D: a terminal's end of input holds for one read, not for every read after it.
            raw = io.BufferedReader(io.BytesIO(raw.read()))
    else:
        raw = open_file(name)
    reader, progress = raw, None
    try:
        size = file_size(raw)
        if size > PROGRESS_BYTES and sys.stderr.isatty():
            reader = progress = Progress(raw, label, size)
        if raw.peek(2)[:2] == GZIP_MAGIC:
            # Read in one pass: seeking back in gzip data means decompressing it again from the start.
            reader = OneWay(gzip.GzipFile(fileobj=reader, mode="rb"))
        yield Utf8Checked(reader, label)
    finally:
        if progress is not None:
            progress.clear()
        if name != "-":
            raw.close()


def open_file(path: str) -> BinaryIO:
    try:
        return open(path, "rb")
    except FileNotFoundError:
        missing = "no file matches" if GLOB_CHARS & set(path) else "no such file"
        raise CliError(f"{path}: {missing}") from None
    except IsADirectoryError:
        raise CliError(f"{path}: is a folder, expected a log file") from None
    except PermissionError:
        raise CliError(f"{path}: permission denied") from None


def file_size(stream: BinaryIO) -> int:
    """The size of a regular file; 0 for a pipe or a terminal."""
    import stat

    try:
        info = os.fstat(stream.fileno())
    except (OSError, ValueError):
        return 0
    return info.st_size if stat.S_ISREG(info.st_mode) else 0


class Progress:
    """A large file read with a progress line on the terminal (standard error), redrawn twice a second."""

    def __init__(self, stream: BinaryIO, label: str, size: int):
        self._stream, self._label, self._size = stream, label, size
        self._shown = float("-inf")
        self._done = 0  # the furthest point read: numbering lines reads the start again

    def read(self, size: int = -1) -> bytes:
        chunk = self._stream.read(size)
        self._done = max(self._done, min(self._stream.tell(), self._size))
        now = time.monotonic()
        if now - self._shown >= PROGRESS_SECONDS:
            self._shown = now
            sys.stderr.write(f"\rnmbot: scanning {self._label}: {100 * self._done // self._size}% "
                             f"of {self._size / 1e6:,.0f} MB")
            sys.stderr.flush()
        return chunk

    def clear(self) -> None:
        """Rub the progress line out, leaving the terminal as it was."""
        sys.stderr.write("\r\033[K")
        sys.stderr.flush()

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


class OneWay:
    """A stream the scanner reads once, from start to end, without seeking back."""

    def __init__(self, stream: BinaryIO):
        self._stream = stream

    def read(self, size: int = -1) -> bytes:
        return self._stream.read(size)

    def seekable(self) -> bool:
        return False


class Utf8Checked:
    """The input stream, warning once if it is not valid UTF-8 (the scan goes on).

    Everything but read() passes through, so the scanner can still seek back
    in a real file to number lines without counting them all.
    """

    def __init__(self, stream: BinaryIO, name: str):
        self._stream, self._name = stream, name
        self._warned: set = set()
        self._offset = 0
        self._tail = b""

    def read(self, size: int = -1) -> bytes:
        return self.checked(self._stream.read(size))

    def checked(self, chunk: bytes) -> bytes:
        """`chunk`, the next part of the input, after warning if it is the first not valid UTF-8."""
        if chunk and not chunk.isascii() and not self._warned:
            try:
                (self._tail + chunk).decode("utf-8")
            except UnicodeDecodeError as exc:
                if exc.end < len(self._tail) + len(chunk) - 3:  # not just a character split across reads
                    at = self._offset - len(self._tail) + exc.start
                    warn_once(self._warned, "utf8", f"{self._name} is not valid UTF-8 (near byte {at}); "
                              "bad bytes are read as \ufffd")
        self._tail = chunk[-3:]
        self._offset += len(chunk)
        return chunk

    def __getattr__(self, name: str):
        return getattr(self._stream, name)
