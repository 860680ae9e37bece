"""The state-store interface: everything the bot remembers, behind one API.

Backends (`MemoryStore`, `SqlStore`) implement `StateStore` and share one
contract, checked by one parametrised test suite. Times are seconds since the
epoch (floats) taken from the clock the store was opened with, so TTLs can be
tested with a fake clock.
"""
from __future__ import annotations

import abc
import math
from dataclasses import dataclass
from typing import Callable, Iterable, Optional

from ..engine.privacy import mask_msisdns

__all__ = [
    "AUTOREPLY_MODES",
    "DEFAULT_AUTOREPLY",
    "DEFAULT_KEEP_DAYS",
    "VOTES",
    "Clock",
    "ChannelSettings",
    "Feedback",
    "StateStore",
    "StoreError",
    "Unanswered",
    "UsageEvent",
]

Clock = Callable[[], float]

AUTOREPLY_MODES = ("on", "off", "shadow")
DEFAULT_AUTOREPLY = "on"
VOTES = ("up", "down")
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


# --------------------------------------------------------------------------
# Argument checks shared by every backend, so they all reject the same input
# with the same message.


def check_text(name: str, value: object, *, allow_empty: bool = False) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, got {type(value).__name__}")
    if not allow_empty and not value:
        raise ValueError(f"{name} must not be empty")
    return value


