"""`nmbot serve` as a real child process (`--http`, or Socket Mode): its addresses, its log lines as they come,
signals, CPU time."""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys

from helpers import Lines, poll_until
from slack_requests import SIGNING_SECRET, get
from webapi_stub import APP_TOKEN, BOT_TOKEN, WebApiStub

NMBOT = [sys.executable, "-m", "nmbot"]


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
        self.log = Lines(self.proc.stdout)

    @property
    def output(self) -> list[str]:
        return self.log.output

    @property
    def text(self) -> str:
        return self.log.text

    def wait_for_line(self, pattern: str, timeout: float = 20.0) -> re.Match:
        """The next line (after those already waited for) matching `pattern`."""
        return self.log.wait_for(pattern, timeout)

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
    """The JSON of `url + path` once it answers 200 (refused connections meanwhile are the server starting)."""
    def healthy() -> dict | None:
        try:
            response = get(url + path)
        except OSError:
            return None
        return response.json() if response.status == 200 else None

    return poll_until(healthy, f"{url}{path} to answer 200", timeout, every=0.05)
