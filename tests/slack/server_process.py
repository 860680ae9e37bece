"""`nmbot serve --http` as a real child process: its address, its log lines as they come, signals."""
from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time

from slack_requests import SIGNING_SECRET, get
from webapi_stub import BOT_TOKEN, WebApiStub

NMBOT = [sys.executable, "-m", "bot.cli.main"]


def clean_env(**values: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "NMBOT_"))}
    return {**env, **values}


def bot_env(stub: WebApiStub, **values: str) -> dict:
    """The environment of a bot talking to `stub`, plus `values`. State in a SQLite file in the server's
    working folder, so the event workers share it as in production."""
    base = dict(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_API_URL=stub.api_url,
                NMBOT_DATABASE_URL="sqlite:///state.sqlite3", NMBOT_LOG_LEVEL="info")
    return clean_env(**{**base, **values})


class ServerProcess:
    """`nmbot serve --http` in a child process; its log lines are read as they come.

    `own_group`: the server leads a process group of its own, holding every process it starts, whatever
    its layout (`kill_group`)."""

    def __init__(self, env: dict, cwd, *, own_group: bool = False):
        command = [*NMBOT, "serve", "--http", "--host", "127.0.0.1", "--port", "0"]
        self.proc = subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, start_new_session=own_group)
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.output.append(line)
            self.lines.put(line)

    @property
    def text(self) -> str:
        return "".join(self.output)

    def wait_for_line(self, pattern: str, timeout: float = 20.0) -> re.Match:
        """The next line (after those already waited for) matching `pattern`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            if m := re.search(pattern, line):
                return m
        raise AssertionError(f"no line matching {pattern!r}; output:\n{self.text}")

    def start(self, timeout: float = 20.0) -> str:
        """Wait until the server listens and is healthy; its base URL."""
        url = self.wait_for_line(r"Listening at: (http://127\.0\.0\.1:\d+)", timeout).group(1)
        wait_until_healthy(url, timeout)
        return url

    def signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def kill_group(self) -> None:
        """SIGKILL to the server and every process it started, at once (start it with `own_group`)."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise


def wait_until_healthy(url: str, timeout: float = 20.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        try:
            response = get(url + "/healthz")
            if response.status == 200:
                return response.json()
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError("the server never became healthy")
        time.sleep(0.05)


def wait_until(condition, what: str, timeout: float = 20.0) -> None:
    """Poll `condition` until it holds; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)
