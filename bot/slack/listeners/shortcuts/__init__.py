from __future__ import annotations

from slack_bolt import App

from ...deps import Deps
from .explain import CALLBACK_ID, handle_explain

__all__ = ["CALLBACK_ID", "handle_explain", "register"]


def register(app: App, deps: Deps) -> None:
    @app.message_shortcut(CALLBACK_ID)
    def explain_error_codes(ack, body, client, respond, logger):
        ack()
        handle_explain(deps, body, client, respond, logger)
