"""The message shortcut "Explain error codes": a private explanation of every code in any message.

Asked for by a person, so it answers wherever it is used, also where auto-replies are off, muted or kept
quiet. The listener reads the message's files (`read_files`) and delivers the reply privately (`deliver`).
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Callable

from ..cards.other_answers import no_codes_message
from .answers import (FileScan, Reply, answer_findings, answer_question, findings_in, noted, or_trouble,
                      remember, without_mention)
from .kinds import Kind, Surface
from .threads import Posted, ReadFiles

if TYPE_CHECKING:
    from ..slack.deps import Deps

ABOUT = "that message"


def answer_explain(deps: Deps, message: Posted, read_files: ReadFiles, deliver: Callable[[dict], bool],
                   logger: logging.Logger) -> None:
    """Explain `message` to the person who asked; counted once `deliver(reply)` says it reached them."""
    reply = or_trouble(lambda: explain_reply(deps, message, read_files()), logger, "could not explain a message")
    if deliver(reply.message):
        remember(deps, reply, surface=Surface.SHORTCUT, channel=message.channel, question=message.text)


def explain_reply(deps: Deps, message: Posted, files: FileScan) -> Reply:
    """Every code in the message's text and log files; a question in it gets the resolver's answer."""
    thread_ts = message.reply_thread  # a shared card goes to the message's thread
    text = without_mention(message.text, deps.bot_user_id)
    findings = findings_in(deps, text, files)
    if findings:
        reply = answer_findings(deps, findings, share_button=True, thread_ts=thread_ts, surface=Surface.SHORTCUT)
    elif text:
        reply = answer_question(deps, text, share_button=True, thread_ts=thread_ts, surface=Surface.SHORTCUT)
        if reply.kind == Kind.NOT_SURE:  # not a question to the bot: say what was looked for
            reply = Reply(no_codes_message([ABOUT]), Kind.NO_CODES)
    else:
        reply = Reply(no_codes_message(files.read or [ABOUT]), Kind.NO_CODES)
    return noted(reply, files.notes)
