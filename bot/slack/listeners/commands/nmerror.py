"""`/nmerror <code or question>` and `/nmerror autoreply …` / `mute …`: answered in the ack itself
(nmbot.replies.commands decides what)."""
from __future__ import annotations

import logging
from typing import Callable

from ....replies.commands import Command, answer_command
from ...deps import Deps

COMMAND = "/nmerror"


def handle_nmerror(deps: Deps, ack: Callable, command: dict, logger: logging.Logger) -> None:
    asked = Command(text=command.get("text") or "", channel=command.get("channel_id") or "",
                    user=command.get("user_id") or "")
    answer_command(deps, asked, lambda response_type, message: ack(response_type=response_type, **message), logger)
