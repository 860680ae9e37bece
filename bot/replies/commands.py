"""`/nmerror <code or question>`: a private card, given in the command's acknowledgement itself.
`/nmerror autoreply …` and `/nmerror mute …` change the channel's settings instead (controls.py).

The resolver answers in well under a millisecond, so the card travels in the ack body; nothing is left to do
after Slack's 3-second deadline.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from ..cards.other_answers import trouble_message
from . import answers
from .controls import control_reply
from .kinds import Surface

if TYPE_CHECKING:
    from ..slack.deps import Deps

# ack(response_type, message): "ephemeral" for the person who typed the command, "in_channel" for everyone.
Ack = Callable[[str, dict], None]


@dataclass(frozen=True)
class Command:
    """`/nmerror <text>` as typed: by `user` in `channel`."""

    text: str = ""
    channel: str = ""
    user: str = ""


def answer_command(deps: Deps, command: Command, ack: Ack, logger: logging.Logger) -> None:
    """Acknowledge the command with its answer: a channel setting changed (announced in the channel), or the
    answer to a question (for the person who asked). The ack always happens, or Slack shows the person a
    bare "dispatch_failed"."""
    try:
        control = control_reply(deps, command.text, command.channel, command.user, logger)
        reply = answers.command_reply(deps, command.text) if control is None else None
    except Exception:
        logger.exception("/nmerror could not build an answer")
        ack("ephemeral", trouble_message())
        return
    if reply is None:
        ack(control.response_type, control.message)
        return
    ack("ephemeral", reply.message)
    answers.remember(deps, reply, surface=Surface.COMMAND, channel=command.channel, question=command.text)
