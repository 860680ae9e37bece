"""Log scanner throughput against grep, and its memory on a 100 MB and a 1 GB log.

Throughput: `grep -cE -- PATTERN FILE` and Scanner(kb).scan_stream(...) on the
same 100 MB log (benchmarks/generate_log.py), file warm in the page cache, run
in turns for 9 rounds so both see the same neighbours on this shared machine;
the ratio is the median of the rounds' ratios. Target: scanner >= 0.5 x grep. The scanner without Hyperscan (the
module hidden in a subprocess) is printed for information.
Memory: max RSS of a subprocess scanning the 100 MB log and a 1 GB log (the
100 MB content repeated, deleted afterwards). Target: 1 GB within +20 MiB.

    .venv/bin/python benchmarks/bench_scanner.py [--mb 100] [--no-big] [--profile] [--strict]
"""
from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from _common import DATA, best_of, check, finish, heading, info, max_rss_mb, parser, profiled, rss_mb, timed

GREP_PATTERN = "-(200[1-9]|2010|9999)"
RUNS = 3
ROUNDS = 9  # grep and the scanner in turns
BIG_COPIES = 10  # the 1 GB log is the 100 MB log this many times
FLAT_MIB = 20.0
CHILD_TIMEOUT = 600


def scan_file(path: Path, kb) -> list:
    from nmbot.engine.scanner import Scanner

    with open(path, "rb") as stream:
        return Scanner(kb).scan_stream(stream)


def child(path: Path, runs: int, no_hyperscan: bool) -> None:
    """Subprocess mode: scan `path`, print one JSON line of figures."""
    if no_hyperscan:
        sys.modules["hyperscan"] = None  # `import hyperscan` now raises ImportError
    from nmbot.engine.kb_files import load

    kb = load()
    before = rss_mb()
    seconds, findings = best_of(runs, lambda: scan_file(path, kb))
    print(json.dumps({
        "seconds": seconds,
        "rss_before_mib": before,
        "max_rss_mib": max_rss_mb(),
        "events": sum(f.count for f in findings),
        "hyperscan_loaded": sys.modules.get("hyperscan") is not None,
    }))


def run_child(path: Path, runs: int = 1, no_hyperscan: bool = False) -> dict:
    cmd = [sys.executable, __file__, "--child", str(path), "--runs", str(runs)] + (["--no-hyperscan"] if no_hyperscan else [])
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=CHILD_TIMEOUT, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def grep_count(path: Path) -> int:
    out = subprocess.run(["grep", "-cE", "--", GREP_PATTERN, str(path)], capture_output=True, text=True, timeout=CHILD_TIMEOUT)
    return int(out.stdout.strip() or 0)


def warm(path: Path) -> None:
    with open(path, "rb") as f:
        while f.read(1 << 24):
            pass


