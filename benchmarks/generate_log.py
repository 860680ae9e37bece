"""Generate a large, realistic application log for the scanner benchmark.

Deterministic for a given seed and size. The mix, by lines:
  ~40% ISO-timestamped key=value application lines (session ids, phone numbers, durations)
  ~30% HTTP access-log lines with status and byte counts (some byte counts are 2004, 2010, ...)
  ~20% key=value metrics lines
  ~9%  one-line JSON Session Summary events (UUIDs, MSISDNs, timestamps)
   1%  decoys: code-like negative numbers that are not errors (offsetMs=-2004, "balance": -2001.50, ...)
 0.1%  real Number Masking errors (JSON errorDetails, errorCode=..., "failed with -2004")
Real errors are written one per line, so the expected scanner count per code is
the number of lines planted; it is saved beside the log as <log>.truth.json.

    .venv/bin/python benchmarks/generate_log.py --mb 100
"""
from __future__ import annotations

import argparse
import json
import random
import time
from collections import Counter
from pathlib import Path

from _common import DATA
START = 1710201600  # 2024-03-12T00:00:00Z

ACCOUNTS = ["acme_sg_nm", "acme_hk_nm", "ridehail_ph", "delivery_id_prod", "clinic_my_nm", "market_th"]
ACTIONS = ["MAKE_CALL", "SAY", "PLAY_FILE", "HANGUP", "BRIDGE", "WEBHOOK"]
STATUSES = ["OK", "OK", "OK", "COMPLETED", "BUSY", "NO_ANSWER", "CANCELED"]
PATHS = ["/hooks/8x8/vca", "/hooks/8x8/vss", "/hooks/8x8/vcs", "/api/v1/orders", "/static/prompts/welcome.mp3",
         "/healthz", "/api/v1/drivers/locate", "/metrics"]
AGENTS = ["8x8-Webhook", "curl/8.5.0", "Java-http-client/17", "Mozilla/5.0 (X11; Linux x86_64)", "kube-probe/1.29"]
HTTP_STATUS = [200] * 12 + [201, 204, 206, 301, 304, 400, 401, 404, 429, 500, 502]
DECOYS = [
    "{ts} INFO  sync offsetMs={neg} drift ok host=nm-{n}",
    "{ts} INFO  geo lookup driver={n} latitude={neg} longitude=11.2 (raw, scaled 1e-3)",
    '{ts} INFO  billing {{"accountId": "{acct}", "balance": {neg}.50, "currency": "SGD"}}',
    "{ts} INFO  reconciler delta: {neg} credits (pending refunds)",
    "{ts} DEBUG tz shift={neg} minutes? suspicious value, ignored",
    "{ts} INFO  queue depth change={neg} after drain",
    "{ts} DEBUG jitterbuffer adjustMs={neg} stream={uuid}",
]
REAL = [
    '{{"payload":{{"sessionId":"{uuid}","subAccountId":"{acct}","sessionStatus":"ERROR","startTime":"{iso}",'
    '"endTime":"{iso}","lastAction":"MAKE_CALL","callCount":1,"errorDetails":{{"errorMsg":"{msg}","errorCode":{code}}},'
    '"details":{{"callA":{{"callId":"{uuid2}","callDirection":"INBOUND","callType":"PSTN","source":"{a}",'
    '"destination":"{b}","callStatus":"ERROR","callDuration":0}}}}}},"namespace":"VOICE","eventType":"SESSION_SUMMARY"}}',
    '{ts} ERROR nm-session sessionId={uuid} subAccountId={acct} errorCode={code} errorMsg="{msg}"',
    "{ts} ERROR NumberMaskingError: session {uuid} failed with {code}",
]


class Clock:
    """Monotonic log time with cached ISO and access-log renderings of each second."""

    def __init__(self, rng: random.Random):
        self.rng, self.ms, self._sec = rng, START * 1000, -1

    def tick(self) -> None:
        self.ms += self.rng.randint(0, 40)
        sec = self.ms // 1000
        if sec != self._sec:
            self._sec = sec
            t = time.gmtime(sec)
            self.iso = time.strftime("%Y-%m-%dT%H:%M:%S", t)
            self.clf = time.strftime("%d/%b/%Y:%H:%M:%S +0000", t)

    @property
    def ts(self) -> str:
        return f"{self.iso}.{self.ms % 1000:03d}Z"


