"""What the commands share: the knowledge base, the output style, and lines of text read from a stream."""
from __future__ import annotations

import argparse
import sys
from typing import BinaryIO, Iterator

from ...cards.terminal import Style
from ...engine.kb_files import load
from ...engine.knowledge import KnowledgeBase, KnowledgeError
from ...replies import MAX_QUESTION_CHARS
from ...settings import Settings
from ..main import CliError


def load_kb(settings: Settings | None = None) -> KnowledgeBase:
    settings = settings or Settings.offline()
    try:
        return load(knowledge=settings.knowledge, cache_dir=settings.cache_dir)
    except KnowledgeError as exc:
        raise CliError(f"cannot load the knowledge base: {exc}") from None


def style(args: argparse.Namespace) -> Style:
    return Style.for_stream(sys.stdout, getattr(args, "color", "auto"))


def read_lines(stream: BinaryIO, name: str) -> Iterator[str]:
    """Text lines of a byte stream, with one clear warning for bad bytes or huge lines."""
    warned = set()
    for number, raw in enumerate(stream, 1):
        if b"\0" in raw:
            raise CliError(f"{name} looks binary (a NUL byte on line {number}); nmbot reads text")
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = raw.decode("utf-8", "replace")
            warn_once(warned, "utf8", f"{name} line {number} is not valid UTF-8 (byte {exc.start}); bad bytes read as \ufffd")
        line = line.rstrip("\r\n")
        if len(line) > MAX_QUESTION_CHARS:
            warn_once(warned, "long", f"{name} line {number} is over {MAX_QUESTION_CHARS} characters; only the start is read")
            line = line[:MAX_QUESTION_CHARS]
        yield line


def warn_once(warned: set, key: str, text: str) -> None:
    if key not in warned:
        warned.add(key)
        print(f"nmbot: warning: {text}", file=sys.stderr)
