"""`nmbot kb check`: every problem in the knowledge base, not just the first.

Beyond what loading checks (fields and types), the linter looks at how the
entries work together: duplicate codes, phrases that collide across entries,
related codes that do not exist, official messages that drifted from 8x8's
wording, example questions that do not resolve to their own entry, and any
meaning, cause or step that does not say whether it is 8x8's word or ours.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from .knowledge import (SOURCE_HELP, Entry, KnowledgeBase, KnowledgeError, Sourced, expand_paths, parse_document,
                        read_yaml)
from .text import squash

# 8x8's error table, as 8x8 emits it. Entries for these codes must quote it exactly,
# because the scanner and the resolver recognise pasted messages by this text.
OFFICIAL_MESSAGES = {
    -2001: "An internal error has occurred",
    -2002: "An internal connectivity error has occurred",
    -2003: "The call flow provided is invalid",
    -2004: "No coverage available for requested area",
    -2005: "Unable to synthesize text to speech",
    -2006: "Unable to download file for playback",
    -2007: "The validity period of the call flow request has expired",
    -2008: "The provided source MSISDN or caller ID is not whitelisted",
    -2009: "The scenario parameters provided is invalid",
    -2010: "The trunk capacity has been exceeded",
    -9999: "An unknown error has occurred",
}
PHRASE_COLLISION_SCORE = 92  # phrases this alike under two codes confuse the resolver


@dataclass(frozen=True)
class Problem:
    where: str
    text: str

    def __str__(self) -> str:
        return f"{self.where}: {self.text}"


def read_entries(paths: Iterable[str | Path]) -> tuple[list[Entry], list[Problem], list[str]]:
    """Every entry that parses, every problem met on the way, and the versions seen."""
    entries: list[Entry] = []
    problems: list[Problem] = []
    versions: list[str] = []
    try:
        files = expand_paths(paths)
    except KnowledgeError as exc:
        return [], [Problem(exc.source, exc.problem)], []
    for path in files:
        try:
            doc = read_yaml(path)
        except KnowledgeError as exc:
            problems.append(Problem(exc.source, exc.problem))
            continue
        entry_errors: list[KnowledgeError] = []
        try:
            version, parsed = parse_document(doc, str(path), entry_errors)
        except KnowledgeError as exc:
            problems.append(Problem(exc.source, exc.problem))
            continue
        versions.append(f"{path.stem} {version}")
        entries.extend(parsed)
        problems += [Problem(str(exc).rsplit(": ", 1)[0], exc.problem) for exc in entry_errors]
    return entries, problems, versions


def check_entries(entries: list[Entry]) -> list[Problem]:
    problems: list[Problem] = []
    by_code: dict[int, Entry] = {}
    for e in entries:
        where = f"{e.source}: entry {e.code}"
        if e.code in by_code:
            problems.append(Problem(where, f"code {e.code} is defined twice (also in {by_code[e.code].source})"))
            continue
        by_code[e.code] = e
        official = OFFICIAL_MESSAGES.get(e.code)
        if official is not None and e.message != official:
            problems.append(Problem(f"{where}, field 'message'", f"must be 8x8's exact text {official!r}"))
        problems += unsourced_items(e)
    for e in by_code.values():
        where = f"{e.source}: entry {e.code}, field 'related'"
        for code in e.related:
            if code == e.code:
                problems.append(Problem(where, "lists the entry's own code"))
            elif code not in by_code:
                problems.append(Problem(where, f"names {code}, which has no entry"))
    problems += phrase_collisions(list(by_code.values()))
    return problems


def unsourced_items(e: Entry) -> list[Problem]:
    """Every meaning, cause and step must say whose it is: a reader trusts 8x8's word and our notes differently."""
    problems = []
    for name, items in (("meaning", e.meaning_items), ("causes", e.cause_items), ("steps", e.step_items)):
        for i, item in enumerate(items, 1):
            if not item.stated:
                problems.append(Problem(f"{e.source}: entry {e.code}, field '{name}'",
                                        f"{_position(name, items, i)} \u201c{_start(item)}\u201d has no source: "
                                        f"{SOURCE_HELP}"))
    return problems


def _position(name: str, items: tuple[Sourced, ...], i: int) -> str:
    return "the meaning" if name == "meaning" and len(items) == 1 else f"item {i}"


def _start(item: Sourced, limit: int = 50) -> str:
    return item.text if len(item.text) <= limit else item.text[: limit - 1].rstrip() + "\u2026"


def phrase_collisions(entries: list[Entry]) -> list[Problem]:
    from rapidfuzz import fuzz

    owned: list[tuple[str, Entry]] = []
    problems = []
    for e in entries:
        for phrase in dict.fromkeys(squash(p) for p in e.phrases):
            for other_phrase, other in owned:
                if other.code != e.code and fuzz.ratio(phrase, other_phrase) >= PHRASE_COLLISION_SCORE:
                    problems.append(
                        Problem(
                            f"{e.source}: entry {e.code}, field 'phrases'",
                            f"\u201c{phrase}\u201d collides with \u201c{other_phrase}\u201d of {other.code}; keep phrases distinctive",
                        )
                    )
            owned.append((phrase, e))
    return problems


def check_examples(kb: KnowledgeBase) -> list[Problem]:
    from .resolver import Resolver

    resolver = Resolver(kb)
    problems = []
    for e in kb:
        for example in e.examples:
            result = resolver.resolve(example)
            got = result.answer.code if result.answer else None
            if got != e.code:
                problems.append(
                    Problem(
                        f"{e.source}: entry {e.code}, field 'examples'",
                        f"\u201c{example}\u201d resolves to {got if got is not None else 'no answer'} "
                        f"({result.explain()}); add a phrase people use for this, or reword the example",
                    )
                )
    return problems


def lint(paths: Iterable[str | Path]) -> tuple[KnowledgeBase | None, list[Problem]]:
    """(the knowledge base if it could be built, every problem found)."""
    entries, problems, versions = read_entries(paths)
    problems += check_entries(entries)
    if not entries:
        return None, problems or [Problem("knowledge base", "holds no entries")]
    unique = list({e.code: e for e in reversed(entries)}.values())[::-1]
    kb = KnowledgeBase(tuple(unique), " + ".join(versions), tuple(sorted({e.source for e in entries})))
    problems += check_examples(kb)
    return kb, problems
