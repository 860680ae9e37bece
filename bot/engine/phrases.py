"""Fuzzy matching of questions against the knowledge base's phrases.

Words are stemmed and rewritten with the knowledge base's synonyms; a word
the knowledge base does not use is matched to one it does through a typo (one
or two edits, scored with rapidfuzz) or a shared root ("cover" and
"coverage"). Each code then gets two numbers: how completely its best phrase
appears in the question, and how much of the question its words explain.
"""
from __future__ import annotations

import heapq
import math
from dataclasses import dataclass
from typing import Iterable

from .knowledge import Entry
from .places import countries_as_words
from .synonyms import Synonyms
from .text import deletions, words
from .times import times_as_words
from .typos import plausible_typo

SINGLE_WORD_FACTOR = 0.85  # a one-word phrase is weaker evidence than a whole phrase
TYPO_SIMILARITY = {1: 0.85, 2: 0.7}  # credit for a word matched with 1 or 2 edits
ROOT_SIMILARITY = 0.8  # credit for a word sharing its root with a known one (cover/coverage)
MIN_FUZZY_LENGTH = 4  # shorter words must match exactly
MAX_SUFFIX = 4  # at most this many letters between a word and its root
# Endings (after stemming) that make a word from its root: "coverag" is "cover" + "ag", "validation"
# is "validat" + "ion"; "backend" is not "back" + a suffix, nor "country" "count" + one.
ROOT_SUFFIXES = frozenset("s d n er or ers est ion ation al ag abl ibl iv ment ity ur y ant ist ism".split())
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



