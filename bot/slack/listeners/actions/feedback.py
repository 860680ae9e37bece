"""Feedback on cards: thumbs-up, thumbs-down (with a "what was missing?" form) and "Why this answer?".

A vote's button value names the card (`VoteRef`), so recording it needs no
look-up. The store keeps one vote per person per card. Every vote ends in one
private thanks: at once for a thumbs-up, when the form closes for a thumbs-down.
"""
from __future__ import annotations

import json
import logging
from typing import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.webhook import WebhookClient

from ....cards.action_ids import COMMENT_BLOCK, COMMENT_INPUT
from ....cards.feedback import COMMENT_CHARS, comment_thanks_message, feedback_modal, vote_thanks_message, why_message
from ....cards.other_answers import notice_message
from ....store import StoreError
from ...deps import Deps
from ...refs import VoteRef, WhyRef

DOWNVOTE_SURFACE = "downvote"  # how a thumbed-down question is filed among the unanswered ones
METADATA_CHARS = 3000  # Slack's limit on a view's private_metadata
RESPONSE_TIMEOUT = 10


def handle_vote(deps: Deps, body: dict, client: WebClient, respond: Callable, logger: logging.Logger,
                vote: str) -> None:
    ref = VoteRef.decode(body["actions"][0].get("value"))
    user = (body.get("user") or {}).get("id") or ""
    if ref is None or not user:
        _respond(respond, logger, **notice_message("I could not read that vote. Please ask again for a new card."))
        return
    channel = _channel_of(body)
    try:
        first = deps.store.record_feedback(card_id=ref.card_id, user=user, code=ref.code, vote=vote,
                                           surface=ref.surface, channel=channel, kb_version=ref.kb_version)
        if vote == "down" and first and ref.question:
            # A card that missed is a question the knowledge base did not answer well: file it with those.
            deps.store.record_unanswered(text=ref.question, surface=DOWNVOTE_SURFACE, channel=channel,
                                         suggestions=[ref.code])
    except (StoreError, ValueError, TypeError):
        logger.warning("could not record a vote", exc_info=True)
        _respond(respond, logger, **notice_message("I could not record your vote just now. Please try again later."))
        return
    if vote == "down" and _open_form(deps, client, body, ref, channel, first, logger):
        return  # the thanks comes when the form is sent or closed
    _respond(respond, logger, **vote_thanks_message(vote, first=first))


def _open_form(deps: Deps, client: WebClient, body: dict, ref: VoteRef, channel: str, first: bool,
               logger: logging.Logger) -> bool:
    trigger_id = body.get("trigger_id")
    if not trigger_id:
        return False
    metadata = form_metadata(ref, channel, body.get("response_url") or "", first)
    try:
        client.views_open(trigger_id=trigger_id, view=feedback_modal(ref, metadata, deps.kb))
        return True
    except SlackApiError as exc:
        logger.warning("views.open failed: %s", exc.response.get("error"))
    except (SlackClientError, OSError) as exc:
        logger.warning("views.open failed: %s", exc)
    return False


def form_metadata(ref: VoteRef, channel: str, response_url: str, first: bool) -> str:
    """What the form's submission needs, in its private_metadata (Slack returns it untouched)."""
    data = {"v": ref.encode(), "ch": channel, "u": response_url, "f": first}
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    if len(text) > METADATA_CHARS:  # only a pathological question gets here: drop it, keep the vote
        data["v"] = VoteRef(ref.card_id, ref.code, ref.surface, ref.kb_version).encode()
        text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return text


def read_metadata(view: dict) -> tuple[VoteRef | None, str, str, bool]:
    try:
        data = json.loads(view.get("private_metadata") or "")
    except ValueError:
        return None, "", "", False
    if not isinstance(data, dict):
        return None, "", "", False
    channel, url = data.get("ch"), data.get("u")
    return (VoteRef.decode(data.get("v")), channel if isinstance(channel, str) else "",
            url if isinstance(url, str) else "", data.get("f") is True)


def handle_form_submission(deps: Deps, body: dict, view: dict, logger: logging.Logger) -> None:
    """The thumbs-down form was sent: keep the vote, now with what was missing."""
    ref, channel, response_url, first = read_metadata(view)
    user = (body.get("user") or {}).get("id") or ""
    comment = comment_of(view)
    if ref is None or not user:
        logger.warning("a feedback form came back without its card")
        return
    try:
        deps.store.record_feedback(card_id=ref.card_id, user=user, code=ref.code, vote="down", surface=ref.surface,
                                   channel=channel, kb_version=ref.kb_version, comment=comment)
    except (StoreError, ValueError, TypeError):
        logger.warning("could not record a feedback comment", exc_info=True)
        return
    thanks = comment_thanks_message() if comment else vote_thanks_message("down", first=first)
    send_response(response_url, thanks, logger)


def handle_form_closed(body: dict, view: dict, logger: logging.Logger) -> None:
    """The form was skipped: the thumbs-down stands, say thanks for it."""
    _, _, response_url, first = read_metadata(view)
    send_response(response_url, vote_thanks_message("down", first=first), logger)


def comment_of(view: dict) -> str:
    values = ((view.get("state") or {}).get("values") or {}).get(COMMENT_BLOCK) or {}
    value = (values.get(COMMENT_INPUT) or {}).get("value")
    return value.strip()[:COMMENT_CHARS] if isinstance(value, str) else ""


def send_response(response_url: str, message: dict, logger: logging.Logger) -> None:
    """A private message through the response_url of the click that opened the form."""
    if not response_url.startswith(("https://", "http://")):
        return
    try:
        WebhookClient(response_url, timeout=RESPONSE_TIMEOUT).send_dict(
            {"response_type": "ephemeral", "replace_original": False, **message})
    except Exception:
        logger.warning("response_url call failed", exc_info=True)


def handle_why(deps: Deps, body: dict, respond: Callable, logger: logging.Logger) -> None:
    """What matched, the score and the runner-up, shown only to the person who clicked."""
    why = WhyRef.decode(body["actions"][0].get("value"))
    if why is None:
        _respond(respond, logger, **notice_message("I cannot tell why any more. Ask again for a new card."))
        return
    _respond(respond, logger, **why_message(why, deps.kb))


def _channel_of(body: dict) -> str:
    return (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id") or ""


def _respond(respond: Callable, logger: logging.Logger, **message) -> None:
    try:
        respond(response_type="ephemeral", replace_original=False, **message)
    except Exception:
        logger.warning("response_url call failed", exc_info=True)
