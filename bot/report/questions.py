"""Unanswered questions grouped: similar wordings together, with the codes offered or turned down for them."""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Iterable, Optional

from rapidfuzz import fuzz

from ..engine.codes import codes_in_question
from ..engine.privacy import MASK
from ..engine.text import words
from ..replies.kinds import Surface
from ..store import Unanswered

GROUP_SIMILARITY = 82.0  # token_sort_ratio of two questions' content words to share a group
SUBSET_SIMILARITY = 90.0  # ... or token_set_ratio, when one says at most one content word more
MAX_VARIANTS = 3

# A question's first words say what it asks; comparing whole pasted paragraphs costs the square of
# their length for every pair of groups.
KEY_TOKENS = 40
_MASKED = re.compile(r"\+?" + MASK + r"\d*")
_CODE = re.compile(r"-?\d{3,6}")


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
    suggested = Counter(code for q in members if q.surface != Surface.DOWNVOTE for code in q.suggestions)
    rejected = Counter(code for q in members if q.surface == Surface.DOWNVOTE for code in q.suggestions)
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
        downvoted=sum(1 for q in members if q.surface == Surface.DOWNVOTE),
        last_at=max(q.at for q in members),
        unknown_codes=tuple(unknown),
        rejected=tuple(sorted(rejected.items(), key=lambda kv: (-kv[1], kv[0]))),
    )
