"""Bolt listeners, one package per kind. Each parses what Slack sent into plain values, calls nmbot.replies
(which decides what to say, and whether and where) and sends what it decided: a post, an ack, a respond."""
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