class PhraseIndex:
    """An inverted index of the knowledge base's words, with typo look-up.

    Typos are found through the deletion neighbourhood of each word, so a
    query costs a few dictionary look-ups, not a scan of the vocabulary.
    """

    def __init__(self, entries: Iterable[Entry], synonyms: Iterable[tuple[str, str]] = ()):
        entries = list(entries)
        self.synonyms = Synonyms(synonyms)
        self._last_terms: tuple[str, tuple[dict[str, float], float]] | None = None
        sources: list[tuple[int, str, str]] = []
        for e in entries:
            sources.append((e.code, "official message", e.message))
            sources.append((e.code, "title", e.title))
            sources.extend((e.code, "phrase", p) for p in e.phrases)
            sources.extend((e.code, "symptom", s) for s in e.symptoms)
            sources.extend((e.code, "clue", s) for s in e.clues)
            sources.extend((e.code, "unlike", s) for s in e.unlike)
        doc_freq: dict[str, set[int]] = {}
        tokenised = []
        self._phrase_terms: dict[str, tuple[str, ...]] = {}  # a knowledge-base text's terms, read once
        for code, field, text in sources:
            terms = self._phrase_terms[text] = self.terms_of(text)
            tokenised.append((code, field, text, terms))
            for t in terms:
                doc_freq.setdefault(t, set()).add(code)
        n = max(len(entries), 1)
        self.idf = {t: math.log(1 + n / len(codes)) for t, codes in doc_freq.items()}
        self.phrases: list[_Phrase] = []
        self.postings: dict[str, list[int]] = {}
        for code, field, text, terms in tokenised:
            if not terms:
                continue
            weights = tuple(self.idf[t] for t in terms)
            self.phrases.append(_Phrase(code, field, text, terms, weights, sum(weights)))
            for t in terms:
                self.postings.setdefault(t, []).append(len(self.phrases) - 1)
        # Per word: each code using it, with the largest share of a phrase's weight it holds there.
        share_of: dict[str, dict[int, float]] = {}
        for p in self.phrases:
            for t, w in zip(p.terms, p.weights):
                codes = share_of.setdefault(t, {})
                codes[p.code] = max(codes.get(p.code, 0.0), w / p.total)
        self.shares = share_of
        # Per code, per word: its phrases holding the word, lightest first (the tie-break).
        self.phrases_with: dict[int, dict[str, list[int]]] = {}
        for i in sorted(range(len(self.phrases)), key=lambda i: self.phrases[i].total):
            p = self.phrases[i]
            by_term = self.phrases_with.setdefault(p.code, {})
            for t in p.terms:
                by_term.setdefault(t, []).append(i)
        self.deletes: dict[str, set[str]] = {}
        self.prefixes: dict[str, set[str]] = {}
        self.longest = max(map(len, self.idf), default=0)
        for term in self.idf:
            if len(term) >= MIN_FUZZY_LENGTH:
                for variant in deletions(term):
                    self.deletes.setdefault(variant, set()).add(term)
                for cut in range(MIN_FUZZY_LENGTH, len(term)):
                    self.prefixes.setdefault(term[:cut], set()).add(term)

    def terms_of(self, phrase: str) -> tuple[str, ...]:
        """The words a knowledge-base phrase is matched on."""
        return tuple(dict.fromkeys(words(self.synonyms.apply(phrase)))) if phrase else ()

    def lookup(self, token: str) -> tuple[str, float] | None:
        """The vocabulary word a query word stands for, with how sure (1.0 exact)."""
        if token in self.idf:
            return token, 1.0
        if len(token) < MIN_FUZZY_LENGTH:
            return None
        return self._typo(token) or self._same_root(token)

    def _typo(self, token: str) -> tuple[str, float] | None:
        from rapidfuzz.distance import OSA

        if len(token) > self.longest + 2:  # no word within two edits; and its deletions cost its length squared
            return None
        best: tuple[int, str] | None = None
        for variant in (token, *deletions(token)):
            for term in self.deletes.get(variant, ()):
                distance = OSA.distance(token, term, score_cutoff=2)
                allowed = 2 if min(len(token), len(term)) >= 8 else 1
                if (distance <= allowed and (best is None or (distance, term) < best)
                        and plausible_typo(token, term)):
                    best = (distance, term)
        return None if best is None else (best[1], TYPO_SIMILARITY[best[0]])

    def _same_root(self, token: str) -> tuple[str, float] | None:
        """'cover' for 'coverage', 'provider' for 'provid': one word the other with a suffix."""
        longer = [t for t in self.prefixes.get(token, ()) if _suffixed(token, t[len(token):])]
        # Only the last MAX_SUFFIX cuts: a root is at most that many letters shorter, and slicing
        # every prefix of a long run of letters would cost its length squared.
        shorter = [token[:cut] for cut in range(len(token) - 1, max(MIN_FUZZY_LENGTH, len(token) - MAX_SUFFIX) - 1, -1)
                   if token[:cut] in self.idf and _suffixed(token[:cut], token[cut:])]
        found = sorted(longer, key=len)[:1] + shorter[:1]
        if not found:
            return None
        return min(found, key=lambda t: abs(len(t) - len(token))), ROOT_SIMILARITY

    def features(self, text: str, min_score: float = 0.0, limit: int | None = None,
                 leave_out: tuple[str, ...] = (), only: frozenset[int] | None = None
                 ) -> dict[int, tuple[float, float, str, str]]:
        """Per code: (phrase coverage, question coverage, best field, best phrase).

        With `limit`, only the `limit` best codes (exactly those): codes are
        visited from the one explaining most of the question down, and the visit
        stops once no code left could beat the ones kept even with a perfect
        phrase. On a large knowledge base most codes share only a common word
        with the question, and their phrases are never looked at.
        """
        seen, query_weight = self._question_terms(text)
        if leave_out:
            seen = dict(seen)  # the remembered terms stay whole
            for term in self._terms_of_all(leave_out):
                if term in seen:
                    del seen[term]
                    query_weight -= self.idf[term]
        if not seen:
            return {}
        explained: dict[int, float] = {}  # weight of the question each code's words account for
        reachable: dict[int, float] = {}  # most phrase coverage each code could have
        floor = query_weight * (min_score / 100.0) ** (1.0 / (1.0 - PHRASE_EXPONENT))
        weighted = sorted(((self.idf[t] * sim, t, sim) for t, sim in seen.items()), reverse=True)
        still_to_come = sum(w for w, _, _ in weighted)
        for weight, term, similarity in weighted:
            shares = self.shares[term]
            if still_to_come < floor and len(explained) < len(shares):
                # The words left cannot lift a code they alone match to min_score: only
                # codes already met need them, and there are fewer of those to visit.
                shares = {code: shares[code] for code in explained if code in shares}
            for code, share in shares.items():
                explained[code] = explained.get(code, 0.0) + weight
                reachable[code] = reachable.get(code, 0.0) + share * similarity
            still_to_come -= weight
        kept: list[tuple[float, int]] = []  # (score, code), a min-heap of the best `limit`
        out = {}
        for ceiling, code, question_coverage in self._ceilings(explained, reachable, query_weight, min_score):
            if ceiling * 100.0 < min_score or (limit and len(kept) == limit and ceiling <= kept[0][0]):
                break
            if only is not None and code not in only:
                continue
            coverage, phrase = self._best_phrase(code, seen)
            out[code] = (coverage, question_coverage, phrase.field, phrase.text)
            score = combine(coverage, question_coverage)
            if not limit:
                continue
            if len(kept) < limit:
                heapq.heappush(kept, (score, code))
            elif score > kept[0][0]:
                del out[heapq.heapreplace(kept, (score, code))[1]]
            else:
                del out[code]
        return out

    def _ceilings(self, explained: dict[int, float], reachable: dict[int, float], query_weight: float,
                  min_score: float) -> list[tuple[float, int, float]]:
        """(highest score the code could reach, code, question coverage), highest first.

        No phrase of a code can be covered more than the sum of the largest
        shares the question's words hold in its phrases. Since combine() is at
        most either coverage raised to its exponent, each coverage alone must
        clear a floor for `min_score`; codes below either floor are dropped unscored.
        """
        need = min_score / 100.0
        question_floor = query_weight * need ** (1.0 / (1.0 - PHRASE_EXPONENT))
        phrase_floor = need ** (1.0 / PHRASE_EXPONENT)
        ceilings = []
        for code, amount in explained.items():
            reach = reachable[code]
            if amount >= question_floor and reach >= phrase_floor:
                question_coverage = amount / query_weight
                ceilings.append((combine(min(1.0, reach), question_coverage), code, question_coverage))
        ceilings.sort(reverse=True)
        return ceilings

    def _terms_of_all(self, phrases: tuple[str, ...]) -> set[str]:
        known = self._phrase_terms
        return {t for phrase in phrases for t in (known.get(phrase) or self.terms_of(phrase))}

    def share_left(self, text: str, leave_out: tuple[str, ...]) -> float:
        """How much of the question's weight is left once the words of `leave_out` are set aside (0 to 1)."""
        seen, query_weight = self._question_terms(text)
        if query_weight <= 0:
            return 0.0
        gone = sum(self.idf[t] for t in self._terms_of_all(leave_out) if t in seen)
        return max(0.0, query_weight - gone) / query_weight

    def terms_in(self, text: str) -> set[str]:
        """The knowledge-base words a text uses, typos and roots read as the words they stand for."""
        return set(self._read_terms(text)[0])

    def _question_terms(self, text: str) -> tuple[dict[str, float], float]:
        """The knowledge-base words a question uses (with how sure), and the question's total weight.
        The last question's are remembered: a question past a shared symptom is read twice."""
        last = self._last_terms  # read once: listener threads share the index
        if last is not None and last[0] == text:
            return last[1]
        terms = self._read_terms(text)
        self._last_terms = (text, terms)
        return terms

    def _read_terms(self, text: str) -> tuple[dict[str, float], float]:
        seen: dict[str, float] = {}
        query_weight = 0.0
        for token in dict.fromkeys(words(self.synonyms.apply(times_as_words(countries_as_words(text)), self.idf))):
            hit = self.lookup(token)
            if hit is None:
                if token.isalpha():  # ids, times and sizes ("4f1c9a2e", "12t09", "30s") are not words
                    query_weight += UNKNOWN_WORD_WEIGHT
                continue
            term, similarity = hit
            query_weight += self.idf[term]
            seen[term] = max(similarity, seen.get(term, 0.0))
        return seen, query_weight

    def _best_phrase(self, code: int, seen: dict[str, float]) -> tuple[float, _Phrase]:
        """The code's phrase best covered by the question, the lightest on a tie. Only the
        phrases holding one of the question's words are looked at, through the code's own
        postings: a long question against a code with many phrases and symptoms stays cheap."""
        by_term = self.phrases_with[code]
        covered: dict[int, float] = {}
        for t, similarity in seen.items():
            for i in by_term.get(t, ()):
                covered[i] = covered.get(i, 0.0) + self.idf[t] * similarity
        best_coverage, best = -1.0, -1
        for i, amount in covered.items():
            p = self.phrases[i]
            coverage = amount / p.total * (SINGLE_WORD_FACTOR if len(p.terms) == 1 else 1.0)
            if coverage > best_coverage or (coverage == best_coverage
                                            and (p.total, i) < (self.phrases[best].total, best)):
                best_coverage, best = coverage, i
        return best_coverage, self.phrases[best]

    def candidates(self, text: str, min_score: float = 0.0, limit: int | None = None,
                   leave_out: tuple[str, ...] = (), only: frozenset[int] | None = None
                   ) -> list[tuple[int, float, str, str]]:
        """(code, score 0-100, field, phrase) of the best fuzzy match per code, highest first.
        With `leave_out`, phrases of the knowledge base: the question less those phrases' words;
        with `only`, the codes to score (no other)."""
        ranked = [
            (code, round(100.0 * combine(phrase_cov, query_cov), 1), field, phrase)
            for code, (phrase_cov, query_cov, field, phrase)
            in self.features(text, min_score, limit, leave_out, only).items()
        ]
        return sorted(ranked, key=lambda m: -m[1])


def combine(phrase_coverage: float, question_coverage: float) -> float:
    """How sure a code is meant: its best phrase must be there, and it must explain the question."""
    return phrase_coverage ** PHRASE_EXPONENT * question_coverage ** (1 - PHRASE_EXPONENT)


def _suffixed(root: str, ending: str) -> bool:
    """Whether root + ending reads as one word made from the other (or the root's last letter typed twice)."""
    return len(ending) <= MAX_SUFFIX and (ending in ROOT_SUFFIXES or ending == root[-1])
