"""Fixtures for the report tests: a store filled by hand (see report_data.py)."""
from __future__ import annotations

import pytest
from report_data import fill, report_clock

from nmbot.store import open_store


@pytest.fixture
def filled(kb):
    clock = report_clock()
    store = open_store("memory://", clock=clock)
    fill(store, clock, kb.version)
    return store
