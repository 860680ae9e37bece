"""`nmbot scan`: error codes in log files, gzip files and standard input, a summary per input."""
from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace

from ...cards.content import log_summary
from ...cards.terminal import render_log_summary
from ...engine.knowledge import KnowledgeBase
from ..main import EXIT_ERROR, EXIT_NOTHING, EXIT_OK, CliError, emit, emit_json
from .follow import follow
from .log_input import GLOB_CHARS, input_label, open_log
from .shared import load_kb, style


def scan(args: argparse.Namespace) -> int:
    from ...engine.scanner import Scanner

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

    from ...engine.scan_input import ScanInputError

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