def check_seconds(name: str, value: object, *, allow_zero: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number of seconds, got {type(value).__name__}")
    seconds = float(value)
    if math.isnan(seconds) or seconds < 0 or (seconds == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be {bound} seconds, got {value!r}")
    return seconds


def check_keep_days(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"keep_days must be a number of days, got {type(value).__name__}")
    days = float(value)
    if not math.isfinite(days) or days < 0:
        raise ValueError(f"keep_days must be a number of days >= 0 (0 keeps everything), got {value!r}")
    return days


def check_code(name: str, value: object, *, optional: bool = False) -> Optional[int]:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    return value


def check_autoreply(value: object) -> str:
    if value not in AUTOREPLY_MODES:
        allowed = ", ".join(repr(m) for m in AUTOREPLY_MODES)
        raise ValueError(f"autoreply must be one of {allowed}; got {value!r}")
    return value  # type: ignore[return-value]


def check_vote(value: object) -> str:
    if value not in VOTES:
        raise ValueError(f"vote must be 'up' or 'down'; got {value!r}")
    return value  # type: ignore[return-value]


def check_muted_until(value: object) -> Optional[float]:
    """None stays None (meaning: leave unchanged); <= 0 means unmute."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise TypeError(f"muted_until must be an epoch time (float) or None, got {value!r}")
    return float(value)


def check_suggestions(value: Iterable[int]) -> tuple[int, ...]:
    if isinstance(value, (str, bytes)):
        raise TypeError("suggestions must be a list of error codes (ints)")
    codes = tuple(value)
    for code in codes:
        check_code("each suggestion", code)
    return codes


class StateStore(abc.ABC):
    """Everything the bot remembers. All methods are thread-safe.

    Every backend behaves the same; `now` is always the store's injected clock.
    After `close()`, every method but `ping()` (False) and `close()` (no-op)
    raises `StoreError`. The public methods check their arguments and mask
    phone numbers here, once for every backend, then call the backend's
    underscored method with clean values.
    """

    _clock: Clock  # every backend keeps the clock it was opened with
    _keep_seconds: float  # and its retention period (0: keep forever), set by `_keep_for`

    def now(self) -> float:
        """The store's clock: the time it stamps rows with."""
        return self._clock()

    def _keep_for(self, keep_days: float) -> None:
        self._keep_seconds = check_keep_days(keep_days) * DAY

    def _retention_cutoff(self, now: float) -> Optional[float]:
        """Feedback, questions, events and quiet threads last written before this are past the
        retention period and go with the next purge; None when everything is kept."""
        return now - self._keep_seconds if self._keep_seconds else None

    # -- one-time keys and cool-downs -------------------------------------

    def claim(self, key: str, ttl: float) -> bool:
        """Atomically claim a one-time key (e.g. "event:Ev123").

        True for the first claimer; False for anyone else, in any process
        sharing the database, while the claim is alive. After `ttl` seconds
        (> 0) the key may be claimed again.
        """
        return self._claim(check_text("key", key), check_seconds("ttl", ttl, allow_zero=False))

    def cooldown(self, thread_key: str, code: int, seconds: float) -> bool:
        """True, and start the cool-down, when `code` was not explained in
        this thread within `seconds`; False while it is cooling down.
        `seconds == 0` disables the cool-down (always True, nothing stored).
        """
        return self._cooldown(
            check_text("thread_key", thread_key), check_code("code", code),
            check_seconds("seconds", seconds, allow_zero=True),
        )

    def claim_with_cooldowns(self, key: str, ttl: float, thread_key: str, codes: Iterable[int],
                             seconds: float) -> Optional[list[int]]:
        """`claim(key, ttl)` and, for the first claimer only, `cooldown(thread_key, code, seconds)` for
        each code, in one transaction. None when the key was taken; else the codes whose cool-down
        started (in the order given). One round trip where a reply to a pasted log needs both.
        """
        return self._claim_with_cooldowns(
            check_text("key", key), check_seconds("ttl", ttl, allow_zero=False),
            check_text("thread_key", thread_key), [check_code("each code", c) for c in codes],
            check_seconds("seconds", seconds, allow_zero=True),
        )

    # -- channel settings ---------------------------------------------------

    def channel_settings(self, channel: str) -> ChannelSettings:
        """The settings of `channel` (defaults when never set)."""
        return self._channel_settings(check_text("channel", channel))

    def update_channel_settings(
        self,
        channel: str,
        *,
        autoreply: Optional[str] = None,
        muted_until: Optional[float] = None,
        quiet_threads_add: Optional[str] = None,
    ) -> ChannelSettings:
        """Change only the given fields and return the new settings.

        `autoreply` is "on", "off" or "shadow" (ValueError otherwise);
        `muted_until` is an epoch time, or a value <= 0 to unmute;
        `quiet_threads_add` is a thread_ts to keep quiet in (see `quiet_thread`).
        """
        return self._update_channel_settings(
            check_text("channel", channel),
            autoreply=None if autoreply is None else check_autoreply(autoreply),
            muted_until=check_muted_until(muted_until),
            quiet_threads_add=None if quiet_threads_add is None else check_text("quiet_threads_add", quiet_threads_add),
        )

    def is_thread_quiet(self, channel: str, thread_ts: str) -> bool:
        """True when the bot must keep quiet in this thread."""
        return self._is_thread_quiet(check_text("channel", channel), check_text("thread_ts", thread_ts))

    def quiet_thread(self, channel: str, thread_ts: str) -> None:
        """Keep quiet in this thread from now on (idempotent)."""
        self._quiet_thread(check_text("channel", channel), check_text("thread_ts", thread_ts))

    # -- feedback, unanswered questions, usage events -----------------------

    def record_feedback(
        self,
        *,
        card_id: str,
        user: str,
        code: int,
        vote: str,
        surface: str,
        channel: str,
        kb_version: str,
        comment: str = "",
    ) -> bool:
        """Record a vote ("up"/"down"); one vote per (user, card_id).

        True for the user's first vote on the card; False when it replaced an
        earlier one. Phone numbers in `comment` are masked.
        """
        return self._record_feedback(
            card_id=check_text("card_id", card_id),
            user=check_text("user", user),
            code=check_code("code", code),
            vote=check_vote(vote),
            surface=check_text("surface", surface),
            channel=check_text("channel", channel, allow_empty=True),
            kb_version=check_text("kb_version", kb_version, allow_empty=True),
            comment=mask_msisdns(check_text("comment", comment, allow_empty=True)),
        )

    def record_unanswered(self, *, text: str, surface: str, channel: str, suggestions: list[int]) -> None:
        """Remember a question the bot could not answer; phone numbers in
        `text` are masked before saving."""
        self._record_unanswered(
            text=mask_msisdns(check_text("text", text, allow_empty=True)),
            surface=check_text("surface", surface),
            channel=check_text("channel", channel, allow_empty=True),
            suggestions=check_suggestions(suggestions),
        )

    def record_event(self, *, kind: str, surface: str, channel: str, code: Optional[int]) -> None:
        """Count something the bot did (e.g. kind="answer" or "autoreply"), now."""
        self.record_events([UsageEvent(kind, surface, channel, code, self._clock())])

    def record_events(self, events: Iterable[UsageEvent]) -> None:
        """Count several things at the times they carry, in one write: all or none."""
        rows = [
            UsageEvent(
                check_text("kind", e.kind),
                check_text("surface", e.surface),
                check_text("channel", e.channel, allow_empty=True),
                check_code("code", e.code, optional=True),
                check_seconds("at", e.at, allow_zero=True),
            )
            for e in events
        ]
        if rows:
            self._record_events(rows)

    # -- what each backend implements, with arguments already checked ---------

    @abc.abstractmethod
    def _claim(self, key: str, ttl: float) -> bool: ...

    @abc.abstractmethod
    def _cooldown(self, thread_key: str, code: int, seconds: float) -> bool: ...

    @abc.abstractmethod
    def _claim_with_cooldowns(self, key: str, ttl: float, thread_key: str, codes: list[int],
                              seconds: float) -> Optional[list[int]]: ...

    @abc.abstractmethod
    def _channel_settings(self, channel: str) -> ChannelSettings: ...

    @abc.abstractmethod
    def _update_channel_settings(self, channel: str, *, autoreply: Optional[str], muted_until: Optional[float],
                                 quiet_threads_add: Optional[str]) -> ChannelSettings: ...

    @abc.abstractmethod
    def _is_thread_quiet(self, channel: str, thread_ts: str) -> bool: ...

    @abc.abstractmethod
    def _quiet_thread(self, channel: str, thread_ts: str) -> None: ...

    @abc.abstractmethod
    def _record_feedback(self, *, card_id: str, user: str, code: int, vote: str, surface: str, channel: str,
                         kb_version: str, comment: str) -> bool: ...

    @abc.abstractmethod
    def _record_unanswered(self, *, text: str, surface: str, channel: str, suggestions: tuple[int, ...]) -> None: ...

    @abc.abstractmethod
    def _record_events(self, events: list[UsageEvent]) -> None: ...

    # -- reading back -----------------------------------------------------------

    @abc.abstractmethod
    def feedback(self, since: Optional[float] = None) -> list[Feedback]:
        """Current votes, oldest first; with `since`, those cast at or after it."""

    @abc.abstractmethod
    def unanswered(self, since: Optional[float] = None) -> list[Unanswered]:
        """Unanswered questions, oldest first."""

    @abc.abstractmethod
    def events(self, since: Optional[float] = None) -> list[UsageEvent]:
        """Usage events, oldest first."""

    # -- housekeeping ---------------------------------------------------------

    @abc.abstractmethod
    def purge_expired(self) -> int:
        """Remove expired claims and cool-downs, and the feedback, unanswered questions, usage events
        and quiet threads older than the store's retention period (`keep_days`); return how many rows
        went. Every backend also purges on its own now and then, riding along with claims."""

    @abc.abstractmethod
    def ping(self) -> bool:
        """True when the backend answers; never raises."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release connections; idempotent."""

    def __enter__(self) -> "StateStore":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
