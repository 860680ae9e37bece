"""What each `nmbot` command does. Output formats are part of the CLI contract."""
from __future__ import annotations

import argparse
import io
import json
import os
import sys
import time
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import BinaryIO, Iterator

from ..cards.content import (card_for_entry, card_for_resolution, card_json, log_summary, not_number_masking_for,
                              suggestions_for)
from ..cards.terminal import (Style, render_card, render_log_summary, render_not_number_masking, render_not_sure,
                              render_suggestions)
from ..engine.codes import codes_in_question, nearest_codes
from ..engine.knowledge import KnowledgeBase, KnowledgeError, load
from ..engine.privacy import mask_msisdns
from ..engine.products import read_codes
from ..engine.resolver import Match, Resolution, Resolver, card_note
from ..settings import Settings
from .main import EXIT_ERROR, EXIT_NOTHING, EXIT_OK, CliError, emit, emit_json

MAX_QUESTION_CHARS = 40_000  # Slack's own message limit; longer is not a question


def load_kb(settings: Settings | None = None) -> KnowledgeBase:
    settings = settings or Settings.offline()
    try:
        return load(knowledge=settings.knowledge, cache_dir=settings.cache_dir)
    except KnowledgeError as exc:
        raise CliError(f"cannot load the knowledge base: {exc}") from None


def style(args: argparse.Namespace) -> Style:
    return Style.for_stream(sys.stdout, getattr(args, "color", "auto"))


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
            emit(resolution_text(kb, result, style(args)))
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
        from ..cards.error_card import card_message
        from ..cards.kit import builder_url

        message = card_message(card)
        emit(json.dumps(message, indent=2, ensure_ascii=False))
        emit(f"\nPreview in Block Kit Builder:\n{builder_url(message)}")
    elif args.json:
        emit_json(card_json(card))
    else:
        emit(render_card(card, style(args)))
    return EXIT_OK


# --- scan --------------------------------------------------------------------------------

GLOB_CHARS = frozenset("*?[")
GZIP_MAGIC = b"\x1f\x8b"
PROGRESS_BYTES = 100_000_000  # files larger than this show how far the scan is, on a terminal
PROGRESS_SECONDS = 0.5
FOLLOW_POLL_SECONDS = 0.25  # how often a followed file is looked at once its end is reached
STDIN_HINT = ("nmbot scan: reading a log from the terminal: paste it, then press Ctrl-D on a line of its own "
              "(or give files: nmbot scan app.log 'logs/*.gz')")


def scan(args: argparse.Namespace) -> int:
    from ..engine.scanner import Scanner

    kb = load_kb()
    names = scan_inputs(args.files)
    if args.follow:
        if len(names) > 1:
            raise CliError("--follow reads one file or standard input; for several, "
                           "tail -f them into nmbot scan --follow")
        return follow(Scanner(kb), names[0], args)
    scanner = Scanner(kb)
    results, failed = [], False
    for name in names:
        try:
            results.append((name, scan_one(scanner, name)))
        except CliError as exc:  # like grep: say so, scan the others, exit 2 at the end
            print(f"nmbot: {exc}", file=sys.stderr)
            failed = True
    if results:  # when no input could be read, the error messages say it all
        print_scan_results(kb, results, several=len(names) > 1, args=args)
    if failed:
        return EXIT_ERROR
    return EXIT_OK if any(findings for _, findings in results) else EXIT_NOTHING


def scan_inputs(files: list[str]) -> list[str]:
    """The inputs to scan: standard input when none; a quoted glob (the shell left it alone) expanded."""
    import glob

    if not files:
        return ["-"]
    names = []
    for name in files:
        if name != "-" and GLOB_CHARS & set(name) and not os.path.lexists(name):
            matches = sorted(glob.glob(os.path.expanduser(name), recursive=True))
            names.extend(regular_files(matches) if matches else [name])
        else:
            names.append(name)
    return names


def regular_files(paths: list[str]) -> list[str]:
    """The regular files among a glob's matches. A FIFO would block the scan until something writes to it, and
    a device such as /dev/zero never ends: like grep -r, they are skipped, each with a one-line note."""
    import stat

    kept = []
    for path in paths:
        try:
            regular = stat.S_ISREG(os.stat(path).st_mode)
        except OSError:  # a dangling link: opening it says why
            regular = True
        if regular:
            kept.append(path)
        else:
            print(f"nmbot: {path}: not a regular file, skipped", file=sys.stderr)
    return kept


