"""The interface itself: dataclasses, and every backend matching its signatures."""
from __future__ import annotations

import dataclasses
import inspect

import pytest

from nmbot.store import (AUTOREPLY_MODES, ChannelSettings, Feedback, JournalEntry, SqlStore, StateStore, Unanswered,
                         UsageEvent)


def test_channel_settings_defaults_and_mute() -> None:
    settings = ChannelSettings("C1")
    assert (settings.channel, settings.autoreply, settings.muted_until) == ("C1", "on", None)
    assert not settings.is_muted(1e12)
    muted = ChannelSettings("C1", "off", 100.0)
    assert muted.is_muted(99.9) and not muted.is_muted(100.0)
    assert AUTOREPLY_MODES == ("on", "off", "shadow")


@pytest.mark.parametrize("cls", [ChannelSettings, Feedback, Unanswered, UsageEvent, JournalEntry])
def test_records_are_frozen(cls) -> None:
    assert dataclasses.is_dataclass(cls)
    assert cls.__dataclass_params__.frozen


def test_state_store_is_abstract() -> None:
    with pytest.raises(TypeError):
        StateStore()  # type: ignore[abstract]


@pytest.mark.parametrize("backend", [SqlStore])
def test_backends_keep_the_interface_signatures(backend) -> None:
    for name, method in inspect.getmembers(StateStore, inspect.isfunction):
        if name.startswith("_"):
            continue
        ours = inspect.signature(getattr(backend, name))
        theirs = inspect.signature(method)
        assert list(ours.parameters.items()) == list(theirs.parameters.items()), f"{backend.__name__}.{name}"
