"""`nmbot kb check`: every problem in the knowledge base, not just the first.

Beyond what loading checks (fields and types), the linter looks at how the
entries work together: duplicate codes, phrases that collide across entries,
related codes that do not exist, official messages that drifted from 8x8's
wording, example questions that do not resolve to their own entry, any
meaning, cause or step that does not say whether it is 8x8's word or ours, and
symptoms that are badly written, nearly repeat another code's, or do not
lead where they should (their own code, or no answer when shared), and
clues and look-alikes (`unlike`) that do not leave the question open.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from .kb_document import SOURCE_HELP, parse_document, parse_synonyms
from .kb_files import expand_paths, read_yaml
from .knowledge import Entry, KnowledgeBase, KnowledgeError, Sourced
from .text import squash, words

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
SYMPTOMS_PER_ENTRY = (2, 12)  # fewer says little; more and they start to describe other codes too
SYMPTOM_WORDS = (3, 12)  # a symptom is a short sentence, not a keyword and not a story
SYMPTOM_CHARS = 80
HINTS_PER_ENTRY = 6  # clues, and look-alikes (`unlike`), each: a few at most; most entries need none


@dataclass(frozen=True)
class Problem:
    where: str
    text: str

    def __str__(self) -> str:
        return f"{self.where}: {self.text}"


def read_entries(paths: Iterable[str | Path], synonyms: list[tuple[str, str]] | None = None,
                 cache_dir: str = "") -> tuple[list[Entry], list[Problem], list[str]]:
    """Every entry that parses, every problem met on the way, and the versions seen.

    With `synonyms`, the files' synonyms are added to it, so checks match the way the bot does."""
    entries: list[Entry] = []
    problems: list[Problem] = []
    versions: list[str] = []
    try:
        files = expand_paths(paths)
    except KnowledgeError as exc:
        return [], [Problem(exc.source, exc.problem)], []
    for path in files:
        try:
            doc = read_yaml(path, cache_dir)
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
        if synonyms is not None and isinstance(doc, dict):
            try:
                synonyms.extend(parse_synonyms(doc.get("synonyms"), str(path)))
            except KnowledgeError as exc:
                problems.append(Problem(exc.source, exc.problem))
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
    problems += check_symptoms(list(by_code.values()))
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


def check_symptoms(entries: list[Entry]) -> list[Problem]:
    """How each symptom is written, and whether it stays distinctive.

    A symptom may be shared by codes that really show it, written identically
    under each; one that only nearly repeats another code's, or echoes another
    code's phrase, is a slip that would tilt the resolver."""
    from rapidfuzz import fuzz

    problems = []
    low, high = SYMPTOMS_PER_ENTRY
    for e in entries:
        where = f"{e.source}: entry {e.code}, field 'symptoms'"
        if e.symptoms and not low <= len(e.symptoms) <= high:
            problems.append(Problem(where, f"has {len(e.symptoms)} items; write {low} to {high}"))
        seen: set[str] = set()
        for symptom in e.symptoms:
            problems += [Problem(where, f"\u201c{symptom}\u201d {p}") for p in _symptom_form(symptom)]
            if symptom in seen:
                problems.append(Problem(where, f"\u201c{symptom}\u201d is listed twice"))
            seen.add(symptom)
        problems += _hints_form(e, seen)
    for e in entries:
        where = f"{e.source}: entry {e.code}, field 'symptoms'"
        for symptom in e.symptoms:
            mine = squash(symptom)
            for other in entries:
                if other.code == e.code:
                    continue
                if any(mine != squash(s) and fuzz.ratio(mine, squash(s)) >= PHRASE_COLLISION_SCORE
                       for s in other.symptoms):
                    problems.append(Problem(where, f"\u201c{symptom}\u201d nearly repeats a symptom of {other.code}; "
                                                   "write a shared symptom the same way under each code, or make it distinctive"))
                if any(fuzz.ratio(mine, squash(p)) >= PHRASE_COLLISION_SCORE for p in other.phrases):
                    problems.append(Problem(where, f"\u201c{symptom}\u201d repeats a phrase of {other.code}"))
    return problems


def _hints_form(e: Entry, symptoms: set[str]) -> list[Problem]:
    """Clues and look-alikes are written like symptoms, a few at most, and each only once in the entry."""
    problems = []
    seen = set(symptoms)
    for name, items in (("clues", e.clues), ("unlike", e.unlike)):
        where = f"{e.source}: entry {e.code}, field '{name}'"
        if len(items) > HINTS_PER_ENTRY:
            problems.append(Problem(where, f"has {len(items)} items; write at most {HINTS_PER_ENTRY}"))
        for item in items:
            problems += [Problem(where, f"\u201c{item}\u201d {p}") for p in _symptom_form(item)]
            if item in seen:
                problems.append(Problem(where, f"\u201c{item}\u201d is listed twice in the entry"))
            seen.add(item)
    return problems


