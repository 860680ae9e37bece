"""Which 8x8 product a number in a question, or an official message in a log line, belongs to.

Number Masking reports its codes with a minus sign (-2001 … -2010, -9999) in its callbacks
and session summaries. Other 8x8 products reuse the digits: SMS, chat apps and Number Lookup report
positive 2001-2010 for unrelated errors, and the Voice API answers a call flow request
with its own -1001 … -1020, some of whose messages read like Number Masking's. So a
sign-less number is read by the words around it: a product named near it, or a Number
Masking field or term (session, call flow, errorCode …). Product names outweigh field
names and near outweighs far. A sign-less number with nothing around it is in doubt,
unless it is the whole question (an explicit look-up).

Everything here reads words as runs of ASCII letters and digits, found once per text,
so every check costs the same whatever the text holds.
"""
from __future__ import annotations

import re
from bisect import bisect_left
from typing import Iterable, NamedTuple, Optional

from .codes import CodeToken, code_tokens, counts_as_unknown, normalise_dashes, whole_question
from .product_words import (LONGEST_PHRASE, NOT_CODE_GAP, NOT_CODE_SEPARATORS, NOT_CODE_WORDS, NUMBER_MASKING, PHRASES,
                            QUANTITY_WORDS)

REACH = 60  # characters either side of a number in which its words count as "beside it"
NEAR_ALIKE = 1.25  # names on both sides of a number this alike in distance leave it in doubt
AFTER_WEIGHT = 2  # people name a product before its number ("SMS status 2003") more often than after
DEVELOPER_DOCS = "https://developer.8x8.com/connect"
MAX_SIGHTINGS = 10


class Product(NamedTuple):  # NamedTuples, not dataclasses, here: each dataclass costs `nmbot ask` start-up time
    """Another 8x8 product whose codes can be mistaken for Number Masking's (facts: 8x8's developer docs)."""

    key: str
    name: str
    short: str  # the name inside a sentence: "SMS", "the Voice API"
    reports: str  # how it reports its codes, from its docs
    docs: str  # its error-code page where 8x8 publishes one, else the developer docs
    docs_label: str


PRODUCTS = {
    "sms": Product("sms", "SMS (8x8's Messaging API)", "SMS",
                   "SMS and Messaging API errors are positive codes, in a body with code, message, errorId and "
                   "timestamp.",
                   "https://developer.8x8.com/connect/docs/api-error-codes", "Messaging API error codes"),
    "chat": Product("chat", "8x8's chat apps", "chat apps",
                    "Chat apps such as Viber report positive codes of their own (Viber's run from 2000 to 2025).",
                    DEVELOPER_DOCS, "8x8 developer docs"),
    "lookup": Product("lookup", "Number Lookup", "Number Lookup",
                      "Number Lookup reports positive codes of its own (2004 provider timeout, 2005 provider error, "
                      "2007 insufficient balance).",
                      DEVELOPER_DOCS, "8x8 developer docs"),
    "voice": Product("voice", "the Voice API (the Callflows API's statusCode)", "the Voice API",
                     "The Voice API answers a call flow request with a statusCode: 1 when it is created, "
                     "-1001 \u2026 -1020 for validation errors.",
                     "https://developer.8x8.com/connect/docs/voice/error-codes/voice-status-codes",
                     "Voice API status codes"),
}

# What a number means in another product, where 8x8's docs say: (product, number, app or "") -> meaning.
MEANINGS = {
    ("sms", 2000, ""): "internal error",
    ("sms", 2001, ""): "function not implemented",
    ("chat", 2010, "viber"): "Unauthorized IP or ID",
    ("lookup", 2004, ""): "provider timeout",
    ("lookup", 2005, ""): "provider error",
    ("lookup", 2007, ""): "insufficient balance",
    ("voice", -1014, ""): "Source or caller ID is not allowed",
    ("voice", -1015, ""): "validity period expired",
}

APP_NAMES = {"viber": "Viber", "whatsapp": "WhatsApp"}

_RUN = re.compile(r"[A-Za-z0-9]+")


class Run(NamedTuple):
    start: int
    end: int
    word: str  # lower-cased


class Mention(NamedTuple):
    start: int
    end: int
    family: str  # NUMBER_MASKING or a key of PRODUCTS
    strength: str  # "name" or "term"
    app: str  # the chat app named ("viber"), else ""


