"""Stand-ins for what the Slack side passes the replies layer (post) and for the process's counters, usage log
and leases: each records what the replies layer did with it."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from nmbot.replies.answers import FileScan
from nmbot.replies.claims import POSTED

BOT = "U0000BOT"
CHANNEL = "C0000CHAN"
USER = "U0000USER"


class Tally:
    """A labelled counter: `inc(outcome="first")` counts ("first",)."""

    def __init__(self) -> None:
        self.counts: Counter = Counter()

    def inc(self, amount: float = 1, **labels: str) -> None:
        self.counts[tuple(str(v) for v in labels.values())] += amount


@dataclass
class Counts:
    """What the replies layer counts: each reply by kind and surface, each delivery by outcome."""

    replies: list = field(default_factory=list)
    deliveries: Tally = field(default_factory=Tally)

    def count_reply(self, kind, surface) -> None:
        self.replies.append((str(kind), str(surface)))


@dataclass
class Usage:
    """The usage rows and unanswered questions the replies layer writes behind."""

    rows: list = field(default_factory=list)
    questions: list = field(default_factory=list)

    def add(self, *, kind, surface, channel, code) -> None:
        self.rows.append((str(kind), str(surface), channel, code))

    def add_unanswered(self, **question) -> None:
        self.questions.append(question)


@dataclass
class Leases:
    """How each delivery's journal entry was finished: (key, settled, replied)."""

    finished: list = field(default_factory=list)

    def finish(self, key, *, settled: bool, replied: bool = False) -> None:
        self.finished.append((key, settled, replied))


class Posts:
    """`post(channel, thread_ts, message, claim)` as the listener passes it: records each post and answers
    `result` (POSTED unless a test sets REFUSED or UNREACHED)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, dict, str | None]] = []
        self.result = POSTED

    def __call__(self, channel: str, thread_ts: str, message: dict, claim: str | None) -> str:
        self.sent.append((channel, thread_ts, message, claim))
        return self.result


def no_files() -> FileScan:
    return FileScan()