def _symptom_form(symptom: str) -> list[str]:
    """What is wrong with how one symptom is written."""
    found = []
    if symptom != symptom.lower():
        found.append("must be lowercase")
    if len(symptom) > SYMPTOM_CHARS:
        found.append(f"is longer than {SYMPTOM_CHARS} characters")
    if symptom[-1:] in ".?!,;:":
        found.append("must not end with punctuation")
    low, high = SYMPTOM_WORDS
    if not low <= len(symptom.split()) <= high:
        found.append(f"must be {low} to {high} words")
    elif not words(symptom):
        found.append("has no word that says anything about the code")
    return found


def check_symptom_answers(kb: KnowledgeBase) -> list[Problem]:
    """A symptom of one code must lead to it; a shared one to no answer, with every sharer suggested."""
    from .resolution import MAX_SUGGESTIONS
    from .resolver import Resolver

    resolver = Resolver(kb)
    sharers: dict[str, list[int]] = {}
    for e in kb:
        for symptom in dict.fromkeys(e.symptoms):
            sharers.setdefault(symptom, []).append(e.code)
    problems = []
    for symptom, codes in sharers.items():
        where = f"{kb.get(codes[0]).source}: entry {codes[0]}, field 'symptoms'"
        result = resolver.resolve(symptom)
        got = result.answer.code if result.answer else None
        if len(codes) == 1 and got != codes[0]:
            problems.append(Problem(where, f"\u201c{symptom}\u201d resolves to {got if got is not None else 'no answer'} "
                                           f"({result.explain()}); it must lead to {codes[0]} on its own"))
        elif len(codes) > MAX_SUGGESTIONS:
            problems.append(Problem(where, f"\u201c{symptom}\u201d is shared by {len(codes)} codes; "
                                           f"at most {MAX_SUGGESTIONS} can be offered, so make it more specific"))
        elif len(codes) > 1 and (got is not None or not set(codes) <= {s.code for s in result.suggestions}):
            shared = ", ".join(map(str, codes))
            problems.append(Problem(where, f"\u201c{symptom}\u201d is shared by {shared} but resolves to "
                                           f"{got if got is not None else 'no answer'} ({result.explain()}); "
                                           "a shared symptom must leave the choice open"))
    return problems


def check_hint_answers(kb: KnowledgeBase) -> list[Problem]:
    """A clue alone leaves the question open with its code offered; a look-alike alone gets no card
    and does not offer its code."""
    from .resolver import Resolver

    resolver = Resolver(kb)
    problems = []
    for e in kb:
        for clue in e.clues:
            result = resolver.resolve(clue)
            if result.answer is not None or e.code not in {s.code for s in result.suggestions}:
                problems.append(Problem(f"{e.source}: entry {e.code}, field 'clues'",
                                        f"\u201c{clue}\u201d resolves to {_got(result)} ({result.explain()}); "
                                        f"a clue must leave the question open and offer {e.code}"))
        for lookalike in e.unlike:
            result = resolver.resolve(lookalike)
            if result.ruled_out is None or result.ruled_out.code != e.code:
                problems.append(Problem(f"{e.source}: entry {e.code}, field 'unlike'",
                                        f"\u201c{lookalike}\u201d resolves to {_got(result)} ({result.explain()}); "
                                        "it must read as what it is not, and get no card"))
    return problems


def _got(result) -> str:
    return str(result.answer.code) if result.answer is not None else "no answer"


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


def lint(paths: Iterable[str | Path], cache_dir: str = "") -> tuple[KnowledgeBase | None, list[Problem]]:
    """(the knowledge base if it could be built, every problem found); parsed files cached in `cache_dir`."""
    synonyms: list[tuple[str, str]] = []
    entries, problems, versions = read_entries(paths, synonyms, cache_dir)
    problems += check_entries(entries)
    if not entries:
        return None, problems or [Problem("knowledge base", "holds no entries")]
    unique = list({e.code: e for e in reversed(entries)}.values())[::-1]
    kb = KnowledgeBase(tuple(unique), " + ".join(versions), tuple(sorted({e.source for e in entries})),
                       tuple(dict(synonyms).items()))
    problems += check_examples(kb)
    problems += check_symptom_answers(kb)
    problems += check_hint_answers(kb)
    return kb, problems
