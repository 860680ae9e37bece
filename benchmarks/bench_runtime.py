"""Runtime: the serving runtime at real traffic, beside a bare Bolt app on the same gunicorn settings, in one run.

The load is 3x Slack's per-workspace ceiling, open loop (each request leaves on its
schedule, whatever the answers before it are doing):

  * warm-up: 5 pasted-log `message` events and 5 `/nmerror` commands over a second
    (counted for exactly-once, not for latency);
  * steady: 25 pasted-log events/s and 5 `/nmerror` commands/s for --seconds;
  * burst:  --burst events released at the same moment;
  * retries: the steady rates for --retry-seconds, where every tenth event delivery is
    Slack retrying an event sent just before (the same event_id, `X-Slack-Retry-Num: 1`,
    `X-Slack-Retry-Reason: http_timeout`), alternately 40 ms and 1 s after the original.

Two apps, both started before any traffic, driven in turns phase by phase (bare, then bot):

  * bot:  `nmbot serve --http` with its defaults (SQLite store in a temporary folder,
          NMBOT_WEB_WORKERS=1), driven only through its command line and environment;
  * bare: a Bolt app under gunicorn (one gthread worker, the thread count, timeouts of
          today's `nmbot serve --http`), on Bolt's stock WSGI adapter, whose listeners
          only ack and, for each new event, post one reply with chat.postMessage.

Both post to the Web API stand-in (tests/slack/webapi_stub.py) in a process of its own, which
notes when each chat.postMessage arrives. A reply's latency is from sending the event to that
arrival, matched by thread_ts. An ack's latency is from opening the connection to reading the
whole answer. Memory and CPU are the whole process tree of each server, read from /proc: the
sum of every process's RSS (PSS beside it, for information: forked processes share pages),
and utime+stime, with cutime+cstime of children already reaped, from just before the warm-up
to the end.

Targets: every event answered exactly once (retries included); bot ack p99 (steady) < 100 ms
and <= 1.5x bare; bot reply p99 (steady) < 500 ms; RSS and CPU <= 1.5x bare; every burst
request acked, the slowest inside 3 s.

    .venv/bin/python benchmarks/bench_runtime.py [--seconds 30] [--retry-seconds 10] [--burst 300]
                                                 [--mode http|socket|all] [--strict]
                                                 [--in-place-of-bot bot|async-bare]

The transports are drivers (`Driver`): `MODES` maps a mode to the drivers of its two apps, measured
mode after mode in one run. Socket Mode (`SocketDriver`): `nmbot serve` with its defaults beside a sync
Bolt App on Bolt's aiohttp SocketModeHandler with the same listeners, each connected to a WebSocket
stand-in (tests/slack/socket_stub.py) of its own, in a process of its own, that times each ack from
writing the envelope to reading its ack; a retry is the same payload (the same event_id) in a new
envelope with `retry_attempt`. Replies are matched at the Web API stand-in as in HTTP mode.
"""
from __future__ import annotations

import http.client
import itertools
import json
import multiprocessing
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable
from urllib.parse import urlencode, urlsplit

from _common import HERE, ROOT, Result, check, finish, fmt, heading, info, parser, percentile, venv_tool

EVENTS_PER_SECOND = 25
COMMANDS_PER_SECOND = 5
RETRY_EVERY = 10  # one event delivery in ten is a retry
START_SECONDS = 60  # a server's start-up, knowledge base and store included
REQUEST_SECONDS = 10  # one request's deadline: connecting, sending and reading the answer
REPLY_SECONDS = 60  # how long replies a phase earned may take to arrive before they count as missing
DOUBLE_GRACE_SECONDS = 2.0  # after the last reply, how long a second reply to the same event has to show up
STOP_SECONDS = 30  # SIGTERM to exit; the bot drains its replies first
GROUP_EXIT_SECONDS = 5  # after the server exits, how long its other processes may take to follow
SENDERS = 100  # open loop: this many requests can be outstanding before the schedule slips
SAMPLE_SECONDS = 1.0  # RSS samples during the run, for the peak

# The bare app's gunicorn settings: today's `nmbot serve --http` (bot/slack/server.py gunicorn_options).
BARE_GUNICORN = ["--workers", "1", "--worker-class", "gthread", "--threads", "8", "--timeout", "30",
                 "--graceful-timeout", "15", "--log-level", "info", "--no-control-socket"]

CHANNEL = "C0000LOAD"
USER = "U0000LOAD"
CODES = ("-2004", "-2008", "-2010", "-2001", "-2005", "-9999")
QUESTIONS = ("-2004", "trunk capacity exceeded", "-2008", "caller id not whitelisted", "what does -2001 mean",
             "tts failed", "-9999", "my calls drop after 10 seconds")


def _use_test_helpers() -> None:
    """The Slack test harness's modules: one signing secret, one Web API stand-in, shared with the tests."""
    for path in (str(ROOT / "tests" / "slack"), str(ROOT / "tests")):
        if path not in sys.path:
            sys.path.insert(0, path)


# --- the bare app, loaded by gunicorn in its worker ---------------------------------------------

def add_bare_listeners(app) -> None:
    """The bare app's listeners, in both modes: commands are acked, and each new event gets one reply in its
    thread. Slack's retries carry an event_id already seen; a set of them keeps the baseline exactly-once too,
    as cheaply as any app can."""
    seen: set[str] = set()
    lock = threading.Lock()

    @app.command("/nmerror")
    def nmerror(ack):
        ack()

    @app.event("message")
    def message(body, event, client):
        with lock:
            if body["event_id"] in seen:
                return
            seen.add(body["event_id"])
        client.chat_postMessage(channel=event["channel"], thread_ts=event["ts"], text="ok")


