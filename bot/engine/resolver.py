"""Question in, answer out: one resolver for every surface.

A pipeline of matchers, each returning scored candidates: exact code, then
official message text, then fuzzy phrases. The core keeps the best candidate
per code and answers only when it is both good enough and clearly ahead of
the runner-up; otherwise it offers "did you mean" suggestions, or nothing.
A wrong card is worse than no card.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable

from .codes import codes_in_question, nearest_codes
from .knowledge import Entry, KnowledgeBase
from .text import squash, words

ANSWER_MIN = 70.0  # a fuzzy answer needs at least this score ...
MARGIN = 12.0  # ... and this lead over the best other code
SUGGEST_MIN = 45.0  # weaker candidates are not worth suggesting
MAX_SUGGESTIONS = 3
SINGLE_WORD_FACTOR = 0.85  # a one-word phrase is weaker evidence than a whole phrase
TYPO_SIMILARITY = {1: 0.85, 2: 0.7}  # credit for a word matched with 1 or 2 edits


@dataclass(frozen=True)
class Match:
    """One candidate: which code, how sure, and what in the knowledge base matched."""

    code: int
    score: float
    field: str  # "code", "message", "title", "phrase" or "nearest-code"
    matched: str
    entry: Entry | None = None

    @property
    def message(self) -> str:
        return self.entry.message if self.entry else ""


@dataclass(frozen=True)
class Resolution:
    query: str
    answer: Match | None
    suggestions: tuple[Match, ...] = ()
    runner_up: Match | None = None
    unknown_codes: tuple[int, ...] = ()

    def explain(self) -> str:
        """Why the resolver answered (or did not), in one sentence."""
        if self.answer is not None:
            a = self.answer
            how = {
                "code": f"the code {a.code} appears in the question",
                "message": f"the question quotes 8x8's message for {a.code}",
            }.get(a.field, f"the {a.field} \u201c{a.matched}\u201d matched with score {a.score:.0f}")
            if self.runner_up is not None and a.field not in ("code", "message"):
                how += f"; runner-up {self.runner_up.code} scored {self.runner_up.score:.0f}"
            return how[0].upper() + how[1:] + "."
        if self.unknown_codes:
            codes = ", ".join(str(c) for c in self.unknown_codes)
            return f"{codes} is not a Number Masking error code in the knowledge base."
        if self.suggestions:
            best = self.suggestions[0]
            return f"No match was clear enough: the best, {best.code}, scored {best.score:.0f}."
        return "Nothing in the knowledge base matched."


@dataclass(frozen=True)
class _Phrase:
    code: int
    field: str
    text: str
    terms: tuple[str, ...]
    weights: tuple[float, ...]
    total: float


class PhraseIndex:
    """An inverted index of the knowledge base's words, with typo look-up.

    Typos are found through the deletion neighbourhood of each word, so a
    query costs a few dictionary look-ups, not a scan of the vocabulary.
    """

    def __init__(self, entries: Iterable[Entry]):
        entries = list(entries)
        sources: list[tuple[int, str, str]] = []
        for e in entries:
            sources.append((e.code, "message", e.message))
            sources.append((e.code, "title", e.title))
            sources.extend((e.code, "phrase", p) for p in e.phrases)
        doc_freq: dict[str, set[int]] = {}
        tokenised = []
        for code, field, text in sources:
            terms = tuple(dict.fromkeys(words(text)))
            tokenised.append((code, field, text, terms))
            for t in terms:
                doc_freq.setdefault(t, set()).add(code)
        n = max(len(entries), 1)
        self.idf = {t: math.log(1 + n / len(codes)) for t, codes in doc_freq.items()}
        self.unknown_weight = max(self.idf.values(), default=1.0)
        self.vocabulary_of: dict[int, set[str]] = {}
        self.phrases: list[_Phrase] = []
        self.postings: dict[str, list[int]] = {}
        for code, field, text, terms in tokenised:
            if not terms:
                continue
            weights = tuple(self.idf[t] for t in terms)
            self.phrases.append(_Phrase(code, field, text, terms, weights, sum(weights)))
            for t in terms:
                self.postings.setdefault(t, []).append(len(self.phrases) - 1)
            self.vocabulary_of.setdefault(code, set()).update(terms)
        self.deletes: dict[str, set[str]] = {}
        for term in self.idf:
            if len(term) >= 4:
                for variant in _deletes(term):
                    self.deletes.setdefault(variant, set()).add(term)

    def lookup(self, token: str) -> tuple[str, float] | None:
        """The vocabulary word a query word stands for, with how sure (1.0 exact)."""
        if token in self.idf:
            return token, 1.0
        if len(token) < 4:
            return None
        from rapidfuzz.distance import OSA

        best: tuple[int, str] | None = None
        for variant in (token, *_deletes(token)):
            for term in self.deletes.get(variant, ()):
                distance = OSA.distance(token, term, score_cutoff=2)
                allowed = 2 if min(len(token), len(term)) >= 8 else 1
                if distance <= allowed and (best is None or (distance, term) < best):
                    best = (distance, term)
        if best is None:
            return None
        return best[1], TYPO_SIMILARITY[best[0]]

    def candidates(self, text: str) -> list[Match]:
        """Best fuzzy match per code, highest first."""
        tokens = list(dict.fromkeys(words(text)))
        if not tokens:
            return []
        seen: dict[str, float] = {}
        query_weight = 0.0
        for token in tokens:
            hit = self.lookup(token)
            if hit is None:
                query_weight += self.unknown_weight
                continue
            term, similarity = hit
            query_weight += self.idf[term]
            seen[term] = max(similarity, seen.get(term, 0.0))
        if not seen:
            return []
        touched = {i for term in seen for i in self.postings.get(term, ())}
        best: dict[int, Match] = {}
        for i in touched:
            p = self.phrases[i]
            covered = sum(w * seen.get(t, 0.0) for t, w in zip(p.terms, p.weights))
            coverage = covered / p.total
            if len(p.terms) == 1:
                coverage *= SINGLE_WORD_FACTOR
            explained = sum(self.idf[t] for t in seen if t in self.vocabulary_of[p.code])
            score = 100.0 * coverage * (0.7 + 0.3 * explained / query_weight)
            current = best.get(p.code)
            if current is None or score > current.score:
                best[p.code] = Match(p.code, round(score, 1), p.field, p.text)
        return sorted(best.values(), key=lambda m: -m.score)


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


class Resolver:
    """Resolves questions against one knowledge base. Build once, reuse."""

    def __init__(self, kb: KnowledgeBase):
        self.kb = kb
        self._index: PhraseIndex | None = None
        self._messages = sorted(((squash(e.message), e) for e in kb), key=lambda pair: -len(pair[0]))

    @property
    def index(self) -> PhraseIndex:
        # Built on first use so that a plain code look-up stays fast at start-up.
        if self._index is None:
            self._index = PhraseIndex(self.kb)
        return self._index

    def resolve(self, text: str) -> Resolution:
        query = text if isinstance(text, str) else str(text)
        known, unknown = codes_in_question(query, self.kb.codes)
        if known:
            return self._by_codes(query, known, unknown)
        if unknown:
            return self._unknown(query, unknown)
        quoted = self._quoted_message(query)
        if quoted is not None:
            return Resolution(query, quoted)
        return self._by_phrases(query)

    def _match(self, code: int, score: float, field: str, matched: str) -> Match:
        return Match(code, score, field, matched, self.kb.get(code))

    def _by_codes(self, query: str, known: list[int], unknown: list[int]) -> Resolution:
        answer, *others = [self._match(c, 100.0, "code", str(c)) for c in known]
        return Resolution(query, answer, tuple(others[:MAX_SUGGESTIONS]), unknown_codes=tuple(unknown))

    def _unknown(self, query: str, unknown: list[int]) -> Resolution:
        suggestions = []
        for code in unknown:
            for near in nearest_codes(code, self.kb.codes):
                if all(s.code != near for s in suggestions):
                    suggestions.append(self._match(near, 0.0, "nearest-code", str(code)))
        return Resolution(query, None, tuple(suggestions[:MAX_SUGGESTIONS]), unknown_codes=tuple(unknown))

    def _quoted_message(self, query: str) -> Match | None:
        squashed = f" {squash(query)} "
        for message, entry in self._messages:
            if message and f" {message} " in squashed:
                return self._match(entry.code, 100.0, "message", entry.message)
        return None

    def _by_phrases(self, query: str) -> Resolution:
        ranked = [self._match(m.code, m.score, m.field, m.matched) for m in self.index.candidates(query)]
        if not ranked:
            return Resolution(query, None)
        best = ranked[0]
        runner_up = ranked[1] if len(ranked) > 1 else None
        lead = best.score - (runner_up.score if runner_up else 0.0)
        if best.score >= ANSWER_MIN and lead >= MARGIN:
            others = tuple(m for m in ranked[1:] if m.score >= SUGGEST_MIN)[:MAX_SUGGESTIONS]
            return Resolution(query, best, others, runner_up)
        suggestions = tuple(m for m in ranked if m.score >= SUGGEST_MIN)[:MAX_SUGGESTIONS]
        return Resolution(query, None, suggestions, runner_up)
