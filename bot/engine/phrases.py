"""Fuzzy matching of questions against the knowledge base's phrases.

Words are stemmed and rewritten with the knowledge base's synonyms; a word
the knowledge base does not use is matched to one it does through a typo (one
or two edits, scored with rapidfuzz) or a shared root ("cover" and
"coverage"). Each code then gets two numbers: how completely its best phrase
appears in the question, and how much of the question its words explain.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Iterable

from .knowledge import Entry
from .text import words

SINGLE_WORD_FACTOR = 0.85  # a one-word phrase is weaker evidence than a whole phrase
TYPO_SIMILARITY = {1: 0.85, 2: 0.7}  # credit for a word matched with 1 or 2 edits
ROOT_SIMILARITY = 0.8  # credit for a word sharing its root with a known one (cover/coverage)
MIN_FUZZY_LENGTH = 4  # shorter words must match exactly
MAX_SUFFIX = 4  # at most this many letters between a word and its root
UNKNOWN_WORD_WEIGHT = 1.0  # a word the knowledge base never uses counts as this much of the question
PHRASE_EXPONENT = 0.7  # weight of the best phrase against coverage of the whole question


@dataclass(frozen=True)
class _Phrase:
    code: int
    field: str
    text: str
    terms: tuple[str, ...]
    weights: tuple[float, ...]
    total: float


class Synonyms:
    """Rewrites interchangeable wordings to one form before matching."""

    def __init__(self, pairs: Iterable[tuple[str, str]]):
        pairs = sorted(pairs, key=lambda kv: -len(kv[0]))
        self._map = dict(pairs)
        self._pattern = (
            re.compile(r"\b(?:" + "|".join(re.escape(k) for k, _ in pairs) + r")\b") if pairs else None
        )

    def apply(self, text: str, vocabulary: dict | None = None) -> str:
        """The text with every synonym replaced; with a vocabulary, misspelt one-word synonyms too."""
        text = text.lower()
        if self._pattern is None:
            return text
        if vocabulary is not None:
            text = re.sub(r"[a-z]{5,}", lambda m: self._respell(m.group(0), vocabulary), text)
        return self._pattern.sub(lambda m: self._map[m.group(0)], text)

    def _respell(self, word: str, vocabulary: dict) -> str:
        if word in self._map or word in vocabulary:
            return word
        from rapidfuzz.distance import OSA

        for key in self._map:
            if " " not in key and len(key) >= 5 and OSA.distance(word, key, score_cutoff=1) <= 1:
                return key
        return word


class PhraseIndex:
    """An inverted index of the knowledge base's words, with typo look-up.

    Typos are found through the deletion neighbourhood of each word, so a
    query costs a few dictionary look-ups, not a scan of the vocabulary.
    """

    def __init__(self, entries: Iterable[Entry], synonyms: Iterable[tuple[str, str]] = ()):
        entries = list(entries)
        self.synonyms = Synonyms(synonyms)
        sources: list[tuple[int, str, str]] = []
        for e in entries:
            sources.append((e.code, "message", e.message))
            sources.append((e.code, "title", e.title))
            sources.extend((e.code, "phrase", p) for p in e.phrases)
        doc_freq: dict[str, set[int]] = {}
        tokenised = []
        for code, field, text in sources:
            terms = tuple(dict.fromkeys(words(self.synonyms.apply(text))))
            tokenised.append((code, field, text, terms))
            for t in terms:
                doc_freq.setdefault(t, set()).add(code)
        n = max(len(entries), 1)
        self.idf = {t: math.log(1 + n / len(codes)) for t, codes in doc_freq.items()}
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
        self.prefixes: dict[str, set[str]] = {}
        for term in self.idf:
            if len(term) >= MIN_FUZZY_LENGTH:
                for variant in _deletes(term):
                    self.deletes.setdefault(variant, set()).add(term)
                for cut in range(MIN_FUZZY_LENGTH, len(term)):
                    self.prefixes.setdefault(term[:cut], set()).add(term)

    def lookup(self, token: str) -> tuple[str, float] | None:
        """The vocabulary word a query word stands for, with how sure (1.0 exact)."""
        if token in self.idf:
            return token, 1.0
        if len(token) < MIN_FUZZY_LENGTH:
            return None
        return self._typo(token) or self._same_root(token)

    def _typo(self, token: str) -> tuple[str, float] | None:
        from rapidfuzz.distance import OSA

        best: tuple[int, str] | None = None
        for variant in (token, *_deletes(token)):
            for term in self.deletes.get(variant, ()):
                distance = OSA.distance(token, term, score_cutoff=2)
                allowed = 2 if min(len(token), len(term)) >= 8 else 1
                if distance <= allowed and (best is None or (distance, term) < best):
                    best = (distance, term)
        return None if best is None else (best[1], TYPO_SIMILARITY[best[0]])

    def _same_root(self, token: str) -> tuple[str, float] | None:
        """'cover' for 'coverage', 'playback' for 'play': one word the prefix of the other."""
        longer = [t for t in self.prefixes.get(token, ()) if len(t) - len(token) <= MAX_SUFFIX]
        shorter = [token[:cut] for cut in range(len(token) - 1, MIN_FUZZY_LENGTH - 1, -1)
                   if len(token) - cut <= MAX_SUFFIX and token[:cut] in self.idf]
        found = sorted(longer, key=len)[:1] + shorter[:1]
        if not found:
            return None
        return min(found, key=lambda t: abs(len(t) - len(token))), ROOT_SIMILARITY

    def features(self, text: str) -> dict[int, tuple[float, float, str, str]]:
        """Per code: (phrase coverage, question coverage, best field, best phrase)."""
        tokens = list(dict.fromkeys(words(self.synonyms.apply(text, self.idf))))
        seen: dict[str, float] = {}
        query_weight = 0.0
        for token in tokens:
            hit = self.lookup(token)
            if hit is None:
                query_weight += UNKNOWN_WORD_WEIGHT
                continue
            term, similarity = hit
            query_weight += self.idf[term]
            seen[term] = max(similarity, seen.get(term, 0.0))
        out: dict[int, tuple[float, float, str, str]] = {}
        if not seen:
            return out
        explained: dict[int, float] = {}
        for term, similarity in seen.items():
            for code in {self.phrases[i].code for i in self.postings.get(term, ())}:
                explained[code] = explained.get(code, 0.0) + self.idf[term] * similarity
        for i in {i for term in seen for i in self.postings.get(term, ())}:
            p = self.phrases[i]
            coverage = sum(w * seen.get(t, 0.0) for t, w in zip(p.terms, p.weights)) / p.total
            if len(p.terms) == 1:
                coverage *= SINGLE_WORD_FACTOR
            current = out.get(p.code)
            if current is None or coverage > current[0]:
                out[p.code] = (coverage, explained[p.code] / query_weight, p.field, p.text)
        return out

    def candidates(self, text: str) -> list[tuple[int, float, str, str]]:
        """(code, score 0-100, field, phrase) of the best fuzzy match per code, highest first."""
        ranked = [
            (code, round(100.0 * combine(phrase_cov, query_cov), 1), field, phrase)
            for code, (phrase_cov, query_cov, field, phrase) in self.features(text).items()
        ]
        return sorted(ranked, key=lambda m: -m[1])


def combine(phrase_coverage: float, question_coverage: float) -> float:
    """How sure a code is meant: its best phrase must be there, and it must explain the question."""
    return phrase_coverage ** PHRASE_EXPONENT * question_coverage ** (1 - PHRASE_EXPONENT)


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}
