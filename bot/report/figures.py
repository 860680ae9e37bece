"""Figures from the state store: what was asked, what was explained, what helped, what is missing.

Plain data from `StateStore.events`, `.feedback` and `.unanswered`; nothing
here knows about Slack, so `nmbot report` runs anywhere the database is.
"""
from __future__ import annotations

import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Optional, Sequence

from ..replies.kinds import EXPLAINED, UNANSWERED, Kind, Surface, Vote
from ..store import Feedback, StateStore, Unanswered, UsageEvent
from .questions import QuestionGroup, group_questions

NO_CHANNEL = "(none)"  # the channel row of events recorded without one
# A per-day series longer than this (a period of years) starts at the first day anything was recorded.
MAX_SERIES_DAYS = 731


@dataclass(frozen=True)
class Row:
    """Activity of one surface (command, mention, autoreply …) or one channel."""

    name: str
    answers: int = 0  # codes explained to someone who asked (command, mention, shortcut, button)
    autoreplies: int = 0  # codes explained in auto-replies to pasted logs
    shadow: int = 0  # codes an auto-reply would have explained (shadow mode: nothing posted)
    unanswered: int = 0  # questions without a confident answer
    shares: int = 0
    removed: int = 0  # replies removed with a reaction

    @property
    def explained(self) -> int:
        return self.answers + self.autoreplies


@dataclass(frozen=True)
class Day:
    """One UTC day of the period: questions answered and not."""

    date: str  # YYYY-MM-DD
    answered: int = 0  # codes explained (answers and auto-replies)
    unanswered: int = 0  # questions without a confident answer

    @property
    def asked(self) -> int:
        return self.answered + self.unanswered


@dataclass(frozen=True)
class CodeRow:
    code: int
    title: str
    explained: int  # answers and auto-replies that explained the code
    up: int
    down: int

    @property
    def votes(self) -> int:
        return self.up + self.down

    @property
    def helpful_rate(self) -> Optional[float]:
        return self.up / self.votes if self.votes else None



@dataclass(frozen=True)
class Downvote:
    code: int
    title: str
    comment: str  # phone numbers masked by the store
    surface: str
    channel: str
    kb_version: str
    at: float


@dataclass(frozen=True)
class Report:
    since: Optional[float]
    until: float
    kb_version: str
    answers: int
    autoreplies: int
    shadow: int
    unanswered: int
    shares: int
    removed: int
    up: int
    down: int
    surfaces: tuple[Row, ...]
    channels: tuple[Row, ...]
    codes: tuple[CodeRow, ...]  # every code explained or voted on, most explained first
    groups: tuple[QuestionGroup, ...]  # largest first
    downvotes: tuple[Downvote, ...]  # newest first
    titles: tuple[tuple[int, str], ...] = ()  # the knowledge base's title of every code mentioned
    days: tuple[Day, ...] = ()  # every UTC day of the period, oldest first
    channel_names: tuple[tuple[str, str], ...] = ()  # (channel ID, its name) where the name is known

    def title(self, code: int) -> str:
        return dict(self.titles).get(code, "")

    def channel_name(self, channel: str) -> Optional[str]:
        """The channel's name without '#', when known."""
        return dict(self.channel_names).get(channel)

    def channel_label(self, channel: str) -> str:
        """How people know the channel: "#support" when its name is known, else its ID."""
        name = self.channel_name(channel)
        return f"#{name}" if name else channel

    @property
    def channel_ids(self) -> tuple[str, ...]:
        """Every channel the report mentions, most active first."""
        seen = dict.fromkeys(r.name for r in self.channels if r.name != NO_CHANNEL)
        seen.update(dict.fromkeys(c for g in self.groups for c in g.channels))
        seen.update(dict.fromkeys(d.channel for d in self.downvotes if d.channel))
        return tuple(seen)

    @property
    def explained(self) -> int:
        return self.answers + self.autoreplies

    @property
    def helpful_rate(self) -> Optional[float]:
        votes = self.up + self.down
        return self.up / votes if votes else None

    @property
    def top_codes(self) -> tuple[CodeRow, ...]:
        return tuple(c for c in self.codes if c.explained)[:10]

    @property
    def voted_codes(self) -> tuple[CodeRow, ...]:
        """Codes with votes, least helpful first: where the knowledge base needs work."""
        voted = [c for c in self.codes if c.votes]
        return tuple(sorted(voted, key=lambda c: (c.helpful_rate, -c.votes, c.code)))

    @property
    def empty(self) -> bool:
        return not (self.explained or self.shadow or self.unanswered or self.shares or self.removed
                    or self.up or self.down or self.groups)


