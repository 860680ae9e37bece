"""The state-store interface: everything the bot remembers, behind one API.

Backends (`MemoryStore`, `SqlStore`) implement `StateStore` and share one
contract, checked by one parametrised test suite. Times are seconds since the
epoch (floats) taken from the clock the store was opened with, so TTLs can be
tested with a fake clock.
"""
from __future__ import annotations

import abc
import math
import threading
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Optional, TypeVar

from ..engine.privacy import mask_msisdns
from .outage import OutageWatch, RecentClaims

__all__ = [
    "AUTOREPLY_MODES",
    "DEFAULT_AUTOREPLY",
    "DEFAULT_KEEP_DAYS",
    "VOTES",
    "Clock",
    "ChannelSettings",
    "Feedback",
    "JournalEntry",
    "RECOVERY_ATTEMPTS",
    "StateStore",
    "StoreError",
    "Unanswered",
    "UsageEvent",
]

Clock = Callable[[], float]
T = TypeVar("T")

AUTOREPLY_MODES = ("on", "off", "shadow")
DEFAULT_AUTOREPLY = "on"
VOTES = ("up", "down")
# Votes, unanswered questions (what users typed), usage events and quiet threads older than this are
# deleted: a privacy product keeps what people did no longer than its reports need. 0 keeps them forever.
DEFAULT_KEEP_DAYS = 180.0
DAY = 86400.0
# Operations that only read: their success does not end an outage (a full disk still serves reads).
_READS = frozenset({"channel_settings", "is_thread_quiet", "feedback", "unanswered", "events", "pending_events"})
# Updates that may match no row: SQLite then writes nothing, even on a full disk, so their success proves no
# more than a read's.
_MAY_WRITE_NOTHING = frozenset({"settle_event", "renew_leases"})
# How many times an acknowledged event is taken up again after the process answering it died: an event that
# keeps killing its process, or that Slack keeps refusing, is given up rather than tried every minute for an hour.
RECOVERY_ATTEMPTS = 3
# Channels whose settings one store keeps for `channel_settings(max_age=...)`; past this the copies start over.
SETTINGS_KEPT = 10_000


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


def check_entry(entry: object) -> JournalEntry:
    """The entry with its fields checked and its text masked; times and attempts left for the store."""
    if not isinstance(entry, JournalEntry):
        raise TypeError(f"entry must be a JournalEntry, got {type(entry).__name__}")
    if isinstance(entry.files, (str, bytes)) or not all(isinstance(f, str) and f for f in entry.files):
        raise TypeError("files must be a sequence of file ids (non-empty str)")
    return JournalEntry(
        key=check_text("key", entry.key),
        event_type=check_text("event_type", entry.event_type),
        channel=check_text("channel", entry.channel),
        ts=check_text("ts", entry.ts),
        thread_ts=check_text("thread_ts", entry.thread_ts, allow_empty=True),
        user=check_text("user", entry.user, allow_empty=True),
        text=mask_msisdns(check_text("text", entry.text, allow_empty=True)),
        files=tuple(entry.files),
    )