def bare_app():
    """Bolt on its stock WSGI adapter with the bare listeners."""
    from slack_bolt import App
    from slack_bolt.adapter.wsgi import SlackRequestHandler
    from slack_sdk import WebClient

    client = WebClient(token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"])
    app = App(client=client, signing_secret=os.environ["SLACK_SIGNING_SECRET"], token_verification_enabled=False)
    add_bare_listeners(app)

    return SlackRequestHandler(app)


def bare_socket_app() -> None:
    """The same listeners in Socket Mode, on Bolt's aiohttp SocketModeHandler (the adapter the bot builds on),
    until SIGTERM: then the connection is closed and the process exits 0, as the bot does."""
    import asyncio

    from slack_bolt import App
    from slack_bolt.adapter.socket_mode.aiohttp import SocketModeHandler
    from slack_sdk import WebClient
    from slack_sdk.web.async_client import AsyncWebClient

    api_url = os.environ["SLACK_API_URL"]
    app = App(client=WebClient(token=os.environ["SLACK_BOT_TOKEN"], base_url=api_url),
              token_verification_enabled=False)
    add_bare_listeners(app)

    async def serve() -> None:
        # apps.connections.open is awaited by the aiohttp client, so it needs the async Web API client.
        handler = SocketModeHandler(app, os.environ["SLACK_APP_TOKEN"], web_client=AsyncWebClient(base_url=api_url))
        stopping = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stopping.set)
        await handler.connect_async()
        print("bare Bolt app connected in Socket Mode", flush=True)
        await stopping.wait()
        await handler.close_async()

    asyncio.run(serve())


def bare_async_socket_app() -> None:
    """The same listeners on Bolt's AsyncApp (async listeners, replies over aiohttp), on the same adapter: with
    `--in-place-of-bot async-bare` it runs in the bot's place, to weigh AsyncApp as a base for the bot."""
    import asyncio

    from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    api_url = os.environ["SLACK_API_URL"]
    seen: set[str] = set()

    async def serve() -> None:
        app = AsyncApp(client=AsyncWebClient(token=os.environ["SLACK_BOT_TOKEN"], base_url=api_url))

        @app.command("/nmerror")
        async def nmerror(ack):
            await ack()

        @app.event("message")
        async def message(body, event, client):
            if body["event_id"] in seen:  # one event loop: no lock needed
                return
            seen.add(body["event_id"])
            await client.chat_postMessage(channel=event["channel"], thread_ts=event["ts"], text="ok")

        handler = AsyncSocketModeHandler(app, os.environ["SLACK_APP_TOKEN"], web_client=AsyncWebClient(base_url=api_url))
        stopping = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stopping.set)
        await handler.connect_async()
        await stopping.wait()
        await handler.close_async()

    asyncio.run(serve())


# --- the Web API stand-in, in a process of its own, noting when each reply arrives ---------------

def _serve_stub(conn) -> None:
    _use_test_helpers()
    from webapi_stub import WebApiStub

    posts: list[tuple[str, float]] = []  # (thread_ts, monotonic time of arrival) of each chat.postMessage
    lock = threading.Lock()
    sockets: dict[str, int] = {}  # app-level token -> the port of that app's Socket Mode stand-in
    tickets = itertools.count(1)

    class TimedStub(WebApiStub):
        def record(self, call) -> None:
            if call.method == "chat.postMessage":
                with lock:
                    posts.append((str(call.body.get("thread_ts") or ""), time.monotonic()))
            super().record(call)

        def answer(self, method: str, body: dict, headers: dict) -> dict:
            """Each Socket Mode app is sent to its own stand-in, known by its app-level token."""
            port = sockets.get(headers.get("authorization", "").removeprefix("Bearer "))
            if method == "apps.connections.open" and port:
                return {"ok": True, "url": f"ws://127.0.0.1:{port}/link/?ticket={next(tickets)}"}
            return super().answer(method, body, headers)

    stub = TimedStub().start()
    conn.send((stub.url, stub.api_url))
    while True:
        command, argument = conn.recv()
        if command == "posts":
            with lock:
                conn.send(posts[argument:])
            stub.calls.clear()  # only the arrivals above are needed; the call log would grow with every reply
        elif command == "socket":
            token, port = argument
            sockets[token] = port
            conn.send(None)
        else:
            stub.stop()
            conn.send(None)
            return


class StubProcess:
    """The stand-in's threads would otherwise share one interpreter lock with the load generator."""

    def __init__(self) -> None:
        self._conn, child = multiprocessing.Pipe()
        self._proc = multiprocessing.Process(target=_serve_stub, args=(child,), daemon=True)
        self._proc.start()
        if not self._conn.poll(START_SECONDS):
            self._proc.kill()
            raise RuntimeError("the Web API stand-in did not start")
        self.url, self.api_url = self._conn.recv()
        self._lock = threading.Lock()
        self._seen = 0
        self.replies: dict[str, list[float]] = {}  # thread_ts -> arrival times of the replies posted in it

    def fetch(self) -> None:
        """Take the replies that arrived since the last call."""
        with self._lock:
            self._conn.send(("posts", self._seen))
            if not self._conn.poll(REQUEST_SECONDS):
                raise RuntimeError("the Web API stand-in stopped answering")
            new = self._conn.recv()
            self._seen += len(new)
            for thread_ts, arrived in new:
                self.replies.setdefault(thread_ts, []).append(arrived)

    def route_socket(self, app_token: str, port: int) -> None:
        """apps.connections.open with `app_token` hands out the Socket Mode stand-in on `port`."""
        with self._lock:
            self._conn.send(("socket", (app_token, port)))
            if not self._conn.poll(REQUEST_SECONDS):
                raise RuntimeError("the Web API stand-in stopped answering")
            self._conn.recv()

    def stop(self) -> None:
        with self._lock:
            self._conn.send(("stop", None))
            self._conn.poll(REQUEST_SECONDS)
        self._proc.join(REQUEST_SECONDS)
        if self._proc.is_alive():
            self._proc.kill()


# --- the Socket Mode stand-in, one per app, each in a process of its own ------------------------

