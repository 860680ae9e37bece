"""Feedback on cards: thumbs-up, thumbs-down (with a "what was missing?" form), recorded through the store.

A vote's button value names the card (`VoteRef`), so recording it needs no look-up. The store keeps one vote
per person per card. Every vote ends in one private thanks: at once for a thumbs-up, when the form closes
for a thumbs-down. The listener passes `respond(**message)` (through the click's response_url) and
`open_form(ref, first) -> bool` (the thumbs-down form; False when it could not be opened).
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Callable

from ..cards.feedback import comment_thanks_message, vote_thanks_message
from ..cards.other_answers import notice_message
from ..store import StoreError
from .answers import PRIVATE
from .kinds import Surface, Vote
from .refs import VoteRef

if TYPE_CHECKING:
    from ..slack.deps import Deps


def record_vote(deps: Deps, ref: VoteRef | None, vote: Vote, *, user: str, channel: str,
                respond: Callable[..., object], open_form: Callable[[VoteRef, bool], bool],
                logger: logging.Logger) -> None:
    if ref is None or not user:
        respond(**PRIVATE, **notice_message("I could not read that vote. Please ask again for a new card."))
        return
    try:
        first = deps.store.record_feedback(card_id=ref.card_id, user=user, code=ref.code, vote=vote,
                                           surface=ref.surface, channel=channel, kb_version=ref.kb_version)
        if vote == Vote.DOWN and first and ref.question:
            # A card that missed is a question the knowledge base did not answer well: file it with those.
            deps.store.record_unanswered(text=ref.question, surface=Surface.DOWNVOTE, channel=channel,
                                         suggestions=[ref.code])
    except (StoreError, ValueError, TypeError):
        logger.warning("could not record a vote", exc_info=True)
        respond(**PRIVATE, **notice_message("I could not record your vote just now. Please try again later."))
        return
    if vote == Vote.DOWN and open_form(ref, first):
        return  # the thanks comes when the form is sent or closed
    respond(**PRIVATE, **vote_thanks_message(vote, first=first))


def record_comment(deps: Deps, ref: VoteRef | None, *, user: str, channel: str, comment: str, first: bool,
                   thank: Callable[[dict], None], logger: logging.Logger) -> None:
    """The thumbs-down form was sent: keep the vote, now with what was missing, and thank for it."""
    if ref is None or not user:
        logger.warning("a feedback form came back without its card")
        return
    try:
        deps.store.record_feedback(card_id=ref.card_id, user=user, code=ref.code, vote=Vote.DOWN,
                                   surface=ref.surface, channel=channel, kb_version=ref.kb_version, comment=comment)
    except (StoreError, ValueError, TypeError):
        logger.warning("could not record a feedback comment", exc_info=True)
        return
    thank(comment_thanks_message() if comment else vote_thanks_message(Vote.DOWN, first=first))


def form_closed(first: bool, thank: Callable[[dict], None]) -> None:
    """The form was skipped: the thumbs-down stands, thank for it."""
    thank(vote_thanks_message(Vote.DOWN, first=first))
