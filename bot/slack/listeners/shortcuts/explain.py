"""The message shortcut "Explain error codes": a private explanation of every code in any message.

Asked for by a person, so it answers wherever it is used, also where
auto-replies are off, muted or kept quiet.
"""
from __future__ import annotations

import logging
from dataclasses import replace
from functools import partial
from typing import Callable

from slack_sdk import WebClient

from ....cards.other_answers import no_codes_message, trouble_message, with_notes
from ...answers import Reply, answer_findings, answer_text, merge_findings, remember, scan_text, without_mention
from ...calls import FAILED, try_call
from ...deps import Deps
from ...files import answer_with_files, scan_files

CALLBACK_ID = "explain_error_codes"
SURFACE = "shortcut"
ABOUT = "that message"


def handle_explain(deps: Deps, body: dict, client: WebClient, respond: Callable | None,
                   logger: logging.Logger) -> None:
    message = body.get("message") or {}
    channel = (body.get("channel") or {}).get("id") or ""
    user = (body.get("user") or {}).get("id") or ""
    answer_with_files(deps, message, partial(answer_explain, deps, client, respond, logger, message, channel, user))


def answer_explain(deps: Deps, client: WebClient, respond: Callable | None, logger: logging.Logger, message: dict,
                   channel: str, user: str, read_files: bool) -> None:
    try:
        reply = explain_reply(deps, client, {**message, "channel": channel}, read_files)
    except Exception:
        logger.exception("could not explain a message")
        reply = Reply(trouble_message(), "trouble")
    if deliver(client, respond, channel, user, message, reply.message, logger):
        remember(deps, reply, surface=SURFACE, channel=channel, question=message.get("text") or "")


def explain_reply(deps: Deps, client: WebClient, message: dict, read_files: bool = True) -> Reply:
    """Every code in the message's text and log files; a question in it gets the resolver's answer."""
    thread_ts = message.get("thread_ts") or message.get("ts")  # a shared card goes to the message's thread
    text = without_mention(message.get("text") or "", deps.bot_user_id)
    files = scan_files(deps, client, message, read=read_files)
    findings = merge_findings([scan_text(deps, text), *files.findings])
    if findings:
        reply = answer_findings(deps, findings, share_button=True, thread_ts=thread_ts, surface=SURFACE)
    elif text:
        reply = answer_text(deps, text, share_button=True, thread_ts=thread_ts, surface=SURFACE)
        if reply.kind == "not_sure":  # not a question to the bot: say what was looked for
            reply = Reply(no_codes_message([ABOUT]), "no_codes")
    else:
        reply = Reply(no_codes_message(files.read or [ABOUT]), "no_codes")
    return replace(reply, message=with_notes(reply.message, files.notes))


def deliver(client: WebClient, respond: Callable | None, channel: str, user: str, message: dict, reply: dict,
            logger: logging.Logger) -> bool:
    """Privately: through the shortcut's response_url, which works even where the bot is not a member."""
    if respond is not None:
        try:
            respond(response_type="ephemeral", replace_original=False, **reply)
            return True
        except Exception:
            logger.warning("response_url call failed", exc_info=True)
    posted = try_call(logger, "chat.postEphemeral", channel, lambda: client.chat_postEphemeral(
        channel=channel, user=user, thread_ts=message.get("thread_ts"), **reply))
    return posted is not FAILED
