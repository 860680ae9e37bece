from __future__ import annotations

import re

from slack_bolt import App

from ....cards.action_ids import FEEDBACK_MODAL, OPEN_CARD, OPEN_DOCS, SHARE_CARD, SUGGESTION, VOTE_DOWN, VOTE_UP, WHY
from ....replies.kinds import Vote
from ...deps import Deps
from .buttons import handle_open_card, handle_share
from .feedback import handle_form_closed, handle_form_submission, handle_vote, handle_why

__all__ = ["handle_form_closed", "handle_form_submission", "handle_open_card", "handle_share", "handle_vote",
           "handle_why", "register"]


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

    @app.action(VOTE_UP)
    def vote_up(ack, body, client, respond, logger):
        ack()
        handle_vote(deps, body, client, respond, logger, Vote.UP)

    @app.action(VOTE_DOWN)
    def vote_down(ack, body, client, respond, logger):
        # The form needs the click's trigger_id within 3 seconds: the ack goes first, the form right after.
        ack()
        handle_vote(deps, body, client, respond, logger, Vote.DOWN)

    @app.action(WHY)
    def why(ack, body, respond, logger):
        ack()
        handle_why(deps, body, respond, logger)

    @app.view_submission(FEEDBACK_MODAL)
    def feedback_sent(ack, body, view, logger):
        ack()  # closes the form; the comment is stored after
        handle_form_submission(deps, body, view, logger)

    @app.view_closed(FEEDBACK_MODAL)
    def feedback_skipped(ack, body, view, logger):
        ack()
        handle_form_closed(body, view, logger)