def _serve_socket(conn) -> None:
    """The WebSocket stand-in of tests/slack/socket_stub.py behind a pipe: envelopes in, acks out as they come."""
    _use_test_helpers()
    from socket_stub import SocketModeStub

    lock = threading.Lock()  # the loop's thread sends acks, this one answers requests

    def forward(ack) -> None:
        with lock:
            conn.send(("ack", ack.envelope_id, slack.sent.get(ack.envelope_id, ack.at), ack.at))

    slack = SocketModeStub(on_ack=forward).start()
    conn.send(("port", slack.port))
    while True:
        command, argument = conn.recv()
        if command == "send":
            envelope_id, kind, payload, retry_attempt = argument
            if slack.open_links():
                slack.send_nowait(kind, payload, envelope_id=envelope_id, retry_attempt=retry_attempt)
        elif command == "links":
            with lock:
                conn.send(("links", len(slack.open_links()), len(slack.links)))
        else:
            slack.stop()
            with lock:
                conn.send(("stopped", None))
            return


class SocketProcess:
    """One app's end of Socket Mode: the stand-in's loop would otherwise share an interpreter lock with
    the load generator's threads, and its clock is the one that times the acks."""

    def __init__(self) -> None:
        self._conn, child = multiprocessing.Pipe()
        self._proc = multiprocessing.Process(target=_serve_socket, args=(child,), daemon=True)
        self._proc.start()
        if not self._conn.poll(START_SECONDS):
            self._proc.kill()
            raise RuntimeError("the Socket Mode stand-in did not start")
        self.port = self._conn.recv()[1]
        self._send_lock = threading.Lock()
        self._waiting: dict[str, Future] = {}  # envelope_id -> (sent, acked) once its ack arrives
        self._replies: queue.Queue = queue.Queue()  # answers to requests other than sending
        self._ids = itertools.count(1)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        try:
            while True:
                kind, *rest = self._conn.recv()
                if kind == "ack":
                    envelope_id, sent, acked = rest
                    waiting = self._waiting.pop(envelope_id, None)
                    if waiting is not None:
                        waiting.set_result((sent, acked))
                else:
                    self._replies.put(rest)
        except (EOFError, OSError):
            self._replies.put(None)  # the stand-in ended: whoever waits is told at once

    def _request(self, command: str, argument=None):
        with self._send_lock:
            self._conn.send((command, argument))
        try:
            answer = self._replies.get(timeout=REQUEST_SECONDS)
        except queue.Empty:
            answer = None
        if answer is None:
            raise RuntimeError("the Socket Mode stand-in stopped answering")
        return answer

    def links(self) -> tuple[int, int]:
        """(connections open now, connections ever accepted)."""
        return tuple(self._request("links"))

    def deliver(self, kind: str, payload: dict, retry_attempt: int | None = None) -> Ack:
        """Send one envelope on the app's connection; the ack's time is from its writing to its ack's arrival,
        both on the stand-in's clock."""
        envelope_id = f"env-{next(self._ids):06d}"
        acked: Future = Future()
        self._waiting[envelope_id] = acked
        started = time.monotonic()
        with self._send_lock:
            self._conn.send(("send", (envelope_id, kind, payload, retry_attempt)))
        try:
            sent, at = acked.result(timeout=REQUEST_SECONDS)
        except FutureTimeout:
            self._waiting.pop(envelope_id, None)
            return Ack(False, time.monotonic() - started)
        return Ack(True, at - sent)

    def stop(self) -> None:
        try:
            self._request("stop")
        except (RuntimeError, OSError):
            pass
        self._proc.join(REQUEST_SECONDS)
        if self._proc.is_alive():
            self._proc.kill()


# --- a server's process tree, from /proc --------------------------------------------------------

def _stat_fields(pid: int) -> list[str]:
    """/proc/<pid>/stat after the command name (which may hold spaces): field 3 onwards."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def process_tree(root: int) -> list[int]:
    """`root` and all its descendants, whichever thread started them."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                children.setdefault(int(_stat_fields(int(entry.name))[1]), []).append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue  # it ended while we looked
    if not Path(f"/proc/{root}").exists():
        return []
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def _kib(path: str, field_name: str) -> int:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0  # ended, or a zombie: no memory


@dataclass(frozen=True)
class Footprint:
    processes: int
    rss_mib: float  # the sum of every process's resident set: what `ps` shows, shared pages counted in each
    pss_mib: float  # shared pages divided among the processes sharing them


def footprint(root: int) -> Footprint:
    pids = process_tree(root)
    rss = sum(_kib(f"/proc/{pid}/status", "VmRSS") for pid in pids)
    pss = sum(_kib(f"/proc/{pid}/smaps_rollup", "Pss") for pid in pids)
    return Footprint(len(pids), rss / 1024, pss / 1024)


def cpu_seconds(root: int) -> float:
    """User and system time of the tree so far, with that of the children its processes already reaped."""
    ticks = 0
    for pid in process_tree(root):
        try:
            fields = _stat_fields(pid)
            ticks += sum(int(fields[i]) for i in (11, 12, 13, 14))  # utime, stime, cutime, cstime
        except (OSError, IndexError, ValueError):
            continue
    return ticks / os.sysconf("SC_CLK_TCK")


# --- drivers: how the load reaches one app ------------------------------------------------------

@dataclass(frozen=True)
class Ack:
    ok: bool  # the app took it (HTTP 200)
    seconds: float
    status: int = 0


class Driver:
    """One app under test and the transport that carries Slack's requests to it.

    A driver starts its app in a process group of its own, sends it commands and events as Slack
    would, and stops it. `root_pid` is the process whose tree is measured."""

    name: str

    def start(self) -> None:
        raise NotImplementedError

    @property
    def root_pid(self) -> int:
        raise NotImplementedError

    def send_command(self, text: str) -> Ack:
        raise NotImplementedError

    def send_event(self, envelope: dict, retry: int = 0) -> Ack:
        """Deliver an Events API envelope; `retry` > 0 marks it as Slack's retry number `retry`."""
        raise NotImplementedError

    def stop(self) -> int:
        raise NotImplementedError

    @property
    def problems(self) -> list[str]:
        """Error lines and tracebacks the app logged."""
        return []

    def describe(self) -> str:
        """What the app said about how it serves (e.g. its gunicorn worker class), to compare the two."""
        return ""


