from __future__ import annotations

from slack_bolt import App

from ...deps import Deps
from .nmerror import COMMAND, handle_nmerror

__all__ = ["COMMAND", "handle_nmerror", "register"]


def register(app: App, deps: Deps) -> None:
    @app.command(COMMAND)
    def nmerror(ack, command, logger):
        handle_nmerror(deps, ack, command, logger)