def generate(path: Path, mb: int = 100, seed: int = 7) -> dict[int, int]:
    """Write about `mb` MB of log to `path`; returns {code: planted events}."""
    from nmbot.engine.kb_files import load

    messages = {e.code: e.message for e in load()}
    codes = sorted(messages)
    rng = random.Random(seed)
    r, choice, randint = rng.random, rng.choice, rng.randint
    clock = Clock(rng)
    truth: Counter[int] = Counter()

    def uuid() -> str:
        x = rng.getrandbits(128)
        return f"{x >> 96:08x}-{x >> 80 & 0xFFFF:04x}-4{x >> 64 & 0xFFF:03x}-{8 | (x >> 62 & 3):x}{x >> 48 & 0xFFF:03x}-{x & 0xFFFFFFFFFFFF:012x}"

    def phone() -> str:
        return choice(("+65", "+65", "+852", "+63", "+62")) + str(randint(80000000, 99999999))

    def session() -> str:
        a, b, status = phone(), phone(), choice(("COMPLETED", "COMPLETED", "NO_ANSWER", "BUSY"))
        dur = randint(0, 900) if status == "COMPLETED" else 0
        return (
            f'{{"payload":{{"sessionId":"{uuid()}","subAccountId":"{choice(ACCOUNTS)}","sessionStatus":"{status}",'
            f'"startTime":"{clock.iso}Z","endTime":"{clock.iso}Z","lastAction":"MAKE_CALL","callCount":2,"details":{{'
            f'"callB":{{"callId":"{uuid()}","callDirection":"OUTBOUND","callType":"PSTN","source":"{b}","destination":"{phone()}",'
            f'"sourceFormat":"MSISDN","destinationFormat":"MSISDN","callStatus":"{status}","callDuration":{dur}}},'
            f'"callA":{{"callId":"{uuid()}","callDirection":"INBOUND","callType":"PSTN","source":"{a}","destination":"{b}",'
            f'"sourceFormat":"MSISDN","destinationFormat":"MSISDN","callStatus":"COMPLETED","callDuration":{dur + randint(0, 5)}}}}}}},'
            f'"namespace":"VOICE","eventType":"SESSION_SUMMARY","description":"Summary of a completed call session"}}'
        )

    def line() -> str:
        clock.tick()
        x = r()
        if x < 0.001:
            code = choice(codes)
            truth[code] += 1
            return choice(REAL).format(ts=clock.ts, iso=clock.iso + "Z", uuid=uuid(), uuid2=uuid(), acct=choice(ACCOUNTS),
                                       code=code, msg=messages[code], a=phone(), b=phone())
        if x < 0.011:
            return choice(DECOYS).format(ts=clock.ts, neg=choice(codes), n=randint(1, 99999), acct=choice(ACCOUNTS), uuid=uuid())
        if x < 0.10:
            return session()
        if x < 0.40:
            return (f'10.20.{randint(0, 9)}.{randint(1, 254)} - - [{clock.clf}] "{choice(("GET", "POST"))} {choice(PATHS)} HTTP/1.1" '
                    f'{choice(HTTP_STATUS)} {randint(0, 40000)} "-" "{choice(AGENTS)}" rt={r() * 0.5:.3f}')
        if x < 0.60:
            return (f"{clock.ts} DEBUG metrics host=nm-{randint(1, 12)} queueDepth={randint(0, 500)} p95Ms={randint(5, 2500)} "
                    f"heapMb={randint(200, 4000)} gcPauseMs={randint(0, 90)} openSockets={randint(10, 9000)}")
        return (f"{clock.ts} INFO  nm-session sessionId={uuid()} subAccountId={choice(ACCOUNTS)} action={choice(ACTIONS)} "
                f"source={phone()} destination={phone()} durationMs={randint(1, 120000)} status={choice(STATUSES)}")

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    target, written = mb * 1_000_000, 0
    with open(tmp, "w", encoding="utf-8", newline="\n") as f:
        while written < target:
            block = "\n".join(line() for _ in range(5000)) + "\n"
            f.write(block)
            written += len(block)
    tmp.replace(path)
    truth_map = {str(k): v for k, v in sorted(truth.items())}
    truth_path(path).write_text(json.dumps(truth_map, indent=1))
    return {int(k): v for k, v in truth_map.items()}


def truth_path(path: Path) -> Path:
    return path.with_name(path.name + ".truth.json")


def ensure(mb: int = 100, seed: int = 7) -> tuple[Path, dict[int, int]]:
    """The log for (mb, seed), generated only if it is not there yet."""
    path = DATA / f"log-{mb}mb-seed{seed}.log"
    if path.exists() and truth_path(path).exists():
        return path, {int(k): v for k, v in json.loads(truth_path(path).read_text()).items()}
    return path, generate(path, mb, seed)


def main() -> None:
    p = argparse.ArgumentParser(description="Generate a realistic log file for bench_scanner.py.")
    p.add_argument("--mb", type=int, default=100)
    p.add_argument("--seed", type=int, default=7)
    args = p.parse_args()
    t0 = time.perf_counter()
    path, truth = ensure(args.mb, args.seed)
    print(f"{path}: {path.stat().st_size / 1e6:.0f} MB, {sum(truth.values())} planted errors ({time.perf_counter() - t0:.1f} s)")


if __name__ == "__main__":
    main()
