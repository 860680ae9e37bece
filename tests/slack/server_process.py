"""`nmbot serve` as a real child process (`--http`, or Socket Mode): its addresses, its log lines as they come,
signals, CPU time."""
from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time

from slack_requests import SIGNING_SECRET, get
from webapi_stub import APP_TOKEN, BOT_TOKEN, WebApiStub

NMBOT = [sys.executable, "-m", "nmbot.cli.main"]


def clean_env(**values: str) -> dict:
    """This process's environment without Slack's or nmbot's settings, plus `values`; the probe server is
    off unless `values` turn it on (its default address is every interface, port 9000)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "NMBOT_", "PROMETHEUS_"))}
    return {**env, "NMBOT_METRICS_PORT": "0", **values}


def free_port() -> int:
    """A loopback port nothing listens on now (the probe port must be known before the server starts:
    its workers all bind that one port)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bot_env(stub: WebApiStub, **values: str) -> dict:
    """The environment of a bot talking to `stub`, plus `values`. State in a SQLite file in the server's
    working folder, as in production; the probes on a loopback port of their own."""
    base = dict(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_API_URL=stub.api_url,
                NMBOT_DATABASE_URL="sqlite:///state.sqlite3", NMBOT_LOG_LEVEL="info",
                NMBOT_METRICS_HOST="127.0.0.1", NMBOT_METRICS_PORT=str(free_port()))
    return clean_env(**{**base, **values})


def socket_env(stub: WebApiStub, **values: str) -> dict:
    """The environment of a Socket Mode bot whose apps.connections.open is `stub`'s (no signing secret)."""
    base = dict(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_APP_TOKEN=APP_TOKEN, SLACK_API_URL=stub.api_url,
                NMBOT_DATABASE_URL="sqlite:///state.sqlite3", NMBOT_LOG_LEVEL="info")
    return clean_env(**{**base, **values})


class ServerProcess:
    """`nmbot serve --http` (or `nmbot serve` with `http=False`) in a child process; its log lines are read
    as they come.

    `own_group`: the server leads a process group of its own, holding every process it starts, whatever
    its layout (`kill_group`)."""

    def __init__(self, env: dict, cwd, *, http: bool = True, own_group: bool = False):
        command = [*NMBOT, "serve", *(["--http", "--host", "127.0.0.1", "--port", "0"] if http else [])]
        port = int(env.get("NMBOT_METRICS_PORT") or 0)
        self.probe_url = f"http://127.0.0.1:{port}" if port else ""
        self.url = ""
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
        """Wait until the server listens and is healthy (and ready, on the probe port); its base URL."""
        self.url = self.wait_for_line(r"Listening at: (http://127\.0\.0\.1:\d+)", timeout).group(1)
        wait_until_healthy(self.url, timeout)
        if self.probe_url:
            wait_until_healthy(self.probe_url, timeout, path="/readyz")
        return self.url

    def signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def cpu_seconds(self) -> float:
        """User and system CPU time the process has used so far (Linux /proc)."""
        with open(f"/proc/{self.proc.pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

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


def wait_until_healthy(url: str, timeout: float = 20.0, path: str = "/healthz") -> dict:
    deadline = time.monotonic() + timeout
    while True:
        try:
            response = get(url + path)
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