def build_report(store: StateStore, *, since: Optional[float] = None, until: Optional[float] = None,
                 kb=None, questions: bool = True) -> Report:
    """The report for everything recorded at or after `since` (epoch seconds; None: all time).

    `questions=False` leaves out the unanswered questions themselves (their count stays), for
    a quick summary.
    """
    until = time.time() if until is None else until
    events = [e for e in store.events(since) if e.at <= until]
    votes = [f for f in store.feedback(since) if f.updated_at <= until]
    asked = [q for q in store.unanswered(since) if q.at <= until] if questions else []
    return summarise(events, votes, asked, since=since, until=until, kb=kb)


def summarise(events: Sequence[UsageEvent], votes: Sequence[Feedback], questions: Sequence[Unanswered], *,
              since: Optional[float], until: float, kb=None) -> Report:
    surfaces: dict[str, Counter] = defaultdict(Counter)
    channels: dict[str, Counter] = defaultdict(Counter)
    explained: Counter = Counter()
    for e in events:
        column = _column(e)
        if column is None:
            continue
        surfaces[e.surface][column] += 1
        channels[e.channel or NO_CHANNEL][column] += 1
        if column in ("answers", "autoreplies") and e.code is not None:
            explained[e.code] += 1
    up, down = Counter(), Counter()
    for f in votes:
        (up if f.vote == Vote.UP else down)[f.code] += 1
    codes = sorted(set(explained) | set(up) | set(down), key=lambda c: (-explained[c], -(up[c] + down[c]), c))
    totals = Counter()
    for counts in surfaces.values():
        totals.update(counts)
    groups = tuple(group_questions(questions, kb.codes if kb is not None else None))
    mentioned = set(codes) | {code for g in groups for code, _ in g.suggested + g.rejected}
    return Report(
        since=since,
        until=until,
        kb_version=getattr(kb, "version", "") if kb is not None else "",
        answers=totals["answers"],
        autoreplies=totals["autoreplies"],
        shadow=totals["shadow"],
        unanswered=totals["unanswered"],
        shares=totals["shares"],
        removed=totals["removed"],
        up=sum(up.values()),
        down=sum(down.values()),
        surfaces=_rows(surfaces),
        channels=_rows(channels),
        codes=tuple(CodeRow(c, _title(kb, c), explained[c], up[c], down[c]) for c in codes),
        groups=groups,
        downvotes=tuple(
            Downvote(f.code, _title(kb, f.code), f.comment, f.surface, f.channel, f.kb_version, f.updated_at)
            for f in sorted(votes, key=lambda f: -f.updated_at) if f.vote == Vote.DOWN
        ),
        titles=tuple((code, title) for code in sorted(mentioned) if (title := _title(kb, code))),
        days=per_day(events, since=since, until=until),
    )


def utc_day(at: float) -> date:
    return datetime.fromtimestamp(at, timezone.utc).date()


def per_day(events: Sequence[UsageEvent], *, since: Optional[float], until: float) -> tuple[Day, ...]:
    """Answered and unanswered per UTC day, every day of the period (days without any as zeros)."""
    answered: Counter = Counter()
    unanswered: Counter = Counter()
    for e in events:
        column = _column(e)
        if column in ("answers", "autoreplies"):
            answered[utc_day(e.at)] += 1
        elif column == "unanswered":
            unanswered[utc_day(e.at)] += 1
    last = utc_day(until)
    recorded = set(answered) | set(unanswered)
    first = utc_day(max(since, 0.0)) if since is not None else min(recorded, default=last)
    if (last - first).days >= MAX_SERIES_DAYS:
        first = max(first, min(recorded, default=last))
    count = (last - first).days + 1
    days = (first + timedelta(days=i) for i in range(max(count, 0)))
    return tuple(Day(d.isoformat(), answered[d], unanswered[d]) for d in days)


def _column(e: UsageEvent) -> Optional[str]:
    if e.kind in EXPLAINED:  # one event per code explained in a reply
        return {Surface.AUTOREPLY: "autoreplies", Surface.SHADOW: "shadow"}.get(e.surface, "answers")
    if e.kind in UNANSWERED:
        return "unanswered"
    if e.kind == Kind.SHARE:
        return "shares"
    if e.kind == Kind.REMOVED:
        return "removed"
    return None


def _rows(counts: dict[str, Counter]) -> tuple[Row, ...]:
    rows = [Row(name, **dict(c)) for name, c in counts.items()]
    return tuple(sorted(rows, key=lambda r: (-(r.explained + r.shadow + r.unanswered), r.name)))


def _title(kb, code: int) -> str:
    entry = kb.get(code) if kb is not None else None
    return entry.title if entry is not None else ""

