"""The deployment kit's tests: the container image, compose.yaml, the systemd unit, the alert rules and the
dashboard. They reuse the Slack tests' stand-ins (tests/slack), so that folder is importable from here too.

Tests marked `container` build and run the image, which takes minutes: a run without `-m` skips them, saying
how to run them (`python -m pytest -n 0 -m container`, which `.ci/run` does after the suite: in one process, as
the tests share one image build).
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SLACK_TESTS = REPO / "tests" / "slack"
if str(SLACK_TESTS) not in sys.path:
    sys.path.insert(0, str(SLACK_TESTS))

SLOW = pytest.mark.skip(reason="builds and runs the container image (minutes): run "
                               "`python -m pytest -n 0 -m container` (.ci/run does)")


def pytest_collection_modifyitems(config, items) -> None:
    if config.getoption("markexpr"):
        return  # `-m` chose what runs
    for item in items:
        if item.get_closest_marker("container"):
            item.add_marker(SLOW)
