"""`/nmerror <code or question>`: a private card, acknowledged with the answer itself.
`/nmerror autoreply …` and `/nmerror mute …` change the channel's settings (see controls.py).

The resolver answers in well under a millisecond, so the card travels in the
ack body; nothing is left to do after Slack's 3-second deadline.
"""
from __future__ import annotations

import logging
from typing import Callable

from ....cards.other_answers import trouble_message
from ...answers import command_reply, remember
from ...deps import Deps
from .controls import control_reply

COMMAND = "/nmerror"


def handle_nmerror(deps: Deps, ack: Callable, command: dict, logger: logging.Logger) -> None:
    text = command.get("text") or ""
    channel = command.get("channel_id") or ""
    try:
        # A channel setting (`autoreply`, `mute`) is announced in the channel; anything else is a question.
        control = control_reply(deps, text, channel, command.get("user_id") or "", logger)
        reply = command_reply(deps, text) if control is None else None
    except Exception:
        # The ack must still happen, or Slack shows the person a bare "dispatch_failed".
        logger.exception("/nmerror could not build an answer")
        ack(response_type="ephemeral", **trouble_message())
        return
    if reply is None:
        ack(response_type=control.response_type, **control.message)
        return
    ack(response_type="ephemeral", **reply.message)
    remember(deps, reply, surface="command", channel=channel, question=text)
