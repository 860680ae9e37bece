"""How reading time grows with the length of crafted hostile lines: linear, not worse.

Each family is a line built to make a regex backtrack (the lines that once
froze the bot), N = 1k ... 64k characters of its fragment repeated (the
crafted ones end in an `x` that makes the match fail late). Every reader of user
text takes each line: the scanner (as `nmbot scan` and pasted logs do), the
resolver (as `/nmerror`, mentions and `nmbot ask` do), the code reader, the
mention stripper, the phone masker. Printed: milliseconds at each N (best of
3) and the growth from N = 32k to 64k, which is about 2 for linear time and 4
for quadratic. Targets: growth under 3, and 64k under 1 s, for every family.

    .venv/bin/python benchmarks/bench_hostile.py [--max-k 64] [--strict]
"""
from __future__ import annotations

import time
from typing import Callable

from _common import check, finish, heading, parser

# (head, fragment): the line is the head, then the fragment repeated to N characters.
FAMILIES: dict[str, tuple[str, str]] = {
    "field: spaces": ("errorCode: -2004", " "),
    "field: quote, tab": ("\"errorCode\": -2004,", " \t"),
    "key=value: spaces": ("errorCode=-2004", " "),
    "mentions": ("", "<@U1|"),
    "digit run": ("", "1"),
    "numbers after fail": ("fail ", "2042 "),
    "long word": ("", "a"),
    "fail words": ("", "fail"),
    "signed codes": ("", "error -2004 "),
    "phone-like": ("", "+65 9123 4567 "),
    "colons, then @": ("", ":"),
}
GROWTH_LIMIT = 3.0
SLOWEST_SECONDS = 1.0


def readers() -> dict[str, Callable[[str], object]]:
    from nmbot.engine.codes import codes_in_question
    from nmbot.engine.kb_files import load
    from nmbot.engine.privacy import mask_msisdns, mask_url
    from nmbot.engine.resolver import Resolver
    from nmbot.engine.scanner import Scanner
    from nmbot.replies.answers import without_mention

    kb = load()
    scanner, resolver, known = Scanner(kb), Resolver(kb), {e.code for e in kb}
    return {
        "scan": scanner.scan_text,
        "resolve": resolver.resolve,
        "codes": lambda text: codes_in_question(text, known),
        "mention": lambda text: without_mention(text, "U1"),
        "mask": mask_msisdns,
        "url": mask_url,
    }


def best_of_3(fn: Callable[[], object]) -> float:
    times = []
    for _ in range(3):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> int:
    p = parser(__doc__)
    p.add_argument("--max-k", type=int, default=64, help="largest N in thousands (a power of 2; default 64)")
    args = p.parse_args()
    sizes = [1000 * 2 ** i for i in range(args.max_k.bit_length()) if 2 ** i <= args.max_k]
    read_all = readers()
    results = []
    heading("milliseconds to read one line of N characters, all readers together (best of 3)")
    print(f"{'family':<20}" + "".join(f"{n // 1000:>8}k" for n in sizes) + f"{'growth':>9}")
    for family in FAMILIES:
        seconds = []
        head, fragment = FAMILIES[family]
        for n in sizes:
            line = head + fragment * (n // len(fragment)) + ("x" if head.startswith(("err", "\"err")) else "")
            line += "@" if fragment == ":" else ""
            seconds.append(best_of_3(lambda: [read(line) for read in read_all.values()]))
        growth = seconds[-1] / seconds[-2] if len(seconds) > 1 and seconds[-2] > 0 else float("nan")
        print(f"{family:<20}" + "".join(f"{s * 1000:>9.1f}" for s in seconds) + f"{growth:>9.2f}", flush=True)
        results.append(check(f"{family}: growth x2 N", growth, "x", "<", GROWTH_LIMIT))
        results.append(check(f"{family}: {sizes[-1] // 1000}k", seconds[-1], "s", "<", SLOWEST_SECONDS))
    return finish(results, args)


if __name__ == "__main__":
    raise SystemExit(main())
