"""The knowledge base: typed, immutable entries, and the error that names what is wrong in a file.

Support staff edit the YAML; `kb_document` turns it into `Entry` objects or one clear
`KnowledgeError` naming the file, the entry and the field that is wrong, and `kb_files`
finds, reads and merges the files.
"""
from __future__ import annotations

from dataclasses import dataclass, field


class KnowledgeError(ValueError):
    """A knowledge-base file that cannot be used, with where and why."""

    def __init__(self, source: str, problem: str, entry: str | None = None, field_name: str | None = None):
        self.source = source
        self.entry = entry
        self.field_name = field_name
        self.problem = problem
        where = source
        if entry is not None:
            where += f": entry {entry}"
        if field_name is not None:
            where += f", field '{field_name}'"
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True)
class Sourced:
    """One part of a meaning, one cause or one step, with where it comes from.

    Support engineers weigh "8x8 documents this" differently from "someone on our team found this",
    so every item says which it is and, for 8x8's word, the page that says it.
    """

    text: str
    page: str = ""  # the 8x8 page that says it; empty for our own notes
    stated: bool = True  # False when the file named no source: `nmbot kb check` refuses it, cards show it as ours

    @property
    def from_8x8(self) -> bool:
        return bool(self.page)


@dataclass(frozen=True)
class Entry:
    """One error code and everything a support engineer needs about it."""

    code: int
    message: str
    title: str
    category: str
    meaning: str
    causes: tuple[str, ...]
    steps: tuple[str, ...]
    owner: str
    owner_detail: str
    escalate: tuple[str, ...]
    related: tuple[int, ...]
    docs: str
    phrases: tuple[str, ...]
    examples: tuple[str, ...]
    symptoms: tuple[str, ...] = ()  # what people see when this code is behind a failure, for questions without it
    # What this code shows but so do failures without a code of their own: offered, never a card alone.
    clues: tuple[str, ...] = ()
    # What sounds like this code but is not it: a question that reads most like one gets no card.
    unlike: tuple[str, ...] = ()
    source: str = field(default="", compare=False)
    # The same meaning, causes and steps, each part with its source (8x8's page or our notes).
    meaning_items: tuple[Sourced, ...] = ()
    cause_items: tuple[Sourced, ...] = ()
    step_items: tuple[Sourced, ...] = ()
    message_only: bool = False  # 8x8 documents nothing about this code beyond its message

    @property
    def label(self) -> str:
        """The code as 8x8 prints it, e.g. "-2004"."""
        return str(self.code)


@dataclass(frozen=True)
class KnowledgeBase:
    entries: tuple[Entry, ...]
    version: str
    sources: tuple[str, ...] = ()
    # Words people use interchangeably ("callflow" -> "call flow"), applied to
    # questions and phrases alike before matching.
    synonyms: tuple[tuple[str, str], ...] = ()
    codes: frozenset[int] = field(init=False, compare=False, repr=False)  # every code, for membership tests

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_code", {e.code: e for e in self.entries})
        object.__setattr__(self, "codes", frozenset(self._by_code))

    def get(self, code: int) -> Entry | None:
        return self._by_code.get(code)  # type: ignore[attr-defined]

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self):
        return iter(self.entries)

