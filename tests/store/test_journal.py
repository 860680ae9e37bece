"""The journal of acknowledged events, on every backend: recorded once, leased, taken up again exactly once
when the lease lapses, never once settled or past its age, and given up after a few attempts.

`store`, `make_store` and `clock` come from conftest.py; each test runs once per backend.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from nmbot.store import RECOVERY_ATTEMPTS, JournalEntry, StateStore, StoreError, open_store

REPO = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("take_worker.py")
HOUR = 3600.0


def entry(n: int = 1, **fields) -> JournalEntry:
    values = dict(key=f"msg:C1:1700000000.{n:06d}", event_type="message", channel="C1",
                  ts=f"1700000000.{n:06d}", text=f"errorCode=-2004 callee=+6591234567 #{n}")
    return JournalEntry(**{**values, **fields})


def keys(entries) -> list[str]:
    return [e.key for e in entries]


def test_an_event_is_recorded_once_with_phone_numbers_masked(store: StateStore, clock) -> None:
    first = entry(thread_ts="1699999999.000100", user="U1", files=("F1", "F2"), event_type="app_mention")
    assert store.journal_event(first, owner="host:1", lease=60, keep=HOUR) is True
    assert store.journal_event(entry(text="another copy"), owner="host:2", lease=60, keep=HOUR) is False
    [pending] = store.pending_events()
    assert pending == JournalEntry(key=first.key, event_type="app_mention", channel="C1", ts=first.ts,
                                   thread_ts="1699999999.000100", user="U1",
                                   text="errorCode=-2004 callee=+•••••••67 #1", files=("F1", "F2"),
                                   arrived_at=clock.now, attempts=0)


def test_a_leased_event_is_taken_only_once_its_lease_ends(store: StateStore, clock) -> None:
    store.journal_event(entry(), owner="host:1", lease=60, keep=HOUR)
    assert store.take_lapsed_events(owner="host:2", lease=60) == []
    clock.advance(59.999)
    assert store.take_lapsed_events(owner="host:2", lease=60) == []
    clock.advance(0.001)
    [taken] = store.take_lapsed_events(owner="host:2", lease=30)
    assert taken.key == entry().key and taken.attempts == 1 and taken.text.endswith("#1")
    assert store.take_lapsed_events(owner="host:3", lease=30) == [], "the taker holds it for its own lease"
    clock.advance(30)
    assert [e.attempts for e in store.take_lapsed_events(owner="host:3", lease=30)] == [2]


def test_renewing_a_lease_keeps_the_event_from_being_taken(store: StateStore, clock) -> None:
    store.journal_event(entry(1), owner="host:1", lease=60, keep=HOUR)
    store.journal_event(entry(2), owner="host:1", lease=60, keep=HOUR)
    clock.advance(50)
    assert store.renew_leases([entry(1).key, "msg:C1:unknown"], lease=60) == 1
    clock.advance(50)
    assert keys(store.take_lapsed_events(owner="host:2", lease=60)) == [entry(2).key]
    clock.advance(10)
    assert keys(store.take_lapsed_events(owner="host:2", lease=60)) == [entry(1).key]
    assert store.renew_leases([], lease=60) == 0


def test_a_settled_event_is_never_taken_again_and_its_text_is_forgotten(store: StateStore, clock) -> None:
    store.journal_event(entry(1), owner="host:1", lease=60, keep=HOUR)
    store.journal_event(entry(2), owner="host:1", lease=60, keep=HOUR)
    store.settle_event(entry(1).key)
    store.settle_event(entry(1).key)  # idempotent
    store.settle_event("msg:C1:never-recorded")
    assert keys(store.pending_events()) == [entry(2).key]
    assert store.renew_leases([entry(1).key], lease=60) == 0
    clock.advance(60)
    assert keys(store.take_lapsed_events(owner="host:2", lease=60)) == [entry(2).key]
    assert store.journal_event(entry(1), owner="host:3", lease=60, keep=HOUR) is False, "a retry of it"


def test_an_event_older_than_its_keep_is_not_taken_and_is_purged(store: StateStore, clock) -> None:
    store.journal_event(entry(1), owner="host:1", lease=60, keep=HOUR)
    clock.advance(HOUR - 60)
    store.journal_event(entry(2), owner="host:1", lease=60, keep=HOUR)
    clock.advance(60)  # entry 1 is an hour old: an answer now would be noise
    assert keys(store.pending_events()) == [entry(2).key]
    assert keys(store.take_lapsed_events(owner="host:2", lease=60)) == [entry(2).key]
    assert store.purge_expired() == 1
    assert store.journal_event(entry(1), owner="host:3", lease=60, keep=HOUR) is True, "recorded anew"


def test_an_event_taken_up_too_often_is_given_up(store: StateStore, clock) -> None:
    store.journal_event(entry(), owner="host:1", lease=60, keep=HOUR)
    for attempt in range(1, RECOVERY_ATTEMPTS + 1):
        clock.advance(60)
        assert [e.attempts for e in store.take_lapsed_events(owner="host:2", lease=60)] == [attempt]
    clock.advance(60)
    assert store.take_lapsed_events(owner="host:2", lease=60) == []
    assert keys(store.pending_events()) == [entry().key], "still unanswered, for the record"
    clock.advance(60)
    assert len(store.take_lapsed_events(owner="host:2", lease=60, max_attempts=RECOVERY_ATTEMPTS + 1)) == 1


def test_the_oldest_lapsed_events_are_taken_first_and_no_more_than_asked(store: StateStore, clock) -> None:
    for n in (3, 1, 2):
        store.journal_event(entry(n), owner="host:1", lease=1, keep=HOUR)
        clock.advance(1)
    assert keys(store.take_lapsed_events(owner="host:2", lease=60, limit=2)) == [entry(3).key, entry(1).key]
    assert keys(store.take_lapsed_events(owner="host:2", lease=60, limit=2)) == [entry(2).key]


def test_bad_arguments_are_refused_before_anything_is_written(store: StateStore) -> None:
    with pytest.raises(TypeError, match="JournalEntry"):
        store.journal_event({"key": "k"}, owner="host:1", lease=60, keep=HOUR)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="key"):
        store.journal_event(entry(key=""), owner="host:1", lease=60, keep=HOUR)
    with pytest.raises(TypeError, match="files"):
        store.journal_event(entry(files="F1"), owner="host:1", lease=60, keep=HOUR)
    with pytest.raises(ValueError, match="lease"):
        store.journal_event(entry(), owner="host:1", lease=0, keep=HOUR)
    with pytest.raises(ValueError, match="owner"):
        store.take_lapsed_events(owner="", lease=60)
    with pytest.raises(ValueError, match="limit"):
        store.take_lapsed_events(owner="host:1", lease=60, limit=0)
    assert store.pending_events() == []


def test_a_closed_store_records_nothing(store: StateStore) -> None:
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.journal_event(entry(), owner="host:1", lease=60, keep=HOUR)
    with pytest.raises(StoreError, match="closed"):
        store.take_lapsed_events(owner="host:1", lease=60)


def test_the_journal_is_shared_by_stores_on_one_database(make_store, clock) -> None:
    a, b = make_store(), make_store()
    assert a.journal_event(entry(), owner="host:1", lease=60, keep=HOUR)
    assert not b.journal_event(entry(), owner="host:2", lease=60, keep=HOUR)
    clock.advance(60)
    assert keys(b.take_lapsed_events(owner="host:2", lease=60)) == [entry().key]
    assert a.take_lapsed_events(owner="host:1", lease=60) == []
    b.settle_event(entry().key)
    assert a.pending_events() == []


def test_threads_racing_to_take_lapsed_events_take_each_once(store: StateStore, clock) -> None:
    count = 120
    for n in range(count):
        store.journal_event(entry(n), owner="host:dead", lease=1, keep=HOUR)
    clock.advance(1)
    taken: list[list[str]] = [[] for _ in range(6)]
    start = threading.Barrier(len(taken))

    def taker(mine: list[str]) -> None:
        start.wait(timeout=10)
        while batch := store.take_lapsed_events(owner=f"host:{id(mine)}", lease=600, limit=7):
            mine.extend(keys(batch))

    threads = [threading.Thread(target=taker, args=(mine,)) for mine in taken]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    everything = [k for mine in taken for k in mine]
    assert len(everything) == len(set(everything)) == count, "each event taken once"
    assert sum(1 for mine in taken if mine) > 1, "the takers really raced"


@pytest.mark.parametrize("db", ["sqlite", "postgresql"])
def test_two_processes_take_each_lapsed_event_exactly_once(db: str, request, tmp_path) -> None:
    url = request.getfixturevalue("sqlite_url" if db == "sqlite" else "pg_schema_url")
    count, peers = 300, 2
    with open_store(url, clock=lambda: time.time() - 100) as recorder:  # leases that ended long ago
        for n in range(count):
            recorder.journal_event(entry(n), owner="host:dead", lease=1, keep=HOUR)
    sync = tmp_path / "sync"
    sync.mkdir()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    procs = [subprocess.Popen([sys.executable, str(WORKER), url, str(sync), str(me), str(peers)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=str(REPO))
             for me in range(peers)]
    try:
        taken = [json.loads(_output_of(proc)) for proc in procs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.communicate(timeout=5)
    everything = [k for mine in taken for k in mine]
    assert len(everything) == len(set(everything)) == count, "each event taken once, none missed"
    assert all(taken), "both processes took some"


def _output_of(proc: subprocess.Popen) -> str:
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, f"worker failed: {err.strip()[-2000:]}"
    return out