def check_count(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{name} must be at least 1, got {value!r}")
    return value


def check_suggestions(value: Iterable[int]) -> tuple[int, ...]:
    if isinstance(value, (str, bytes)):
        raise TypeError("suggestions must be a list of error codes (ints)")
    codes = tuple(value)
    for code in codes:
        check_code("each suggestion", code)
    return codes


class SettingsKept:
    """Copies of channel settings, each with when it was read. Thread-safe.

    `generation` moves on with every `forget`: a read that began before a change (its generation older) is
    not kept, so a change made here is never hidden behind a copy read before it.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._copies: dict[str, tuple[ChannelSettings, float]] = {}
        self.generation = 0

    def get(self, channel: str, since: float) -> Optional[ChannelSettings]:
        """The copy of `channel`'s settings read at `since` or later, if any."""
        kept = self._copies.get(channel)
        return kept[0] if kept is not None and kept[1] >= since else None

    def put(self, settings: ChannelSettings, at: float, generation: int) -> None:
        with self._lock:
            if generation != self.generation:
                return
            if len(self._copies) >= SETTINGS_KEPT:
                self._copies.clear()
            self._copies[settings.channel] = (settings, at)

    def forget(self, channel: str) -> int:
        """Drop `channel`'s copy; the generation from now on."""
        with self._lock:
            self._copies.pop(channel, None)
            self.generation += 1
            return self.generation


class StateStore(abc.ABC):
    """Everything the bot remembers. All methods are thread-safe.

    Every backend behaves the same; `now` is always the store's injected clock.
    After `close()`, every method but `ping()` (False) and `close()` (no-op)
    raises `StoreError`. The public methods check their arguments and mask
    phone numbers here, once for every backend, then call the backend's
    underscored method with clean values.

    When the database fails, the store says so once (a WARNING going down, one
    coming back; `problem` says why meanwhile) and tells `on_error` listeners
    of every failed operation. Claims are also remembered in the process (see
    `claim`), so a retry reaching this process during an outage is still
    recognised.
    """

    def __init__(self, *, clock: Clock, keep_days: float) -> None:
        self._clock = clock  # every backend keeps the clock it was opened with
        self._keep_seconds = check_keep_days(keep_days) * DAY  # its retention period (0: keep forever)
        self._closed = False
        self._watch = OutageWatch()
        self._recent = RecentClaims()
        self._settings_kept = SettingsKept()

    def now(self) -> float:
        """The store's clock: the time it stamps rows with."""
        return self._clock()

    @property
    def local(self) -> bool:
        """True when no operation can wait on a network: the data lives in this process or on this machine's
        disk (memory, SQLite). The default says no, the careful answer."""
        return False

    @property
    def problem(self) -> Optional[str]:
        """Why the store is down, in one line without secrets (the last failure's reason); None while up."""
        return "the state store is closed" if self._closed else self._watch.problem

    def on_error(self, listener: Callable[[str], None]) -> None:
        """Call `listener(operation)` (e.g. "claim", "ping") for every operation the database fails."""
        self._watch.on_error(listener)

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

        When the database fails: False if this process claimed the key, or saw
        it claimed, within `ttl` (and the last two hours); otherwise StoreError,
        and the key counts as claimed here from then on.
        """
        key, ttl = check_text("key", key), check_seconds("ttl", ttl, allow_zero=False)
        try:
            won = self._call("claim", self._claim, key, ttl)
        except StoreError:
            if self._claimed_here(key, ttl):
                return False
            raise
        self._recent.remember(key, self._clock(), ttl)
        return won

    def cooldown(self, thread_key: str, code: int, seconds: float) -> bool:
        """True, and start the cool-down, when `code` was not explained in
        this thread within `seconds`; False while it is cooling down.
        `seconds == 0` disables the cool-down (always True, nothing stored).
        """
        return self._call(
            "cooldown", self._cooldown, check_text("thread_key", thread_key), check_code("code", code),
            check_seconds("seconds", seconds, allow_zero=True),
        )

    def claim_with_cooldowns(self, key: str, ttl: float, thread_key: str, codes: Iterable[int],
                             seconds: float) -> Optional[list[int]]:
        """`claim(key, ttl)` and, for the first claimer only, `cooldown(thread_key, code, seconds)` for
        each code, in one transaction. None when the key was taken; else the codes whose cool-down
        started (in the order given). One round trip where a reply to a pasted log needs both.
        When the database fails, the key is looked up in the process as `claim` does.
        """
        key, ttl = check_text("key", key), check_seconds("ttl", ttl, allow_zero=False)
        thread_key, codes = check_text("thread_key", thread_key), [check_code("each code", c) for c in codes]
        seconds = check_seconds("seconds", seconds, allow_zero=True)
        try:
            fresh = self._call("claim", self._claim_with_cooldowns, key, ttl, thread_key, codes, seconds)
        except StoreError:
            if self._claimed_here(key, ttl):
                return None
            raise
        self._recent.remember(key, self._clock(), ttl)
        return fresh

    def _claimed_here(self, key: str, ttl: float) -> bool:
        """After a failed claim: True when this process claimed or saw `key` claimed (a repeat);
        else False, and from now on it has (this delivery is answered without the database)."""
        return not self._closed and not self._recent.first_time(key, self._clock(), ttl)

    # -- channel settings ---------------------------------------------------

    def channel_settings(self, channel: str, *, max_age: float = 0.0) -> ChannelSettings:
        """The settings of `channel` (defaults when never set).

        With `max_age`, a copy this store read or wrote at most that many seconds ago is good enough: a
        change made through this store object is seen at once, one made by another process within `max_age`.
        """
        channel = check_text("channel", channel)
        if max_age > 0:
            kept = self._settings_kept.get(channel, self._clock() - max_age)
            if kept is not None:
                return kept
        generation = self._settings_kept.generation
        settings = self._call("channel_settings", self._channel_settings, channel)
        self._settings_kept.put(settings, self._clock(), generation)
        return settings

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
        self._settings_kept.forget(channel)  # a read already under way must not keep the old settings either
        settings = self._call(
            "update_channel_settings", self._update_channel_settings, check_text("channel", channel),
            autoreply=None if autoreply is None else check_autoreply(autoreply),
            muted_until=check_muted_until(muted_until),
            quiet_threads_add=None if quiet_threads_add is None else check_text("quiet_threads_add", quiet_threads_add),
        )
        self._settings_kept.put(settings, self._clock(), self._settings_kept.forget(channel))
        return settings

    def is_thread_quiet(self, channel: str, thread_ts: str) -> bool:
        """True when the bot must keep quiet in this thread."""
        return self._call("is_thread_quiet", self._is_thread_quiet, check_text("channel", channel),
                          check_text("thread_ts", thread_ts))

    def quiet_thread(self, channel: str, thread_ts: str) -> None:
        """Keep quiet in this thread from now on (idempotent)."""
        self._call("quiet_thread", self._quiet_thread, check_text("channel", channel),
                   check_text("thread_ts", thread_ts))

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
        return self._call(
            "record_feedback", self._record_feedback,
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
        self._call(
            "record_unanswered", self._record_unanswered,
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
            self._call("record_events", self._record_events, rows)

    # -- the journal: acknowledged events until they are answered ---------------

    def journal_event(self, entry: JournalEntry, *, owner: str, lease: float, keep: float) -> bool:
        """Record an event before Slack is told it arrived, leased to `owner` (a process) for `lease` seconds.

        True when recorded now; False when its key is recorded already and not past `keep` (a retry, the
        other copy of a mention): that row stays as it was. The row is kept `keep` seconds, and only
        within them can it be taken up again. Phone numbers in the text are masked.
        """
        return self._call(
            "journal_event", self._journal_event, check_entry(entry), check_text("owner", owner),
            check_seconds("lease", lease, allow_zero=False), check_seconds("keep", keep, allow_zero=False),
        )

    def renew_leases(self, keys: Iterable[str], *, lease: float) -> int:
        """The leases of these events, unless answered, now end `lease` seconds from now, whoever holds
        them (a process still working on one keeps it from being taken up again); how many were renewed."""
        keys = sorted({check_text("each key", k) for k in keys})
        lease = check_seconds("lease", lease, allow_zero=False)
        return self._call("renew_leases", self._renew_leases, keys, lease) if keys else 0

    def settle_event(self, key: str) -> None:
        """The event is answered, or the bot decided to say nothing: it is never taken up again, and its
        text is forgotten now. Idempotent; an unknown key is no error."""
        self._call("settle_event", self._settle_events, [check_text("key", key)])

    def settle_events(self, keys: Iterable[str]) -> None:
        """`settle_event` for each of `keys`, in one write."""
        keys = sorted({check_text("each key", k) for k in keys})
        if keys:
            self._call("settle_event", self._settle_events, keys)

    def take_lapsed_events(self, *, owner: str, lease: float, limit: int = 100,
                           max_attempts: int = RECOVERY_ATTEMPTS) -> list[JournalEntry]:
        """Take up to `limit` events, oldest first, that are not answered, whose lease ended, that are
        still kept (see `journal_event`) and were taken fewer than `max_attempts` times before: each is
        now leased to `owner` for `lease` seconds, its `attempts` one more. Across threads, processes and
        replicas sharing the database, an event goes to one taker until its new lease ends."""
        return self._call(
            "take_lapsed_events", self._take_lapsed_events, check_text("owner", owner),
            check_seconds("lease", lease, allow_zero=False), check_count("limit", limit),
            check_count("max_attempts", max_attempts),
        )

    def pending_events(self) -> list[JournalEntry]:
        """Events recorded, still kept and not yet answered (leased or not), oldest first."""
        return self._call("pending_events", self._read_pending_events)

    # -- reading back -----------------------------------------------------------

    def feedback(self, since: Optional[float] = None) -> list[Feedback]:
        """Current votes, oldest first; with `since`, those cast at or after it."""
        return self._call("feedback", self._read_feedback, since)

    def unanswered(self, since: Optional[float] = None) -> list[Unanswered]:
        """Unanswered questions, oldest first."""
        return self._call("unanswered", self._read_unanswered, since)

    def events(self, since: Optional[float] = None) -> list[UsageEvent]:
        """Usage events, oldest first."""
        return self._call("events", self._read_events, since)

    # -- housekeeping ---------------------------------------------------------

    def purge_expired(self) -> int:
        """Remove expired claims, cool-downs and journal entries past their `keep`, and the feedback, unanswered questions, usage events
        and quiet threads older than the store's retention period (`keep_days`); return how many rows
        went. Every backend also purges on its own now and then, riding along with claims."""
        return self._call("purge", self._purge_expired)

    def ping(self) -> bool:
        """True when the store reads and writes its own tables in time (about 2 s); never raises.
        Tables found missing are created again first. Updates `problem`."""
        if self._closed:
            return False
        problem = self._check()
        if problem is None:
            self._watch.succeeded()
        else:
            self._watch.failed("ping", problem)
        return problem is None

    # -- failures ---------------------------------------------------------------

    def _call(self, operation: str, method: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """`method(*args, **kwargs)`, with one more try when the backend repaired what failed it;
        failures and successes reported to the outage watch."""
        try:
            try:
                result = method(*args, **kwargs)
            except StoreError as exc:
                if self._closed or not self._recover(exc):
                    raise
                result = method(*args, **kwargs)
        except StoreError as exc:
            if not self._closed:
                self._watch.failed(operation, str(exc))
            raise
        if operation not in _READS and operation not in _MAY_WRITE_NOTHING:  # only a write shows it is over
            self._watch.succeeded()
        return result

    def _recover(self, exc: StoreError) -> bool:
        """Repair what made an operation fail, if the backend can (e.g. create dropped tables again);
        True when it is worth one more try."""
        return False

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

    @abc.abstractmethod
    def _journal_event(self, entry: JournalEntry, owner: str, lease: float, keep: float) -> bool: ...

    @abc.abstractmethod
    def _renew_leases(self, keys: list[str], lease: float) -> int: ...

    @abc.abstractmethod
    def _settle_events(self, keys: list[str]) -> None: ...

    @abc.abstractmethod
    def _take_lapsed_events(self, owner: str, lease: float, limit: int, max_attempts: int) -> list[JournalEntry]: ...

    @abc.abstractmethod
    def _read_pending_events(self) -> list[JournalEntry]: ...

    @abc.abstractmethod
    def _read_feedback(self, since: Optional[float]) -> list[Feedback]: ...

    @abc.abstractmethod
    def _read_unanswered(self, since: Optional[float]) -> list[Unanswered]: ...

    @abc.abstractmethod
    def _read_events(self, since: Optional[float]) -> list[UsageEvent]: ...

    @abc.abstractmethod
    def _purge_expired(self) -> int: ...

    @abc.abstractmethod
    def _check(self) -> Optional[str]:
        """None when the backend reads and writes its own tables in time, else why not (one line,
        no secret); never raises."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release connections; idempotent."""

    def __enter__(self) -> "StateStore":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
