"""Buttons on cards: open a suggested card, share a private card with the channel
(nmbot.replies.clicks decides what)."""
from __future__ import annotations

import logging
import re
from functools import partial
from typing import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from ....cards.action_ids import SUGGESTION
from ....cards.other_answers import notice_message
from ....replies.answers import PRIVATE
from ....replies.clicks import open_card, share_card
from ...calls import NOT_A_MEMBER, respond_quietly, slack_error
from ...deps import Deps

_SHARE_VALUE = re.compile(r"(-\d{1,6})(?:@(\d{1,12}\.\d{1,9}))?")


def handle_open_card(deps: Deps, body: dict, respond: Callable, logger: logging.Logger) -> None:
    """The card for the clicked code, visible only to the person who clicked."""
    action, container = body["actions"][0], body.get("container") or {}
    code, _ = parse_value(action.get("value"))
    # A private "did you mean" has served its purpose once a choice is made; a summary everyone sees stays.
    replace = bool(container.get("is_ephemeral")) and action["action_id"].startswith(SUGGESTION)
    open_card(deps, code, channel=channel_of(body), thread_ts=_thread_of(body), replace=replace,
              respond=partial(respond_quietly, respond, logger))


def handle_share(deps: Deps, body: dict, client: WebClient, respond: Callable, logger: logging.Logger) -> None:
    """Post the card for everyone, saying who shared it, then remove the private copy."""
    action = body["actions"][0]
    code, thread_ts = parse_value(action.get("value"))
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
    share_card(deps, code, user=(body.get("user") or {}).get("id") or "", channel=channel,
               private=bool((body.get("container") or {}).get("is_ephemeral")),
               click=(body.get("trigger_id") or "", action.get("action_ts") or ""),
               post=partial(post_shared, client, channel, thread_ts, respond=respond, logger=logger),
               respond=partial(respond_quietly, respond, logger), logger=logger)


def post_shared(client: WebClient, channel: str | None, thread_ts: str | None, message: dict, *,
                respond: Callable, logger: logging.Logger) -> bool:
    """Post in the channel; where the bot is not a member, through the click's response_url instead."""
    try:
        client.chat_postMessage(channel=channel, thread_ts=thread_ts, unfurl_links=False, **message)
        return True
    except SlackApiError as exc:
        error = slack_error(exc)
    except (SlackClientError, OSError):
        error = "Slack could not be reached"
    if error in NOT_A_MEMBER:
        # /nmerror works in channels the bot was never invited to; the response_url posts there anyway.
        return respond_quietly(respond, logger, response_type="in_channel", replace_original=False, **message)
    logger.warning("sharing a card failed: %s", error)
    respond_quietly(respond, logger, **PRIVATE, **notice_message(f"I could not share the card ({error})."))
    return False


def parse_value(value: object) -> tuple[int | None, str | None]:
    """(code, thread_ts) from a button value such as "-2004" or "-2004@1700000000.000100"."""
    match = _SHARE_VALUE.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        return None, None
    return int(match.group(1)), match.group(2)


def channel_of(body: dict) -> str:
    """The conversation of the message clicked on."""
    return (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id") or ""


def _thread_of(body: dict) -> str | None:
    container = body.get("container") or {}
    return container.get("thread_ts") or (body.get("message") or {}).get("thread_ts")
