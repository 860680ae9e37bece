"""The Bolt app: one `App`, its Web API client, and the listeners over the engine."""
from __future__ import annotations

import logging
from concurrent.futures import Executor

from slack_bolt import App
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_sdk import WebClient

from ..engine.knowledge import KnowledgeBase
from ..settings import Settings
from ..store import StateStore
from . import listeners
from .deps import Deps, make_client, open_deps
from .journal import JournalEvents
from .metrics import request_counter
from .payloads import RefuseMalformed

# Bot scopes the listeners use, each for one reason; manifest.yml must grant exactly these.
BOT_SCOPES = {
    "commands": "/nmerror",
    "chat:write": "replies in threads and shared cards",
    "app_mentions:read": "app_mention events",
    "channels:history": "message events in public channels (pasted logs)",
    "groups:history": "message events in private channels (pasted logs)",
    "channels:read": "conversations.info: channel names instead of IDs in nmbot report",
    "groups:read": "conversations.info: private channel names instead of IDs in nmbot report",
    "files:read": "files.info and downloading shared log files and snippets",
    "reactions:read": "reaction_added events (a reaction on a reply removes it)",
    "metadata.message:read": "the claim key in its own replies' metadata, read back before answering an event again",
}


class _ClientWinsNotice(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN from the environment too, and warns at every start that the
    client passed in wins. That is the intent (the client carries the API URL and retry
    handlers), so the warning would only teach operators to ignore warnings."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != warning_client_prioritized_and_token_skipped()


logging.getLogger("slack_bolt.App").addFilter(_ClientWinsNotice())


def assemble(settings: Settings, kb: KnowledgeBase | None = None, store: StateStore | None = None,
             client: WebClient | None = None, *, listener_executor: Executor | None = None) -> tuple[App, Deps]:
    """The app and the dependencies its listeners share (the server needs both); raises SettingsError naming
    what to fix."""
    client = client if client is not None else make_client(settings)
    deps = open_deps(settings, kb=kb, store=store, client=client, listener_executor=listener_executor)
    secret = settings.slack_signing_secret.reveal() if settings.slack_signing_secret else ""
    app = App(
        name="nmbot",
        client=client,
        signing_secret=secret,
        # Socket Mode requests come over an authenticated websocket and carry no signature.
        request_verification_enabled=bool(secret),
        token_verification_enabled=True,
        listener_executor=deps.listener_executor,
        before_authorize=RefuseMalformed(deps.metrics),  # first after the signature check
    )
    app.use(request_counter(deps.metrics))
    app.use(JournalEvents(deps, listeners.events.answerable))  # recorded before dispatch returns: before the ack
    listeners.register(app, deps)
    return app, deps
