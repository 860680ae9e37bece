"""Channel settings a store keeps copies of in the process, for `channel_settings(max_age=...)`."""
from __future__ import annotations

import threading
from typing import Optional

from .records import ChannelSettings


class SettingsKept:
    """Copies of the settings of at most `limit` channels, each with when it was read (past the limit the
    copies start over). Thread-safe.

    `generation` moves on with every `forget`: a read that began before a change (its generation older) is
    not kept, so a change made here is never hidden behind a copy read before it.
    """

    def __init__(self, limit: int) -> None:
        self._limit = limit
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
            if len(self._copies) >= self._limit:
                self._copies.clear()
            self._copies[settings.channel] = (settings, at)

    def forget(self, channel: str) -> int:
        """Drop `channel`'s copy; the generation from now on."""
        with self._lock:
            self._copies.pop(channel, None)
            self.generation += 1
            return self.generation
