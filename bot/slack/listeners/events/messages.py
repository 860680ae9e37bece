"""Auto-replies to pasted logs: a person's message goes to nmbot.replies.threads, which decides."""
from __future__ import annotations

import logging
from functools import partial

from slack_sdk import WebClient

from ....replies.answers import mentions
from ....replies.threads import answer_paste
from ...deps import Deps
from ...files import answer_reading_files
from .delivery import post_in_thread, posted_of

# New posts; edits (message_changed), deletions and channel notices are not pastes.
PASTE_SUBTYPES = (None, "file_share", "thread_broadcast")


def handle_message(deps: Deps, client: WebClient, body: dict, event: dict, logger: logging.Logger) -> None:
    if is_person_posting(deps, event):
        posted, post = posted_of(body, event), partial(post_in_thread, client)
        answer_reading_files(deps, client, event,
                             lambda read_files: answer_paste(deps, posted, read_files, post, logger))


def is_person_posting(deps: Deps, event: dict) -> bool:
    if event.get("subtype") not in PASTE_SUBTYPES or event.get("hidden"):
        return False
    if event.get("bot_id") or event.get("bot_profile"):
        return False  # never answer a bot: two bots answering each other never stop
    user = event.get("user")
    if not user or user == deps.bot_user_id:
        return False
    # A mention is answered by the app_mention listener, with the question in mind.
    return not mentions(event.get("text") or "", deps.bot_user_id)
