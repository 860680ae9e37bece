"""A ❌ on one of the bot's replies: the reply goes, and the bot keeps quiet in that thread.

Anyone in the conversation may do it, but only the bot's own messages are
removed (chat.delete with the bot token could not remove anyone else's anyway).
"""
from __future__ import annotations

import logging

from slack_sdk import WebClient

from ....store import StoreError
from ...calls import FAILED, try_call
from ...deps import Deps
from .delivery import first_delivery

REMOVE_REACTIONS = frozenset({"x", "negative_squared_cross_mark"})  # ❌ and ❎
REMOVED_KIND, REACTION_SURFACE = "removed", "reaction"


def handle_reaction(deps: Deps, client: WebClient, body: dict, event: dict, logger: logging.Logger) -> None:
    item = event.get("item") or {}
    if event.get("reaction") not in REMOVE_REACTIONS or item.get("type") != "message":
        return
    if not deps.bot_user_id or event.get("item_user") != deps.bot_user_id:
        return  # someone else's message: not the bot's to remove
    channel, ts = item.get("channel"), item.get("ts")
    if not channel or not ts:
        return
    if not first_delivery(deps, body, {}):
        logger.info("duplicate delivery of a reaction dropped")
        return
    thread_ts = thread_of_message(client, channel, ts, logger)  # before the delete: a deleted message has no thread
    delete_message(client, channel, ts, logger)
    try:
        deps.store.quiet_thread(channel, thread_ts)
        deps.usage.add(kind=REMOVED_KIND, surface=REACTION_SURFACE, channel=channel, code=None)
    except StoreError as exc:
        logger.warning("could not keep the thread quiet: %s", exc)
    logger.info("reply %s in %s removed on request; thread %s kept quiet", ts, channel, thread_ts)


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
