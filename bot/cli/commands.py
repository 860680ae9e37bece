"""What each `nmbot` command does. Output formats are part of the CLI contract."""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from typing import BinaryIO, Iterator

from ..cards.content import (card_for_entry, card_for_resolution, card_json, log_summary, not_number_masking_for,
                              suggestions_for)
from ..cards.terminal import (Style, render_card, render_log_summary, render_not_number_masking, render_not_sure,
                              render_suggestions)
from ..engine.codes import codes_in_question, nearest_codes
from ..engine.knowledge import KnowledgeBase, KnowledgeError, load
from ..engine.products import read_codes
from ..engine.resolver import Match, Resolution, Resolver, card_note
from .main import EXIT_NOTHING, EXIT_OK, CliError, emit, emit_json

MAX_QUESTION_CHARS = 40_000  # Slack's own message limit; longer is not a question


def load_kb() -> KnowledgeBase:
    try:
        return load()
    except KnowledgeError as exc:
        raise CliError(f"cannot load the knowledge base: {exc}") from None


def style() -> Style:
    return Style.for_stream(sys.stdout)


# --- ask ---------------------------------------------------------------------------------

def match_json(m: Match) -> dict:
    return {"code": m.code, "message": m.message, "score": float(m.score)}


def resolution_json(r: Resolution) -> dict:
    body = {
        "query": r.query,
        "answer": match_json(r.answer) if r.answer else None,
        "suggestions": [match_json(m) for m in r.suggestions if m.entry is not None],
    }
    # Only when there is something to say, so the plain answers read as they always have.
    if r.answer and r.note:
        body["note"] = r.note
    other = not_number_masking_for(r)
    if other is not None:
        body["other_products"] = [
            {"number": int(i.number) if i.number else None, "product": i.product, "meaning": i.meaning,
             "docs": i.docs, "lookalike": i.lookalike}
            for i in other.items
        ]
        body["reason"] = other.reason
    return body


def answer_json(kb: KnowledgeBase, r: Resolution) -> dict:
    """`resolution_json` with the answer's full card, each meaning, cause and step saying whose it is."""
    data = resolution_json(r)
    card = card_for_resolution(kb, r)
    if card is not None:
        data["answer"]["card"] = card_json(card)
    return data


def resolution_text(kb: KnowledgeBase, r: Resolution, s: Style) -> str:
    card = card_for_resolution(kb, r)
    if card is not None:
        return render_card(card, s)
    other = not_number_masking_for(r)
    if other is not None:
        return render_not_number_masking(other, s)
    suggestions = suggestions_for(r)
    if suggestions:
        return render_suggestions(r.query, suggestions, r.explain(), s)
    return render_not_sure(r.query, r.explain(), s)


def resolution_line(r: Resolution) -> str:
    """One line per question when answering standard input."""
    if r.answer:
        return f"{r.answer.code}\t{r.answer.message}"
    other = not_number_masking_for(r)
    if other is not None:
        return "x\tnot Number Masking: " + ", ".join(f"{i.number or 'message'} {i.named}" for i in other.items)
    if r.suggestions:
        return "?\tdid you mean " + ", ".join(str(m.code) for m in r.suggestions)
    return "-\tno answer"


def ask(args: argparse.Namespace) -> int:
    kb = load_kb()
    resolver = Resolver(kb)
    if args.text:
        result = resolver.resolve(" ".join(args.text)[:MAX_QUESTION_CHARS])
        if args.json:
            emit_json(answer_json(kb, result))
        else:
            emit(resolution_text(kb, result, style()))
        return EXIT_OK if result.answer else EXIT_NOTHING
    for question in read_lines(sys.stdin.buffer, "standard input"):
        result = resolver.resolve(question)
        emit_json(answer_json(kb, result)) if args.json else emit(resolution_line(result))
        sys.stdout.flush()
    return EXIT_OK


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


# --- lookup ------------------------------------------------------------------------------

