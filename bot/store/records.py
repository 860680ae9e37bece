"""What the state store keeps, as the records it hands out, and the error it raises.

Times are seconds since the epoch (floats) from the clock the store was opened
with, so TTLs can be tested with a fake clock.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

from ..replies.kinds import Autoreply, Vote

__all__ = [
    "AUTOREPLY_MODES",
    "DEFAULT_AUTOREPLY",
    "DEFAULT_KEEP_DAYS",
    "VOTES",
    "ChannelSettings",
    "Clock",
    "Feedback",
    "JournalEntry",
    "StoreError",
    "Unanswered",
    "UsageEvent",
]

Clock = Callable[[], float]

# The words themselves are named once, in nmbot.replies.kinds (a module that imports nothing of the project).
AUTOREPLY_MODES = tuple(mode.value for mode in Autoreply)
DEFAULT_AUTOREPLY = Autoreply.ON.value
VOTES = tuple(vote.value for vote in Vote)
# Votes, unanswered questions (what users typed), usage events and quiet threads older than this are
# deleted: a privacy product keeps what people did no longer than its reports need. 0 keeps them forever.
DEFAULT_KEEP_DAYS = 180.0
DAY = 86400.0


class StoreError(RuntimeError):
    """The store cannot be opened or the database failed; the message is one
    line, names the database with any password masked, and never holds a
    secret."""


@dataclass(frozen=True)
class ChannelSettings:
    """Per-channel behaviour. `muted_until` is an epoch time or None."""

    channel: str
    autoreply: str = DEFAULT_AUTOREPLY
    muted_until: Optional[float] = None

    def is_muted(self, now: float) -> bool:
        return self.muted_until is not None and now < self.muted_until


@dataclass(frozen=True)
class Feedback:
    """The current vote of one user on one answer card."""

    card_id: str
    user: str
    code: int
    vote: str
    surface: str
    channel: str
    kb_version: str
    comment: str
    created_at: float  # first vote
    updated_at: float  # latest vote (what `since` filters on)


@dataclass(frozen=True)
class Unanswered:
    """A question the bot could not answer (phone numbers already masked)."""

    text: str
    surface: str
    channel: str
    suggestions: tuple[int, ...]
    at: float


@dataclass(frozen=True)
class UsageEvent:
    """Something the bot did (an answer, an auto-reply ...), for reports."""

    kind: str
    surface: str
    channel: str
    code: Optional[int]
    at: float


@dataclass(frozen=True)
class JournalEntry:
    """An event acknowledged to Slack, and what answering it again needs: no raw payload, and the text with
    phone numbers masked. `key` is the delivery's claim key ("msg:C1:1700000000.000100"). The store stamps
    `arrived_at` and counts `attempts` (the times it was taken up again); what a caller passes there is ignored."""

    key: str
    event_type: str  # "message" or "app_mention"
    channel: str
    ts: str
    thread_ts: str = ""  # "" for a message that is not in a thread
    user: str = ""
    text: str = ""
    files: tuple[str, ...] = ()  # ids of the log files it carries
    arrived_at: float = 0.0
    attempts: int = 0
