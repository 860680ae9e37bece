"""Reading a Prometheus text page in tests: every sample checked against the format."""
from __future__ import annotations

import re

SAMPLE = re.compile(r'^[a-z_]+(\{([a-z_]+="(?:[^"\\]|\\.)*",?)*\})? (-?\d+(\.\d+)?(e[-+]?\d+)?|\+Inf)$')


def metrics_of(text: str) -> dict[str, float]:
    """Every sample line of a Prometheus text page by name and labels, as written."""
    samples = {}
    for line in text.splitlines():
        if line.startswith("# "):
            assert re.match(r"^# (HELP|TYPE) [a-z_]+ .+$", line), line
            continue
        assert SAMPLE.match(line), line
        name, value = line.rsplit(" ", 1)
        samples[name] = float(value)
    return samples
