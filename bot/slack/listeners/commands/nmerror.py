"""`/nmerror <code or question>`: a private card, acknowledged with the answer itself.

The resolver answers in well under a millisecond, so the card travels in the
ack body; nothing is left to do after Slack's 3-second deadline.
"""
from __future__ import annotations

import logging
from typing import Callable

from ....cards import blocks
from ...answers import command_reply, remember
from ...deps import Deps

COMMAND = "/nmerror"


def handle_nmerror(deps: Deps, ack: Callable, command: dict, logger: logging.Logger) -> None:
    text = command.get("text") or ""
    try:
        reply = command_reply(deps, text)
    except Exception:
        # The ack must still happen, or Slack shows the person a bare "dispatch_failed".
        logger.exception("/nmerror could not build an answer")
        ack(response_type="ephemeral", **blocks.trouble_message())
        return
    ack(response_type="ephemeral", **reply.message)
    remember(deps, reply, surface="command", channel=command.get("channel_id") or "", question=text)
