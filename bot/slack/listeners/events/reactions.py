"""A ❌ on one of the bot's replies: the reply goes, and the bot keeps quiet in that thread
(nmbot.replies.threads.remove_reply).

Anyone in the conversation may do it, but only the bot's own messages are
removed (chat.delete with the bot token could not remove anyone else's anyway).
"""
from __future__ import annotations

import logging
from functools import partial

from slack_sdk import WebClient

from ....replies.threads import remove_reply
from ...calls import FAILED, try_call
from ...deps import Deps
from .delivery import delivery_key

REMOVE_REACTIONS = frozenset({"x", "negative_squared_cross_mark"})  # ❌ and ❎


def handle_reaction(deps: Deps, client: WebClient, body: dict, event: dict, logger: logging.Logger) -> None:
    item = event.get("item") or {}
    if event.get("reaction") not in REMOVE_REACTIONS or item.get("type") != "message":
        return
    if not deps.bot_user_id or event.get("item_user") != deps.bot_user_id:
        return  # someone else's message: not the bot's to remove
    channel, ts = item.get("channel"), item.get("ts")
    if not channel or not ts:
        return
    remove_reply(deps, delivery_key(body, {}), channel, ts, partial(thread_of_message, client, channel, ts, logger),
                 partial(delete_message, client, channel, ts, logger), logger)


def thread_of_message(client: WebClient, channel: str, ts: str, logger: logging.Logger) -> str:
    """The thread a message belongs to: its parent's ts, or its own when it starts one (or is alone)."""
    response = try_call(logger, "conversations.replies", channel,
                        lambda: client.conversations_replies(channel=channel, ts=ts, limit=1, inclusive=True))
    if response is FAILED:
        return ts
    messages = response.get("messages") or []
    for message in messages:
        if message.get("ts") == ts and message.get("thread_ts"):
            return message["thread_ts"]
    first = messages[0] if messages else {}
    return first.get("thread_ts") or first.get("ts") or ts


def delete_message(client: WebClient, channel: str, ts: str, logger: logging.Logger) -> bool:
    return try_call(logger, "chat.delete", channel, lambda: client.chat_delete(channel=channel, ts=ts)) is not FAILED