class Sighting(NamedTuple):
    """A number (or an official message) that belongs to another product."""

    number: Optional[int]  # as written: 2003, -1015; None for a message quoted without a code
    product: Product
    app: str  # "viber", "whatsapp" when a chat app was named, else ""
    lookalike: Optional[int]  # the Number Masking code it can be mistaken for, if any

    @property
    def meaning(self) -> str:
        if self.number is None:
            return ""
        key = self.product.key
        return MEANINGS.get((key, self.number, self.app)) or MEANINGS.get((key, self.number, ""), "")

    @property
    def named(self) -> str:
        """The product as a sentence names it: the chat app the question named, else the product's short name."""
        return APP_NAMES.get(self.app, self.product.short)


class Context:
    """The words of one text and what they name, ready for many questions about positions in it."""

    def __init__(self, text: str, extra: Iterable[Mention] = ()):
        self.text = text
        self.runs = [Run(m.start(), m.end(), m.group().lower()) for m in _RUN.finditer(text)]
        self._run_starts = [r.start for r in self.runs]
        mentions = sorted([*_mentions(self.runs), *extra])
        self.names = [m for m in mentions if m.strength == "name"]
        self.terms = [m for m in mentions if m.strength == "term"]
        self._name_starts = [m.start for m in self.names]
        self._term_starts = [m.start for m in self.terms]

    @property
    def families(self) -> set[str]:
        return {m.family for m in self.names} | {m.family for m in self.terms}

    def mention_at(self, start: int, end: int) -> Optional[Mention]:
        """What the words around text[start:end] name: a product name within REACH, else a term within
        REACH, else the nearest name anywhere, else the nearest term anywhere; None if the text names nothing."""
        for reach in (REACH, None):
            for mentions, starts in ((self.names, self._name_starts), (self.terms, self._term_starts)):
                found = _nearest(mentions, starts, start, end, reach)
                if found is not None:
                    return found
        return None

    def names_disagree(self, start: int, end: int) -> bool:
        """Number Masking and another product are both named within REACH of text[start:end], one on each
        side and about as near ("the masked number shows 2003 in the DLR"): whose the number is, the words
        cannot say."""
        i = bisect_left(self._name_starts, start)
        if i == 0 or i == len(self.names):
            return False
        before, after = self.names[i - 1], self.names[i]
        gaps = sorted((max(1, start - before.end), AFTER_WEIGHT * max(1, after.start - end)))
        if gaps[1] > REACH or gaps[1] > NEAR_ALIKE * gaps[0]:  # one clearly nearer decides, as always
            return False
        return (before.family == NUMBER_MASKING) != (after.family == NUMBER_MASKING)

    def is_not_a_code(self, token: CodeToken) -> bool:
        """A sign-less number that reads as a year, a room, a port, a line, an amount or part of a phone number."""
        i = bisect_left(self._run_starts, token.start)
        before = self.runs[i - 1] if i > 0 else None
        after = self.runs[i + 1] if i + 1 < len(self.runs) else None
        if before is not None and self._gap_is_small(before.end, token.start):
            if before.word in NOT_CODE_WORDS:
                return True
            if before.word.isdigit() and _is_group(before.word, 1) and \
                    self.text[before.end:token.start] in (" ", ":"):
                return True  # '+65 6591 2004', '10.0.0.1:2004'
        if after is not None:
            gap = self.text[token.end:after.start]
            if after.word in QUANTITY_WORDS and gap in (" ", ""):
                return True
            if after.word.isdigit() and _is_group(after.word, 3):
                return gap in (" ", ".")  # '2004 5678'
        return False

    def _gap_is_small(self, start: int, end: int) -> bool:
        gap = self.text[start:end]
        return len(gap) <= NOT_CODE_GAP and all(c in NOT_CODE_SEPARATORS for c in gap)


def _is_group(digits: str, shortest: int) -> bool:
    """A digit group of a phone number or an address, not a code-shaped number itself."""
    return shortest <= len(digits) <= 5 and not (len(digits) == 4 and digits[0] in "29")


def _mentions(runs: list[Run]) -> list[Mention]:
    found: list[Mention] = []
    i = 0
    while i < len(runs):
        for size in range(min(LONGEST_PHRASE, len(runs) - i), 0, -1):
            words = tuple(r.word for r in runs[i : i + size])
            hit = PHRASES.get(words)
            if hit is not None:
                app = words[0] if words[0] in APP_NAMES else ""
                found.append(Mention(runs[i].start, runs[i + size - 1].end, hit[0], hit[1], app))
                i += size
                break
        else:
            i += 1
    return found


def _nearest(mentions: list[Mention], starts: list[int], start: int, end: int,
             reach: Optional[int]) -> Optional[Mention]:
    """The mention nearest to text[start:end] (mentions never overlap it), within `reach` characters if given;
    a mention after the number counts as AFTER_WEIGHT times as far."""
    i = bisect_left(starts, start)
    best, best_gap = None, None
    if i > 0:
        before = mentions[i - 1]
        best, best_gap = before, max(0, start - before.end)
    if i < len(mentions):
        after = mentions[i]
        gap = AFTER_WEIGHT * max(0, after.start - end)
        if best_gap is None or gap < best_gap:
            best, best_gap = after, gap
    if best is None or (reach is not None and best_gap > reach):
        return None
    return best


