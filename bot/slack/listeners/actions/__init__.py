from __future__ import annotations

import re

from slack_bolt import App

from ....cards.blocks import OPEN_CARD, OPEN_DOCS, SHARE_CARD, SUGGESTION
from ...deps import Deps
from .buttons import handle_open_card, handle_share

__all__ = ["handle_open_card", "handle_share", "register"]


def register(app: App, deps: Deps) -> None:
    @app.action(re.compile(f"^(?:{SUGGESTION}|{OPEN_CARD})_"))
    def open_card(ack, body, respond, logger):
        ack()
        handle_open_card(deps, body, respond, logger)

    @app.action(SHARE_CARD)
    def share_card(ack, body, client, respond, logger):
        ack()
        handle_share(deps, body, client, respond, logger)

    # A link button still sends Slack an interaction; without an ack the person sees a warning.
    @app.action(OPEN_DOCS)
    def open_docs(ack):
        ack()
