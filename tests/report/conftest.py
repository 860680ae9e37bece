"""Fixtures for the report tests: a store filled by hand (see report_data.py)."""
from __future__ import annotations

import pytest
from report_data import Clock, fill

from nmbot.store import MemoryStore


@pytest.fixture
def filled(kb):
    clock = Clock()
    store = MemoryStore(clock=clock)
    fill(store, clock, kb.version)
    return store