def lookup(args: argparse.Namespace) -> int:
    kb = load_kb()
    known, unknown = codes_in_question(args.code, kb.codes)
    if not known and not unknown:
        raise CliError(f"{args.code!r} is not an error code; try e.g. nmbot lookup -2004, or nmbot ask '{args.code}'")
    if not known:
        near = nearest_codes(unknown[0], kb.codes)
        hint = f"; did you mean {', '.join(map(str, near))}?" if near else ""
        print(f"nmbot: {unknown[0]} is not in the knowledge base{hint}", file=sys.stderr)
        return EXIT_NOTHING
    card = card_for_entry(kb, kb.get(known[0]))
    note = card_note(known[0], read_codes(args.code, kb.codes))  # '2004' typed without its sign
    if note:
        card = replace(card, note=note)
    if args.blocks:
        from ..cards.blocks import builder_url, card_message

        message = card_message(card)
        emit(json.dumps(message, indent=2, ensure_ascii=False))
        emit(f"\nPreview in Block Kit Builder:\n{builder_url(message)}")
    elif args.json:
        emit_json(card_json(card))
    else:
        emit(render_card(card, style()))
    return EXIT_OK


# --- scan --------------------------------------------------------------------------------

def scan(args: argparse.Namespace) -> int:
    from ..engine.scanner import Scanner, ScanInputError

    kb = load_kb()
    name = "standard input" if args.file == "-" else args.file
    try:
        with open_input(args.file) as stream:
            findings = Scanner(kb).scan_stream(Utf8Checked(stream, name))
    except ScanInputError as exc:
        raise CliError(f"{name}: {exc}") from None
    except OSError as exc:
        raise CliError(f"{name}: cannot read: {exc.strerror or exc}") from None
    if args.json:
        emit_json({"findings": [f.as_dict() for f in findings]})
    elif findings:
        emit(render_log_summary(log_summary(kb, findings), style()))
    else:
        emit("No Number Masking error codes found.")
    return EXIT_OK if findings else EXIT_NOTHING


def open_input(path: str) -> BinaryIO:
    if path == "-":
        return _Unclosed(sys.stdin.buffer)
    try:
        return open(path, "rb")
    except FileNotFoundError:
        raise CliError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise CliError(f"{path}: is a folder, expected a log file") from None
    except PermissionError:
        raise CliError(f"{path}: permission denied") from None


class _Unclosed:
    """Standard input as a context manager that leaves it open."""

    def __init__(self, stream: BinaryIO):
        self.stream = stream

    def __enter__(self) -> BinaryIO:
        return self.stream

    def __exit__(self, *exc) -> None:
        return None


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
        chunk = self._stream.read(size)
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


# --- kb check ----------------------------------------------------------------------------

def kb_check(args: argparse.Namespace) -> int:
    from ..engine.knowledge import configured_paths
    from ..engine.lint import lint

    try:
        paths = args.paths or configured_paths()
    except KnowledgeError as exc:
        raise CliError(str(exc)) from None
    kb, problems = lint(paths)
    if kb is not None:
        problems += card_problems(kb)
    for problem in problems:
        print(f"problem: {problem}")
    if problems:
        print(f"{len(problems)} problem(s) found.")
        return EXIT_NOTHING
    print(f"ok: {len(kb)} entries, knowledge base {kb.version}")
    return EXIT_OK


def card_problems(kb: KnowledgeBase) -> list[str]:
    """Cards that Slack would refuse, found by rendering them for real."""
    try:
        from ..cards.blocks import card_message, validate_message
    except ImportError:  # Slack libraries missing: loading and linting still count
        return []
    problems = []
    for entry in kb:
        try:
            validate_message(card_message(card_for_entry(kb, entry)))
        except Exception as exc:  # the renderer's own limit errors, whatever their type
            problems.append(f"{entry.source}: entry {entry.code}: its Slack card breaks Block Kit limits: {exc}")
    return problems


# --- report ------------------------------------------------------------------------------