class ServerProcess:
    """A server in a child process and process group of its own; its output is kept for the report."""

    def __init__(self, command: list[str], env: dict, cwd: Path):
        self.proc = subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, errors="replace", start_new_session=True)
        self.output: list[str] = []
        self.url = ""
        self._exit_code: int | None = None
        self._listening = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.output.append(line)
            found = re.search(r"Listening at: (http://127\.0\.0\.1:\d+)", line)
            if found and not self.url:
                self.url = found.group(1)
                self._listening.set()

    def wait_listening(self, timeout: float) -> str:
        if not self._listening.wait(timeout):
            raise RuntimeError(f"no 'Listening at' line within {timeout:g} s:\n{''.join(self.output)}")
        return self.url

    def stop(self) -> int:
        """SIGTERM to the server; SIGKILL to its process group if it lingers or leaves processes behind."""
        if self._exit_code is not None:
            return self._exit_code
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            code = self.proc.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            code = -signal.SIGKILL
        self._kill_group()
        self.proc.wait(STOP_SECONDS)
        self._exit_code = code
        return code

    def _group_alive(self) -> bool:
        try:
            os.killpg(self.proc.pid, 0)  # the group start_new_session made: only what we started
            return True
        except ProcessLookupError:
            return False

    def _kill_group(self) -> None:
        """Processes that outlive the server get a moment to end (a helper sees its pipe close, a zombie is
        reaped by init), then SIGKILL."""
        deadline = time.monotonic() + GROUP_EXIT_SECONDS
        while self._group_alive():
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)  # polling for the group to empty, with a deadline
        else:
            return
        print(f"  processes were left in the group of server {self.proc.pid} after it stopped: killed", flush=True)
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


class HttpDriver(Driver):
    """An app serving Slack's HTTP requests at /slack/events; requests signed as Slack signs them."""

    def __init__(self, name: str, command: list[str], env: dict, cwd: Path, ready_path: str,
                 ready: Callable[[int], bool], response_url: str):
        self.name = name
        self._command, self._env, self._cwd = command, env, cwd
        self._ready_path, self._ready = ready_path, ready
        self._response_url = response_url
        self._server: ServerProcess | None = None
        self._host, self._port = "", 0
        _use_test_helpers()
        from slack_requests import SIGNING_SECRET
        from slack_sdk.signature import SignatureVerifier
        self._verifier = SignatureVerifier(SIGNING_SECRET)

    def start(self) -> None:
        self._server = ServerProcess(self._command, self._env, self._cwd)
        parts = urlsplit(self._server.wait_listening(START_SECONDS))
        self._host, self._port = parts.hostname, parts.port
        deadline = time.monotonic() + START_SECONDS
        while not self._is_ready():
            if time.monotonic() > deadline or self._server.proc.poll() is not None:
                raise RuntimeError(f"the {self.name} app did not become ready:\n{''.join(self._server.output)}")
            time.sleep(0.05)  # polling for readiness with a deadline

    def _is_ready(self) -> bool:
        try:
            return self._ready(self._request("GET", self._ready_path, b"", {}))
        except (OSError, http.client.HTTPException):
            return False

    @property
    def root_pid(self) -> int:
        return self._server.proc.pid

    def send_command(self, text: str) -> Ack:
        form = command_fields(text, self._response_url)
        return self._post(urlencode(form).encode(), "application/x-www-form-urlencoded", {})

    def send_event(self, envelope: dict, retry: int = 0) -> Ack:
        extra = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"} if retry else {}
        return self._post(json.dumps(envelope).encode(), "application/json", extra)

    def _post(self, body: bytes, content_type: str, extra: dict) -> Ack:
        timestamp = str(int(time.time()))
        headers = {"Content-Type": content_type, "X-Slack-Request-Timestamp": timestamp,
                   "X-Slack-Signature": self._verifier.generate_signature(timestamp=timestamp, body=body), **extra}
        started = time.monotonic()
        try:
            status = self._request("POST", "/slack/events", body, headers)
        except (OSError, http.client.HTTPException):
            status = 0
        return Ack(status == 200, time.monotonic() - started, status)

    def _request(self, method: str, path: str, body: bytes, headers: dict) -> int:
        """The status of one request on a connection of its own, as Slack's deliveries come; the socket
        timeout bounds each step and the answers are small, so REQUEST_SECONDS bounds it all in practice."""
        conn = http.client.HTTPConnection(self._host, self._port, timeout=REQUEST_SECONDS)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            return response.status
        finally:
            conn.close()

    def stop(self) -> int:
        return self._server.stop() if self._server else 0

    def describe(self) -> str:
        found = [m.group(1) for line in self._server.output if (m := re.search(r"Using worker: (\S+)", line))]
        return f"gunicorn worker class {found[0]}" if found else "no gunicorn worker class logged"

    @property
    def problems(self) -> list[str]:
        lines = self._server.output if self._server else []
        return [line.rstrip() for line in lines if "Traceback" in line or " ERROR " in line or "[ERROR]" in line]


