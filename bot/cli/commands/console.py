"""`nmbot console`, and `nmbot` alone without Slack tokens: questions and log lines answered as typed."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Iterator

from ...cards.content import log_summary
from ...cards.terminal import render_log_summary
from ...engine.privacy import mask_msisdns
from ...engine.resolver import Resolver
from ..main import EXIT_OK, CliError, emit
from .answers import resolution_text
from .shared import MAX_QUESTION_CHARS, load_kb, read_lines, style


def start(settings, args: argparse.Namespace) -> int:
    """`nmbot` alone: the Slack bot in Socket Mode when configured, the offline console without tokens."""
    if settings.has_slack_tokens:
        if settings.slack_app_token is None:
            # HTTP mode needs a public URL and a signing secret: starting it unasked would only puzzle.
            raise CliError("SLACK_BOT_TOKEN is set but SLACK_APP_TOKEN is not: `nmbot` alone runs the bot in "
                           "Socket Mode, which needs SLACK_APP_TOKEN (xapp-..., from Basic Information > "
                           "App-Level Tokens, scope connections:write); for HTTP mode run `nmbot serve --http` "
                           "with SLACK_SIGNING_SECRET set")
        from ...slack.server import serve as serve_slack

        return serve_slack(settings, http=False)
    return console(args, why="No SLACK_BOT_TOKEN set, so nothing goes to Slack.")


def console_command(args: argparse.Namespace) -> int:
    return console(args, why="Nothing goes to Slack.")


PROMPT = "nmbot> "
HISTORY_LINES = 1000


def console(args: argparse.Namespace, why: str) -> int:
    """Answers each line typed or piped in: at a prompt with line editing and history on a terminal,
    one answer per line read when piped."""
    from ...engine.scanner import Scanner

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
