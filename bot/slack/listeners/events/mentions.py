"""`@nmbot <question or pasted log>`: an answer in the thread, always (nmbot.replies.threads decides what)."""
from __future__ import annotations

import logging
from functools import partial

from slack_sdk import WebClient

from ....replies.threads import answer_mention
from ...deps import Deps
from ...files import answer_reading_files
from .delivery import post_in_thread, posted_of


def handle_mention(deps: Deps, client: WebClient, body: dict, event: dict, logger: logging.Logger) -> None:
    if asks_the_bot(deps, event):
        posted, post = posted_of(body, event), partial(post_in_thread, client)
        answer_reading_files(deps, client, event,
                             lambda read_files: answer_mention(deps, posted, read_files, post, logger))


def asks_the_bot(deps: Deps, event: dict) -> bool:
    """A person's mention; another bot (or this one) mentioning us would start a loop."""
    return not event.get("bot_id") and event.get("user") not in (None, deps.bot_user_id)