class SocketDriver(Driver):
    """An app connected in Socket Mode to a stand-in of its own; envelopes go down its WebSocket as Slack
    sends them, a retry being the same payload (the same event_id) in a new envelope with `retry_attempt`."""

    def __init__(self, name: str, command: list[str], env: dict, cwd: Path, stub: StubProcess, response_url: str):
        self.name = name
        self._command, self._env, self._cwd, self._stub = command, env, cwd, stub
        self._response_url = response_url
        self._server: ServerProcess | None = None
        self._socket: SocketProcess | None = None

    def start(self) -> None:
        self._socket = SocketProcess()
        self._stub.route_socket(self._env["SLACK_APP_TOKEN"], self._socket.port)
        self._server = ServerProcess(self._command, self._env, self._cwd)
        deadline = time.monotonic() + START_SECONDS
        while self._socket.links()[0] < 1:
            if time.monotonic() > deadline or self._server.proc.poll() is not None:
                raise RuntimeError(f"the {self.name} app did not connect:\n{''.join(self._server.output)}")
            time.sleep(0.05)  # polling for the connection with a deadline

    @property
    def root_pid(self) -> int:
        return self._server.proc.pid

    def send_command(self, text: str) -> Ack:
        return self._socket.deliver("slash_commands", command_fields(text, self._response_url))

    def send_event(self, envelope: dict, retry: int = 0) -> Ack:
        return self._socket.deliver("events_api", envelope, retry or None)

    def stop(self) -> int:
        code = self._server.stop() if self._server else 0
        if self._socket:
            self._socket.stop()
            self._socket = None
        return code

    def describe(self) -> str:
        open_now, ever = self._socket.links() if self._socket else (0, 0)
        return f"{open_now} WebSocket connection(s) open, {ever} accepted"

    @property
    def problems(self) -> list[str]:
        lines = self._server.output if self._server else []
        problems = [line.rstrip() for line in lines if "Traceback" in line or " ERROR " in line or "[ERROR]" in line]
        if self._socket:
            ever = self._socket.links()[1]
            if ever > 1:
                problems.append(f"{ever} WebSocket connections accepted: the app reconnected during the run")
        return problems


def command_fields(text: str, response_url: str) -> dict:
    """A /nmerror command as Slack sends it: a form over HTTP, the same fields as a Socket Mode payload."""
    return {"token": "legacy", "team_id": "T0001", "team_domain": "load", "channel_id": CHANNEL,
            "channel_name": "support", "user_id": USER, "user_name": "pat", "command": "/nmerror",
            "text": text, "api_app_id": "A0001", "response_url": response_url, "trigger_id": "1.2.3"}


