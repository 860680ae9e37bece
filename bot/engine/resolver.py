"""Question in, answer out: one resolver for every surface.

A pipeline of matchers, each returning scored candidates: exact code, then
official message text, then fuzzy phrases. The core keeps the best candidate
per code and answers only when it is both good enough and clearly ahead of
the runner-up; otherwise it offers "did you mean" suggestions, or nothing.
A wrong card is worse than no card.
"""
from __future__ import annotations

from dataclasses import replace

from .codes import nearest_codes_scored
from .knowledge import Entry, KnowledgeBase
from .products import PRODUCTS, CodeReading, Sighting, other_products_named, read_codes
from .resolution import ANSWER_MIN, MARGIN, MAX_SUGGESTIONS, NOT_8X8, SUGGEST_MIN, Match, Resolution, card_note
from .text import clauses, reports_a_problem, says_it_works, squash, without_denials, without_retractions, words

REST_MIN = 40.0  # the rest of a question, past a symptom several codes share, says something from this score
TOPIC_WORDS = 3  # a query of at most this many content words may name a topic without a problem word


def disowns_8x8(squashed: str) -> bool:
    """Whether the (squashed) text says something is not 8x8's: "not 8x8", "isn't from 8x8", "not by 8x8"."""
    said = squashed.split(" ")
    for at, word in enumerate(said):
        if word == "8x8" and any(w in ("not", "isn", "isnt", "wasn", "wasnt", "aren", "arent")
                                  for w in said[max(0, at - 3):at]):
            return True
    return False


