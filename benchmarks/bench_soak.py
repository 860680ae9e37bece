"""Soak: the full bot under steady load for --minutes (default 10); its memory must stay flat.

`nmbot serve --http` on the server stack of bench_load.py, state in SQLite (or --database postgresql), the
Web API stand-in in its own process. Clients send signed /nmerror commands and
pasted-log events (each a new message, so each earns a reply) at a steady
--rate. The resident set size of the gunicorn worker(s) is sampled every
--sample seconds.

Targets: RSS growth from the end of the first minute (imports, caches and the
connection pool are warm by then) to the end < 10 MiB, and over the second half
of the run < 3 MiB; every event answered exactly once; no request refused.

    .venv/bin/python benchmarks/bench_soak.py [--minutes 10] [--rate 100] [--sample 30] [--database sqlite] [--strict]
"""
from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from pathlib import Path

from _common import check, finish, heading, info, parser, percentile
from bench_load import Server, StubProcess, database, mixed_requests, post, wait_for_replies

WARM_UP_SECONDS = 60
CLIENTS = 8


def rss_mib(pids: list[int]) -> float:
    """Resident memory of the bot's working processes together (its gunicorn workers)."""
    total = 0.0
    for pid in pids:
        try:
            lines = Path(f"/proc/{pid}/status").read_text().splitlines()
        except OSError:
            return float("nan")
        total += next((int(line.split()[1]) / 1024 for line in lines if line.startswith("VmRSS:")), 0.0)
    return total if pids else float("nan")


class PacedLoad:
    """CLIENTS threads sending one request each slot of a steady schedule, until stopped."""

    def __init__(self, url: str, rate: float):
        self.url = url
        self.interval = 1.0 / rate
        self.requests = self.events = self.failures = 0
        self.latencies: list[float] = []
        self._source = mixed_requests()
        self._lock = threading.Lock()
        self._next = time.perf_counter()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._client, daemon=True) for _ in range(CLIENTS)]

    def start(self) -> "PacedLoad":
        for t in self._threads:
            t.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(30)

    def _slot(self):
        with self._lock:
            at = self._next = max(self._next + self.interval, time.perf_counter() - 1.0)  # no catch-up bursts
            return at, next(self._source)

    def _client(self) -> None:
        while not self._stop.is_set():
            at, request = self._slot()
            delay = at - time.perf_counter()
            if delay > 0 and self._stop.wait(delay):
                return
            try:
                status, took = post(self.url, request)
            except OSError:
                status, took = 0, 0.0
            with self._lock:
                self.requests += 1
                self.events += request.kind == "event"
                if status == 200:
                    self.latencies.append(took)
                else:
                    self.failures += 1


def soak(minutes: float, rate: float, sample: float, kind: str) -> list:
    stub = StubProcess()
    samples: list[tuple[float, float, int]] = []  # (seconds, RSS MiB, requests so far)
    with tempfile.TemporaryDirectory() as tmp, database(kind, Path(tmp)) as url:
        server = Server("bot", stub.api_url, Path(tmp), url)
        pids = server.working_pids
        load = PacedLoad(server.url, rate).start()
        started = time.monotonic()
        end = started + minutes * 60
        heading(f"{minutes:g} minutes at {rate:g} requests/s (the worker and its processes: pids {' '.join(map(str, pids))})")
        print(f"{'time':>7}  {'RSS MiB':>8}  {'requests':>9}  {'replies':>8}", flush=True)
        try:
            while True:
                now = time.monotonic()
                posts = stub.replies()[0]
                samples.append((now - started, rss_mib(server.working_pids), load.requests))
                print(f"{now - started:6.0f}s  {samples[-1][1]:8.1f}  {load.requests:9}  {posts:8}", flush=True)
                if now >= end:
                    break
                time.sleep(min(sample, max(0.0, end - now)))
        finally:
            load.stop()
        posts, threads = wait_for_replies(stub, load.events)
        final_rss = rss_mib(server.working_pids)
        problems = server.problems
        code = server.stop()
    stub.stop()
    return report(samples, final_rss, load, posts, threads, problems, code, minutes)


def rss_at(samples: list[tuple[float, float, int]], seconds: float) -> float:
    """RSS of the first sample taken at or after `seconds`."""
    return next((rss for t, rss, _ in samples if t >= seconds), samples[-1][1])


def report(samples, final_rss, load, posts, threads, problems, exit_code, minutes) -> list:
    duration = samples[-1][0]
    warm = min(WARM_UP_SECONDS, duration / 2)
    after_warm_up, half_way = rss_at(samples, warm), rss_at(samples, duration / 2)
    if problems:
        print("the bot logged problems:\n  " + "\n  ".join(problems[:20]))
    print(f"\nexit code {exit_code}; {load.requests} requests, {load.events} events, {posts} replies")
    return [
        info("duration", duration / 60, "min"),
        info("requests sent", load.requests, ""),
        info("throughput", load.requests / duration, "req/s"),
        info("p99 ack", percentile(load.latencies, 99) * 1000, "ms"),
        info("RSS at start", samples[0][1], "MiB"),
        info(f"RSS after {warm:.0f} s", after_warm_up, "MiB"),
        info("RSS at the end", samples[-1][1], "MiB"),
        info("RSS peak", max(rss for _, rss, _ in samples), "MiB"),
        check(f"RSS growth after the first {warm:.0f} s", samples[-1][1] - after_warm_up, "MiB", "<", 10),
        check("RSS growth over the second half", samples[-1][1] - half_way, "MiB", "<", 3),
        check("requests not answered 200", load.failures, "", "<=", 0, "0"),
        check("replies lost", load.events - threads, "", "<=", 0, "0"),
        check("replies duplicated", posts - threads, "", "<=", 0, "0"),
        check("errors and tracebacks logged", len(problems), "", "<=", 0, "0"),
    ]


def main() -> int:
    p = parser(__doc__)
    p.add_argument("--minutes", type=float, default=10.0)
    p.add_argument("--rate", type=float, default=100.0, help="requests per second, half of them events")
    p.add_argument("--sample", type=float, default=30.0, help="seconds between RSS samples")
    p.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    args = p.parse_args()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    return finish(soak(args.minutes, args.rate, args.sample, args.database), args)


if __name__ == "__main__":
    sys.exit(main())
