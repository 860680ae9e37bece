"""`/nmerror autoreply on|off|shadow` and `/nmerror mute 2h`: how chatty the bot is in a channel.

Anyone in the channel may change them, and the change is announced in the
channel with who made it. Settings live in the state store, so they survive
restarts and every replica sees them.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from ..cards.channel_controls import autoreply_changed_message, autoreply_status_message, muted_message, unmuted_message
from ..cards.other_answers import notice_message
from ..report import describe_duration, parse_duration
from ..store import AUTOREPLY_MODES, StoreError

if TYPE_CHECKING:
    from ..slack.deps import Deps

MAX_MUTE = 30 * 86400  # longer than a month is "off", and should say so
OFF_WORDS = ("off", "stop", "end", "cancel", "0")


@dataclass(frozen=True)
class ControlReply:
    message: dict
    public: bool = False  # announced in the channel (a change) or only for the person (status, mistakes)

    @property
    def response_type(self) -> str:
        return "in_channel" if self.public else "ephemeral"


def control_reply(deps: Deps, text: str, channel: str, user: str, logger: logging.Logger,
                  clock: Callable[[], float] = time.time) -> ControlReply | None:
    """The reply to a channel-control command, or None when `text` is not one (it is a question)."""
    words = text.split()
    if not words or words[0].lower() not in ("autoreply", "mute", "unmute"):
        return None
    head, args = words[0].lower(), [w.lower() for w in words[1:]]
    if not channel:
        return _mistake("Channel settings need a channel: use this command in the channel to change.")
    try:
        if head == "autoreply":
            return _autoreply(deps, args, channel, user, logger)
        if head == "unmute":
            return _unmute(deps, channel, user, logger)
        return _mute(deps, args, channel, user, logger, clock())
    except StoreError as exc:
        logger.warning("could not change the settings of %s: %s", channel, exc)
        return _mistake("I could not save that setting just now (the state store is unavailable); nothing changed.")


def _autoreply(deps: Deps, args: list[str], channel: str, user: str, logger: logging.Logger) -> ControlReply:
    if not args:
        settings = deps.store.channel_settings(channel)
        muted = settings.muted_until if settings.is_muted(time.time()) else None
        return ControlReply(autoreply_status_message(settings.autoreply, muted))
    if len(args) != 1 or args[0] not in AUTOREPLY_MODES:
        return _mistake("autoreply: use `/nmerror autoreply on`, `off` or `shadow`.")
    settings = deps.store.update_channel_settings(channel, autoreply=args[0])
    logger.info("auto-replies in %s set to %s by %s", channel, args[0], user)
    muted = settings.muted_until if settings.is_muted(time.time()) else None
    return ControlReply(autoreply_changed_message(user, args[0], muted), public=True)


def _mute(deps: Deps, args: list[str], channel: str, user: str, logger: logging.Logger, now: float) -> ControlReply:
    if len(args) == 1 and args[0] in OFF_WORDS:
        return _unmute(deps, channel, user, logger)
    try:
        if len(args) != 1:
            raise ValueError
        seconds = parse_duration(args[0])
    except ValueError:
        return _mistake("mute: use a duration such as 30m, 2h or 1d (`/nmerror mute off` ends a mute).")
    if seconds > MAX_MUTE:
        return _mistake("mute: at most 30d. To stop auto-replies for good, use `/nmerror autoreply off`.")
    until = now + seconds
    deps.store.update_channel_settings(channel, muted_until=until)
    logger.info("auto-replies in %s muted for %ss by %s", channel, int(seconds), user)
    return ControlReply(muted_message(user, describe_duration(seconds), until), public=True)


def _unmute(deps: Deps, channel: str, user: str, logger: logging.Logger) -> ControlReply:
    settings = deps.store.update_channel_settings(channel, muted_until=0)
    logger.info("auto-replies in %s unmuted by %s", channel, user)
    return ControlReply(unmuted_message(user, settings.autoreply), public=True)


def _mistake(text: str) -> ControlReply:
    return ControlReply(notice_message(text))
