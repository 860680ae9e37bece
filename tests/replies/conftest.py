"""The replies layer on its own: the real engine and an in-memory store, with stand-ins (replies_stubs.py) for
what the Slack side passes in and for the process's counters, usage log and leases. No Slack, no server."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from replies_stubs import BOT, Counts, Leases, Posts, Usage

from nmbot.engine.resolver import Resolver
from nmbot.engine.scanner import Scanner
from nmbot.settings import Settings
from nmbot.store import open_store


@pytest.fixture
def deps(kb):
    store = open_store("memory://")
    yield SimpleNamespace(settings=Settings(), kb=kb, resolver=Resolver(kb), scanner=Scanner(kb), store=store,
                          bot_user_id=BOT, metrics=Counts(), usage=Usage(), leases=Leases())
    store.close()


@pytest.fixture
def posts() -> Posts:
    return Posts()
