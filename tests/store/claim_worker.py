"""Helper process for the cross-process race tests (not a test module).

    python claim_worker.py URL SYNC_DIR WORKER_ID PEERS COUNT

1. creates SYNC_DIR/ready-<id> once imported, and waits for SYNC_DIR/go;
2. opens the store (all peers at once: they race to create the schema),
   creates SYNC_DIR/opened-<id> and waits until every peer has opened it;
3. tries to claim "race:0" .. "race:<COUNT-1>", in that order, and prints
   the keys it won as one JSON list.
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


def _touch(path: str) -> None:
    with open(path, "w"):
        pass


def _wait_for(paths: list[str]) -> None:
    poll_until(lambda: all(os.path.exists(p) for p in paths), str(paths), TIMEOUT, every=0.001)


def main() -> int:
    url, sync, me, peers, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    _touch(os.path.join(sync, f"ready-{me}"))
    _wait_for([os.path.join(sync, "go")])
    store = open_store(url)
    try:
        _touch(os.path.join(sync, f"opened-{me}"))
        _wait_for([os.path.join(sync, f"opened-{n}") for n in range(peers)])
        # Every peer walks the keys in the same order, so they meet on the
        # same key at the same moment again and again.
        won = [f"race:{i}" for i in range(count) if store.claim(f"race:{i}", ttl=600)]
    finally:
        store.close()
    print(json.dumps(won))
    return 0


if __name__ == "__main__":
    sys.exit(main())