def _free_port() -> int:
    """A free loopback port for the bot's probe server (NMBOT_METRICS_PORT), away from its default 9000."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _base_env(stub: StubProcess) -> dict:
    _use_test_helpers()
    from slack_requests import SIGNING_SECRET
    from webapi_stub import BOT_TOKEN

    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "NMBOT_"))}
    env.update(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_API_URL=stub.api_url)
    return env


def _with_path(env: dict, *paths: Path) -> dict:
    return {**env, "PYTHONPATH": os.pathsep.join([*map(str, paths), *filter(None, [env.get("PYTHONPATH")])])}


def http_drivers(stub: StubProcess, workdir: Path) -> list[Driver]:
    """The bare Bolt app and `nmbot serve --http`, bare first (it is driven first in every phase)."""
    response_url = stub.url + "response/load"
    bare_dir, bot_dir = workdir / "bare", workdir / "bot"
    bare_dir.mkdir()
    bot_dir.mkdir()
    bare = HttpDriver(
        "bare", [sys.executable, "-m", "gunicorn", *BARE_GUNICORN, "--bind", "127.0.0.1:0", "bench_runtime:bare_app()"],
        _with_path(_base_env(stub), HERE, ROOT), bare_dir, "/slack/events", lambda status: status > 0, response_url)
    command = _nmbot()
    # Only the command line and the environment: the bot's defaults otherwise (its SQLite file lands in bot_dir).
    env = _with_path({**_base_env(stub), "NMBOT_WEB_WORKERS": "1", "NMBOT_METRICS_HOST": "127.0.0.1",
                      "NMBOT_METRICS_PORT": str(_free_port())}, ROOT)
    bot = HttpDriver("bot", [*command, "serve", "--http", "--host", "127.0.0.1", "--port", "0"], env, bot_dir,
                     "/healthz", lambda status: status == 200, response_url)
    return [bare, bot]


def socket_drivers(stub: StubProcess, workdir: Path) -> list[Driver]:
    """The bare Bolt app and `nmbot serve` in Socket Mode, bare first; each app has a stand-in of its own,
    found through its own app-level token."""
    _use_test_helpers()
    from webapi_stub import APP_TOKEN

    response_url = stub.url + "response/load"
    bare_dir, bot_dir = workdir / "bare-socket", workdir / "bot-socket"
    bare_dir.mkdir()
    bot_dir.mkdir()
    env = {k: v for k, v in _base_env(stub).items() if k != "SLACK_SIGNING_SECRET"}  # Socket Mode has none
    bare = SocketDriver("bare", [sys.executable, "-c", "import bench_runtime; bench_runtime.bare_socket_app()"],
                        _with_path({**env, "SLACK_APP_TOKEN": APP_TOKEN + "-bare"}, HERE, ROOT), bare_dir, stub,
                        response_url)
    # The bot's defaults otherwise: its SQLite file lands in bot_dir; no probe server (the HTTP run has one).
    command = [*_nmbot(), "serve"]
    if IN_PLACE_OF_BOT == "async-bare":
        command = [sys.executable, "-c", "import bench_runtime; bench_runtime.bare_async_socket_app()"]
    bot = SocketDriver("bot", command,
                       _with_path({**env, "SLACK_APP_TOKEN": APP_TOKEN, "NMBOT_METRICS_PORT": "0"}, HERE, ROOT), bot_dir,
                       stub, response_url)
    return [bare, bot]


IN_PLACE_OF_BOT = "bot"  # --in-place-of-bot


def _nmbot() -> list[str]:
    nmbot = venv_tool("nmbot")
    return [str(nmbot)] if nmbot.exists() else [sys.executable, "-m", "nmbot"]


MODES: dict[str, Callable[[StubProcess, Path], list[Driver]]] = {"http": http_drivers, "socket": socket_drivers}


# --- the load -----------------------------------------------------------------------------------

_ids = itertools.count(1)
_epoch = int(time.time())


def pasted_log(n: int) -> str:
    code = CODES[n % len(CODES)]
    return (f"2026-11-30T10:{n % 60:02d}:00.120Z INFO  session={n:08x} call started from +6591234567\n"
            f"2026-11-30T10:{n % 60:02d}:01.480Z ERROR session={n:08x} call failed errorCode={code} "
            f"errorMsg=\"Number masking request failed\" durationMs={n % 900 + 100}\n")


def new_event() -> dict:
    """An Events API envelope for a new message holding a pasted log: it earns one reply, in its own thread."""
    n = next(_ids)
    event = {"type": "message", "channel": CHANNEL, "user": USER, "channel_type": "channel", "team": "T0001",
             "text": pasted_log(n), "ts": f"{_epoch}.{n:06d}"}
    return {"token": "legacy", "team_id": "T0001", "api_app_id": "A0001", "type": "event_callback",
            "event_id": f"EvRt{_epoch}{n:07d}", "event_time": int(time.time()), "event": event,
            "authorizations": [{"team_id": "T0001", "user_id": "UBOT0001", "is_bot": True}]}


@dataclass(frozen=True)
class Planned:
    at: float  # seconds after the phase starts
    kind: str  # "command", "event" or "retry"
    text: str = ""  # a command's text
    envelope: dict | None = None  # an event's; a retry repeats its original's


def steady_plan(seconds: float, retries: bool = False) -> list[Planned]:
    """EVENTS_PER_SECOND events and COMMANDS_PER_SECOND commands a second, evenly spaced. With `retries`,
    every RETRY_EVERY-th event slot repeats an earlier event: alternately the one just before (while its
    reply may still be in the making) and the one a second before (long answered)."""
    plan, events = [], []
    for i in range(int(seconds * EVENTS_PER_SECOND)):
        at = i / EVENTS_PER_SECOND
        if retries and i % RETRY_EVERY == RETRY_EVERY - 1:
            back = EVENTS_PER_SECOND if (i // RETRY_EVERY) % 2 and i >= EVENTS_PER_SECOND else 1
            plan.append(Planned(at, "retry", envelope=events[i - back]))
            events.append(None)
        else:
            events.append(new_event())
            plan.append(Planned(at, "event", envelope=events[-1]))
    for j in range(int(seconds * COMMANDS_PER_SECOND)):
        plan.append(Planned((j + 0.5) / COMMANDS_PER_SECOND, "command", QUESTIONS[j % len(QUESTIONS)]))
    return sorted(plan, key=lambda p: p.at)


def warm_up_plan() -> list[Planned]:
    return sorted([Planned(i / 5, "event", envelope=new_event()) for i in range(5)]
                  + [Planned((i + 0.5) / 5, "command", QUESTIONS[i]) for i in range(5)], key=lambda p: p.at)


@dataclass(frozen=True)
class Sent:
    kind: str
    thread_ts: str  # an event's ts: its reply's thread; "" for commands
    started: float  # monotonic
    late: float  # seconds behind its schedule (the generator's own delay)
    ack: Ack


def send(driver: Driver, item: Planned, scheduled: float) -> Sent:
    started = time.monotonic()
    if item.kind == "command":
        ack, thread_ts = driver.send_command(item.text), ""
    else:
        ack = driver.send_event(item.envelope, retry=1 if item.kind == "retry" else 0)
        thread_ts = item.envelope["event"]["ts"]
    return Sent(item.kind, thread_ts, started, started - scheduled, ack)


def run_open_loop(driver: Driver, plan: list[Planned]) -> list[Sent]:
    """Each request leaves at its time, whether or not earlier ones were answered."""
    with ThreadPoolExecutor(max_workers=SENDERS) as pool:
        t0 = time.monotonic() + 0.05
        futures = []
        for item in plan:
            delay = t0 + item.at - time.monotonic()
            if delay > 0:
                time.sleep(delay)  # keeping to the schedule, not waiting for a result
            futures.append(pool.submit(send, driver, item, t0 + item.at))
        return [f.result(timeout=REQUEST_SECONDS * 3) for f in futures]


def run_burst(driver: Driver, size: int) -> list[Sent]:
    """`size` new events released at the same moment, each on its own connection."""
    envelopes = [new_event() for _ in range(size)]
    gate = threading.Barrier(size + 1)
    sent: list[Sent] = []
    lock = threading.Lock()

    def one(envelope: dict) -> None:
        try:
            gate.wait(START_SECONDS)
        except threading.BrokenBarrierError:
            return
        result = send(driver, Planned(0.0, "event", envelope=envelope), time.monotonic())
        with lock:
            sent.append(result)

    threads = [threading.Thread(target=one, args=(e,), daemon=True) for e in envelopes]
    for t in threads:
        t.start()
    gate.wait(START_SECONDS)
    deadline = time.monotonic() + REQUEST_SECONDS * 3
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    with lock:
        answered = {s.thread_ts for s in sent}
        never = [Sent("event", e["event"]["ts"], 0.0, 0.0, Ack(False, float("inf")))
                 for e in envelopes if e["event"]["ts"] not in answered]
        return sent + never


# --- replies ------------------------------------------------------------------------------------

def wait_for_replies(stub: StubProcess, threads: set[str], seconds: float = REPLY_SECONDS) -> None:
    """Until every thread in `threads` has a reply, or `seconds` pass."""
    deadline = time.monotonic() + seconds
    while True:
        stub.fetch()
        if all(t in stub.replies for t in threads) or time.monotonic() > deadline:
            return
        time.sleep(0.1)  # polling the stand-in with a deadline


def reply_latencies_ms(stub: StubProcess, sent: list[Sent]) -> list[float]:
    """For each new event sent, from sending it to the arrival of the first reply in its thread."""
    return [(stub.replies[s.thread_ts][0] - s.started) * 1000
            for s in sent if s.kind == "event" and s.thread_ts in stub.replies]


# --- one app through all phases -----------------------------------------------------------------

@dataclass
class AppRun:
    driver: Driver
    phases: dict[str, list[Sent]] = field(default_factory=dict)
    before: Footprint | None = None
    after: Footprint | None = None
    peak_rss_mib: float = 0.0
    cpu_start: float = 0.0
    cpu: float = float("nan")
    exit_code: int | None = None

    @property
    def name(self) -> str:
        return self.driver.name

    def sent(self, phase: str | None = None) -> list[Sent]:
        return [s for p, v in self.phases.items() if phase in (None, p) for s in v]

    def threads(self) -> set[str]:
        return {s.thread_ts for s in self.sent() if s.kind != "command"}

    def acks_ms(self, phase: str, kind: str | None = None) -> list[float]:
        return [s.ack.seconds * 1000 for s in self.sent(phase) if s.ack.ok and kind in (None, s.kind)]

    def refused(self, phase: str | None = None) -> int:
        return sum(not s.ack.ok for s in self.sent(phase))


class Sampler:
    """The RSS of each app's tree every SAMPLE_SECONDS, for the peak."""

    def __init__(self, runs: list[AppRun]):
        self._runs, self._stop = runs, threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> "Sampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(REQUEST_SECONDS)

    def _loop(self) -> None:
        while not self._stop.wait(SAMPLE_SECONDS):
            for run in self._runs:
                run.peak_rss_mib = max(run.peak_rss_mib, footprint(run.driver.root_pid).rss_mib)


