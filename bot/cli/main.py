"""The `nmbot` command line.

A contract that outside scripts rely on (see docs/cli.md): `ask`, `lookup`,
`scan`, `kb check`, `serve`, `manifest`, `report`, `console`, `completion`. Slack libraries are imported only by
`serve` and `lookup --blocks`, so the other commands start fast.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from importlib import import_module
from typing import Sequence, TextIO

from .. import __version__

EXIT_OK, EXIT_NOTHING, EXIT_ERROR = 0, 1, 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports a program Ctrl-C stopped
EXIT_OUTPUT_CLOSED = 141  # 128 + SIGPIPE: what the shell reports for grep when `| head` stops reading
FREE_TEXT_COMMANDS = {"ask": {"--json"}, "lookup": {"--blocks", "--json"}}
COLOR_CHOICES = ("auto", "always", "never")
VALUE_OPTIONS = {"--color"}  # options that take a value, wherever they stand

COMMON_EXIT_STATUS = """\
  130  interrupted (Ctrl-C)
  141  the output was closed early (`| head`): nmbot stops quietly, as grep does"""


def exit_status(*lines: str) -> str:
    """An --help epilog listing the exit statuses."""
    return "exit status:\n" + "".join(f"  {line}\n" for line in lines) + COMMON_EXIT_STATUS


GENERAL_EXIT_STATUS = exit_status("0    done", "1    nothing found (no answer, no code, problems to fix)",
                                  "2    error: bad input, a file that cannot be read, settings to fix")


class CliError(Exception):
    """A problem to report in one line and exit 2, never a traceback."""


class Parser(argparse.ArgumentParser):
    """argparse's parser that lists exit statuses under every --help and remembers its arguments and
    subcommands, so `nmbot completion` is generated from the same definitions as the parser.

    `complete="files"` on add_argument marks an argument whose values are file names."""

    def __init__(self, *args, **kwargs):
        self.arguments: list[argparse.Action] = []
        self.file_arguments: set[str] = set()  # dests of arguments that name files
        self.subcommands: dict[str, Parser] = {}
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        kwargs.setdefault("epilog", GENERAL_EXIT_STATUS)
        super().__init__(*args, **kwargs)

    def add_argument(self, *args, complete: str | None = None, **kwargs):
        action = super().add_argument(*args, **kwargs)
        self.arguments.append(action)
        if complete == "files":
            self.file_arguments.add(action.dest)
        return action

    def add_command(self, sub, name: str, text: str, *, epilog: str | None = None) -> "Parser":
        """A subcommand whose --help starts with `text`, the same words its parent's --help lists it with."""
        parser = sub.add_parser(name, help=text, description=text, epilog=epilog or GENERAL_EXIT_STATUS)
        self.subcommands[name] = parser
        add_color_option(parser, default=argparse.SUPPRESS)
        return parser


def add_color_option(parser: argparse.ArgumentParser, default: str) -> None:
    # Accepted before and after the command; SUPPRESS keeps a subcommand from resetting what came before it.
    parser.add_argument("--color", choices=COLOR_CHOICES, default=default,
                        help="colour the output: auto (a terminal, unless NO_COLOR is set; FORCE_COLOR forces it), "
                             "always or never")


