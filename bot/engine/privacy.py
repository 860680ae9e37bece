"""Masking for everything the bot echoes or stores: phone numbers, and the secrets in a URL.

Number Masking exists to hide phone numbers (MSISDNs), so the bot must not
undo that by quoting a log line verbatim. Masking errs on the side of hiding:
a long digit run that is not a phone number (an epoch timestamp) is masked
too, which costs little; a phone number left visible costs a lot.

A URL from the configuration (the database, Slack's Web API) may carry a
password or a token; error messages and logs show it with them masked.
"""
from __future__ import annotations

import re

MASK = "\u2022" * 7  # the same width for every number, so the mask does not reveal its length
KEEP_DIGITS = 2

# +65 9123 4567, +1-202-555-0143, +44 (20) 7946 0958, 6591234567, 202-555-0143.
# Not: dates (2026-11-27), times, UUID segments, error codes, version numbers.
_PHONE = re.compile(
    r"""
    (?<![\d.+\-/])
    (?:
        \+\d(?:[ \-().]{0,2}\d){6,16}            # international, with a plus
      | (?<![\w-])\(?\d{3}\)?[ \-.]\d{3}[ \-.]\d{4}  # national 3-3-4
      | (?<!-)\d{7,15}                           # bare digit run, even glued to letters (tel6591234567)
    )
    (?![\d\-]|\.\d)
    """,
    re.VERBOSE,
)


def _mask(match: re.Match) -> str:
    number = match.group(0)
    digits = [c for c in number if c.isdigit()]
    return ("+" if number.startswith("+") else "") + MASK + "".join(digits[-KEEP_DIGITS:])


def mask_msisdns(text: str) -> str:
    """The text with every phone number's digits hidden but the last two."""
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