def is_voice_code(token: CodeToken) -> bool:
    """A signed four-digit -1xxx: the Voice API's status codes, never Number Masking's."""
    return token.signed and -1999 <= token.code <= -1000


class CodeReading(NamedTuple):
    """The numbers of a question, each given to the product it most likely belongs to."""

    number_masking: tuple[int, ...] = ()  # known Number Masking codes, in order
    unknown: tuple[int, ...] = ()  # codes of the Number Masking families not in the knowledge base
    elsewhere: tuple[Sighting, ...] = ()  # numbers of other products
    doubtful: tuple[int, ...] = ()  # sign-less known codes with nothing to say whose they are
    bare: tuple[int, ...] = ()  # known codes typed without their sign and read as Number Masking's


def read_codes(text: str, known: Iterable[int]) -> CodeReading:
    """The question's numbers by product (see the module's docstring for the rules)."""
    known_set = known if isinstance(known, (set, frozenset)) else set(known)
    text = normalise_dashes(text)
    tokens = list(code_tokens(text, known_set))
    if not tokens:
        return CodeReading()
    whole = whole_question(text)
    voice = [t for t in tokens if is_voice_code(t)]
    context: Optional[Context] = None
    nm: dict[int, None] = {}
    unknown: dict[int, None] = {}
    doubtful: dict[int, None] = {}
    bare: dict[int, None] = {}
    elsewhere: list[Sighting] = []
    for token in tokens:
        is_known = token.code in known_set
        if token.signed or whole == token.written:  # a sign says Number Masking; so does asking for it alone
            if is_known:
                nm[token.code] = None
                if not token.signed:
                    bare[token.code] = None
            elif counts_as_unknown(token, text, whole):
                unknown[token.code] = None
            elif is_voice_code(token):
                elsewhere.append(Sighting(token.code, PRODUCTS["voice"], "", None))
            continue
        if not is_known and not counts_as_unknown(token, text, whole):
            continue
        if context is None:
            context = Context(text, [Mention(t.start, t.end, "voice", "term", "") for t in voice])
        if context.is_not_a_code(token):
            continue
        mention = None if context.names_disagree(token.start, token.end) else context.mention_at(token.start, token.end)
        if mention is None:
            (doubtful if is_known else unknown)[token.code] = None
        elif mention.family == NUMBER_MASKING:
            (nm if is_known else unknown)[token.code] = None
            if is_known:
                bare[token.code] = None
        else:
            elsewhere.append(Sighting(-token.code, PRODUCTS[mention.family], mention.app,
                                      token.code if is_known else None))
    return CodeReading(tuple(nm), tuple(unknown), tuple(_first_of_each(elsewhere)), tuple(doubtful), tuple(bare))


def _first_of_each(sightings: list[Sighting]) -> list[Sighting]:
    """Each number of each product once, the first MAX_SIGHTINGS of them: a reply names a few, not thousands."""
    seen: dict[tuple, Sighting] = {}
    for s in sightings:
        seen.setdefault((s.number, s.product.key, s.app), s)
        if len(seen) == MAX_SIGHTINGS:
            break
    return list(seen.values())


def other_products_named(text: str) -> list[Mention]:
    """The names and terms of other products in a text, in order; [] when it also names Number Masking.

    For a question that quotes an official message without a code: the message is then most likely
    that product's own.
    """
    context = Context(normalise_dashes(text))
    if NUMBER_MASKING in context.families:
        return []
    return [m for m in [*context.names, *context.terms] if m.family != NUMBER_MASKING]  # names first


def names_another_product(line: str) -> bool:
    """The line carries a -1xxx code, names another product, or holds another product's field and no
    Number Masking word.

    The scanner asks this of a line that quotes an official message (less the message itself, whose
    words are Number Masking's): such a message is then that product's, not a Number Masking code's.
    """
    line = normalise_dashes(line)
    if _voice_mentions(line):
        return True
    mentions = _mentions([Run(m.start(), m.end(), m.group().lower()) for m in _RUN.finditer(line)])
    if any(m.family != NUMBER_MASKING and m.strength == "name" for m in mentions):
        return True
    families = {m.family for m in mentions}
    return bool(families) and NUMBER_MASKING not in families


def _voice_mentions(text: str) -> list[Mention]:
    return [Mention(t.start, t.end, "voice", "term", "") for t in code_tokens(text, ()) if is_voice_code(t)]
