"""The `nmbot` command line.

A contract that outside scripts rely on (see README): `ask`, `lookup`,
`scan`, `kb check`, `serve`, `manifest`, `report`. Slack libraries are imported only by `serve`
and `lookup --blocks`, so the other commands start fast.
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import Sequence, TextIO

from .. import __version__

EXIT_OK, EXIT_NOTHING, EXIT_ERROR = 0, 1, 2
FREE_TEXT_COMMANDS = {"ask": {"--json"}, "lookup": {"--blocks", "--json"}}


class CliError(Exception):
    """A problem to report in one line and exit 2, never a traceback."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nmbot",
        description="Explains 8x8 Number Masking error codes. With no command: runs the Slack bot when "
        "SLACK_BOT_TOKEN is set, otherwise an offline console that answers questions.",
    )
    parser.add_argument("--version", action="version", version=f"nmbot {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    ask = sub.add_parser("ask", help="answer questions (from the arguments, or one per line on standard input)")
    ask.add_argument("text", nargs="*", help="a code, 8x8's message, or a question")
    ask.add_argument("--json", action="store_true", help="print JSON, one object per question")

    lookup = sub.add_parser("lookup", help="the full card for one code")
    lookup.add_argument("code", help="an error code such as -2004")
    lookup.add_argument("--blocks", action="store_true", help="print the Slack Block Kit JSON and a preview link")
    lookup.add_argument("--json", action="store_true",
                        help="print the card as JSON: each meaning, cause and step with its source")

    scan = sub.add_parser("scan", help="find error codes in a log (exit 0 found, 1 none, 2 error)")
    scan.add_argument("file", nargs="?", default="-", help="a log file, or - for standard input (the default)")
    scan.add_argument("--json", action="store_true", help="print JSON findings")

    kb = sub.add_parser("kb", help="knowledge-base tools")
    kb_sub = kb.add_subparsers(dest="kb_command", metavar="KB_COMMAND", required=True)
    check = kb_sub.add_parser("check", help="lint knowledge-base files (default: the configured ones)")
    check.add_argument("paths", nargs="*", help="YAML files or folders")

    serve = sub.add_parser("serve", help="run the Slack bot (Socket Mode, or HTTP with --http)")
    serve.add_argument("--http", action="store_true", help="serve Slack's HTTP requests at /slack/events")
    serve.add_argument("--host", help="HTTP address to listen on (default NMBOT_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="HTTP port (default NMBOT_PORT or 3000)")

    manifest = sub.add_parser("manifest", help="print the Slack app manifest (Socket Mode, or HTTP with --http)")
    manifest.add_argument("--http", metavar="https://HOST",
                          help="for HTTP mode: Slack sends its requests to https://HOST/slack/events")

    report = sub.add_parser("report", help="unanswered questions, helpful rate per code, usage (from the state store)")
    report.add_argument("--since", default="7d", help="how far back: 30m, 24h, 7d ... (default 7d)")
    report.add_argument("--format", choices=("text", "md", "csv", "json", "html"), default="text",
                        help="text (default), md (Markdown), csv, json (docs/report.md) or html (one "
                        "self-contained page)")
    return parser


def protect_free_text(argv: list[str]) -> list[str]:
    """Keep `nmbot ask -2004` and `nmbot lookup -2O04` from being read as options."""
    if not argv or argv[0] not in FREE_TEXT_COMMANDS:
        return argv
    flags = FREE_TEXT_COMMANDS[argv[0]] | {"-h", "--help"}
    options = [a for a in argv[1:] if a in flags]
    text = [a for a in argv[1:] if a not in flags and a != "--"]
    return [argv[0], *options, "--", *text]


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(protect_free_text(argv))
    try:
        return run(args)
    except Exception as exc:
        if not is_reported(exc):
            raise  # a bug: its traceback is the useful report
        print(f"nmbot: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (| head): not an error worth a traceback.
        sys.stderr.close()
        return EXIT_OK


def is_reported(exc: Exception) -> bool:
    """Errors whose one-line message says everything: bad input, settings, knowledge base, store."""
    from ..engine.knowledge import KnowledgeError
    from ..settings import SettingsError
    from ..store import StoreError

    return isinstance(exc, (CliError, KnowledgeError, SettingsError, StoreError))


def run(args: argparse.Namespace) -> int:
    from . import commands

    if args.command is None:
        from ..settings import Settings

        return commands.start(Settings.from_env())
    handler = {
        "ask": commands.ask,
        "lookup": commands.lookup,
        "scan": commands.scan,
        "kb": commands.kb_check,
        "serve": commands.serve,
        "manifest": commands.manifest,
        "report": commands.report,
    }[args.command]
    return handler(args)


def emit(text: str, stream: TextIO | None = None) -> None:
    print(text, file=stream or sys.stdout)


def emit_json(obj: object) -> None:
    print(json.dumps(obj, ensure_ascii=False))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
