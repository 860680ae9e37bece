"""A child process on a pseudo-terminal, for what nmbot does only on a terminal (prompts, line editing,
progress lines, hints): its chosen standard streams are the terminal, the others pipes."""
from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import time

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[=>]|\r")


class Terminal:
    def __init__(self, args: list[str], env: dict, *, stdin: bool = True, stdout: bool = True, stderr: bool = True,
                 cwd=None):
        self.master, slave = pty.openpty()
        on = {True: slave, False: subprocess.PIPE}
        self.proc = subprocess.Popen(args, stdin=on[stdin] if stdin else subprocess.DEVNULL, stdout=on[stdout],
                                     stderr=on[stderr], env=env, cwd=cwd)
        os.close(slave)
        self.raw = b""

    @property
    def text(self) -> str:
        """Everything the terminal showed, without escape sequences and carriage returns."""
        return ANSI.sub("", self.raw.decode("utf-8", "replace"))

    def send(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def expect(self, wanted: str, timeout: float = 30, times: int = 1) -> None:
        """Read the terminal until `wanted` has appeared in it `times` times (fails after `timeout` seconds).
        Input typed before a prompt is shown may meet a terminal not yet set up to read it: wait for it."""
        deadline = time.monotonic() + timeout
        while self.text.count(wanted) < times:
            left = deadline - time.monotonic()
            assert left > 0, f"{wanted!r} not shown within {timeout}s; the terminal showed:\n{self.text}"
            if not self._read(min(left, 0.5)) and self.proc.poll() is not None and not self._read(0):
                raise AssertionError(f"exited {self.proc.returncode} before showing {wanted!r}:\n{self.text}")

    def wait(self, timeout: float = 30) -> int:
        """The exit status, reading what the terminal shows meanwhile."""
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None:
            assert time.monotonic() < deadline, f"still running after {timeout}s:\n{self.text}"
            self._read(0.2)
        while self._read(0):
            pass
        return self.proc.returncode

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        os.close(self.master)

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return False
        try:
            data = os.read(self.master, 65536)
        except OSError:  # EIO: every holder of the terminal's other end has closed it
            return False
        self.raw += data
        return bool(data)

    def __enter__(self) -> "Terminal":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