def scan_one(scanner, name: str) -> list:
    import gzip
    import zlib

    from ..engine.scanner import ScanInputError

    label = input_label(name)
    try:
        with open_log(name) as stream:
            return scanner.scan_stream(stream)
    except ScanInputError as exc:
        raise CliError(f"{label}: {exc}") from None
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise CliError(f"{label}: is not a readable .gz file ({exc})") from None
    except OSError as exc:
        raise CliError(f"{label}: cannot read: {exc.strerror or exc}") from None


def input_label(name: str) -> str:
    return "standard input" if name == "-" else name


def print_scan_results(kb: KnowledgeBase, results: list, *, several: bool, args: argparse.Namespace) -> None:
    """One summary per input that holds codes; with several inputs each is headed by its name (as `head`
    does), and each JSON finding names its file (as grep names the file of each line)."""
    if args.json:
        emit_json({"findings": [{**f.as_dict(), **({"file": name} if several else {})}
                                for name, findings in results for f in findings]})
        return
    found = [(name, findings) for name, findings in results if findings]
    if not found:
        emit("No Number Masking error codes found.")
        return
    s = style(args)
    for i, (name, findings) in enumerate(found):
        summary = log_summary(kb, findings)
        if several:
            emit(s.bold(f"==> {name} <=="))
        if i < len(found) - 1:
            summary = replace(summary, footer="")  # the knowledge base's footer once, under the last
        emit(render_log_summary(summary, s))


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


# --- scan --follow -------------------------------------------------------------------------

def follow(scanner, name: str, args: argparse.Namespace) -> int:
    """Every finding printed as its line arrives, until standard input ends or, for a file, until stopped.
    A file that is truncated or replaced (log rotation) is followed again from its start."""
    from ..engine.scanner import ScanInputError

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
    from ..engine.scanner import CHUNK_SIZE

    if sys.stdin.isatty():
        print(STDIN_HINT, file=sys.stderr)
    checked = Utf8Checked(sys.stdin.buffer, "standard input")
    while chunk := sys.stdin.buffer.read1(CHUNK_SIZE):
        yield checked.checked(chunk)


def growing_file_chunks(path: str) -> Iterator[bytes]:
    """The file from its start, then what is appended to it, as `tail -f` reads it; ends when the file is
    truncated or another file takes its name."""
    from ..engine.scanner import CHUNK_SIZE

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


# --- kb check ----------------------------------------------------------------------------

def kb_check(args: argparse.Namespace) -> int:
    from ..engine.knowledge import configured_paths, source_paths
    from ..engine.lint import lint

    settings = Settings.offline()
    try:
        paths = source_paths(args.paths, expand=False) if args.paths else configured_paths(settings.knowledge)
    except KnowledgeError as exc:
        raise CliError(str(exc)) from None
    kb, problems = lint(paths, settings.cache_dir)
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
        from ..cards.error_card import card_message
        from ..cards.kit import validate_message
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

    try:
        seconds = parse_duration(args.since)
    except ValueError as exc:
        raise CliError(f"--since: {exc}") from None
    settings = Settings.from_env()
    kb = load_kb(settings)
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

    from ..store import is_memory_url, open_store
    from ..store.urls import in_memory, resolve_url

    if is_memory_url(url):
        raise CliError("NMBOT_DATABASE_URL is memory://: nothing outlives the bot's process, so there is "
                       "nothing to report; point it at the bot's database")
    resolved = resolve_url(url)
    database = resolved.database or ""
    if resolved.get_backend_name() == "sqlite" and not in_memory(resolved) \
            and not database.startswith("file:") and not Path(database).is_file():
        raise CliError(f"NMBOT_DATABASE_URL: no database at {database}: point it at the bot's database")
    return open_store(url, read_only=True)


def with_channel_names(figures, settings):
    """The report with channel names from Slack where the bot token can read them; IDs otherwise."""
    from ..report.channels import ChannelNames

    if settings.slack_bot_token is None or not figures.channel_ids:
        return figures
    names = ChannelNames(settings.slack_bot_token.reveal(), settings.slack_api_url,
                         lookup_seconds=settings.channel_lookup_seconds, total_seconds=settings.channel_names_seconds,
                         lookups=settings.channel_lookups)
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
    from ..slack.server import serve as serve_slack

    return serve_slack(Settings.from_env(), http=args.http, host=args.host, port=args.port)


