"""Shared fixtures: the shipped knowledge base and small hand-made ones."""
from __future__ import annotations

import compileall
import os
import re
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from nmbot.engine.kb_files import load
from nmbot.engine.knowledge import KnowledgeBase
from nmbot.settings import CACHE_ENV_VAR

REPO = Path(__file__).resolve().parents[1]

# The knowledge-base parse cache of this test run, not the user's (child processes inherit it).
os.environ[CACHE_ENV_VAR] = tempfile.mkdtemp(prefix="nmbot-test-cache-")
# Compiled modules are cached in __pycache__ even where PYTHONDONTWRITEBYTECODE is set (container images often
# set it): without the cache every `nmbot` a test starts compiles nmbot anew, and each pytest worker rewrites
# the asserts of every test module anew. Child processes and the workers inherit the environment.
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
sys.dont_write_bytecode = False

# Property tests: a few hundred generated inputs each in the suite; the long run is
# `HYPOTHESIS_PROFILE=long .venv/bin/python -m pytest tests -k property` (docs/operations.md, "Hostile input").
settings.register_profile("suite", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("long", max_examples=20_000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "suite"))

# Test modules themselves are compiled by pytest (their asserts rewritten), into caches of their own.
NOT_COMPILED_HERE = re.compile(r"(^|/)(test_[^/]*|conftest)\.py$")


def pytest_configure(config) -> None:
    """In the process that starts the workers (or runs the tests alone), before any worker: compile nmbot and
    the tests' helper modules into their __pycache__ once. In a fresh clone the workers and every `nmbot` a
    test starts would otherwise each compile them, at the same time."""
    if not hasattr(config, "workerinput"):  # pytest-xdist sets it in its workers
        compileall.compile_dir(REPO / "bot", quiet=1)
        compileall.compile_dir(REPO / "tests", rx=NOT_COMPILED_HERE, quiet=1)


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    return load([REPO / "knowledge"])


ENTRY_TEMPLATE = """\
  - code: {code}
    message: {message}
    title: {title}
    category: platform
    meaning: [{{text: Something went wrong., source: ours}}]
    causes: [{{text: A cause., source: ours}}]
    steps: [{{text: Check one thing., source: ours}}, {{text: Check another thing., source: ours}}]
    owner: customer
    owner_detail: The customer fixes it.
    escalate: [sessionId]
    related: []
    docs: https://example.com/docs
    phrases: [{phrases}]
"""


@pytest.fixture
def write_kb(tmp_path):
    """Write a small knowledge-base file; returns its path."""

    def write(name: str = "team.yaml", entries: list[dict] | None = None, version: str = "1", extra: str = "") -> Path:
        entries = entries or [{"code": -7001, "message": "Team error one", "title": "Team one", "phrases": "team widget broken"}]
        body = "".join(ENTRY_TEMPLATE.format(**e) for e in entries)
        path = tmp_path / name
        path.write_text(f'version: "{version}"\n{extra}entries:\n{body}', encoding="utf-8")
        return path

    return write


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")
