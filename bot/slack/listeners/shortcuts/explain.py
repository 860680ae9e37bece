"""The message shortcut "Explain error codes": a private explanation of every code in any message
(nmbot.replies.shortcut decides what)."""
from __future__ import annotations

import logging
from functools import partial
from typing import Callable, Optional

from slack_sdk import WebClient

from ....replies.answers import PRIVATE
from ....replies.shortcut import answer_explain
from ....replies.threads import Posted
from ...calls import FAILED, respond_quietly, try_call
from ...deps import Deps
from ...files import answer_reading_files

CALLBACK_ID = "explain_error_codes"


def handle_explain(deps: Deps, body: dict, client: WebClient, respond: Optional[Callable],
                   logger: logging.Logger) -> None:
    message = body.get("message") or {}
    channel = (body.get("channel") or {}).get("id") or ""
    user = (body.get("user") or {}).get("id") or ""
    explained = Posted(channel=channel, ts=message.get("ts") or "", text=message.get("text") or "",
                       thread_ts=message.get("thread_ts") or None)
    deliver = partial(deliver_privately, client, respond, channel, user, message.get("thread_ts"), logger)
    answer_reading_files(deps, client, message, lambda read_files: answer_explain(
        deps, explained, read_files, deliver, logger))


def deliver_privately(client: WebClient, respond: Optional[Callable], channel: str, user: str,
                      thread_ts: Optional[str], logger: logging.Logger, reply: dict) -> bool:
    """Through the shortcut's response_url, which works even where the bot is not a member; else as an
    ephemeral message."""
    if respond_quietly(respond, logger, **PRIVATE, **reply):
        return True
    posted = try_call(logger, "chat.postEphemeral", channel, lambda: client.chat_postEphemeral(
        channel=channel, user=user, thread_ts=thread_ts, **reply))
    return posted is not FAILED