def report(args: argparse.Namespace) -> int:
    """What the Slack surfaces recorded in the state store (NMBOT_DATABASE_URL), opened read-only; Slack is
    asked only for channel names, and only when SLACK_BOT_TOKEN is set."""
    import time

    from ..report import build_report, parse_duration, render
    from ..settings import Settings

    try:
        seconds = parse_duration(args.since)
    except ValueError as exc:
        raise CliError(f"--since: {exc}") from None
    settings = Settings.from_env()
    kb = load_kb()
    store = open_report_store(settings.database_url)
    try:
        now = time.time()
        since = now - seconds if seconds < now else None  # reaching back before 1970: everything recorded
        figures = build_report(store, since=since, until=now, kb=kb)
    finally:
        store.close()
    sys.stdout.write(render(with_channel_names(figures, settings), args.format))
    return EXIT_OK


def open_report_store(url: str):
    """The bot's state store, read-only: nothing created, nothing purged (the bot keeps its own retention),
    and a role with only SELECT will do. A database that does not exist is an error, not an empty report."""
    from pathlib import Path

    from ..store import open_store
    from ..store.sql import resolve_url

    if url.strip().lower() in ("memory", "memory:", "memory://"):
        raise CliError("NMBOT_DATABASE_URL is memory://: nothing outlives the bot's process, so there is "
                       "nothing to report; point it at the bot's database")
    resolved = resolve_url(url)
    database = resolved.database or ""
    if resolved.get_backend_name() == "sqlite" and database not in ("", ":memory:") \
            and not database.startswith("file:") and not Path(database).is_file():
        raise CliError(f"NMBOT_DATABASE_URL: no database at {database}: point it at the bot's database")
    return open_store(url, read_only=True)


def with_channel_names(figures, settings):
    """The report with channel names from Slack where the bot token can read them; IDs otherwise."""
    from ..report.channels import ChannelNames

    if settings.slack_bot_token is None or not figures.channel_ids:
        return figures
    names = ChannelNames(settings.slack_bot_token.reveal(), settings.slack_api_url)
    found = names.names(figures.channel_ids)
    if names.problem:
        print(f"nmbot: warning: channel names unavailable ({names.problem}); the report shows channel IDs",
              file=sys.stderr)
    return replace(figures, channel_names=tuple(found.items()))


# --- manifest ----------------------------------------------------------------------------

def manifest(args: argparse.Namespace) -> int:
    """The Slack app manifest to create the app from: Socket Mode, or HTTP mode for one host."""
    from ..slack.manifest import ManifestError, http_manifest, socket_mode_manifest

    if args.http is None:
        sys.stdout.write(socket_mode_manifest())
        return EXIT_OK
    try:
        sys.stdout.write(http_manifest(args.http))
    except ManifestError as exc:
        raise CliError(f"--http: {exc}") from None
    return EXIT_OK


# --- serve and the default command ----------------------------------------------------

def serve(args: argparse.Namespace) -> int:
    from ..settings import Settings
    from ..slack.server import serve as serve_slack

    return serve_slack(Settings.from_env(), http=args.http, host=args.host, port=args.port)


def start(settings) -> int:
    """`nmbot` alone: the Slack bot when configured, the offline console otherwise."""
    if settings.has_slack_tokens:
        from ..slack.server import serve as serve_slack

        return serve_slack(settings, http=settings.slack_app_token is None)
    return console(sys.stdin.buffer)


def console(stream: BinaryIO) -> int:
    from ..engine.scanner import Scanner

    kb = load_kb()
    resolver, scanner, s = Resolver(kb), Scanner(kb), style()
    print(
        f"nmbot offline console (knowledge base {kb.version}, {len(kb)} codes). No SLACK_BOT_TOKEN set, so "
        "nothing goes to Slack.\nType a code, 8x8's error message or a question; paste a log line to scan it. "
        "Ctrl-D quits.",
        file=sys.stderr,
    )
    for line in read_lines(stream, "standard input"):
        if not line.strip():
            continue
        result = resolver.resolve(line)
        findings = [] if result.answer else scanner.scan_text(line)
        emit(render_log_summary(log_summary(kb, findings), s) if findings else resolution_text(kb, result, s))
        emit("")
    return EXIT_OK
