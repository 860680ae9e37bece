"""Helper process for the cross-process journal race (not a test module).

    python take_worker.py URL SYNC_DIR WORKER_ID PEERS

Opens the store, creates SYNC_DIR/opened-<id>, waits until every peer has, takes a first batch of lapsed
events, waits until every peer has one too, then takes a few at a time until none is left, and prints the
keys it took as one JSON list.
"""
from __future__ import annotations

import json
import os
import sys

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..")))  # the tests' helpers

from helpers import poll_until  # noqa: E402

from nmbot.store import open_store  # noqa: E402

TIMEOUT = 20.0


def meet(sync: str, stage: str, me: int, peers: int) -> None:
    """Say this taker reached `stage`, then wait until every peer has."""
    with open(os.path.join(sync, f"{stage}-{me}"), "w"):
        pass
    poll_until(lambda: all(os.path.exists(os.path.join(sync, f"{stage}-{n}")) for n in range(peers)),
               f"the other takers ({stage})", TIMEOUT, every=0.001)


def main() -> int:
    url, sync, me, peers = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    with open_store(url) as store:
        meet(sync, "opened", me, peers)
        taken = [e.key for e in store.take_lapsed_events(owner=f"worker:{me}", lease=600, limit=3)]
        # Every taker holds a first batch before any goes on: a database lock that is not fair could
        # otherwise let one process take everything, and the race would test nothing.
        meet(sync, "took", me, peers)
        while batch := store.take_lapsed_events(owner=f"worker:{me}", lease=600, limit=3):
            taken.extend(e.key for e in batch)
    print(json.dumps(taken))
    return 0


if __name__ == "__main__":
    sys.exit(main())