def phases(seconds: float, retry_seconds: float, burst: int) -> list[tuple[str, Callable[[Driver], list[Sent]]]]:
    return [("warm-up", lambda d: run_open_loop(d, warm_up_plan())),
            ("steady", lambda d: run_open_loop(d, steady_plan(seconds))),
            ("burst", lambda d: run_burst(d, burst)),
            ("retries", lambda d: run_open_loop(d, steady_plan(retry_seconds, retries=True)))]


def measure_mode(mode: str, stub: StubProcess, args) -> list[AppRun]:
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="nmbot-bench-")))
        runs = []
        for driver in MODES[mode](stub, workdir):
            stack.callback(driver.stop)  # on any failure too; stopping twice is harmless
            driver.start()
            runs.append(AppRun(driver))
        for run in runs:
            run.before = footprint(run.driver.root_pid)
            run.peak_rss_mib = run.before.rss_mib
            run.cpu_start = cpu_seconds(run.driver.root_pid)
            print(f"  {run.name}: {run.before.processes} processes, RSS {run.before.rss_mib:.1f} MiB before traffic; "
                  f"{run.driver.describe()}", flush=True)
        with Sampler(runs):
            for phase, drive in phases(args.seconds, args.retry_seconds, args.burst):
                heading(f"{mode}: {phase}")
                for run in runs:
                    run.phases[phase] = drive(run.driver)
                    wait_for_replies(stub, {s.thread_ts for s in run.phases[phase] if s.kind != "command"})
                    print_phase(stub, run, phase)
        stub.fetch()
        time.sleep(DOUBLE_GRACE_SECONDS)  # a second reply to an event already answered needs time to show up
        stub.fetch()
        for run in runs:
            run.after = footprint(run.driver.root_pid)
            run.cpu = cpu_seconds(run.driver.root_pid) - run.cpu_start
        for run in runs:
            run.exit_code = run.driver.stop()
    return runs


def print_phase(stub: StubProcess, run: AppRun, phase: str) -> None:
    sent = run.phases[phase]
    acks = [s.ack.seconds * 1000 for s in sent if s.ack.ok]
    replies = reply_latencies_ms(stub, sent)
    late = [s.late * 1000 for s in sent]
    print(f"  {run.name:4}: {len(sent)} requests, {run.refused(phase)} not acked; ack p50 {fmt(percentile(acks, 50))} "
          f"p99 {fmt(percentile(acks, 99))} max {fmt(max(acks, default=float('nan')))} ms; reply p50 "
          f"{fmt(percentile(replies, 50))} p99 {fmt(percentile(replies, 99))} ms ({len(replies)} replies); "
          f"sent late p99 {fmt(percentile(late, 99))} ms", flush=True)


# --- the report ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Once:
    events: int
    missing: int
    doubled: int  # events with more than one reply


def exactly_once(stub: StubProcess, run: AppRun) -> Once:
    threads = run.threads()
    counts = [len(stub.replies.get(t, [])) for t in threads]
    return Once(len(threads), sum(c == 0 for c in counts), sum(c > 1 for c in counts))


def figures(stub: StubProcess, run: AppRun) -> dict[str, float]:
    once = exactly_once(stub, run)
    burst_acks = [s.ack.seconds * 1000 if s.ack.ok else float("inf") for s in run.sent("burst")]
    return {
        "ack p50, steady (ms)": percentile(run.acks_ms("steady"), 50),
        "ack p99, steady (ms)": percentile(run.acks_ms("steady"), 99),
        "ack p99, steady commands (ms)": percentile(run.acks_ms("steady", "command"), 99),
        "ack p99, steady events (ms)": percentile(run.acks_ms("steady", "event"), 99),
        "reply p50, steady (ms)": percentile(reply_latencies_ms(stub, run.sent("steady")), 50),
        "reply p99, steady (ms)": percentile(reply_latencies_ms(stub, run.sent("steady")), 99),
        "ack p99, burst (ms)": percentile(run.acks_ms("burst"), 99),
        "slowest ack, burst (ms)": max(burst_acks, default=float("nan")),
        "reply p99, burst (ms)": percentile(reply_latencies_ms(stub, run.sent("burst")), 99),
        "ack p99, retries phase (ms)": percentile(run.acks_ms("retries"), 99),
        "reply p99, retries phase (ms)": percentile(reply_latencies_ms(stub, run.sent("retries")), 99),
        "events (distinct)": once.events,
        "retries sent": len([s for s in run.sent() if s.kind == "retry"]),
        "events answered exactly once": once.events - once.missing - once.doubled,
        "events not answered": once.missing,
        "events answered twice or more": once.doubled,
        "requests not acked": run.refused(),
        "processes before traffic": run.before.processes,
        "RSS before traffic (MiB)": run.before.rss_mib,
        "processes at the end": run.after.processes,
        "RSS at the end (MiB)": run.after.rss_mib,
        "RSS peak, 1 s samples (MiB)": run.peak_rss_mib,
        "PSS at the end (MiB)": run.after.pss_mib,
        "CPU over the run (s)": run.cpu,
        "sent late p99 (ms)": percentile([s.late * 1000 for s in run.sent()], 99),
        "error lines logged": len(run.driver.problems),
    }


