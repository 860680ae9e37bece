"""Helper process for the cross-process journal race (not a test module).

    python take_worker.py URL SYNC_DIR WORKER_ID PEERS

Opens the store, creates SYNC_DIR/opened-<id>, waits until every peer has, then takes lapsed events a few
at a time until none is left, and prints the keys it took as one JSON list.
"""
from __future__ import annotations

import json
import os
import sys
import time

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))

from bot.store import open_store  # noqa: E402

TIMEOUT = 20.0


def main() -> int:
    url, sync, me, peers = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    with open_store(url) as store:
        with open(os.path.join(sync, f"opened-{me}"), "w"):
            pass
        deadline = time.monotonic() + TIMEOUT
        while not all(os.path.exists(os.path.join(sync, f"opened-{n}")) for n in range(peers)):
            if time.monotonic() > deadline:
                raise SystemExit("timed out waiting for the other takers")
            time.sleep(0.001)
        taken: list[str] = []
        while batch := store.take_lapsed_events(owner=f"worker:{me}", lease=600, limit=3):
            taken.extend(e.key for e in batch)
    print(json.dumps(taken))
    return 0


if __name__ == "__main__":
    sys.exit(main())
