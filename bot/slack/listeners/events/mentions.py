"""`@nmbot <question or pasted log>`: an answer in the thread, always, even if it is "not sure"."""
from __future__ import annotations

import logging
from dataclasses import replace
from functools import partial

from slack_sdk import WebClient

from ....cards.other_answers import help_message, no_codes_message, trouble_message, with_notes
from ...answers import Reply, answer_findings, answer_text, merge_findings, remember, scan_text, without_mention
from ...deps import Deps
from ...files import answer_with_files, scan_files
from .delivery import (POSTED, UNSETTLED, answer_delivery, first_delivery, post_in_thread, settlement, start_cooldown,
                       thread_of)


def handle_mention(deps: Deps, client: WebClient, body: dict, event: dict, logger: logging.Logger) -> None:
    if asks_the_bot(deps, event):
        answer_with_files(deps, event, partial(answer_mention, deps, client, body, event, logger))


def asks_the_bot(deps: Deps, event: dict) -> bool:
    """A person's mention; another bot (or this one) mentioning us would start a loop."""
    return not event.get("bot_id") and event.get("user") not in (None, deps.bot_user_id)


def answer_mention(deps: Deps, client: WebClient, body: dict, event: dict, logger: logging.Logger,
                   read_files: bool) -> None:
    answer_delivery(deps, body, event, partial(reply_to_mention, deps, client, body, event, logger, read_files))


def reply_to_mention(deps: Deps, client: WebClient, body: dict, event: dict, logger: logging.Logger,
                     read_files: bool, key: str | None) -> str:
    """Always a reply; what became of the mention (delivery.UNSETTLED: a duplicate, or Slack could not be
    reached)."""
    if not first_delivery(deps, body, event):
        logger.info("duplicate delivery of a mention dropped")
        return UNSETTLED  # whoever claimed it settles it
    channel, thread_ts = event["channel"], thread_of(event)
    try:
        reply = mention_reply(deps, client, event, read_files)
    except Exception:
        logger.exception("could not answer a mention")
        reply = Reply(trouble_message(), "trouble")
    posted = post_in_thread(client, channel, thread_ts, reply.message, claim=key)
    if posted == POSTED:
        start_cooldown(deps, channel, thread_ts, reply.codes)
        question = without_mention(event.get("text") or "", deps.bot_user_id)
        remember(deps, reply, surface="mention", channel=channel, question=question)
    return settlement(posted)


def mention_reply(deps: Deps, client: WebClient, event: dict, read_files: bool = True) -> Reply:
    """A log (text or files) gets every code found; a question gets the resolver's answer."""
    text = without_mention(event.get("text") or "", deps.bot_user_id)
    files = scan_files(deps, client, event, read=read_files)
    if any(files.findings):
        reply = answer_findings(deps, merge_findings([scan_text(deps, text), *files.findings]), surface="mention")
    elif text:
        reply = answer_text(deps, text, surface="mention")
    elif files.read or files.notes:
        return Reply(no_codes_message(files.read, files.notes), "no_codes")
    else:
        reply = Reply(help_message(), "help")
    return replace(reply, message=with_notes(reply.message, files.notes))
