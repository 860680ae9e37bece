"""The package's public face: what `nmbot.store` exports and how open_store picks a backend."""
from __future__ import annotations

import inspect
import time

import nmbot.store as store_pkg
from nmbot.store import MemoryStore, SqlStore, StateStore, StoreError, open_store


def test_public_names() -> None:
    for name in ("StateStore", "ChannelSettings", "open_store", "StoreError"):
        assert name in store_pkg.__all__
        assert hasattr(store_pkg, name)
    assert issubclass(StoreError, Exception)


def test_open_store_signature() -> None:
    sig = inspect.signature(open_store)
    assert list(sig.parameters) == ["url", "clock", "keep_days"]
    assert sig.parameters["clock"].kind is inspect.Parameter.KEYWORD_ONLY
    assert sig.parameters["clock"].default is time.time
    assert sig.parameters["keep_days"].kind is inspect.Parameter.KEYWORD_ONLY
    assert sig.parameters["keep_days"].default == 180


def test_open_store_picks_the_backend(tmp_path) -> None:
    memory = open_store("memory://")
    sqlite = open_store(str(tmp_path / "state.sqlite3"))
    try:
        assert isinstance(memory, MemoryStore) and isinstance(memory, StateStore)
        assert isinstance(sqlite, SqlStore) and sqlite.dialect == "sqlite"
    finally:
        memory.close()
        sqlite.close()
