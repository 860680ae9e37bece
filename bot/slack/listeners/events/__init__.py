from __future__ import annotations

from slack_bolt import App

from ...deps import Deps
from .mentions import handle_mention
from .messages import handle_message

__all__ = ["handle_mention", "handle_message", "register"]


def register(app: App, deps: Deps) -> None:
    @app.event("app_mention")
    def app_mention(body, event, client, logger):
        handle_mention(deps, client, body, event, logger)

    # Every message subtype lands here, edits, deletions and joins included: an event
    # with no listener gets a 404 from Bolt, and Slack retries it and may turn the
    # subscription off. handle_message ignores what it should not answer.
    @app.event("message")
    def message(body, event, client, logger):
        handle_message(deps, client, body, event, logger)
