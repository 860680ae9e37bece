"""Words for matching: lower-cased, stemmed, without filler.

Kept deliberately small and predictable: support staff should be able to
guess why a phrase matched.
"""
from __future__ import annotations

import re
from typing import Iterable

# A word is a run of letters and digits with at least one letter: found as plain runs, then
# filtered, because a pattern that demands the letter inside the run backtracks over every
# digit run at every start.
_RUN = re.compile(r"[a-z0-9]+")

# Filler, plus words every Number Masking question shares: they say nothing
# about which code is meant. Single letters are what contractions leave (don't, it's).
STOPWORDS = frozenset(
    """
    a about above after again all also am an and any are as at be because been before being below between
    both but by can cannot could did do does doing done down during each even ever every few for from
    further had has have having he her here hers him his how i if in into is it its itself just keep kind
    let like ll me might more most much must my myself nor now of off on once only or other our ours out
    over own please pls plz re really same she should so some such than that the their them then there
    these they this those through thx to too under until up us ve very via was we were what whats when
    where which while who whom why will with would yet you your yours
    anyone anybody someone somebody something anything hey hi hello guys team folks thanks thank know
    help idea ideas seeing see seem seems see getting get gets got go going happen happens happening
    happened today yesterday morning afternoon again still always sometimes keeps keep mean means meant
    call calls calling called error errors err fail fails failed failing failure failures issue issues
    problem problems number masking masked nm 8x8 cpaas code codes return returns returned returning
    said tell told show shows showing message msg msgs api
    summary summaries payload payloads detail details errordetails errormsg errorcode callback callbacks
    random randomly nothing else whose itself reason reasons cause causes anything everything
    mask masks saying ticket tickets open escalate escalating collect check fix solve resolve
    need needs want should support bridge bridges bridged bridging customer customers user users people look looks
    s t d m
    die dies died dying erroring errored
    driver drivers rider riders passenger passengers courier couriers buyer buyers seller sellers
    client clients merchant merchants patient patients guest guests phone phones mobile mobiles anymore
    duration durations zero equal equals identical list lists numbers
    week weeks weekend month months monday tuesday wednesday thursday friday saturday sunday
    ok okay normal normally exact exactly put tried try trying everyone everybody sent
    broken broke stop stops stopped drop drops dropped dropping none end ends ended ending
    sessionstatus callcount callstatus callduration lastaction calltype calldirection callid sessionid
    subaccountid starttime endtime eventtype eventid namespace sourcecountrycode destinationcountrycode
    """.split()
)


