"""The state store's journal: acknowledged events, kept until they are answered, taken up again after a
crash. `StateStore` has these methods; a backend implements the underscored ones."""
from __future__ import annotations

import abc
from typing import Any, Callable, Iterable, TypeVar

from .checks import check_count, check_entry, check_seconds, check_text
from .records import JournalEntry

__all__ = ["RECOVERY_ATTEMPTS", "JournalMethods"]

T = TypeVar("T")

# How many times an acknowledged event is taken up again after the process answering it died: an event that
# keeps killing its process, or that Slack keeps refusing, is given up rather than tried every minute for an hour.
RECOVERY_ATTEMPTS = 3


class JournalMethods(abc.ABC):
    """The journal's part of `StateStore`."""

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

    @abc.abstractmethod
    def _call(self, operation: str, method: Callable[..., T], *args: Any, **kwargs: Any) -> T: ...

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
