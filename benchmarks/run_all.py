"""Run every benchmark, one subprocess each, then print one summary table.

    .venv/bin/python benchmarks/run_all.py [--strict] [--only resolver,scanner,cli]

Exit code 0 even when a target is missed, unless --strict.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import HERE, Result, finish, heading, load_results, parser

BENCHES = ("resolver", "scanner", "cli")
TIMEOUT = 600  # seconds per benchmark


def checkout() -> str:
    """The commit measured, and whether the engine or CLI had uncommitted edits."""
    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], capture_output=True, text=True, cwd=HERE.parent, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--short", "--", "bot/engine", "bot/cli", "knowledge").splitlines()
    return f"commit {commit}" + (f", uncommitted: {', '.join(d.split(maxsplit=1)[-1] for d in dirty)}" if dirty else "")


def main() -> int:
    p = parser(__doc__)
    p.add_argument("--only", default=",".join(BENCHES), help="comma-separated subset of " + ", ".join(BENCHES))
    args = p.parse_args()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; {checkout()}")
    results: list[Result] = []
    crashed = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.only.split(","):
            out = Path(tmp) / f"{name}.json"
            heading(f"bench_{name}.py")
            t0 = time.perf_counter()
            try:
                cmd = [sys.executable, str(HERE / f"bench_{name}.py"), "--results", str(out)] + ["--profile"] * args.profile
                done = subprocess.run(cmd, timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                print(f"bench_{name}.py did not finish within {TIMEOUT} s")
                crashed.append(name)
                continue
            print(f"(bench_{name}.py took {time.perf_counter() - t0:.0f} s)", flush=True)
            if done.returncode != 0 or not out.exists():
                crashed.append(name)
                continue
            for r in load_results(out):
                r.name = f"{name}: {r.name}"
                results.append(r)
    print(f"\nall benchmarks took {time.perf_counter() - started:.0f} s")
    code = finish(results, args)
    failed = [r.name for r in results if r.ok is False]
    print(f"\n{sum(r.ok is True for r in results)} targets met, {len(failed)} missed"
          + (f"; benchmarks that crashed: {', '.join(crashed)}" if crashed else ""))
    return 1 if crashed else code


if __name__ == "__main__":
    sys.exit(main())
