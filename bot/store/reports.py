"""What the state store keeps for `nmbot report`: votes on answers, questions left unanswered, and usage
events. `StateStore` has these methods; a backend implements the underscored ones."""
from __future__ import annotations

import abc
from typing import Any, Callable, Iterable, Optional, TypeVar

from ..engine.privacy import mask_msisdns
from .checks import check_code, check_seconds, check_suggestions, check_text, check_vote
from .records import Feedback, Unanswered, UsageEvent

__all__ = ["ReportMethods"]

T = TypeVar("T")


class ReportMethods(abc.ABC):
    """The reports' part of `StateStore`."""

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

    @abc.abstractmethod
    def _call(self, operation: str, method: Callable[..., T], *args: Any, **kwargs: Any) -> T: ...

    @abc.abstractmethod
    def _record_feedback(self, *, card_id: str, user: str, code: int, vote: str, surface: str, channel: str,
                         kb_version: str, comment: str) -> bool: ...

    @abc.abstractmethod
    def _record_unanswered(self, *, text: str, surface: str, channel: str, suggestions: tuple[int, ...]) -> None: ...

    @abc.abstractmethod
    def _record_events(self, events: list[UsageEvent]) -> None: ...

    @abc.abstractmethod
    def _read_feedback(self, since: Optional[float]) -> list[Feedback]: ...

    @abc.abstractmethod
    def _read_unanswered(self, since: Optional[float]) -> list[Unanswered]: ...

    @abc.abstractmethod
    def _read_events(self, since: Optional[float]) -> list[UsageEvent]: ...
