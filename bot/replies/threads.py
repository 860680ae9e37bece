"""Replies in a message's thread: to a pasted log (an auto-reply, or silence) and to a mention (always a reply).

Also whether the bot may speak there at all: a channel's auto-reply mode, its mute, and threads kept quiet
after someone removed a reply with a reaction (`remove_reply`). The listener reads the message's files
(`read_files`) and posts (`post`); this decides whether, where and what.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Callable, Optional

from ..cards.other_answers import help_message, no_codes_message
from ..store import StoreError
from .answers import (FileScan, Reply, answer_findings, answer_text, findings_in, noted, or_trouble, remember,
                      without_mention)
from .claims import (POSTED, SETTLED, UNSETTLED, first_delivery, fresh_findings_of_first_delivery, settled_after,
                     settlement, start_cooldown)
from .kinds import Autoreply, Kind, Surface

if TYPE_CHECKING:
    from ..slack.deps import Deps

# post(channel, thread_ts, message, claim): POSTED, REFUSED or UNREACHED; the reply names `claim`.
Post = Callable[[str, str, dict, Optional[str]], str]
ReadFiles = Callable[[], FileScan]


@dataclass(frozen=True)
class Posted:
    """A message someone posted, as the listener read it from Slack's event."""

    channel: str
    ts: str
    text: str = ""
    thread_ts: str | None = None  # the thread it was posted in; None for a message of its own
    claim: str | None = None  # what its delivery claims (Slack's retries carry the same message)
    recovered: bool = False  # taken up again after the process answering it died

    @property
    def reply_thread(self) -> str:
        """The thread a reply belongs in: the message's thread, or a new one under it."""
        return self.thread_ts or self.ts

    @property
    def thread_key(self) -> str:
        return f"{self.channel}:{self.reply_thread}"


# --- a pasted log: an auto-reply, or silence ---------------------------------------------------

def answer_paste(deps: Deps, posted: Posted, read_files: ReadFiles, post: Post, logger: logging.Logger) -> None:
    """One threaded reply to a message that holds error codes, else silence; its journal entry finished."""
    settled_after(deps, posted.claim, partial(reply_to_paste, deps, posted, read_files, post, logger))


def reply_to_paste(deps: Deps, posted: Posted, read_files: ReadFiles, post: Post, logger: logging.Logger) -> str:
    """Reply if the paste calls for it; what became of the message (UNSETTLED, SETTLED, REPLIED)."""
    files = read_files()
    findings = findings_in(deps, posted.text, files)
    if not findings:
        return SETTLED
    mode = autoreply_mode(deps, posted.channel, posted.thread_ts)
    if mode == Autoreply.OFF:
        return SETTLED
    findings = fresh_findings_of_first_delivery(deps, posted.claim, posted.recovered, posted.thread_key, findings)
    if findings is None:
        logger.info("duplicate delivery of a message dropped")
        return UNSETTLED  # whoever claimed it settles it
    if not findings:
        return SETTLED
    reply = noted(answer_findings(deps, findings, surface=Surface.AUTOREPLY), files.notes)
    if mode == Autoreply.SHADOW:
        remember(deps, reply, surface=Surface.SHADOW, channel=posted.channel)
        return SETTLED
    sent = post(posted.channel, posted.reply_thread, reply.message, posted.claim)
    if sent == POSTED:
        remember(deps, reply, surface=Surface.AUTOREPLY, channel=posted.channel)
    return settlement(sent)


def autoreply_mode(deps: Deps, channel: str, thread_ts: str | None) -> str:
    """ON, SHADOW (decide but do not post) or OFF (muted channel, quiet thread).

    `thread_ts` is the thread the message was posted in; None for a new message, whose
    thread nobody can have quieted yet, so that look-up is saved on most pastes.
    """
    try:
        settings = deps.store.channel_settings(channel, max_age=deps.settings.store.channel_settings_seconds)
        if settings.is_muted(time.time()) or (thread_ts and deps.store.is_thread_quiet(channel, thread_ts)):
            return Autoreply.OFF
        return settings.autoreply
    except StoreError:
        return Autoreply.ON


# --- a mention: always a reply, even if it is "not sure" ----------------------------------------

def answer_mention(deps: Deps, posted: Posted, read_files: ReadFiles, post: Post, logger: logging.Logger) -> None:
    """An answer in the thread, always; its journal entry finished."""
    settled_after(deps, posted.claim, partial(reply_to_mention, deps, posted, read_files, post, logger))


def reply_to_mention(deps: Deps, posted: Posted, read_files: ReadFiles, post: Post, logger: logging.Logger) -> str:
    """Always a reply; what became of the mention (UNSETTLED: a duplicate, or Slack could not be reached)."""
    if not first_delivery(deps, posted.claim, posted.recovered):
        logger.info("duplicate delivery of a mention dropped")
        return UNSETTLED  # whoever claimed it settles it
    question = without_mention(posted.text, deps.bot_user_id)
    reply = or_trouble(lambda: mention_reply(deps, question, read_files()), logger, "could not answer a mention")
    sent = post(posted.channel, posted.reply_thread, reply.message, posted.claim)
    if sent == POSTED:
        start_cooldown(deps, posted.channel, posted.reply_thread, reply.codes)
        remember(deps, reply, surface=Surface.MENTION, channel=posted.channel, question=question)
    return settlement(sent)


def mention_reply(deps: Deps, question: str, files: FileScan) -> Reply:
    """A log (text or files) gets every code found; a question gets the resolver's answer."""
    if any(files.findings):
        reply = answer_findings(deps, findings_in(deps, question, files), surface=Surface.MENTION)
    elif question:
        reply = answer_text(deps, question, surface=Surface.MENTION)
    elif files.read or files.notes:
        return Reply(no_codes_message(files.read, files.notes), Kind.NO_CODES)
    else:
        reply = Reply(help_message(), Kind.HELP)
    return noted(reply, files.notes)


# --- a reply removed with a reaction: the thread kept quiet -------------------------------------

def remove_reply(deps: Deps, claim: str | None, channel: str, ts: str, thread_of: Callable[[], str],
                 delete: Callable[[], object], logger: logging.Logger) -> None:
    """Remove the bot's reply `ts` (`delete()`) and keep its thread (`thread_of()`) quiet from now on."""
    if not first_delivery(deps, claim):
        logger.info("duplicate delivery of a reaction dropped")
        return
    thread_ts = thread_of()  # before the delete: a deleted message has no thread
    delete()
    try:
        deps.store.quiet_thread(channel, thread_ts)
        deps.usage.add(kind=Kind.REMOVED, surface=Surface.REACTION, channel=channel, code=None)
    except StoreError as exc:
        logger.warning("could not keep the thread quiet: %s", exc)
    logger.info("reply %s in %s removed on request; thread %s kept quiet", ts, channel, thread_ts)
