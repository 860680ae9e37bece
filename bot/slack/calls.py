"""Slack's errors, and calls whose failure is logged, never raised: for replies that are nice to have.

The one place that reads Slack's error code out of a refused call (`slack_error`) and says what each
error means (`HINTS` and the groups below it); `try_call` for a Web API call, `respond_quietly` for a
response_url.
"""
from __future__ import annotations

import logging
from typing import Any, Callable, Optional

from slack_sdk.errors import SlackApiError, SlackClientError

FAILED = object()  # what `try_call` returns when the call failed

# What an operator can do about the errors that mean the bot cannot post there.
HINTS = {
    "not_in_channel": "the bot is not a member: invite it with /invite @nmbot",
    "channel_not_found": "the channel is gone, or private and the bot was never invited",
    "is_archived": "the channel is archived",
    "missing_scope": "reinstall the app from manifest.yml to grant the scopes it needs",
    "invalid_auth": "SLACK_BOT_TOKEN was revoked or is wrong",
    "token_revoked": "SLACK_BOT_TOKEN was revoked",
}
# The bot is not in the conversation: a click's response_url can still post there.
NOT_A_MEMBER = ("not_in_channel", "channel_not_found")
# Refusals of the message's blocks, not of the post: the same answer as short plain text gets through.
PLAIN_TEXT_RETRY = ("msg_too_long", "msg_blocks_too_long", "invalid_blocks", "invalid_blocks_format")
# Slack's own trouble, not a refusal of this message: the same post later may well go through.
PASSING_ERRORS = ("ratelimited", "fatal_error", "internal_error", "service_unavailable", "request_timeout")


def slack_error(exc: SlackApiError) -> str:
    """Slack's error code in a refused call ("not_in_channel" …); "unknown_error" when the answer names none."""
    response = exc.response
    return str((response.get("error") if response is not None else None) or "unknown_error")


def with_hint(error: str) -> str:
    """The error, and what to do about it where `HINTS` knows."""
    hint = HINTS.get(error)
    return f"{error} ({hint})" if hint else error


def try_call(logger: logging.Logger, method: str, channel: str, call: Callable[[], Any]) -> Any:
    """The call's response, or FAILED after logging Slack's error (or the connection failure) and the channel."""
    try:
        return call()
    except SlackApiError as exc:
        logger.warning("%s failed in %s: %s", method, channel, with_hint(slack_error(exc)))
    except (SlackClientError, OSError) as exc:
        logger.warning("%s failed in %s: %s", method, channel, exc)
    return FAILED


def respond_quietly(respond: Optional[Callable[..., Any]], logger: logging.Logger, **message) -> bool:
    """`respond(**message)` through a response_url (Bolt's `respond`): True when Slack took it (200); a failure
    is logged, never raised. False without a response_url (`respond` None)."""
    if respond is None:
        return False
    try:
        response = respond(**message)
    except Exception:
        logger.warning("response_url call failed", exc_info=True)
        return False
    return getattr(response, "status_code", 200) == 200
