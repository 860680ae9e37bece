"""Feedback on cards: thumbs-up, thumbs-down (with a "what was missing?" form) and "Why this answer?"
(nmbot.replies.votes and .clicks record and answer them).

The form carries what its submission needs in its private_metadata, which Slack returns untouched.
"""
from __future__ import annotations

import json
import logging
from functools import partial
from typing import Callable

from slack_sdk import WebClient
from slack_sdk.webhook import WebhookClient

from ....cards.action_ids import COMMENT_BLOCK, COMMENT_INPUT
from ....cards.feedback import COMMENT_CHARS, feedback_modal
from ....replies.answers import PRIVATE
from ....replies.clicks import answer_why
from ....replies.kinds import Vote
from ....replies.refs import VoteRef, WhyRef
from ....replies.votes import form_closed, record_comment, record_vote
from ...calls import FAILED, respond_quietly, try_call
from ...deps import Deps
from .buttons import channel_of

METADATA_CHARS = 3000  # Slack's limit on a view's private_metadata
RESPONSE_TIMEOUT = 10


def handle_vote(deps: Deps, body: dict, client: WebClient, respond: Callable, logger: logging.Logger,
                vote: Vote) -> None:
    channel = channel_of(body)
    record_vote(deps, VoteRef.decode(body["actions"][0].get("value")), vote,
                user=(body.get("user") or {}).get("id") or "", channel=channel,
                respond=partial(respond_quietly, respond, logger),
                open_form=partial(open_form, deps, client, body, channel, logger), logger=logger)


def open_form(deps: Deps, client: WebClient, body: dict, channel: str, logger: logging.Logger, ref: VoteRef,
              first: bool) -> bool:
    """The thumbs-down form, opened with the click's trigger_id; False when it could not be."""
    trigger_id = body.get("trigger_id")
    if not trigger_id:
        return False
    view = feedback_modal(ref, form_metadata(ref, channel, body.get("response_url") or "", first), deps.kb)
    return try_call(logger, "views.open", channel, lambda: client.views_open(trigger_id=trigger_id, view=view)) \
        is not FAILED


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
    record_comment(deps, ref, user=(body.get("user") or {}).get("id") or "", channel=channel,
                   comment=comment_of(view), first=first, thank=partial(send_response, response_url, logger=logger),
                   logger=logger)


def handle_form_closed(body: dict, view: dict, logger: logging.Logger) -> None:
    """The form was skipped: the thumbs-down stands."""
    _, _, response_url, first = read_metadata(view)
    form_closed(first, partial(send_response, response_url, logger=logger))


def comment_of(view: dict) -> str:
    values = ((view.get("state") or {}).get("values") or {}).get(COMMENT_BLOCK) or {}
    value = (values.get(COMMENT_INPUT) or {}).get("value")
    return value.strip()[:COMMENT_CHARS] if isinstance(value, str) else ""


def send_response(response_url: str, message: dict, *, logger: logging.Logger) -> None:
    """A private message through the response_url of the click that opened the form."""
    if response_url.startswith(("https://", "http://")):
        client = WebhookClient(response_url, timeout=RESPONSE_TIMEOUT)
        respond_quietly(lambda **sent: client.send_dict(sent), logger, **PRIVATE, **message)


def handle_why(deps: Deps, body: dict, respond: Callable, logger: logging.Logger) -> None:
    answer_why(deps, WhyRef.decode(body["actions"][0].get("value")), partial(respond_quietly, respond, logger))
