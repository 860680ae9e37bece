from __future__ import annotations

from slack_bolt import App

from ...deps import Deps
from .nmerror import COMMAND, handle_nmerror

__all__ = ["COMMAND", "handle_nmerror", "register"]


def register(app: App, deps: Deps) -> None:
    def in_the_request_thread(next):  # noqa: A002 - Bolt passes arguments by these names
        deps.listeners.run_next_here()  # the answer is the ack: no hand-off, no wait for Bolt's next look
        next()

    @app.command(COMMAND, middleware=[in_the_request_thread])
    def nmerror(ack, command, logger):
        handle_nmerror(deps, ack, command, logger)
