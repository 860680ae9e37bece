"""Bolt listeners, one package per kind; each listener is a thin adapter over a plain handler."""
from __future__ import annotations

from slack_bolt import App

from ..deps import Deps
from . import actions, commands, events, shortcuts


def register(app: App, deps: Deps) -> None:
    """Every listener, each run pinned to one knowledge base and counted (see listener_runs.py)."""
    registering = deps.runs.registering(app)
    commands.register(registering, deps)
    events.register(registering, deps)
    actions.register(registering, deps)
    shortcuts.register(registering, deps)
