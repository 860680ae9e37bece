"""Shared helpers for the benchmark scripts: timing, percentiles, memory, reporting.

Every bench_*.py builds a list of `Result`s and hands it to `finish`, which
prints PASS/FAIL lines, optionally writes them as JSON for run_all.py, and
returns the exit code (0 unless --strict and a target failed).
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Iterable, Sequence

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = HERE / "data"  # generated inputs; gitignored


@dataclass
class Result:
    name: str
    value: float
    unit: str
    target: str = ""  # e.g. "< 1 ms"; empty for informational figures
    ok: bool | None = None  # None: informational, no target

    @property
    def verdict(self) -> str:
        return "info" if self.ok is None else ("PASS" if self.ok else "FAIL")


def check(name: str, value: float, unit: str, op: str, limit: float, limit_text: str | None = None) -> Result:
    """A Result against a target: op is '<', '<=', '>=' or '>'."""
    ok = {"<": value < limit, "<=": value <= limit, ">=": value >= limit, ">": value > limit}[op]
    return Result(name, value, unit, f"{op} {limit_text or f'{limit:g} {unit}'}", ok)


def info(name: str, value: float, unit: str) -> Result:
    return Result(name, value, unit)


# --- timing -----------------------------------------------------------------------------

def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of unsorted values."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def latencies_ms(fn: Callable[[str], object], inputs: Iterable[str]) -> tuple[list[float], list[object]]:
    """(wall time of fn(x) in milliseconds, fn(x)) for each input."""
    clock = time.perf_counter_ns
    times, results = [], []
    for x in inputs:
        t0 = clock()
        r = fn(x)
        times.append((clock() - t0) / 1e6)
        results.append(r)
    return times, results


def best_of(runs: int, fn: Callable[[], object]) -> tuple[float, object]:
    """(fastest wall time in seconds, last result) over `runs` calls."""
    best, result = math.inf, None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    return best_of(1, fn)


def profiled(fn: Callable[[], object], top: int = 15) -> object:
    """Run fn under cProfile and print its hottest functions (by own time)."""
    import cProfile
    import pstats

    prof = cProfile.Profile()
    result = prof.runcall(fn)
    pstats.Stats(prof, stream=sys.stdout).strip_dirs().sort_stats("tottime").print_stats(top)
    return result


# --- memory -----------------------------------------------------------------------------

def _status_mb(field: str) -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return math.nan


def rss_mb() -> float:
    """Current resident set size of this process (Linux /proc), in MiB."""
    return _status_mb("VmRSS")


def max_rss_mb() -> float:
    """Peak resident set size of this process, in MiB.

    VmHWM, not getrusage().ru_maxrss: on Linux a child's ru_maxrss starts at
    the peak RSS of the parent that spawned it (kept across fork/exec), which
    would make a small child look as big as its parent.
    """
    return _status_mb("VmHWM")


# --- command line and reporting ---------------------------------------------------------

def parser(doc: str | None) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=(doc or "").strip().splitlines()[0] if doc else None)
    p.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    p.add_argument("--results", metavar="FILE", help="also write the results as JSON (used by run_all.py)")
    p.add_argument("--profile", action="store_true", help="also print a cProfile of the hot loop")
    return p


def heading(text: str) -> None:
    print(f"\n== {text}", flush=True)


def fmt(value: float) -> str:
    if value != value:  # NaN
        return "n/a"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}" if abs(value) < 1 else f"{value:.2f}"


def table(results: Sequence[Result]) -> str:
    width = max([len(r.name) for r in results] + [10])
    lines = [f"{'figure':<{width}}  {'value':>10}  {'unit':<6}  {'target':<16}  result"]
    for r in results:
        lines.append(f"{r.name:<{width}}  {fmt(r.value):>10}  {r.unit:<6}  {r.target:<16}  {r.verdict}")
    return "\n".join(lines)


def finish(results: Sequence[Result], args: argparse.Namespace) -> int:
    heading("results")
    print(table(results))
    if args.results:
        Path(args.results).write_text(json.dumps([asdict(r) for r in results], indent=1))
    failed = [r for r in results if r.ok is False]
    return 1 if (args.strict and failed) else 0


def load_results(path: str | Path) -> list[Result]:
    return [Result(**r) for r in json.loads(Path(path).read_text())]


def venv_tool(name: str) -> Path:
    """A console script installed beside the running interpreter (the venv's bin/)."""
    return Path(sys.executable).parent / name
