"""Masking for everything the bot echoes or stores: phone numbers, and the secrets in a URL.

Number Masking exists to hide phone numbers (MSISDNs), so the bot must not
undo that by quoting a log line verbatim. Masking errs on the side of hiding:
a long digit run that is not a phone number (an epoch timestamp) is masked
too, which costs little; a phone number left visible costs a lot. Ids are
not phone numbers, and support needs them whole to find a session: the
digits of a UUID or another hex id (a Session Summary's sessionId, a request
id) stay as they are.

A URL from the configuration (the database, Slack's Web API) may carry a
password or a token; error messages and logs show it with them masked.
"""
from __future__ import annotations

import re

MASK = "\u2022" * 7  # the same width for every number, so the mask does not reveal its length
KEEP_DIGITS = 2
HEX_DIGITS = frozenset("0123456789abcdefABCDEF")
HEX_LETTERS = frozenset("abcdefABCDEF")
ID_REACH = 64  # how far around a digit run masking looks for the rest of its id: bounded, so linear

# Between digit groups pasted from documents: no-break spaces, non-breaking hyphens, en dashes.
SEPARATORS = "\u00a0\u202f\u2010\u2011\u2013"

# +65 9123 4567, 0065 9123 4567, +1-202-555-0143, +44 (20) 7946 0958, (555) 123-4567, 020 7946 0958,
# 0412 345 678, 6591234567, callerId=6591234567, ?to=%2B6591234567.
# Not: dates (2026-11-27), times, UUIDs and hex ids (5212360d-a991-..., 0123456789abcdef), error codes,
# version numbers. Every alternative is bounded in length, so each position costs a constant.
_PHONE = re.compile(
    r"""
    (?<![\d.+\-/])
    (?:
        (?:\+|%2[Bb]|(?:(?<!\w)|(?<=%3[Dd]))00)\d(?:[ \-().{sep}]{{0,2}}\d){{6,16}}  # international: +, %2B or 00
      | (?<![\w-])\(?\d{{3}}\)?[ \-.{sep}]\d{{3}}[ \-.{sep}]\d{{4}}  # national 3-3-4
      | (?<![\w-])0\d{{2,4}}[ \-{sep}]\d{{3,4}}[ \-{sep}]\d{{3,4}}  # trunk 0 national
      | (?<!-)\d{{7,15}}                             # bare digit run, even glued to letters (tel6591234567)
    )
    (?![\d\-]|\.\d)
    """.format(sep=SEPARATORS),
    re.VERBOSE,
)


def _mask(match: re.Match) -> str:
    number = match.group(0)
    if _part_of_an_id(match.string, match.start(), match.end()):
        return number
    digits = [c for c in number if c.isdigit()]
    plus = number[:3] if number[:3] in ("%2B", "%2b") else "+" if number.startswith("+") else ""
    return plus + MASK + "".join(digits[-KEEP_DIGITS:])


def _part_of_an_id(text: str, start: int, end: int) -> bool:
    """The digits text[start:end] begin or end inside a hex id: 5212360d of a UUID, 0123456789abcdef,
    a UUID whose groups are mostly digits (00380950-5505-54a2-...)."""
    return _in_hex_word(text, start) or _in_hex_word(text, end - 1)


def _in_hex_word(text: str, at: int) -> bool:
    """The letters and digits glued to text[at], within ID_REACH either way, are all hex digits and some of
    them letters, or follow 0x. Other letters (tel6591234567x) make no id: that number is masked."""
    left = at
    while left > 0 and at - left < ID_REACH and _is_word_char(text[left - 1]):
        left -= 1
    right = at + 1
    while right < len(text) and right - at < ID_REACH and _is_word_char(text[right]):
        right += 1
    if left >= 1 and text[left - 1] == "%" and at >= left + 2:
        left += 2  # a percent-escape (%2B6591234567, a plus in a URL) is no part of a word
    word = text[left:right]
    if word[:2] in ("0x", "0X"):
        return True
    return not set(word) - HEX_DIGITS and bool(set(word) & HEX_LETTERS)


def _is_word_char(c: str) -> bool:
    return c.isascii() and c.isalnum()


def mask_msisdns(text: str) -> str:
    """The text with every phone number's digits hidden but the last two; ids left whole."""
    if not any(c.isdigit() for c in text):
        return text
    return _PHONE.sub(_mask, text)


SECRET_QUERY_KEYS = ("password", "passwd", "secret", "token", "sslpassword")
_SECRET_QUERY = re.compile(r"((?:%s)=)[^&\s]*" % "|".join(SECRET_QUERY_KEYS), re.I)
_QUERY = re.compile(r"\?[^\s#]*")
_NON_SPACE = re.compile(r"\S+")


def mask_url(text: str, *, whole_query: bool = False) -> str:
    """`text` (a URL, or a message quoting one) with the password of every `user:password@` shown as ***,
    and the value of every secret-named query parameter; with `whole_query`, every query string."""
    if whole_query:
        text = _QUERY.sub("?***", text)
    if "@" in text:
        text = _NON_SPACE.sub(lambda m: _mask_password(m.group(0)), text)
    return _SECRET_QUERY.sub(r"\1***", text)


def _mask_password(word: str) -> str:
    """`scheme://user:***@host`: from the first `/user:` or `:user:` before the last `@` up to that `@`.

    Read by hand: the pattern it stands for, `[/:][^/@:]*:\\S*@`, backtracks over
    every start in a long run of colons, and error messages can quote user text.
    """
    at = word.rfind("@")
    if at < 0:
        return word
    previous = -1  # the last `/` or `:` seen, with no `/`, `@` or `:` after it yet
    for i in range(at):
        c = word[i]
        if c == ":" and previous >= 0:
            return word[: i + 1] + "***" + word[at:]
        if c in "/:@":
            previous = i if c != "@" else -1
    return word
