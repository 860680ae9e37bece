"""The package's public face: what `nmbot.store` exports and how open_store picks a backend."""
from __future__ import annotations

import inspect
import time

import nmbot.store as store_pkg
from nmbot.store import SqlStore, StateStore, StoreError, UsageEvent, open_store


def test_public_names() -> None:
    for name in ("StateStore", "ChannelSettings", "open_store", "StoreError"):
        assert name in store_pkg.__all__
        assert hasattr(store_pkg, name)
    assert issubclass(StoreError, Exception)


def test_open_store_signature() -> None:
    sig = inspect.signature(open_store)
    assert list(sig.parameters) == ["url", "clock", "keep_days", "read_only"]
    assert sig.parameters["clock"].kind is inspect.Parameter.KEYWORD_ONLY
    assert sig.parameters["clock"].default is time.time
    assert sig.parameters["keep_days"].kind is inspect.Parameter.KEYWORD_ONLY
    assert sig.parameters["keep_days"].default == 180
    assert sig.parameters["read_only"].kind is inspect.Parameter.KEYWORD_ONLY
    assert sig.parameters["read_only"].default is False


def test_open_store_picks_the_backend(tmp_path) -> None:
    memory = open_store("memory://")
    sqlite = open_store(str(tmp_path / "state.sqlite3"))
    try:
        assert isinstance(memory, SqlStore) and isinstance(memory, StateStore)
        assert isinstance(sqlite, SqlStore) and sqlite.dialect == "sqlite"
    finally:
        memory.close()
        sqlite.close()


def test_memory_urls_open_sqlite_in_memory_private_to_each_store(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    for url in ("memory://", "memory:", "memory", " MEMORY:// "):
        a, b = open_store(url), open_store(url)
        assert (a.dialect, a.local) == ("sqlite", True)
        assert a.claim("k", ttl=60) and b.claim("k", ttl=60), "stores in memory share nothing"
        a.close()
        b.close()
    assert list(tmp_path.iterdir()) == [], "nothing written to disk"


def test_a_store_in_memory_uses_the_injected_clock(clock) -> None:
    with open_store("memory://", clock=clock) as store:
        store.record_events([UsageEvent("answer", "cli", "", None, store.now())])
        assert store.events()[0].at == clock.now
