"""What the vote and "Why this answer?" buttons carry in their value: written when a reply draws a card
(answers.vote_for), decoded by the action listeners when the button is clicked, and read back here
(votes.py, clicks.py). The cards draw them from their fields only (nmbot.cards imports nothing from here at run
time: this package imports the cards).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Optional

from ..cards.kit import QUERY_CHARS, VALUE_CHARS, fit
from ..engine.privacy import mask_msisdns
from ..engine.resolution import Resolution
from ..engine.scanner import Finding

_CARD_ID = re.compile(r"[A-Za-z0-9._:@-]{1,64}")
_SURFACE = re.compile(r"[a-z_]{1,20}")
_BASIS = re.compile(r"[a-z -]{1,20}")
VERSION_CHARS = 80
MATCHED_CHARS = 200


def stored_text(text: str, limit: int = QUERY_CHARS) -> str:
    """User text to carry in a button or store: one line, phone numbers masked, shortened (not escaped)."""
    return fit(mask_msisdns(" ".join(str(text).split())), limit)


def _json_object(value: object) -> dict | None:
    if not isinstance(value, str) or len(value) > VALUE_CHARS:
        return None
    try:
        data = json.loads(value)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@dataclass(frozen=True)
class VoteRef:
    """The card a vote is cast on. Travels in the vote buttons' value, so a vote needs no look-up."""

    card_id: str  # one posted card: every copy of it shares the id, so one vote per person per card
    code: int
    surface: str  # where the card was shown: command, mention, autoreply, shortcut, button, share
    kb_version: str  # the knowledge base the card was drawn from
    question: str = ""  # what was asked (masked, shortened): kept with a thumbs-down

    def __post_init__(self) -> None:
        # However it was made, a reference carries no phone number and fits in a button.
        object.__setattr__(self, "question", stored_text(self.question) if self.question else "")
        object.__setattr__(self, "kb_version", self.kb_version[:VERSION_CHARS])

    def encode(self) -> str:
        data = {"i": self.card_id, "c": self.code, "s": self.surface, "k": self.kb_version}
        if self.question:
            data["q"] = self.question
        return json.dumps(data, separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def decode(cls, value: object) -> Optional["VoteRef"]:
        """The reference in a button value; None for anything this bot did not write."""
        data = _json_object(value)
        if data is None:
            return None
        card_id, code, surface = data.get("i"), data.get("c"), data.get("s")
        version, question = data.get("k", ""), data.get("q", "")
        if not (isinstance(card_id, str) and _CARD_ID.fullmatch(card_id) and _is_int(code)
                and isinstance(surface, str) and _SURFACE.fullmatch(surface)
                and isinstance(version, str) and len(version) <= VERSION_CHARS and isinstance(question, str)):
            return None
        return cls(card_id, code, surface, version, question)


@dataclass(frozen=True)
class WhyRef:
    """Why a card was chosen, carried in its "Why this answer?" button."""

    code: int
    basis: str  # code, message, phrase or title (a question); log (found in a paste)
    matched: str = ""  # the knowledge-base text that matched
    score: float = 0.0
    runner_up: Optional[int] = None
    runner_up_score: float = 0.0
    runner_up_basis: str = ""
    runner_up_matched: str = ""
    question: str = ""  # masked, shortened
    count: int = 0  # log: times found
    line: int = 0  # log: first line
    shared: str = ""  # a symptom several codes tie on (or a clue), set aside so the rest of the question decided

    @classmethod
    def for_resolution(cls, resolution: Resolution) -> Optional["WhyRef"]:
        answer, runner_up = resolution.answer, resolution.runner_up
        if answer is None:
            return None
        shared = fit(resolution.shared[0].matched, MATCHED_CHARS) if resolution.shared else ""
        if runner_up is None or answer.field in ("code", "message"):
            return cls(answer.code, answer.field, fit(answer.matched, MATCHED_CHARS), round(answer.score, 1),
                       question=stored_text(resolution.query), shared=shared)
        return cls(answer.code, answer.field, fit(answer.matched, MATCHED_CHARS), round(answer.score, 1),
                   runner_up.code, round(runner_up.score, 1), runner_up.field,
                   fit(runner_up.matched, MATCHED_CHARS), stored_text(resolution.query), shared=shared)

    @classmethod
    def for_finding(cls, finding: Finding) -> "WhyRef":
        return cls(finding.code, "log", count=finding.count, line=finding.line)

    def encode(self) -> str:
        # Every field is a plain value: this is `asdict` without its deep copy, which is slow for a hot path.
        fields = {k: getattr(self, k) for k in self.__dataclass_fields__}
        data = {k: v for k, v in fields.items() if v not in ("", 0, 0.0, None) or k in ("code", "basis")}
        return json.dumps(data, separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def decode(cls, value: object) -> Optional["WhyRef"]:
        data = _json_object(value)
        if data is None or set(data) - set(cls.__dataclass_fields__):
            return None
        texts = ("matched", "runner_up_matched", "question", "shared")
        ok = (_is_int(data.get("code")) and isinstance(data.get("basis"), str) and _BASIS.fullmatch(data["basis"])
              and all(isinstance(data.get(k, ""), str) and len(data.get(k, "")) <= MATCHED_CHARS for k in texts)
              and isinstance(data.get("runner_up_basis", ""), str) and len(data.get("runner_up_basis", "")) <= 20
              and all(_is_number(data.get(k, 0)) for k in ("score", "runner_up_score"))
              and all(_is_int(data.get(k, 0)) for k in ("count", "line"))
              and (data.get("runner_up") is None or _is_int(data.get("runner_up"))))
        return cls(**data) if ok else None
