"""Buttons on cards: open a suggested card, share a private card with the channel."""
from __future__ import annotations

import logging
import re
from typing import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from ....cards import blocks
from ....cards.content import card_for_entry
from ...answers import vote_for
from ...deps import Deps

_SHARE_VALUE = re.compile(r"(-\d{1,6})(?:@(\d{1,12}\.\d{1,9}))?")
# Errors that mean the bot is not in the conversation; the click's response_url can still post there.
NOT_A_MEMBER = ("not_in_channel", "channel_not_found")


def handle_open_card(deps: Deps, body: dict, respond: Callable, logger: logging.Logger) -> None:
    """The card for the clicked code, visible only to the person who clicked."""
    action = body["actions"][0]
    code, _ = parse_value(action.get("value"))
    entry = deps.kb.get(code) if code is not None else None
    if entry is None:
        _respond(respond, logger, response_type="ephemeral", replace_original=False,
                 **blocks.notice_message("That code is not in the knowledge base any more."))
        return
    container = body.get("container") or {}
    message = blocks.card_message(card_for_entry(deps.kb, entry), share_button=True,
                                  share_thread_ts=_thread_of(body), vote=vote_for(deps, entry.code, "button"))
    # A private "did you mean" has served its purpose once a choice is made; a summary everyone sees stays.
    replace = bool(container.get("is_ephemeral")) and action["action_id"].startswith(blocks.SUGGESTION)
    if _respond(respond, logger, response_type="ephemeral", replace_original=replace, **message):
        channel = (body.get("channel") or {}).get("id") or container.get("channel_id") or ""
        deps.usage.add(kind="card", surface="button", channel=channel, code=entry.code)


def handle_share(deps: Deps, body: dict, client: WebClient, respond: Callable, logger: logging.Logger) -> None:
    """Post the card for everyone, saying who shared it, then remove the private copy."""
    code, thread_ts = parse_value(body["actions"][0].get("value"))
    entry = deps.kb.get(code) if code is not None else None
    if entry is None:
        _respond(respond, logger, response_type="ephemeral", replace_original=False,
                 **blocks.notice_message("That code is not in the knowledge base any more."))
        return
    user = (body.get("user") or {}).get("id") or ""
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
    message = blocks.card_message(card_for_entry(deps.kb, entry), shared_by=user,
                                  vote=vote_for(deps, entry.code, "share"))
    if not _post_shared(client, channel, thread_ts, message, respond, logger):
        return
    deps.usage.add(kind="share", surface="button", channel=channel or "", code=entry.code)
    if (body.get("container") or {}).get("is_ephemeral"):
        _respond(respond, logger, delete_original=True)


def _post_shared(client: WebClient, channel: str | None, thread_ts: str | None, message: dict,
                 respond: Callable, logger: logging.Logger) -> bool:
    try:
        client.chat_postMessage(channel=channel, thread_ts=thread_ts, unfurl_links=False, **message)
        return True
    except SlackApiError as exc:
        error = exc.response.get("error") or "unknown_error"
    except (SlackClientError, OSError):
        error = "Slack could not be reached"
    if error in NOT_A_MEMBER:
        # /nmerror works in channels the bot was never invited to; the response_url posts there anyway.
        return _respond(respond, logger, response_type="in_channel", replace_original=False, **message)
    logger.warning("sharing a card failed: %s", error)
    _respond(respond, logger, response_type="ephemeral", replace_original=False,
             **blocks.notice_message(f"I could not share the card ({error})."))
    return False


def _respond(respond: Callable, logger: logging.Logger, **message) -> bool:
    try:
        response = respond(**message)
    except Exception:
        logger.warning("response_url call failed", exc_info=True)
        return False
    return getattr(response, "status_code", 200) == 200


def parse_value(value: object) -> tuple[int | None, str | None]:
    """(code, thread_ts) from a button value such as "-2004" or "-2004@1700000000.000100"."""
    match = _SHARE_VALUE.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        return None, None
    return int(match.group(1)), match.group(2)


def _thread_of(body: dict) -> str | None:
    container = body.get("container") or {}
    return container.get("thread_ts") or (body.get("message") or {}).get("thread_ts")