def _shown(key: str, value: float) -> str:
    return fmt(value) if "(" in key else f"{value:,.0f}"  # a unit in the name, or a count


def side_by_side(mode: str, bot: dict[str, float], bare: dict[str, float]) -> None:
    heading(f"{mode}: nmbot beside bare Bolt")
    width = max(map(len, bot))
    print(f"  {'':<{width}}  {'nmbot':>10}  {'bare':>10}  {'nmbot/bare':>10}")
    for key in bot:
        ratio = fmt(bot[key] / bare[key]) if bare[key] else ""
        print(f"  {key:<{width}}  {_shown(key, bot[key]):>10}  {_shown(key, bare[key]):>10}  {ratio:>10}")


def report(mode: str, stub: StubProcess, runs: list[AppRun]) -> list[Result]:
    by_name = {run.name: run for run in runs}
    bot, bare = figures(stub, by_name["bot"]), figures(stub, by_name["bare"])
    side_by_side(mode, bot, bare)
    for run in runs:
        for line in run.driver.problems[:20]:
            print(f"  {run.name} logged: {line}")
        print(f"  {run.name} exit code {run.exit_code}")
    m = f"{mode}: "
    ack_ratio = bot["ack p99, steady (ms)"] / bare["ack p99, steady (ms)"]
    rss_ratio = bot["RSS at the end (MiB)"] / bare["RSS at the end (MiB)"]
    cpu_ratio = bot["CPU over the run (s)"] / bare["CPU over the run (s)"]
    return [
        check(m + "bot events not answered", bot["events not answered"], "", "<=", 0, "0"),
        check(m + "bot events answered twice or more", bot["events answered twice or more"], "", "<=", 0, "0"),
        info(m + "bot events answered exactly once", bot["events answered exactly once"], ""),
        check(m + "bare events not answered or doubled",
              bare["events not answered"] + bare["events answered twice or more"], "", "<=", 0, "0"),
        check(m + "bot requests not acked", bot["requests not acked"], "", "<=", 0, "0"),
        check(m + "bot ack p99, steady", bot["ack p99, steady (ms)"], "ms", "<", 100),
        info(m + "bare ack p99, steady", bare["ack p99, steady (ms)"], "ms"),
        check(m + "bot / bare ack p99, steady", ack_ratio, "x", "<=", 1.5, "1.5"),
        check(m + "bot reply p99, steady", bot["reply p99, steady (ms)"], "ms", "<", 500),
        info(m + "bare reply p99, steady", bare["reply p99, steady (ms)"], "ms"),
        check(m + "bot slowest burst ack", bot["slowest ack, burst (ms)"], "ms", "<", 3000),
        info(m + "bot reply p99, burst", bot["reply p99, burst (ms)"], "ms"),
        info(m + "bare reply p99, burst", bare["reply p99, burst (ms)"], "ms"),
        info(m + "bot RSS before traffic", bot["RSS before traffic (MiB)"], "MiB"),
        info(m + "bot RSS at the end", bot["RSS at the end (MiB)"], "MiB"),
        info(m + "bare RSS at the end", bare["RSS at the end (MiB)"], "MiB"),
        check(m + "bot / bare RSS", rss_ratio, "x", "<=", 1.5, "1.5"),
        info(m + "bot CPU", bot["CPU over the run (s)"], "s"),
        info(m + "bare CPU", bare["CPU over the run (s)"], "s"),
        check(m + "bot / bare CPU", cpu_ratio, "x", "<=", 1.5, "1.5"),
        check(m + "bot error lines logged", bot["error lines logged"], "", "<=", 0, "0"),
    ]


def main() -> int:
    p = parser(__doc__)
    p.add_argument("--seconds", type=float, default=30.0, help="length of the steady phase")
    p.add_argument("--retry-seconds", type=float, default=10.0, help="length of the phase with 10%% retries")
    p.add_argument("--burst", type=int, default=300, help="events released at once")
    p.add_argument("--mode", choices=[*MODES, "all"], default="all", help="the transport(s) to measure, in turn")
    p.add_argument("--http-only", action="store_true", help="the same as --mode http")
    p.add_argument("--in-place-of-bot", choices=["bot", "async-bare"], default="bot",
                   help="Socket Mode only: async-bare runs the bare listeners on Bolt's AsyncApp where the bot runs")
    args = p.parse_args()
    global IN_PLACE_OF_BOT
    IN_PLACE_OF_BOT = args.in_place_of_bot
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; "
          f"{EVENTS_PER_SECOND} events/s + {COMMANDS_PER_SECOND} commands/s for {args.seconds:g} s, a burst of "
          f"{args.burst}, {args.retry_seconds:g} s with 1 event delivery in {RETRY_EVERY} a retry", flush=True)
    mode = "http" if args.http_only else args.mode
    wanted = list(MODES) if mode == "all" else [mode]
    stub = StubProcess()
    results: list[Result] = []
    try:
        for mode in wanted:
            results += report(mode, stub, measure_mode(mode, stub, args))
    except RuntimeError as exc:  # an app that would not start, or a stand-in that stopped answering
        print(f"bench_runtime: {exc}", file=sys.stderr)
        return 2
    finally:
        stub.stop()
    return finish(results, args)


if __name__ == "__main__":
    sys.exit(main())
