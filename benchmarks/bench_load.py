"""Load: signed slash commands and events over loopback at rising concurrency, the bot against a bare Bolt app.

Two apps on the same server stack (`bot.slack.server.run_gunicorn`: gunicorn,
one gthread worker, the same threads, timeouts and logging), each in its own
process, measured in the same run and taking turns (bare, bot, bare, bot ... at
every level; the best of --rounds per app), since the machine is shared:

  * bot:  `nmbot serve --http`, the full bot: answers /nmerror in the ack, replies to
          every pasted log in a thread through the local Web API stand-in (from its
          worker), state in SQLite (default; --database postgresql uses
          the local server);
  * bare: a Bolt app with the same listeners' names that only acknowledges.

Half the requests are `/nmerror` commands (codes and questions), half `message`
events holding an error code (each a new message, so each earns one reply).
Closed loop: N clients on keep-alive connections send as fast as answers come;
the requests are built and signed before each run, so the generator's own work
during the run (it shares the two cores) is little more than the HTTP itself.
The Web API stand-in (tests/slack/webapi_stub.py) runs in a process of its own
and counts chat.postMessage per thread.

The bot's throughput counts a run until the last reply its events earned was
posted ("replies done N s after"), so replies that pile up behind fast acks count
against it; its CPU is the gunicorn worker's.

Targets: the bot's throughput >= 80 % of the bare app's at every level from 10
clients up; p99 ack < 100 ms at 50 clients; replies == events sent, none lost
and none duplicated.

    .venv/bin/python benchmarks/bench_load.py [--levels 1,10,50,100] [--seconds 5] [--rounds 2]
                                              [--database sqlite|postgresql] [--web-workers N] [--strict]
"""
from __future__ import annotations

import contextlib
import http.client
import itertools
import json
import multiprocessing
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator
from urllib.parse import urlencode, urlsplit

from _common import ROOT, check, finish, heading, info, parser, percentile

sys.path[:0] = [str(ROOT / "tests" / "slack"), str(ROOT / "tests")]
from pg_schema import fresh_schema, pg_base_url  # noqa: E402 - the test helpers: one way to do each thing
from slack_requests import SIGNING_SECRET  # noqa: E402
from webapi_stub import BOT_TOKEN, WebApiStub  # noqa: E402

from slack_sdk.signature import SignatureVerifier  # noqa: E402

CHANNEL = "C0000LOAD"
QUESTIONS = ("-2004", "trunk capacity exceeded", "-2008", "caller id not whitelisted", "what does -2001 mean",
             "tts failed", "-9999", "my calls drop after 10 seconds")
START_TIMEOUT = 30
REPLY_TIMEOUT = 60  # seconds to wait for the last reply after the last event was acknowledged


# --- the Web API stand-in, in a process of its own ----------------------------------------------

def _serve_stub(conn) -> None:
    stub = WebApiStub().start()
    conn.send(stub.api_url)
    while True:
        command = conn.recv()
        if command == "count":
            posts = stub.calls_to("chat.postMessage")
            conn.send((len(posts), len({p.body.get("thread_ts") for p in posts})))
        elif command == "reset":
            stub.calls.clear()  # the soak would otherwise keep every call it ever got
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
        self.api_url = self._conn.recv()
        self._lock = threading.Lock()

    def _ask(self, command: str):
        with self._lock:
            self._conn.send(command)
            return self._conn.recv()

    def replies(self) -> tuple[int, int]:
        """(chat.postMessage calls, distinct threads they went to)."""
        return self._ask("count")

    def reset(self) -> None:
        self._ask("reset")

    def stop(self) -> None:
        self._ask("stop")
        self._proc.join(10)


# --- the apps under test ----------------------------------------------------------------------

def serve_bare(port: int) -> int:
    """The bare app: Bolt, the same listener names, nothing but the ack."""
    from slack_bolt import App
    from slack_bolt.adapter.wsgi import SlackRequestHandler
    from slack_sdk import WebClient

    from nmbot import logs
    from nmbot.settings import Settings
    from nmbot.slack.server import run_gunicorn

    settings = Settings.from_env()
    logs.configure(settings)

    def load():
        # Bolt asks auth.test who it is on the first request: the stand-in answers, as for the bot.
        client = WebClient(token=BOT_TOKEN, base_url=settings.slack_api_url)
        app = App(client=client, signing_secret=SIGNING_SECRET, token_verification_enabled=False)

        @app.command("/nmerror")
        def nmerror(ack):
            ack()

        @app.event("message")
        def message():
            pass

        @app.event("app_mention")
        def app_mention():
            pass

        return SlackRequestHandler(app)

    return run_gunicorn(load, settings, "127.0.0.1", port)


