from __future__ import annotations

from slack_bolt import App

from ...deps import Deps
from .app_home import handle_app_home_opened
from .mentions import asks_the_bot, handle_mention
from .messages import handle_message, is_person_posting
from .reactions import handle_reaction

__all__ = ["answerable", "handle_app_home_opened", "handle_mention", "handle_message", "handle_reaction", "register"]


def answerable(deps: Deps, event: dict) -> bool:
    """Whether the bot will answer this event or decide, after a scan, to say nothing: judged from its shape
    alone (who posted, what kind of message), exactly as the listeners first judge it, never by a scan."""
    if event.get("type") == "app_mention":
        return asks_the_bot(deps, event)
    return event.get("type") == "message" and is_person_posting(deps, event)


def register(app: App, deps: Deps) -> None:
    # Every message subtype lands here, edits, deletions and joins included: an event
    # with no listener gets a 404 from Bolt, and Slack retries it and may turn the
    # subscription off. handle_message ignores what it should not answer.
    @app.event("message")
    def message(body, event, client, logger):
        handle_message(deps, client, body, event, logger)

    @app.event("app_mention")
    def app_mention(body, event, client, logger):
        handle_mention(deps, client, body, event, logger)

    # Every reaction arrives here; handle_reaction acts only on a removal mark on the bot's own reply.
    @app.event("reaction_added")
    def reaction_added(body, event, client, logger):
        handle_reaction(deps, client, body, event, logger)

    @app.event("app_home_opened")
    def app_home_opened(event, client, logger):
        handle_app_home_opened(deps, client, event, logger)
