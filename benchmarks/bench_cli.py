"""Cold start of `nmbot ask -2004`, and which heavy libraries the ask path imports.

Wall time of the venv's `nmbot` console script, 20 runs after 2 warm-ups
(files warm in the page cache, a new interpreter each run). Target: median
< 150 ms. Then, in a fresh interpreter, runs bot.cli.main.main(['ask', '-2004'])
and checks that slack_bolt, slack_sdk, sqlalchemy and hyperscan were not
imported; `-X importtime` names the slowest imports.

    .venv/bin/python benchmarks/bench_cli.py [--runs 20] [--strict]
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time

from _common import ROOT, check, finish, heading, info, parser, percentile, venv_tool

HEAVY = ("slack_bolt", "slack_sdk", "sqlalchemy", "hyperscan")
WARM_UPS = 2
TIMEOUT = 60
IMPORT_CHECK = f"""
import contextlib, io, json, sys
from nmbot.cli.main import main
with contextlib.redirect_stdout(io.StringIO()):
    code = main(["ask", "-2004"])
print(json.dumps({{"exit": code, "modules": len(sys.modules),
                  "heavy": [m for m in {HEAVY!r} if m in sys.modules]}}))
"""


def env() -> dict:
    """The caller's environment, minus what would change the command's work."""
    e = {k: v for k, v in os.environ.items() if not k.startswith(("NMBOT_", "SLACK_"))}
    e.pop("PYTHONDEVMODE", None)
    return e


def wall_ms(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env(), timeout=TIMEOUT, cwd=ROOT)
    elapsed = (time.perf_counter() - t0) * 1000
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} exited {done.returncode}: {done.stderr.decode()[-500:]}")
    return elapsed


def cold_start(runs: int) -> list:
    script = venv_tool("nmbot")
    cmd = [str(script), "ask", "-2004"] if script.exists() else [sys.executable, "-m", "nmbot", "ask", "-2004"]
    heading(f"cold start: {' '.join(cmd)}")
    floor = statistics.median(wall_ms([sys.executable, "-c", "pass"]) for _ in range(5))
    for _ in range(WARM_UPS):
        wall_ms(cmd)
    times = [wall_ms(cmd) for _ in range(runs)]
    median, p90 = statistics.median(times), percentile(times, 90)
    print(f"{runs} runs: median {median:.0f} ms, p90 {p90:.0f} ms, min {min(times):.0f} ms, max {max(times):.0f} ms "
          f"(bare `python -c pass`: {floor:.0f} ms)")
    return [
        check("nmbot ask -2004 median", median, "ms", "<", 150),
        info("nmbot ask -2004 p90", p90, "ms"),
        info("python -c pass median", floor, "ms"),
    ]


def top_imports(n: int = 6) -> list[tuple[int, str]]:
    """(cumulative microseconds, module) of the slowest top-level imports of `python -m bot ask -2004`."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "nmbot", "ask", "-2004"],
                          capture_output=True, text=True, env=env(), timeout=TIMEOUT, cwd=ROOT)
    rows = []
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and "|" in line and "cumulative" not in line:
            _, cumulative, name = line[len("import time:"):].split("|")
            if not name.startswith("  "):  # top level: not imported by another module
                rows.append((int(cumulative), name.strip()))
    return sorted(rows, reverse=True)[:n]


def imports() -> list:
    heading("imports on the ask path")
    out = subprocess.run([sys.executable, "-c", IMPORT_CHECK], capture_output=True, text=True, env=env(),
                         timeout=TIMEOUT, cwd=ROOT, check=True).stdout
    found = json.loads(out.strip().splitlines()[-1])
    print(f"main(['ask', '-2004']) exited {found['exit']} with {found['modules']} modules loaded; "
          f"heavy modules imported: {', '.join(found['heavy']) or 'none'} (checked: {', '.join(HEAVY)})")
    print("slowest top-level imports (python -X importtime -m bot ask -2004):")
    for micros, name in top_imports():
        print(f"  {micros / 1000:6.1f} ms  {name}")
    return [check("heavy modules imported by ask", len(found["heavy"]), "", "<=", 0, "0")]


def main() -> int:
    p = parser(__doc__)
    p.add_argument("--runs", type=int, default=20)
    args = p.parse_args()
    return finish(cold_start(args.runs) + imports(), args)


if __name__ == "__main__":
    sys.exit(main())
