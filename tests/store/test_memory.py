"""MemoryStore specifics; its contract is checked in test_contract.py."""
from __future__ import annotations

from nmbot.store import MemoryStore, open_store


def test_memory_urls_open_a_memory_store() -> None:
    for url in ("memory://", "memory:", "memory", " MEMORY:// "):
        assert isinstance(open_store(url), MemoryStore)


def test_memory_stores_share_nothing() -> None:
    a, b = MemoryStore(), MemoryStore()
    assert a.claim("k", ttl=60) and b.claim("k", ttl=60)


def test_memory_store_uses_the_injected_clock(clock) -> None:
    store = MemoryStore(clock=clock)
    store.record_event(kind="answer", surface="cli", channel="", code=None)
    assert store.events()[0].at == clock.now
