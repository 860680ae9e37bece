"""`nmbot scan --follow`: each finding as its line arrives, from standard input or a growing file."""
from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Iterator

from ...cards.terminal import Style
from ..main import EXIT_NOTHING, EXIT_OK, CliError, emit, emit_json
from .log_input import GZIP_MAGIC, STDIN_HINT, Utf8Checked, input_label, open_file
from .shared import style

FOLLOW_POLL_SECONDS = 0.25  # how often a followed file is looked at once its end is reached


def follow(scanner, name: str, args: argparse.Namespace) -> int:
    """Every finding printed as its line arrives, until standard input ends or, for a file, until stopped.
    A file that is truncated or replaced (log rotation) is followed again from its start."""
    from ...engine.scan_input import ScanInputError

    label, s, found = input_label(name), style(args), False
    while True:
        source = stdin_chunks() if name == "-" else growing_file_chunks(name)
        try:
            for finding in scanner.follow(source):
                found = True
                emit_json(finding.as_dict()) if args.json else emit(follow_line(finding, s))
                sys.stdout.flush()
        except ScanInputError as exc:
            raise CliError(f"{label}: {exc}") from None
        if name == "-":
            return EXIT_OK if found else EXIT_NOTHING
        print(f"nmbot: {name} was truncated or replaced; following it from its start", file=sys.stderr)


def follow_line(finding, s: Style) -> str:
    """`line 12: -2004 · No coverage available for requested area  <the line, phone numbers masked>`"""
    meaning = finding.entry.message if finding.entry else "not in the knowledge base"
    head = f"{finding.code} \u00b7 {meaning}"
    return f"{s.dim(f'line {finding.line}:')} {s.red(head)}  {s.dim(finding.evidence)}"


def stdin_chunks() -> Iterator[bytes]:
    """Standard input as it arrives: each read returns what is there, without waiting to fill a buffer."""
    from ...engine.scanner import CHUNK_SIZE

    if sys.stdin.isatty():
        print(STDIN_HINT, file=sys.stderr)
    checked = Utf8Checked(sys.stdin.buffer, "standard input")
    while chunk := sys.stdin.buffer.read1(CHUNK_SIZE):
        yield checked.checked(chunk)


def growing_file_chunks(path: str) -> Iterator[bytes]:
    """The file from its start, then what is appended to it, as `tail -f` reads it; ends when the file is
    truncated or another file takes its name."""
    from ...engine.scanner import CHUNK_SIZE

    with open_file(path) as stream:
        if stream.peek(2)[:2] == GZIP_MAGIC:
            raise CliError(f"{path}: is gzip data, which does not grow: scan it without --follow")
        checked = Utf8Checked(stream, path)
        identity = os.fstat(stream.fileno()).st_ino
        while True:
            chunk = stream.read1(CHUNK_SIZE)
            if chunk:
                yield checked.checked(chunk)
                continue
            time.sleep(FOLLOW_POLL_SECONDS)
            try:
                now = os.stat(path)
            except FileNotFoundError:
                continue  # rotated away; its successor is not there yet
            if now.st_ino != identity or now.st_size < stream.tell():
                return
