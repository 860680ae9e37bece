"""Bolt listeners, one package per kind; each listener is a thin adapter over a plain handler."""
from __future__ import annotations

from slack_bolt import App

from ..deps import Deps
from . import actions, commands, events, shortcuts


def register(app: App, deps: Deps) -> None:
    """Every listener, each run pinned to one knowledge base and counted (see listener_runs.py).

    Bolt tries listeners in the order they were registered, each matcher reading the payload: the kinds
    Slack sends most (message events, then the command) come first."""
    registering = deps.runs.registering(app)
    events.register(registering, deps)
    commands.register(registering, deps)
    actions.register(registering, deps)
    shortcuts.register(registering, deps)
