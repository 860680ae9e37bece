"""`nmbot` run by its own `main` in the test's process: for tests of what a command prints and its exit
status, without an interpreter (and its imports) starting for each run. What only a real process shows
(pipes, signals, terminals, imports) stays in child processes."""
from __future__ import annotations

import io
import sys
from dataclasses import dataclass
from typing import Callable

import pytest

from nmbot.cli.main import main


@dataclass
class Ran:
    """A command's exit status and output, as the tests read a child process's."""

    returncode: int
    out: str
    err: str


@pytest.fixture
def nmbot(capsys, monkeypatch) -> Callable[..., Ran]:
    """Runs `nmbot ARGS` with `stdin` as its standard input (empty by default), in the folder `cwd`, with the
    environment changed by `env` (a value of None unsets the variable): each for that run only."""

    def run(*args: str, stdin: bytes | str | None = None, env: dict | None = None, cwd=None) -> Ran:
        data = stdin.encode() if isinstance(stdin, str) else stdin or b""
        with monkeypatch.context() as patch:
            if cwd is not None:
                patch.chdir(cwd)
            for name, value in (env or {}).items():
                if value is None:
                    patch.delenv(name, raising=False)
                else:
                    patch.setenv(name, value)
            patch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(io.BytesIO(data)), encoding="utf-8"))
            capsys.readouterr()  # what came before this run is not its output
            try:
                status = main(list(args))
            except SystemExit as exc:  # argparse: --help, a bad option
                status = 0 if exc.code is None else exc.code
        captured = capsys.readouterr()
        return Ran(status, captured.out, captured.err)

    return run