def stem(word: str) -> str:
    """A light suffix strip so 'whitelisted', 'whitelisting' and 'whitelist' meet."""
    if len(word) <= 4:
        return word
    if word.endswith("ies") and len(word) > 5:
        return word[:-3] + "y"
    for suffix in ("ing", "edly", "ed", "es", "s", "ly", "e"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def words(text: str) -> list[str]:
    """Content words of a text, stemmed, in order, repeats kept."""
    return [stem(w) for w in _words_of(text.lower()) if w not in STOPWORDS]


def _words_of(lowered: str) -> list[str]:
    return [run for run in _RUN.findall(lowered) if not run.isdigit()]


def squash(text: str) -> str:
    """Lower-case letters and digits separated by single spaces, for substring tests."""
    return " ".join(_RUN.findall(text.lower()))


# Words that say something went wrong. A question without any of them is more
# often a how-to ("text to speech voices for Spanish?") than an error report.
PROBLEM_WORDS = frozenset(
    """
    fail fails failed failing failure failures error errors err eror erorr not no never unable invalid
    expire expired expiry exceed exceeds exceeded exceeding reject rejects rejected refuse refused denied
    block blocked broken wrong bad missing issue issues problem problems trouble outage down drop drops
    dropped dropping stuck hit maxed max limit limits too unknown unavailable lost exhausted
    timeout cannot cant wont isnt arent doesnt dont didnt wasnt couldnt
    break breaks breaking broke stop stops stopped die dies died dying dead silence silent nothing
    expires expiring passed elapsed lapsed outdated none worse cut cuts
    """.split()
)
# A duration of 0 ("callDuration": 0, "0 duration") says the call never got going. Bounded repeats: linear time.
_PROBLEM_PHRASES = re.compile(r"\b(?:ran|run|runs|running|timed|time|times|timing) out\b|n't\b"
                              r"|duration\W{0,4}(?:0|zero)\b|\b(?:0|zero) ?(?:s |sec |seconds )?duration")


class OneEditAway:
    """Which of a list of words a word is one typo (OSA edit) from, found through deletions:
    two words one edit apart share a one-letter deletion (or one is a deletion of the other),
    so a look-up costs a few dictionary probes however long the list."""

    REMEMBERED = 4096  # words looked up recently; people reuse the same few hundred

    def __init__(self, known: Iterable[str]):
        self.order = {w: i for i, w in enumerate(dict.fromkeys(known))}
        self.by_variant: dict[str, set[str]] = {}
        for w in self.order:
            for variant in (w, *deletions(w)):
                self.by_variant.setdefault(variant, set()).add(w)
        self.recent: dict[str, tuple[str, ...]] = {}
        self.longest = max(map(len, self.order), default=0)

    def matches(self, word: str) -> tuple[str, ...]:
        """The known words within one edit of `word`, in the order they were given."""
        if len(word) > self.longest + 1:  # none is that close, and its deletions cost its length squared
            return ()
        found = self.recent.get(word)
        if found is None:
            if len(self.recent) >= self.REMEMBERED:
                self.recent.clear()
            found = self.recent[word] = self._look_up(word)
        return found

    def _look_up(self, word: str) -> tuple[str, ...]:
        from rapidfuzz.distance import OSA

        near: set[str] = set()
        for variant in (word, *deletions(word)):
            near |= self.by_variant.get(variant, set())
        found = [w for w in near if OSA.distance(word, w, score_cutoff=1) <= 1]
        return tuple(sorted(found, key=self.order.__getitem__))


def deletions(word: str) -> set[str]:
    """The word less one letter, every way: two words one edit apart share one of these (or are one)."""
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


_NEAR_PROBLEM_WORDS = OneEditAway(p for p in PROBLEM_WORDS if len(p) >= 5)


def reports_a_problem(text: str) -> bool:
    """True when the text says something went wrong, typos in the telling word allowed."""
    lowered = text.lower()
    if _PROBLEM_PHRASES.search(lowered):
        return True
    for word in _words_of(lowered):
        if word in PROBLEM_WORDS:
            return True
        if len(word) >= 5 and _NEAR_PROBLEM_WORDS.matches(word):
            return True
    return False


# Words that say something works. A part of a question that has one and no problem word is a
# contrast ("the playFile version works"), not a second thing that failed.
WORKING_WORDS = frozenset(
    """
    work works worked working fine okay normal normally good great ok connects connected bridges bridged
    succeed succeeds succeeded success successful completes completed unaffected
    """.split()
)
# A question's parts: between punctuation that ends a clause, or a word that joins two. One
# character class and fixed words, no repeat inside a repeat: linear time.
_CLAUSE_BREAK = re.compile(r"[.;,!?()\n]|\b(?:but|while|whereas|though|although|and|also)\b", re.IGNORECASE)


def clauses(text: str) -> list[str]:
    """The parts of a text that each say one thing, as written (country codes are capitals)."""
    return [part for part in _CLAUSE_BREAK.split(text) if part.strip()]


def says_it_works(clause: str) -> bool:
    """True when a clause says that something works and nothing that something went wrong."""
    return not WORKING_WORDS.isdisjoint(_words_of(clause.lower())) and not reports_a_problem(clause)


# "It's not a coverage problem", "calls fail, not because of the whitelist": the person rules a cause
# out, and its words must not pick that cause. A negation rules out when "because" / "due to" follows it,
# when it follows "it's" / "that is", or when it opens a part of the question that names a cause
# ("not a trunk capacity issue") or a code ("not -2004"). "Caller ID not whitelisted", "it's not working" and "but not with the
# new number" say what went wrong, and stay.
_DENIAL_WORD = re.compile(r"[a-z0-9'\u2019]+")  # one character class: linear time
NEGATIONS = frozenset("not isn't isnt aren't arent wasn't wasnt weren't werent".split())
DENIAL_LEADS = frozenset("it's its that's thats it this that".split())
CAUSE_FRAMES = frozenset("because due related caused".split())
CAUSE_WORDS = frozenset("problem problems issue issues cause reason fault related matter thing".split())
STATE_ENDINGS = ("ed", "ing", "able", "ible", "en")


def without_denials(text: str) -> str:
    """The text less every part that rules a cause out, from its negation to the end of that part."""
    lowered = text.lower()
    if "not" not in lowered and "n't" not in lowered and "n\u2019t" not in lowered and "nt" not in lowered:
        return text
    kept, last = [], 0
    for start, end in _clause_spans(text):
        found = [m.group().replace("\u2019", "'") for m in _DENIAL_WORD.finditer(lowered, start, end)]
        at = [m.start() for m in _DENIAL_WORD.finditer(lowered, start, end)]
        cause_after = _cause_word_after(found)
        for i, word in enumerate(found):
            if word in NEGATIONS and _is_denial(found[max(0, i - 2) : i], found[i + 1] if i + 1 < len(found) else "",
                                                cause_after[i]):
                kept.append(text[last : at[i]])
                last = end
                break
    kept.append(text[last:])
    return "".join(kept)


def _clause_spans(text: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    for m in _CLAUSE_BREAK.finditer(text):
        spans.append((start, m.start()))
        start = m.end()
    spans.append((start, len(text)))
    return spans


def _cause_word_after(words: list[str]) -> list[bool]:
    """For each word, whether a cause word follows it in its part: one pass, so a part of thousands of
    negations is read in linear time."""
    after, seen = [False] * len(words), False
    for i in range(len(words) - 1, -1, -1):
        after[i] = seen
        seen = seen or words[i] in CAUSE_WORDS
    return after


def _is_denial(before: list[str], following: str, cause_follows: bool) -> bool:
    """Whether a negation rules a cause out, given the words before it in its part, the word after it and
    whether a cause word comes later in the part."""
    if following in CAUSE_FRAMES:
        return True
    if following.endswith(STATE_ENDINGS):  # "it's not whitelisted", "not working": what went wrong, said
        return False
    if before and (before[-1] in DENIAL_LEADS or (before[-1] in ("is", "was", "s") and before[0] in DENIAL_LEADS)):
        return True
    return not before and (following.isdigit() or cause_follows)  # "not -2004, ..."


# "-2004? no, it's -2010 actually", "I thought it was -2004 but it's not": the person takes back what
# they said before, and a code they correct away from is no evidence. A part of the question made
# only of these words takes back everything before it; so does a part that opens with "I mean" or
# "actually" and names a code of its own. Only text that holds a number is ever taken back.
RETRACTION_WORDS = frozenset("no nope nah sorry oops wait correction wrong it's its it that's thats not isn't isnt "
                             "wasn't wasnt was is i mean meant actually".split())
RETRACTION_SIGNS = frozenset("no nope nah sorry oops correction wrong not isn't isnt wasn't wasnt".split())
CORRECTION_OPENERS = (("i", "mean"), ("i", "meant"), ("actually",), ("sorry", "i", "meant"))


def without_retractions(text: str) -> str:
    """The text from the last part that takes back an earlier number, when there is one."""
    cut, number_since_cut = 0, False
    lowered = text.lower()
    tail = len(text.rstrip(" ,.;!?"))
    for start, end in _clause_spans(text):
        found = [m.group().replace("\u2019", "'") for m in _DENIAL_WORD.finditer(lowered, start, end)]
        if number_since_cut and end < tail and _takes_back(found):
            cut, number_since_cut = end, False
        elif number_since_cut and _corrects_to_a_number(found):
            cut = start
        number_since_cut = number_since_cut or any(word[-1].isdigit() for word in found)
    return text[cut:].lstrip(" ,.;!?") if cut else text


def _takes_back(found: list[str]) -> bool:
    return 0 < len(found) <= 4 and set(found) <= RETRACTION_WORDS and not RETRACTION_SIGNS.isdisjoint(found)


def _corrects_to_a_number(found: list[str]) -> bool:
    opens = any(tuple(found[: len(o)]) == o for o in CORRECTION_OPENERS)
    return opens and any(word.isdigit() for word in found)
