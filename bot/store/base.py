"""The state-store interface: everything the bot remembers, behind one API.

`SqlStore` (sql.py) implements `StateStore` over SQLite or PostgreSQL; one
parametrised test suite checks the contract on both. Times are seconds since
the epoch (floats) taken from the clock the store was opened with, so TTLs can
be tested with a fake clock.
"""
from __future__ import annotations

import abc
from typing import Any, Callable, Iterable, Optional, TypeVar

from ..settings import StoreTuning
from .checks import check_autoreply, check_code, check_keep_days, check_muted_until, check_seconds, check_text
from .journal import JournalMethods
from .kept import SettingsKept
from .outage import OutageWatch, RecentClaims
from .records import DAY, ChannelSettings, Clock, StoreError
from .reports import ReportMethods

__all__ = ["StateStore"]

T = TypeVar("T")

# Operations that only read: their success does not end an outage (a full disk still serves reads).
_READS = frozenset({"channel_settings", "is_thread_quiet", "feedback", "unanswered", "events", "pending_events"})
# Updates that may match no row: SQLite then writes nothing, even on a full disk, so their success proves no
# more than a read's.
_MAY_WRITE_NOTHING = frozenset({"settle_event", "renew_leases"})


class StateStore(ReportMethods, JournalMethods, abc.ABC):
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

    def __init__(self, *, clock: Clock, keep_days: float, tuning: StoreTuning) -> None:
        self._clock = clock  # every backend keeps the clock it was opened with
        self._keep_seconds = check_keep_days(keep_days) * DAY  # its retention period (0: keep forever)
        self._closed = False
        self._watch = OutageWatch()
        self._recent = RecentClaims(tuning.claims_kept, tuning.claims_kept_seconds)
        self._settings_kept = SettingsKept(tuning.settings_kept)

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

    # -- housekeeping ---------------------------------------------------------

    def purge_expired(self) -> int:
        """Remove expired claims, cool-downs and journal entries past their `keep`, and the feedback, unanswered
        questions, usage events and quiet threads older than the store's retention period (`keep_days`); return
        how many rows went. The store purges only when asked: the bot does on start and then on schedule
        (`Settings.purge_seconds`)."""
        return self._call("purge", self._purge_expired)

    def ping(self) -> bool:
        """True when the store reads and writes its own tables in time (`StoreTuning.ping_seconds`); never raises.
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