class VersionAction(argparse.Action):
    """--version: nmbot's version and the knowledge base's, which answers depend on as much."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        from ..engine.kb_files import load
        from ..engine.knowledge import KnowledgeError
        from ..settings import Settings

        settings = Settings.offline()
        print(f"nmbot {__version__}")
        try:
            kb = load(knowledge=settings.knowledge, cache_dir=settings.cache_dir)
        except KnowledgeError as exc:
            parser.exit(EXIT_ERROR, f"knowledge base: cannot load: {exc}\n")
        print(f"knowledge base: {kb.version} ({len(kb)} codes)")
        parser.exit()


def build_parser() -> Parser:
    parser = Parser(
        prog="nmbot",
        description="Explains 8x8 Number Masking error codes. With no command: runs the Slack bot (Socket Mode)\n"
        "when SLACK_BOT_TOKEN and SLACK_APP_TOKEN are set, otherwise an offline console that answers questions.",
    )
    parser.add_argument("--version", action=VersionAction, help="show nmbot's version and the knowledge base's")
    add_color_option(parser, default="auto")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    ask = parser.add_command(sub, "ask", "answer questions (from the arguments, or one per line on standard input)",
                             epilog=exit_status("0    answered (always 0 when reading standard input)",
                                                "1    no answer", "2    error: bad input or settings"))
    ask.add_argument("text", nargs="*", help="a code, 8x8's message, or a question")
    ask.add_argument("--json", action="store_true", help="print JSON, one object per question")

    lookup = parser.add_command(sub, "lookup", "the full card for one code",
                                epilog=exit_status("0    the card", "1    the code is not in the knowledge base",
                                                   "2    not an error code, or settings to fix"))
    lookup.add_argument("code", help="an error code such as -2004")
    lookup.add_argument("--blocks", action="store_true", help="print the Slack Block Kit JSON and a preview link")
    lookup.add_argument("--json", action="store_true",
                        help="print the card as JSON: each meaning, cause and step with its source")

    scan = parser.add_command(sub, "scan", "find error codes in logs (exit 0 found, 1 none, 2 error)",
                              epilog=exit_status("0    codes found", "1    none found",
                                                 "2    error: a file that cannot be read (the others are still "
                                                 "scanned), binary input"))
    scan.add_argument("files", nargs="*", metavar="FILE", complete="files",
                      help="log files (.gz too) or quoted globs such as 'logs/*.gz'; - or none for standard input")
    scan.add_argument("--json", action="store_true", help="print JSON findings")
    scan.add_argument("--follow", "-f", action="store_true",
                      help="print each finding as it appears, reading standard input or a growing file until "
                           "stopped (as tail -f | grep does)")

    kb = parser.add_command(sub, "kb", "knowledge-base tools")
    kb_sub = kb.add_subparsers(dest="kb_command", metavar="KB_COMMAND", required=True)
    check = kb.add_command(kb_sub, "check", "lint knowledge-base files (default: the configured ones)",
                           epilog=exit_status("0    no problems", "1    problems found (every one is listed)",
                                              "2    error: a source that cannot be used"))
    check.add_argument("paths", nargs="*", metavar="SOURCE", complete="files",
                       help="YAML files, folders, or the word shipped, as NMBOT_KNOWLEDGE lists them")

    serve = parser.add_command(sub, "serve", "run the Slack bot (Socket Mode, or HTTP with --http)",
                               epilog=exit_status("0    stopped (SIGTERM, Ctrl-C)", "2    settings to fix",
                                                  "75   no Socket Mode connection for NMBOT_SOCKET_GIVE_UP seconds"))
    serve.add_argument("--http", action="store_true", help="serve Slack's HTTP requests at /slack/events")
    serve.add_argument("--host", help="HTTP address to listen on (default NMBOT_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="HTTP port (default NMBOT_PORT or 3000)")

    manifest = parser.add_command(sub, "manifest", "print the Slack app manifest (Socket Mode, or HTTP with --http)",
                                  epilog=exit_status("0    the manifest", "2    a bad --http value"))
    manifest.add_argument("--http", metavar="https://HOST",
                          help="for HTTP mode: Slack sends its requests to https://HOST/slack/events")

    report = parser.add_command(sub, "report",
                                "unanswered questions, helpful rate per code, usage (from the state store)",
                                epilog=exit_status("0    the report", "2    bad input, or no database to read"))
    report.add_argument("--since", default="7d", help="how far back: 30m, 24h, 7d ... (default 7d)")
    report.add_argument("--format", choices=("text", "md", "csv", "json", "html"), default="text",
                        help="text (default), md (Markdown), csv, json (docs/report.md) or html (one "
                        "self-contained page)")

    parser.add_command(sub, "console", "the offline console: type questions or paste log lines, with line "
                                       "editing and history (nothing goes to Slack)",
                       epilog=exit_status("0    done (Ctrl-D)", "2    settings to fix"))

    completion = parser.add_command(sub, "completion", "print a shell completion script",
                                    epilog="install:\n"
                                    "  bash  nmbot completion bash > ~/.local/share/bash-completion/completions/nmbot\n"
                                    "  zsh   nmbot completion zsh > \"${fpath[1]}/_nmbot\"\n"
                                    "  fish  nmbot completion fish > ~/.config/fish/completions/nmbot.fish\n\n"
                                    + exit_status("0    the script", "2    an unknown shell"))
    completion.add_argument("shell", choices=("bash", "zsh", "fish"), help="bash, zsh or fish")
    return parser


def protect_free_text(argv: list[str]) -> list[str]:
    """Keep `nmbot ask -2004` and `nmbot lookup -2O04` from being read as options."""
    at = command_index(argv)
    if at is None or argv[at] not in FREE_TEXT_COMMANDS:
        return argv
    flags = FREE_TEXT_COMMANDS[argv[at]] | {"-h", "--help"}
    options, text = [], []
    rest = iter(argv[at + 1:])
    for a in rest:
        if a in VALUE_OPTIONS:
            options += [a, next(rest, "")]
        elif a in flags or a.split("=", 1)[0] in VALUE_OPTIONS:
            options.append(a)
        elif a != "--":
            text.append(a)
    return [*argv[: at + 1], *options, "--", *text]


def command_index(argv: list[str]) -> int | None:
    """Where the command stands, after any options given before it (`nmbot --color never ask -2004`)."""
    i = 0
    while i < len(argv) and argv[i].startswith("-"):
        i += 2 if argv[i] in VALUE_OPTIONS else 1
    return i if i < len(argv) else None


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = parse_args(argv)
        status = run(args)
        sys.stdout.flush()  # here, so a reader that went away is noticed while it can still be handled
        return status
    except BrokenPipeError:
        return output_closed()
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except Exception as exc:
        if not is_reported(exc):
            raise  # a bug: its traceback is the useful report
        print(f"nmbot: {exc}", file=sys.stderr)
        return EXIT_ERROR


def parse_args(argv: list[str]) -> argparse.Namespace:
    try:
        return build_parser().parse_args(protect_free_text(argv))
    except SystemExit:
        sys.stdout.flush()  # --help, --version: a reader that went away is noticed here, like any other
        raise


def output_closed() -> int:
    """The reader went away (`| head`): not an error worth a word. What is still buffered goes nowhere,
    so the interpreter's last flush cannot fail again on the way out."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    for stream in (sys.stdout, sys.stderr):
        try:
            os.dup2(devnull, stream.fileno())
        except (OSError, ValueError):
            pass  # a stream without a descriptor (tests capture output in memory)
    os.close(devnull)
    return EXIT_OUTPUT_CLOSED