def start(settings, args: argparse.Namespace) -> int:
    """`nmbot` alone: the Slack bot in Socket Mode when configured, the offline console without tokens."""
    if settings.has_slack_tokens:
        if settings.slack_app_token is None:
            # HTTP mode needs a public URL and a signing secret: starting it unasked would only puzzle.
            raise CliError("SLACK_BOT_TOKEN is set but SLACK_APP_TOKEN is not: `nmbot` alone runs the bot in "
                           "Socket Mode, which needs SLACK_APP_TOKEN (xapp-..., from Basic Information > "
                           "App-Level Tokens, scope connections:write); for HTTP mode run `nmbot serve --http` "
                           "with SLACK_SIGNING_SECRET set")
        from ..slack.server import serve as serve_slack

        return serve_slack(settings, http=False)
    return console(args, why="No SLACK_BOT_TOKEN set, so nothing goes to Slack.")


def console_command(args: argparse.Namespace) -> int:
    return console(args, why="Nothing goes to Slack.")


PROMPT = "nmbot> "
HISTORY_LINES = 1000


def console(args: argparse.Namespace, why: str) -> int:
    """Answers each line typed or piped in: at a prompt with line editing and history on a terminal,
    one answer per line read when piped."""
    from ..engine.scanner import Scanner

    kb = load_kb()
    resolver, scanner, s = Resolver(kb), Scanner(kb), style(args)
    print(
        f"nmbot offline console (knowledge base {kb.version}, {len(kb)} codes). {why}\n"
        "Type a code, 8x8's error message or a question; paste a log line to scan it. Ctrl-D quits.",
        file=sys.stderr,
    )
    typed = sys.stdin.isatty()
    lines = prompted_lines() if typed else read_lines(sys.stdin.buffer, "standard input")
    for line in lines:
        if not line.strip():
            continue
        result = resolver.resolve(line)
        findings = [] if result.answer else scanner.scan_text(line)
        emit(render_log_summary(log_summary(kb, findings), s) if findings else resolution_text(kb, result, s))
        emit("")
        if typed:
            sys.stdout.flush()
    return EXIT_OK


def prompted_lines() -> Iterator[str]:
    """Lines typed at the prompt, with readline's line editing and a history kept between sessions
    (phone numbers masked in it, as everywhere nmbot keeps text)."""
    readline = line_editing()
    history = history_path()
    if readline is not None:
        load_history(readline, history)
    # The prompt goes where the person looks: standard error when the answers are piped on.
    prompt_on_stdout = sys.stdout.isatty()
    try:
        while True:
            try:
                if prompt_on_stdout:
                    line = input(PROMPT)
                else:
                    sys.stderr.write(PROMPT)
                    sys.stderr.flush()
                    line = input()
            except KeyboardInterrupt:
                print(file=sys.stderr)  # Ctrl-C drops the line being typed, as a shell does
                continue
            except EOFError:
                print(file=sys.stderr)
                return
            if readline is not None and line.strip():
                remember(readline, mask_msisdns(line))
            yield line[:MAX_QUESTION_CHARS]
    finally:
        if readline is not None:
            save_history(readline, history)


def remember(readline, line: str) -> None:
    try:
        readline.add_history(line)
    except UnicodeEncodeError:
        pass  # a locale that cannot write the mask's dots: the line is answered, not kept


def line_editing():
    """The readline module, or None where Python was built without it."""
    try:
        import readline
    except ImportError:
        return None
    readline.set_auto_history(False)  # lines are added masked, by hand
    return readline


def history_path() -> Path:
    """$XDG_STATE_HOME/nmbot/history, or ~/.local/state/nmbot/history."""
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(base) / "nmbot" / "history"


def load_history(readline, path: Path) -> None:
    try:
        readline.read_history_file(str(path))
    except OSError:
        pass  # no history yet, or none readable: start without


def save_history(readline, path: Path) -> None:
    """Best effort: a home that cannot be written costs the history, not the session."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        readline.set_history_length(HISTORY_LINES)
        readline.write_history_file(str(path))
        os.chmod(path, 0o600)
    except OSError:
        pass


# --- completion ---------------------------------------------------------------------------

def completion(args: argparse.Namespace) -> int:
    from .completion import script
    from .main import build_parser

    sys.stdout.write(script(build_parser(), args.shell))
    return EXIT_OK