class Server:
    """One app in a child process on a free loopback port; its output is kept for the report."""

    def __init__(self, kind: str, api_url: str, workdir: Path, database_url: str, **settings: str):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "NMBOT_"))}
        env.update(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_API_URL=api_url,
                   NMBOT_DATABASE_URL=database_url, NMBOT_LOG_LEVEL="info", NMBOT_METRICS_PORT="0",
                   PYTHONPATH=str(ROOT), **settings)
        if kind == "bot":
            command = [sys.executable, "-m", "nmbot.cli.main", "serve", "--http", "--host", "127.0.0.1", "--port", "0"]
        else:
            command = [sys.executable, str(Path(__file__).resolve()), "--serve-bare"]
        self.kind = kind
        self.proc = subprocess.Popen(command, env=env, cwd=workdir, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        self.output: list[str] = []
        listening = threading.Event()
        self.url = ""

        def read() -> None:
            for line in self.proc.stdout:
                self.output.append(line)
                found = re.search(r"Listening at: (http://127\.0\.0\.1:\d+)", line)
                if found:
                    self.url = found.group(1)
                    listening.set()

        threading.Thread(target=read, daemon=True).start()
        if not listening.wait(START_TIMEOUT) or not self._wait_ready():
            self.stop()
            raise RuntimeError(f"the {kind} app did not start:\n{''.join(self.output)}")

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            try:
                status = post(self.url, command_request("-2004"))[0]
                if status == 200:
                    return True
            except OSError:
                pass
            time.sleep(0.05)
        return False

    @property
    def worker_pid(self) -> int | None:
        """The gunicorn worker (the master's one child), where the requests are answered."""
        children = _children(self.proc.pid)
        return children[0] if children else None

    @property
    def working_pids(self) -> list[int]:
        """The gunicorn worker and any process it started: all the work."""
        pid = self.worker_pid
        return [pid, *_children(pid)] if pid else []

    def cpu_seconds(self) -> float:
        """CPU time the worker and its own processes have used so far (user + system)."""
        total = 0.0
        for pid in self.working_pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                return float("nan")
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return total

    @property
    def problems(self) -> list[str]:
        return [line.rstrip() for line in self.output if "Traceback" in line or " ERROR " in line]

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            return self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return -9


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


# --- requests ---------------------------------------------------------------------------------

_verifier = SignatureVerifier(SIGNING_SECRET)
_ids = itertools.count(1)
_run = f"{int(time.time()) % 100000:05d}"


@dataclass(frozen=True)
class Request:
    kind: str  # "command" or "event"
    body: bytes
    content_type: str


def command_request(text: str) -> Request:
    form = {"token": "legacy", "team_id": "T0001", "team_domain": "load", "channel_id": CHANNEL,
            "channel_name": "support", "user_id": "U0000LOAD", "user_name": "pat", "command": "/nmerror",
            "text": text, "api_app_id": "A0001", "response_url": "http://127.0.0.1:9/unused",
            "trigger_id": "1.2.3"}
    return Request("command", urlencode(form).encode(), "application/x-www-form-urlencoded")


def event_request(text: str | None = None) -> Request:
    n = next(_ids)
    event = {"type": "message", "channel": CHANNEL, "user": "U0000LOAD", "channel_type": "channel",
             "text": text or f"level=error call {n} failed errorCode=-2010 errorMsg=\"The trunk capacity has been exceeded\"",
             "ts": f"17{_run}{n:03d}.{n % 1000000:06d}", "team": "T0001"}
    envelope = {"token": "legacy", "team_id": "T0001", "api_app_id": "A0001", "type": "event_callback",
                "event_id": f"EvLoad{_run}{n:09d}", "event_time": int(time.time()), "event": event,
                "authorizations": [{"team_id": "T0001", "user_id": "UBOT0001", "is_bot": True}]}
    return Request("event", json.dumps(envelope).encode(), "application/json")


def mixed_requests():
    """Commands and events, alternating; events are new messages every time."""
    for i in itertools.count():
        yield command_request(QUESTIONS[(i // 2) % len(QUESTIONS)]) if i % 2 == 0 else event_request()


def quiet_requests():
    """`/nmerror help` and channel chatter: the bot's stack with next to no answer work (no card, no
    database, no reply), which separates the cost of the server from the cost of answering."""
    for i in itertools.count():
        yield command_request("help") if i % 2 == 0 else event_request(f"deploy {i} went fine, thanks all")


def headers_for(request: Request) -> dict:
    timestamp = str(int(time.time()))
    return {"Content-Type": request.content_type, "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": _verifier.generate_signature(timestamp=timestamp, body=request.body.decode())}


def post(url: str, request: Request, conn: http.client.HTTPConnection | None = None,
         headers: dict | None = None) -> tuple[int, float]:
    """(status, seconds) of one request, on `conn` (kept alive) or a new connection; signed now unless
    `headers` were signed before."""
    own = conn is None
    if own:
        parts = urlsplit(url)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        started = time.perf_counter()
        conn.request("POST", "/slack/events", body=request.body, headers=headers or headers_for(request))
        response = conn.getresponse()
        response.read()
        return response.status, time.perf_counter() - started
    finally:
        if own:
            conn.close()


@dataclass
class Run:
    app: str
    clients: int
    seconds: float
    latencies: dict[str, list[float]] = field(default_factory=lambda: {"command": [], "event": []})
    failures: int = 0
    cpu: float = float("nan")  # the worker's CPU seconds for the run, replies included
    settle: float = 0.0  # seconds from the end of the run until the last reply it earned was posted

    @property
    def cpu_ms_per_request(self) -> float:
        return self.cpu / self.requests * 1000

    @property
    def requests(self) -> int:
        return sum(len(v) for v in self.latencies.values())

    @property
    def events(self) -> int:
        return len(self.latencies["event"])

    @property
    def throughput(self) -> float:
        """Requests answered per second, counting until the last reply they earned was posted: what the
        bot sustains, not how fast it can acknowledge while replies pile up."""
        return self.requests / (self.seconds + self.settle)

    @property
    def ack_rate(self) -> float:
        return self.requests / self.seconds

    def p(self, q: float, kind: str | None = None) -> float:
        values = self.latencies[kind] if kind else [x for v in self.latencies.values() for x in v]
        return percentile(values, q) * 1000


PREPARED_PER_SECOND = 2500  # more than either app answers here; past them requests are made as they go


def drive(url: str, app: str, clients: int, seconds: float, requests=None) -> Run:
    """`clients` closed-loop clients for `seconds`; every answer's latency, by kind."""
    run = Run(app, clients, seconds)
    lock = threading.Lock()
    source = requests or mixed_requests()
    # Built and signed before the clock starts: the generator shares the two cores with the app it measures,
    # and every microsecond it spends during the run is taken from that app.
    ready = iter([(r, headers_for(r)) for r in itertools.islice(source, int(seconds * PREPARED_PER_SECOND))])
    start = threading.Barrier(clients + 1)
    stop_at = [0.0]
    parts = urlsplit(url)

    def client() -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        mine: dict[str, list[float]] = {"command": [], "event": []}
        failed = 0
        start.wait()
        while time.perf_counter() < stop_at[0]:
            with lock:
                request, headers = next(ready, None) or (next(source), None)
            try:
                status, took = post(url, request, conn, headers)
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
                failed += 1
                continue
            if status == 200:
                mine[request.kind].append(took)
            else:
                failed += 1
        conn.close()
        with lock:
            for kind, values in mine.items():
                run.latencies[kind].extend(values)
            run.failures += failed

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for t in threads:
        t.start()
    began = time.perf_counter()
    stop_at[0] = began + seconds
    start.wait()
    for t in threads:
        t.join(seconds + 30)
    run.seconds = time.perf_counter() - began
    return run


BURST, BURSTS = 50, 20


def burst(url: str, app: str) -> Run:
    """BURST requests released at the same moment, BURSTS times, a second apart: what acks look like
    when fifty things happen at once, rather than under fifty clients that never pause."""
    run = Run(app, BURST, 0.0)
    source = mixed_requests()
    started = time.perf_counter()
    for _ in range(BURSTS):
        requests = [next(source) for _ in range(BURST)]
        gate = threading.Barrier(BURST)
        answers: list[tuple[str, int, float]] = []

        def send(request: Request) -> None:
            gate.wait()
            try:
                status, took = post(url, request)
            except OSError:
                status, took = 0, 0.0
            answers.append((request.kind, status, took))

        threads = [threading.Thread(target=send, args=(r,)) for r in requests]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        for kind, status, took in answers:
            if status == 200:
                run.latencies[kind].append(took)
            else:
                run.failures += 1
        time.sleep(1.0)
    run.seconds = time.perf_counter() - started
    print(f"  {app:4}: p50 {run.p(50):6.1f} ms  p99 {run.p(99):6.1f} ms  max {max(max(v) for v in run.latencies.values()) * 1000:6.1f} ms"
          f"  failures {run.failures}", flush=True)
    return run


def wait_for_replies(stub: StubProcess, expected: int, timeout: float = REPLY_TIMEOUT) -> tuple[int, int]:
    """(posts, distinct threads) once `expected` posts arrived or none came for `timeout` seconds."""
    last, quiet_since = -1, time.monotonic()
    while True:
        posts, threads = stub.replies()
        if posts >= expected:
            return posts, threads
        if posts != last:
            last, quiet_since = posts, time.monotonic()
        elif time.monotonic() - quiet_since > timeout:
            return posts, threads
        time.sleep(0.1)


# --- the benchmark ----------------------------------------------------------------------------

@contextlib.contextmanager
def database(kind: str, workdir: Path) -> Iterator[str]:
    """The bot's database URL: a SQLite file in `workdir`, or a PostgreSQL schema of this run's own."""
    if kind == "sqlite":
        yield f"sqlite:///{workdir / 'state.sqlite3'}"
        return
    with fresh_schema(pg_base_url()) as (_, url):
        yield url


def measure(levels: list[int], seconds: float, rounds: int, kind: str, web_workers: int | None = None) -> list:
    with contextlib.ExitStack() as stack:
        stub = StubProcess()
        stack.callback(stub.stop)
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        url = stack.enter_context(database(kind, tmp))
        servers = {}
        tuning = {"NMBOT_WEB_WORKERS": str(web_workers)} if web_workers else {}
        for name, state in (("bare", "memory://"), ("bot", url)):
            servers[name] = Server(name, stub.api_url, tmp, state, **(tuning if name == "bot" else {}))
            stack.callback(lambda s=servers[name]: print(f"{s.kind} exit code {s.stop()}"))
        return run_levels(servers, stub, levels, seconds, rounds)


def run_levels(servers: dict, stub: StubProcess, levels: list[int], seconds: float, rounds: int) -> list:
    sent = 0
    for name, server in servers.items():  # warm-up: imports, first answers, connection pools
        warm_up = drive(server.url, name, 4, 1.0)
        sent += warm_up.events if name == "bot" else 0
    wait_for_replies(stub, sent)
    best: dict[tuple[str, int], Run] = {}
    for clients in levels:
        heading(f"{clients} concurrent clients")
        for round_no in range(rounds):
            for name in ("bare", "bot"):
                cpu_before = servers[name].cpu_seconds()
                run = drive(servers[name].url, name, clients, seconds)
                if name == "bot":
                    sent += run.events
                    ended = time.perf_counter()
                    wait_for_replies(stub, sent)  # the next run starts with no replies still owed
                    run.settle = time.perf_counter() - ended
                run.cpu = servers[name].cpu_seconds() - cpu_before
                print(f"  {name:4} round {round_no + 1}: {run.throughput:7.0f} req/s (acks {run.ack_rate:5.0f}/s, "
                      f"replies done {run.settle:4.2f}s after)  p50 {run.p(50):6.1f} ms  p99 {run.p(99):6.1f} ms  "
                      f"(commands {run.p(99, 'command'):6.1f}, events {run.p(99, 'event'):6.1f})  "
                      f"CPU {run.cpu_ms_per_request:.2f} ms/request  failures {run.failures}", flush=True)
                if (name, clients) not in best or run.throughput > best[name, clients].throughput:
                    best[name, clients] = run
    heading("the server stack alone: /nmerror help and chatter, 50 clients")
    stack_only = {}
    for round_no in range(rounds):
        for name in ("bare", "bot"):
            run = drive(servers[name].url, name, 50, seconds, quiet_requests())
            print(f"  {name:4} round {round_no + 1}: {run.throughput:7.0f} req/s  p99 {run.p(99):6.1f} ms", flush=True)
            if name not in stack_only or run.throughput > stack_only[name].throughput:
                stack_only[name] = run
    heading(f"bursts: {BURST} requests at once, {BURSTS} times")
    bursts = {name: burst(server.url, name) for name, server in servers.items()}
    sent += bursts["bot"].events
    posts, threads = wait_for_replies(stub, sent)
    ratio = stack_only["bot"].throughput / stack_only["bare"].throughput
    return report(best, levels, sent, posts, threads, servers) + [
        info(f"burst of {BURST}: {name} p99 ack", run.p(99), "ms") for name, run in bursts.items()] + [
        info("stack only, 50 clients: bot / bare throughput", ratio, "x"),
        info("stack only, 50 clients: bot p99 ack", stack_only["bot"].p(99), "ms")]


def report(best: dict, levels: list[int], sent: int, posts: int, threads: int, servers: dict) -> list:
    heading("summary (best round of each)")
    results = []
    for clients in levels:
        bare, bot = best["bare", clients], best["bot", clients]
        ratio = bot.throughput / bare.throughput
        print(f"  {clients:3} clients: bare {bare.throughput:6.0f} req/s, p99 {bare.p(99):6.1f} ms | bot "
              f"{bot.throughput:6.0f} req/s, p99 {bot.p(99):6.1f} ms | ratio {ratio:.2f}")
        results.append(info(f"{clients} clients: bare throughput", bare.throughput, "req/s"))
        results.append(info(f"{clients} clients: bot throughput", bot.throughput, "req/s"))
        results.append(info(f"{clients} clients: bare worker CPU per request", bare.cpu_ms_per_request, "ms"))
        results.append(info(f"{clients} clients: bot worker CPU per request", bot.cpu_ms_per_request, "ms"))
        if clients >= 10:
            results.append(check(f"{clients} clients: bot / bare throughput", ratio, "x", ">=", 0.8, "0.8"))
        else:
            results.append(info(f"{clients} clients: bot / bare throughput", ratio, "x"))
        if clients == 50:
            results.append(check("50 clients: bot p99 ack", bot.p(99), "ms", "<", 100))
            results.append(info("50 clients: bot p99 ack, commands", bot.p(99, "command"), "ms"))
            results.append(info("50 clients: bot p99 ack, events", bot.p(99, "event"), "ms"))
            results.append(info("50 clients: bare p99 ack", bare.p(99), "ms"))
    failures = sum(r.failures for r in best.values())
    results.append(check("requests not answered 200", failures, "", "<=", 0, "0"))
    results.append(check("replies lost (events - threads replied in)", sent - threads, "", "<=", 0, "0"))
    results.append(check("replies duplicated (posts - threads)", posts - threads, "", "<=", 0, "0"))
    results.append(info("events sent to the bot", sent, ""))
    for name, server in servers.items():
        if server.problems:
            print(f"{name} logged problems:\n  " + "\n  ".join(server.problems[:20]))
        results.append(check(f"{name}: errors and tracebacks logged", len(server.problems), "", "<=", 0, "0"))
    return results


def main() -> int:
    if "--serve-bare" in sys.argv:
        return serve_bare(0)
    p = parser(__doc__)
    p.add_argument("--levels", default="1,10,50,100", help="comma-separated numbers of concurrent clients")
    p.add_argument("--seconds", type=float, default=5.0, help="length of each timed run")
    p.add_argument("--rounds", type=int, default=2, help="runs per app and level (the best counts)")
    p.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    p.add_argument("--web-workers", type=int, help="the bot's NMBOT_WEB_WORKERS (default: its own default)")
    args = p.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; "
          f"{args.seconds:g} s per run, {args.rounds} rounds, state in {args.database}")
    return finish(measure(levels, args.seconds, args.rounds, args.database, args.web_workers), args)


if __name__ == "__main__":
    sys.exit(main())
