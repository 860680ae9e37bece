"""Buttons on cards: open a suggested card, share a private card with the channel."""
from __future__ import annotations

import hashlib
import logging
import re
from typing import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from ....cards.action_ids import SUGGESTION
from ....cards.content import card_for_entry
from ....cards.error_card import card_message
from ....cards.other_answers import notice_message
from ....store import StoreError
from ...answers import vote_for
from ...deps import Deps

_SHARE_VALUE = re.compile(r"(-\d{1,6})(?:@(\d{1,12}\.\d{1,9}))?")
# A signed request is accepted while its timestamp is within 5 minutes of this server's clock, either way:
# a replay of one click can arrive up to 10 minutes after the first copy.
SHARE_CLAIM_TTL = 2 * 5 * 60
# Errors that mean the bot is not in the conversation; the click's response_url can still post there.
NOT_A_MEMBER = ("not_in_channel", "channel_not_found")


def handle_open_card(deps: Deps, body: dict, respond: Callable, logger: logging.Logger) -> None:
    """The card for the clicked code, visible only to the person who clicked."""
    action = body["actions"][0]
    code, _ = parse_value(action.get("value"))
    entry = deps.kb.get(code) if code is not None else None
    if entry is None:
        _respond(respond, logger, response_type="ephemeral", replace_original=False,
                 **notice_message("That code is not in the knowledge base any more."))
        return
    container = body.get("container") or {}
    message = card_message(card_for_entry(deps.kb, entry), share_button=True,
                           share_thread_ts=_thread_of(body), vote=vote_for(deps, entry.code, "button"))
    # A private "did you mean" has served its purpose once a choice is made; a summary everyone sees stays.
    replace = bool(container.get("is_ephemeral")) and action["action_id"].startswith(SUGGESTION)
    if _respond(respond, logger, response_type="ephemeral", replace_original=replace, **message):
        channel = (body.get("channel") or {}).get("id") or container.get("channel_id") or ""
        deps.usage.add(kind="card", surface="button", channel=channel, code=entry.code)


def handle_share(deps: Deps, body: dict, client: WebClient, respond: Callable, logger: logging.Logger) -> None:
    """Post the card for everyone, saying who shared it, then remove the private copy."""
    code, thread_ts = parse_value(body["actions"][0].get("value"))
    entry = deps.kb.get(code) if code is not None else None
    if entry is None:
        _respond(respond, logger, response_type="ephemeral", replace_original=False,
                 **notice_message("That code is not in the knowledge base any more."))
        return
    if not first_click(deps, body, logger):
        logger.info("a repeated Share in channel click was ignored")
        return
    user = (body.get("user") or {}).get("id") or ""
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
    message = card_message(card_for_entry(deps.kb, entry), shared_by=user,
                           vote=vote_for(deps, entry.code, "share"))
    if not _post_shared(client, channel, thread_ts, message, respond, logger):
        return
    deps.usage.add(kind="share", surface="button", channel=channel or "", code=entry.code)
    if (body.get("container") or {}).get("is_ephemeral"):
        _respond(respond, logger, delete_original=True)


def first_click(deps: Deps, body: dict, logger: logging.Logger) -> bool:
    """False for a second copy of the same click (a replayed request): each click has a trigger_id and
    an action_ts of its own, and a copy carries the same ones."""
    trigger_id, action_ts = body.get("trigger_id") or "", body["actions"][0].get("action_ts") or ""
    if not trigger_id and not action_ts:
        return True
    # Hashed: a key of fixed size, whatever length the request gave its ids.
    click = hashlib.sha256(f"{trigger_id}\n{action_ts}".encode()).hexdigest()[:32]
    try:
        return deps.store.claim(f"click:{click}", SHARE_CLAIM_TTL)
    except StoreError:
        logger.warning("state store unavailable: sharing without checking for a repeated click")
        return True  # sharing twice is a smaller failure than not sharing


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
             **notice_message(f"I could not share the card ({error})."))
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
