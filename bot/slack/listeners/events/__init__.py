from __future__ import annotations

from slack_bolt import App

from ...deps import Deps
from .app_home import handle_app_home_opened
from .mentions import handle_mention
from .messages import handle_message
from .reactions import handle_reaction

__all__ = ["handle_app_home_opened", "handle_mention", "handle_message", "handle_reaction", "register"]


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

    # Every reaction arrives here; handle_reaction acts only on a removal mark on the bot's own reply.
    @app.event("reaction_added")
    def reaction_added(body, event, client, logger):
        handle_reaction(deps, client, body, event, logger)

    @app.event("app_home_opened")
    def app_home_opened(event, client, logger):
        handle_app_home_opened(deps, client, event, logger)
