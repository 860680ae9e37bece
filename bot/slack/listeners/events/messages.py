"""Auto-replies to pasted logs: one threaded reply per message that holds error codes, else silence."""
from __future__ import annotations

import logging
import time
from dataclasses import replace
from functools import partial

from slack_sdk import WebClient

from ....cards.other_answers import with_notes
from ....store import StoreError
from ...answers import answer_findings, mentions, merge_findings, remember, scan_text
from ...deps import Deps
from ...files import answer_with_files, scan_files
from .delivery import (POSTED, SETTLED, UNSETTLED, answer_delivery, fresh_findings_of_first_delivery, post_in_thread,
                       settlement, thread_of)

# New posts; edits (message_changed), deletions and channel notices are not pastes.
PASTE_SUBTYPES = (None, "file_share", "thread_broadcast")
# Every pasted log needs its channel's settings, which change a few times a year: a copy this old is good
# enough. A change made in this process is seen at once; one made in another (a replica, a gunicorn worker)
# within this many seconds (README, "Channel controls").
CHANNEL_SETTINGS_SECONDS = 5.0


def handle_message(deps: Deps, client: WebClient, body: dict, event: dict, logger: logging.Logger) -> None:
    if is_person_posting(deps, event):
        answer_with_files(deps, event, partial(answer_paste, deps, client, body, event, logger))


def answer_paste(deps: Deps, client: WebClient, body: dict, event: dict, logger: logging.Logger,
                 read_files: bool) -> None:
    answer_delivery(deps, body, event, partial(reply_to_paste, deps, client, body, event, logger, read_files))


def reply_to_paste(deps: Deps, client: WebClient, body: dict, event: dict, logger: logging.Logger,
                   read_files: bool, key: str | None) -> str:
    """Reply if the paste calls for it; what became of the message (delivery.UNSETTLED, SETTLED, REPLIED)."""
    files = scan_files(deps, client, event, read=read_files)
    findings = merge_findings([scan_text(deps, event.get("text") or ""), *files.findings])
    if not findings:
        return SETTLED
    channel, thread_ts = event["channel"], thread_of(event)
    mode = autoreply_mode(deps, channel, event.get("thread_ts"))
    if mode == "off":
        return SETTLED
    findings = fresh_findings_of_first_delivery(deps, body, event, channel, thread_ts, findings)
    if findings is None:
        logger.info("duplicate delivery of a message dropped")
        return UNSETTLED  # whoever claimed it settles it
    if not findings:
        return SETTLED
    reply = answer_findings(deps, findings, surface="autoreply")
    reply = replace(reply, message=with_notes(reply.message, files.notes))  # a file left unread says why
    if mode == "shadow":
        remember(deps, reply, surface="shadow", channel=channel)
        return SETTLED
    posted = post_in_thread(client, channel, thread_ts, reply.message, claim=key)
    if posted == POSTED:
        remember(deps, reply, surface="autoreply", channel=channel)
    return settlement(posted)


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


def autoreply_mode(deps: Deps, channel: str, thread_ts: str | None) -> str:
    """"on", "shadow" (decide but do not post) or "off" (muted channel, quiet thread).

    `thread_ts` is the thread the message was posted in; None for a new message, whose
    thread nobody can have quieted yet, so that look-up is saved on most pastes.
    """
    try:
        settings = deps.store.channel_settings(channel, max_age=CHANNEL_SETTINGS_SECONDS)
        if settings.is_muted(time.time()) or (thread_ts and deps.store.is_thread_quiet(channel, thread_ts)):
            return "off"
        return settings.autoreply
    except StoreError:
        return "on"