def throughput(path: Path, truth: dict[int, int], profile: bool) -> list:
    from nmbot.engine.kb_files import load

    mb = path.stat().st_size / 1e6
    heading(f"throughput on {path.name} ({mb:.0f} MB)")
    warm(path)
    kb = load()
    grep_times, scan_times = [], []
    for _ in range(ROUNDS):
        seconds, lines = timed(lambda: grep_count(path))
        grep_times.append(seconds)
        seconds, findings = timed(lambda: scan_file(path, kb))
        scan_times.append(seconds)
    grep_s, scan_s = min(grep_times), min(scan_times)
    print(f"grep -cE -- '{GREP_PATTERN}': {lines:,} lines, best {grep_s:.3f} s = {mb / grep_s:,.0f} MB/s, "
          f"median {statistics.median(grep_times):.3f} s")
    found = Counter({f.code: f.count for f in findings})
    agree = "matches" if found == Counter(truth) else f"DIFFERS from the planted {dict(truth)}"
    print(f"Scanner.scan_stream (hyperscan): {sum(found.values())} events, {agree}; best {scan_s:.3f} s = "
          f"{mb / scan_s:,.0f} MB/s, median {statistics.median(scan_times):.3f} s")
    if profile:
        heading("cProfile of Scanner.scan_stream")
        profiled(lambda: scan_file(path, kb))

    plain = run_child(path, RUNS, no_hyperscan=True)
    if plain["hyperscan_loaded"]:
        print("warning: the no-hyperscan child still had hyperscan loaded; its figure is not the fallback's")
    print(f"Scanner.scan_stream (no hyperscan, subprocess): {plain['events']} events; best {plain['seconds']:.3f} s "
          f"= {mb / plain['seconds']:,.0f} MB/s")
    ratios = sorted(g / t for g, t in zip(grep_times, scan_times))
    ratio = statistics.median(ratios)
    print(f"scanner/grep throughput ratio, median of {ROUNDS} rounds: {ratio:.2f} "
          f"(rounds from {ratios[0]:.2f} to {ratios[-1]:.2f})")
    return [
        info("grep throughput", mb / grep_s, "MB/s"),
        info("scanner throughput", mb / scan_s, "MB/s"),
        check("scanner/grep ratio", ratio, "x", ">=", 0.5, "0.5x grep"),
        info("scanner no-hyperscan", mb / plain["seconds"], "MB/s"),
    ]


def memory(path: Path, copies: int) -> list:
    heading("memory (max RSS of a scanning subprocess)")
    small = run_child(path)
    size = f"{path.stat().st_size / 1e6:,.0f} MB"
    print(f"{size} log: max RSS {small['max_rss_mib']:.1f} MiB "
          f"(after loading: {small['rss_before_mib']:.1f} MiB), {small['seconds']:.1f} s")
    results = [info(f"max RSS, {size} log", small["max_rss_mib"], "MiB")]
    if not copies:
        return results
    big = DATA / f"big-{path.name}"
    big.unlink(missing_ok=True)  # left over from an interrupted run
    need = path.stat().st_size * copies
    free = shutil.disk_usage(DATA).free
    if free < need + (1 << 30):
        print(f"skipped the {need / 1e9:.1f} GB run: only {free / 1e9:.1f} GB free on {DATA}")
        return results
    try:
        t0 = time.perf_counter()
        with open(big, "wb") as out:
            for _ in range(copies):
                with open(path, "rb") as src:
                    shutil.copyfileobj(src, out, 1 << 20)
        print(f"wrote {big.name} ({need / 1e9:.1f} GB) in {time.perf_counter() - t0:.1f} s")
        large = run_child(big)
    finally:
        big.unlink(missing_ok=True)
    growth = large["max_rss_mib"] - small["max_rss_mib"]
    print(f"{need / 1e6:,.0f} MB log: max RSS {large['max_rss_mib']:.1f} MiB ({growth:+.1f} MiB), {large['seconds']:.1f} s "
          f"= {need / 1e6 / large['seconds']:,.0f} MB/s, {large['events']} events")
    big_size = f"{need / 1e9:.0f} GB"
    return results + [
        info(f"max RSS, {big_size} log", large["max_rss_mib"], "MiB"),
        check(f"RSS growth {size} -> {big_size}", growth, "MiB", "<=", FLAT_MIB),
    ]


def main() -> int:
    p = parser(__doc__)
    p.add_argument("--mb", type=int, default=100, help="size of the generated log (default 100)")
    p.add_argument("--no-big", action="store_true", help="skip the 1 GB memory run")
    p.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--runs", type=int, default=1, help=argparse.SUPPRESS)
    p.add_argument("--no-hyperscan", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        child(args.child, args.runs, args.no_hyperscan)
        return 0
    import generate_log

    t0 = time.perf_counter()
    path, truth = generate_log.ensure(args.mb)
    print(f"log: {path} ({sum(truth.values())} planted errors; ready in {time.perf_counter() - t0:.1f} s)")
    results = throughput(path, truth, args.profile) + memory(path, 0 if args.no_big else BIG_COPIES)
    return finish(results, args)


if __name__ == "__main__":
    sys.exit(main())
