"""Figures from the state store: what was asked, what was explained, what helped, what is missing.

Plain data from `StateStore.events`, `.feedback` and `.unanswered`; nothing
here knows about Slack, so `nmbot report` runs anywhere the database is.
"""
from __future__ import annotations

import re
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Iterable, Optional, Sequence

from rapidfuzz import fuzz

from ..engine.codes import codes_in_question
from ..engine.privacy import MASK
from ..engine.text import words
from ..store import Feedback, StateStore, Unanswered, UsageEvent

# Usage-event kinds (see nmbot.slack.answers.remember and the listeners that record events).
EXPLAINED_KINDS = ("card", "summary")  # one event per code explained in a reply
UNANSWERED_KINDS = ("suggestions", "not_sure")  # no confident answer
SHARE_KIND = "share"
REMOVED_KIND = "removed"  # a reply removed with a reaction
AUTOREPLY, SHADOW = "autoreply", "shadow"
DOWNVOTE_SURFACE = "downvote"  # an unanswered question recorded because its card got a thumbs-down

GROUP_SIMILARITY = 82.0  # token_sort_ratio of two questions' content words to share a group
SUBSET_SIMILARITY = 90.0  # ... or token_set_ratio, when one says at most one content word more
MAX_VARIANTS = 3
_MASKED = re.compile(r"\+?" + MASK + r"\d*")
_CODE = re.compile(r"-?\d{3,6}")


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
class QuestionGroup:
    """Similar questions the bot could not answer confidently (or whose card got a thumbs-down)."""

    text: str  # the most common wording (phone numbers masked)
    count: int
    variants: tuple[str, ...]  # other wordings, most common first
    suggested: tuple[tuple[int, int], ...]  # (code, times offered as "did you mean"), most often first
    surfaces: tuple[str, ...]
    channels: tuple[str, ...]
    downvoted: int  # how many came from a card that got a thumbs-down
    last_at: float
    rejected: tuple[tuple[int, int], ...] = ()  # (code, times its card got a thumbs-down for this question)
    unknown_codes: tuple[int, ...] = ()  # codes asked about that the knowledge base does not have

    @property
    def likely_code(self) -> Optional[int]:
        return self.suggested[0][0] if self.suggested else None


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

    def title(self, code: int) -> str:
        return dict(self.titles).get(code, "")

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
        channels[e.channel or "(none)"][column] += 1
        if column in ("answers", "autoreplies") and e.code is not None:
            explained[e.code] += 1
    up, down = Counter(), Counter()
    for f in votes:
        (up if f.vote == "up" else down)[f.code] += 1
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
            for f in sorted(votes, key=lambda f: -f.updated_at) if f.vote == "down"
        ),
        titles=tuple((code, title) for code in sorted(mentioned) if (title := _title(kb, code))),
    )


def _column(e: UsageEvent) -> Optional[str]:
    if e.kind in EXPLAINED_KINDS:
        return {AUTOREPLY: "autoreplies", SHADOW: "shadow"}.get(e.surface, "answers")
    if e.kind in UNANSWERED_KINDS:
        return "unanswered"
    if e.kind == SHARE_KIND:
        return "shares"
    if e.kind == REMOVED_KIND:
        return "removed"
    return None


def _rows(counts: dict[str, Counter]) -> tuple[Row, ...]:
    rows = [Row(name, **dict(c)) for name, c in counts.items()]
    return tuple(sorted(rows, key=lambda r: (-(r.explained + r.shadow + r.unanswered), r.name)))


def _title(kb, code: int) -> str:
    entry = kb.get(code) if kb is not None else None
    return entry.title if entry is not None else ""


# --- grouping similar questions -------------------------------------------------------------

# A question's first words say what it asks; comparing whole pasted paragraphs costs the square of
# their length for every pair of groups.
KEY_TOKENS = 40


def question_key(text: str) -> str:
    """What two questions must share to be "the same question": content words and codes.

    Masked phone numbers are dropped (two people's numbers make no difference), and
    error codes are kept (questions about -2042 and -2043 are different work).
    """
    plain = _MASKED.sub(" ", text)
    tokens = words(plain) + _CODE.findall(plain)
    tokens = tokens or re.findall(r"[a-z0-9]+", plain.lower())
    return " ".join(tokens[:KEY_TOKENS])


def similar(a: str, b: str) -> bool:
    """Keys of two questions (see `question_key`) that ask the same thing."""
    if a == b:
        return True
    if not a or not b:
        return False
    if fuzz.token_sort_ratio(a, b, score_cutoff=GROUP_SIMILARITY):
        return True
    return (abs(len(a.split()) - len(b.split())) <= 1
            and bool(fuzz.token_set_ratio(a, b, score_cutoff=SUBSET_SIMILARITY)))


def group_questions(questions: Iterable[Unanswered], known_codes: Optional[Iterable[int]] = None
                    ) -> list[QuestionGroup]:
    """Similar questions together, largest group first (then the most recent).

    With the knowledge base's codes, a group also says which codes it asked about that
    the knowledge base does not have.
    """
    groups: list[list[tuple[str, Unanswered]]] = []
    keys: list[str] = []  # the first member's key stands for the group
    for q in questions:
        key = question_key(q.text)
        for i, group_key in enumerate(keys):
            if similar(key, group_key):
                groups[i].append((key, q))
                break
        else:
            keys.append(key)
            groups.append([(key, q)])
    known = tuple(known_codes) if known_codes is not None else None
    built = [_group([q for _, q in members], known) for members in groups]
    return sorted(built, key=lambda g: (-g.count, -g.last_at, g.text))


def _group(members: list[Unanswered], known: Optional[tuple[int, ...]]) -> QuestionGroup:
    wordings = Counter(" ".join(q.text.split()) for q in members)
    ordered = [text for text, _ in sorted(wordings.items(), key=lambda kv: -kv[1])]
    suggested = Counter(code for q in members if q.surface != DOWNVOTE_SURFACE for code in q.suggestions)
    rejected = Counter(code for q in members if q.surface == DOWNVOTE_SURFACE for code in q.suggestions)
    unknown: dict[int, None] = {}
    if known is not None:
        for q in members:
            unknown.update(dict.fromkeys(codes_in_question(q.text, known)[1]))
    return QuestionGroup(
        text=ordered[0],
        count=len(members),
        variants=tuple(ordered[1:1 + MAX_VARIANTS]),
        suggested=tuple(sorted(suggested.items(), key=lambda kv: (-kv[1], kv[0]))),
        surfaces=tuple(sorted({q.surface for q in members})),
        channels=tuple(sorted({q.channel for q in members if q.channel})),
        downvoted=sum(1 for q in members if q.surface == DOWNVOTE_SURFACE),
        last_at=max(q.at for q in members),
        unknown_codes=tuple(unknown),
        rejected=tuple(sorted(rejected.items(), key=lambda kv: (-kv[1], kv[0]))),
    )