class Resolver:
    """Resolves questions against one knowledge base. Build once, reuse."""

    def __init__(self, kb: KnowledgeBase):
        self.kb = kb
        self._index = None  # a PhraseIndex, built on first use
        # Official messages as squashed text, and how many words they run to, so a quoted
        # message is found by looking up the question's word runs of those lengths.
        self._messages = {squash(e.message): e for e in kb if squash(e.message)}
        # The lengths of the messages that start with each word: only a run starting with one is looked up.
        starts: dict[str, set[int]] = {}
        for m in self._messages:
            starts.setdefault(m.split(" ", 1)[0], set()).add(m.count(" ") + 1)
        self._message_starts = {word: sorted(lengths) for word, lengths in starts.items()}
        self._sharers: dict[str, set[int]] = {}  # symptom -> the codes that list it
        self._clue_codes: dict[str, set[int]] = {}  # clue -> the codes that list it
        for e in kb:
            for symptom in e.symptoms:
                self._sharers.setdefault(symptom, set()).add(e.code)
            for clue in e.clues:
                self._clue_codes.setdefault(clue, set()).add(e.code)

    @property
    def index(self):
        # Built on first use so that a plain code look-up stays fast at start-up.
        if self._index is None:
            from .phrases import PhraseIndex

            self._index = PhraseIndex(self.kb, self.kb.synonyms)
        return self._index

    def resolve(self, text: str) -> Resolution:
        query = text if isinstance(text, str) else str(text)
        # "not -2004", "it's not a coverage problem", "-2004? no, it's -2010": no evidence for what is ruled out
        kept = without_denials(without_retractions(query))
        if kept == query:
            return self._resolve(query)
        return replace(self._resolve(kept), query=query)

    def _resolve(self, query: str) -> Resolution:
        reading = read_codes(query, self.kb.codes)
        if reading.number_masking:
            return self._by_codes(query, reading)
        if reading.unknown:
            return self._unknown(query, list(reading.unknown))
        quoted = self._quoted_message(query)
        if reading.elsewhere:  # another product's numbers, and none of Number Masking's: no card
            return Resolution(query, None, elsewhere=_with_lookalike(reading.elsewhere, quoted))
        if quoted is not None:
            others = other_products_named(squash(query).replace(squash(quoted.matched), " "))
            if others:  # the message with another product named and Number Masking not: most likely that product's
                m = others[0]
                return Resolution(query, None, elsewhere=(Sighting(None, PRODUCTS[m.family], m.app, quoted.code),))
            if disowns_8x8(squash(query).replace(squash(quoted.matched), " ")):
                # "… from our PBX, not 8x8": the words are 8x8's, the error is not; offer the code, draw no card.
                return Resolution(query, None, (replace(quoted, field=NOT_8X8),))
            return Resolution(query, quoted)
        if reading.doubtful:
            return self._doubtful(query, reading.doubtful)
        return self._by_phrases(query)

    def _match(self, code: int, score: float, field: str, matched: str) -> Match:
        return Match(code, score, field, matched, self.kb.get(code))

    def _by_codes(self, query: str, reading: CodeReading) -> Resolution:
        answer, *others = [self._match(c, 100.0, "code", str(c)) for c in reading.number_masking]
        return Resolution(query, answer, tuple(others[:MAX_SUGGESTIONS]), unknown_codes=reading.unknown,
                          elsewhere=reading.elsewhere, note=card_note(answer.code, reading))

    def _doubtful(self, query: str, codes: tuple[int, ...]) -> Resolution:
        """Sign-less codes and no word of whose: no card, the Number Masking codes they would be as suggestions."""
        suggestions = tuple(self._match(c, 100.0, "bare number", str(-c)) for c in codes[:MAX_SUGGESTIONS])
        return Resolution(query, None, suggestions, doubtful=codes)

    def _unknown(self, query: str, unknown: list[int]) -> Resolution:
        suggestions = []
        for code in unknown:
            for near, similarity in nearest_codes_scored(code, self.kb.codes):
                if all(s.code != near for s in suggestions):
                    suggestions.append(self._match(near, similarity, "nearest-code", str(code)))
        return Resolution(query, None, tuple(suggestions[:MAX_SUGGESTIONS]), unknown_codes=tuple(unknown))

    def _quoted_message(self, query: str) -> Match | None:
        """8x8's message for a code, quoted anywhere in the question; the longest wins."""
        words_ = squash(query).split(" ")
        found: tuple[int, int, Entry] | None = None  # (length, -start, entry), the longest and first best
        for start, word in enumerate(words_):
            for length in self._message_starts.get(word, ()):
                entry = self._messages.get(" ".join(words_[start : start + length]))
                if entry is not None and (found is None or (length, -start) > found[:2]):
                    found = (length, -start, entry)
        return None if found is None else self._match(found[2].code, 100.0, "message", found[2].message)

    def _reads_like_a_problem(self, query: str, best: Match) -> bool:
        """Short queries are topics ("trunk capacity"); longer ones must say something went wrong,
        in their own words or in the knowledge base's ("stale" is "expired"). A symptom describes
        a failure, so a question matched through one must always say that something failed."""
        if len(words(query)) <= TOPIC_WORDS and best.field != "symptom":
            return True
        return reports_a_problem(query) or reports_a_problem(self.index.synonyms.apply(query))

    def _by_phrases(self, query: str) -> Resolution:
        # Codes that cannot reach SUGGEST_MIN are never looked at; since ANSWER_MIN - SUGGEST_MIN
        # >= MARGIN, leaving them out cannot change whether the best one is answered.
        top = self.index.candidates(query, min_score=SUGGEST_MIN, limit=MAX_SUGGESTIONS + 1)
        ranked = [self._match(code, score, field, phrase) for code, score, field, phrase in top]
        if not ranked:
            return Resolution(query, None)
        best = ranked[0]
        # A symptom the best code shares with the next one is no evidence against it.
        runner_up = next((m for m in ranked[1:] if best.code not in self._sharers_of(m)), None)
        lead = best.score - (runner_up.score if runner_up else 0.0)
        if best.field == "unlike":
            return Resolution(query, None, _offered(ranked[1:], leaving_out=best.code), runner_up, ruled_out=best)
        if self._is_shared(best):
            decided = self._past_a_shared_symptom(query, ranked)
            if decided is not None:
                return decided
        elif best.score >= ANSWER_MIN and lead >= MARGIN and self._reads_like_a_problem(query, best):
            second = self._second_cause(query, best, (best.matched,), ranked)
            if second is not None:
                return Resolution(query, None, _offered([best, second, *ranked[1:]]), runner_up, second_cause=second)
            return Resolution(query, best, _offered(ranked[1:]), runner_up)
        return Resolution(query, None, _offered(ranked), runner_up)

    def _is_shared(self, match: Match) -> bool:
        """A symptom several codes list, or a clue: alone it cannot say which code is behind the failure."""
        if match.field == "clue":
            return True
        return match.field == "symptom" and len(self._sharers.get(match.matched, ())) > 1

    def _sharers_of(self, match: Match) -> set[int]:
        if match.field == "clue":
            return self._clue_codes.get(match.matched, set())
        return self._sharers.get(match.matched, set()) if match.field == "symptom" else {match.code}

    def _past_a_shared_symptom(self, query: str, ranked: list[Match]) -> Resolution | None:
        """A symptom several codes show says nothing about which, however much more of the question
        one of them happens to explain ("callA completed, callB in error" and a new caller ID). Set
        its words aside: when the rest of the question alone clearly points at one of the codes that
        share it, by the usual score and lead, that code is the answer; when it points nowhere, or
        elsewhere, the question stays open. A clue is set aside the same way: other failures show it too."""
        best = ranked[0]
        sharers = self._sharers_of(best)
        if best.score < ANSWER_MIN or not self._reads_like_a_problem(query, best):
            return None
        top = self.index.candidates(query, min_score=REST_MIN, limit=2, leave_out=(best.matched,))  # leader, runner-up
        rest = [self._match(code, score, field, phrase) for code, score, field, phrase in top]
        if not rest or rest[0].code not in sharers or rest[0].field in ("clue", "unlike"):
            return None
        runner_up = rest[1] if len(rest) > 1 else None
        if rest[0].score - (runner_up.score if runner_up else 0.0) < MARGIN:
            return None
        # The rest is a few words: it decides alone with an answer's score, or else when the whole
        # question already had the same code clearly ahead.
        whole_lead = best.score - (ranked[1].score if len(ranked) > 1 else 0.0)
        if rest[0].score < ANSWER_MIN and not (rest[0].code == best.code and whole_lead >= MARGIN):
            return None
        shared = tuple(m for m in ranked if m.field == best.field and m.matched == best.matched)
        second = self._second_cause(query, rest[0], (best.matched, rest[0].matched), ranked)
        if second is not None:
            return Resolution(query, None, _offered([rest[0], second, *ranked]), runner_up, shared=shared,
                              second_cause=second)
        others = tuple(m for m in ranked if m.code != rest[0].code and m.score >= SUGGEST_MIN)[:MAX_SUGGESTIONS]
        return Resolution(query, rest[0], others, runner_up, shared=shared)

    def _second_cause(self, query: str, answer: Match, explained: tuple[str, ...],
                      ranked: list[Match]) -> Match | None:
        """Another code the whole question offers, which the question points at as clearly once the
        words that chose the answer are set aside ("new caller ID" and "calls to a new country"): two
        causes in one question, none dominating. A symptom the answer shares, a clue (the answer may
        well show it too), or a match without words of its own where something failed, is no second
        cause."""
        from .phrases import PHRASE_EXPONENT  # loaded with the index already

        others = [m for m in ranked if m.code != answer.code]
        if not others:
            return None
        # Setting words aside cannot raise a code's phrase coverage, only its share of what is left:
        # when even the strongest of the others could not reach an answer's score on a rest that
        # large, the rest is not read at all, which is most questions.
        left = self.index.share_left(query, explained)
        strongest = max(m.score for m in others) + 0.1  # scores are rounded to a tenth
        if left <= 0 or strongest * left ** -(1 - PHRASE_EXPONENT) < ANSWER_MIN:
            return None
        if len(clauses(query)) < 2:  # two things that failed are told in two parts of a question
            return None
        top = self.index.candidates(query, min_score=ANSWER_MIN, limit=1, leave_out=explained,
                                    only=frozenset(m.code for m in others))
        if not top or top[0][1] < ANSWER_MIN:
            return None
        other = self._match(*top[0])
        if (other.field in ("clue", "unlike") or answer.code in self._sharers_of(other)
                or not self._evidence_of_its_own(query, other, answer.code)):
            return None
        return other

    def _evidence_of_its_own(self, query: str, match: Match, answer: int) -> bool:
        """Whether the match has words the answer's code never uses ("caller hears silence" is as much
        text to speech as audio files), and one of them in a part of the question that does not say
        something works ("the playFile version works" is a contrast, not a second thing that failed)."""
        own = set(self.index.terms_of(match.matched)) - self.index.phrases_with.get(answer, {}).keys()
        if not own:
            return False
        parts = clauses(query)
        failing = [part for part in parts if not says_it_works(part)]
        if len(failing) == len(parts):  # most questions: nothing said to work
            return True
        return bool(own & self.index.terms_in(" . ".join(failing)))


def _offered(matches: list[Match], leaving_out: int | None = None) -> tuple[Match, ...]:
    """The codes worth suggesting, each once, best first: none through a text that says it is not that code."""
    offered: list[Match] = []
    for m in matches:
        if (m.score >= SUGGEST_MIN and m.field != "unlike" and m.code != leaving_out
                and all(o.code != m.code for o in offered)):
            offered.append(m)
    return tuple(offered[:MAX_SUGGESTIONS])


def _with_lookalike(sightings: tuple[Sighting, ...], quoted: Match | None) -> tuple[Sighting, ...]:
    """A Voice API code quoted with a Number Masking message: the message is the code's, and reads like that code's."""
    if quoted is None:
        return sightings
    return tuple(Sighting(s.number, s.product, s.app, quoted.code) if s.product.key == "voice" and s.lookalike is None
                 else s for s in sightings)