def is_reported(exc: Exception) -> bool:
    """Errors whose one-line message says everything: bad input, settings, knowledge base, store."""
    from ..engine.knowledge import KnowledgeError
    from ..settings import SettingsError

    reported: tuple[type, ...] = (CliError, KnowledgeError, SettingsError)
    # A StoreError comes only from a command that loaded the store; importing it here would load SQLAlchemy
    # for every failing command.
    store = sys.modules.get(__name__.split(".")[0] + ".store")
    if store is not None:
        reported += (store.StoreError,)
    return isinstance(exc, reported)


# Each command's module under commands/ and the function that runs it. Only the module of the command
# given is imported, so a command starts without the imports of the others.
HANDLERS = {
    "ask": ("answers", "ask"),
    "lookup": ("answers", "lookup"),
    "scan": ("scan", "scan"),
    "kb": ("kb", "kb_check"),
    "serve": ("slack", "serve"),
    "manifest": ("slack", "manifest"),
    "report": ("report", "report"),
    "console": ("console", "console_command"),
    "completion": ("completion", "completion"),
}


def run(args: argparse.Namespace) -> int:
    if args.command is None:
        from ..settings import Settings
        from .commands.console import start

        return start(Settings.from_env(), args)
    module, name = HANDLERS[args.command]
    return getattr(import_module(f"{__package__}.commands.{module}"), name)(args)


def emit(text: str, stream: TextIO | None = None) -> None:
    print(text, file=stream or sys.stdout)


def emit_json(obj: object) -> None:
    print(json.dumps(obj, ensure_ascii=False))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
