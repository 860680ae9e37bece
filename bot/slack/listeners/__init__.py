"""Bolt listeners, one package per kind; each listener is a thin adapter over a plain handler."""
from __future__ import annotations

from slack_bolt import App

from ..deps import Deps
from . import actions, commands, events, shortcuts


def register(app: App, deps: Deps) -> None:
    commands.register(app, deps)
    events.register(app, deps)
    actions.register(app, deps)
    shortcuts.register(app, deps)
