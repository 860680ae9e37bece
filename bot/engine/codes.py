"""Error-code tokens as people type and paste them.

Shared by the resolver (questions) and the scanner (logs), so both agree on
what counts as a code: the dash variants, the letter-O typo and the token
boundaries that keep dates, UUIDs and phone numbers out.
"""
from __future__ import annotations

import re
from typing import Iterable, Iterator, NamedTuple

# Unicode minus, dashes and hyphens people paste instead of '-'.
DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"
_DASH_TABLE = str.maketrans({d: "-" for d in DASHES})

# Four code characters, letter O allowed for zero, not glued to a word, a
# dash-joined segment (UUIDs, phone numbers, ranges) or a decimal part.
_CODE_TOKEN = re.compile(
    r"(?:(?<![\w.-])(?P<sign>-)|(?<![\w.+-]))(?P<digits>[0-9Oo]{3,6})(?![\w-]|[.,]\d)"
)
UNKNOWN_FAMILIES = ("2", "9")  # unknown four-digit codes that look like Number Masking ones
# The word right before a sign-less number; looked for in the last ERROR_WORD_REACH characters
# only, so each number costs the same however long the question is.
_ERROR_WORDS = re.compile(r"(?:error|err|code|status|errorcode|error_code|fail\w{0,40}|nm)\W{0,3}$", re.I)
ERROR_WORD_REACH = 48


def normalise_dashes(text: str) -> str:
    return text.translate(_DASH_TABLE)


def _digits(token: str) -> str | None:
    """'2O04' -> '2004'; None when it is not a plausible code spelling."""
    if not any(c.isdigit() for c in token) or token[0] in "Oo":
        return None
    return token.replace("O", "0").replace("o", "0")


def looks_like_family(code: int) -> bool:
    """A four-digit code of the Number Masking families (-2xxx, -9xxx)."""
    digits = str(abs(code))
    return len(digits) == 4 and digits[0] in UNKNOWN_FAMILIES


def codes_in_question(text: str, known: Iterable[int]) -> tuple[list[int], list[int]]:
    """(known codes, unknown codes) typed in a question, in order of appearance.

    A question may drop the sign ("what is 2004"): a positive number counts
    when it is a known code, or when it follows an error word ("error 2042").
    A signed four-digit number in a code family is an unknown code.
    """
    known_set = known if isinstance(known, (set, frozenset)) else set(known)
    text = normalise_dashes(text)
    whole = whole_question(text)
    found: dict[int, None] = {}  # dicts as ordered sets: a question may hold thousands of numbers
    unknown: dict[int, None] = {}
    for token in code_tokens(text, known_set):
        if token.code in known_set:
            found[token.code] = None
        elif counts_as_unknown(token, text, whole):
            unknown[token.code] = None
    return list(found), list(unknown)


class CodeToken(NamedTuple):
    """One code-shaped number of a question, as `code_tokens` reads it."""

    code: int  # always negative: '2004' and '-2004' are both -2004 here
    signed: bool  # written with its minus sign
    start: int  # where the token starts in the text (its sign, if any) ...
    end: int  # ... and ends
    written: str  # the token as typed, sign included


def code_tokens(text: str, known: Iterable[int]) -> Iterator[CodeToken]:
    """Every code-shaped number in `text` (dashes already normalised), in order.

    A letter-O typo ('2O04') only counts for a known code or with its sign.
    """
    for m in _CODE_TOKEN.finditer(text):
        digits = _digits(m.group("digits"))
        if digits is None:
            continue
        signed = bool(m.group("sign"))
        if m.group("digits") != digits and not signed and -int(digits) not in known:
            continue
        yield CodeToken(-int(digits), signed, m.start(), m.end(), m.group(0))


def whole_question(text: str) -> str:
    """The question less the white space and punctuation around it: '2004?' is '2004'."""
    return text.strip(" \t\"'`?!.")


def counts_as_unknown(token: CodeToken, text: str, whole: str) -> bool:
    """An unknown code of the Number Masking families: signed, after an error word, or the whole question."""
    return looks_like_family(token.code) and (token.signed or whole == token.written
                                              or _follows_error_word(text, token.start))


def _follows_error_word(text: str, at: int) -> bool:
    return _ERROR_WORDS.search(text, max(0, at - ERROR_WORD_REACH), at) is not None


def nearest_codes(code: int, known: Iterable[int], limit: int = 3) -> list[int]:
    """Known codes a mistyped code most likely meant: few edits, same family, numerically close."""
    return [k for k, _ in nearest_codes_scored(code, known, limit)]


def nearest_codes_scored(code: int, known: Iterable[int], limit: int = 3) -> list[tuple[int, float]]:
    """(known code, similarity 0-100) for the codes `nearest_codes` returns."""
    from rapidfuzz.distance import OSA

    target = str(abs(code))
    ranked = []
    for k in known:
        other = str(abs(k))
        if other[0] != target[0]:
            continue
        distance = OSA.distance(target, other)
        if distance <= 2:
            ranked.append((distance, abs(abs(k) - abs(code)), k))
    width = max(len(target), 4)
    return [(k, round(100.0 * (1 - d / width), 1)) for d, _, k in sorted(ranked)[:limit]]
