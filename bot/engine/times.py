"""Times of day in a question, read as the word "hour"; durations, as "seconds".

"Every weekday around 6pm calls fail" says when calls fail, which the
knowledge base writes as "at the same hour every day": a capacity symptom.
A clock time ("6pm", "6 p.m.", "18:00", "11:45-13:15") reads as "hour"; a
timestamp's time ("2024-03-12T09:00:00.000Z", "09:00:00") does not, because a
timestamp names a moment, not a time of day. "validUntil is now+30s" says
how long a request stays valid, which the knowledge base writes in "seconds".
"""
from __future__ import annotations

import re

HOUR = "hour"

# A clock time standing alone: hours with am/pm, or hours and minutes without seconds. Every
# part is a fixed character class or a bounded repeat, so matching is linear in the text.
_CLOCK = re.compile(
    r"(?<![\w:.])(?:"
    r"(?:[01]?\d|2[0-3])(?::[0-5]\d)? ?(?:am|pm|a\.m\.|p\.m\.)(?![a-z0-9])"
    r"|(?:[01]?\d|2[0-3]):[0-5]\d(?![\w:])"
    r")",
    re.IGNORECASE,
)


# A duration written with a number: "30s", "10 min", "2 minutes". Read as "seconds", the knowledge
# base's word for how long a request stays valid.
_DURATION = re.compile(r"(?<![\w.:])\d{1,4} ?(?:s|secs?|seconds?|mins?|minutes?)(?![a-z0-9])", re.IGNORECASE)
SECONDS = "seconds"
_DIGIT = re.compile(r"\d")


# Failing "straight away" is how nearly every failure looks, so it says nothing about which code
# is behind one; it must not read as the "right away" of a request used before it expires. A
# failure verb and the word for "at once" after it, each one of a few fixed words: linear time.
_AT_ONCE = re.compile(
    r"\b(fail|fails|failed|failing|error|errors|errored|erroring|die|dies|died|dying|drop|drops|dropped|dropping"
    r"|end|ends|ended|cut|cuts|disconnect|disconnects|disconnected|hangs up|hung up|rejected|refused)"
    r"( out| off)? (?:right away|straight away|immediately|instantly|at once|right there)\b",
    re.IGNORECASE,
)
_AT_ONCE_WORDS = ("away", "immediately", "instantly", "once", "there")


def _duration(match: re.Match) -> str:
    """A duration of 0 says the call never got going, which every failure shows: no word at all."""
    return " " if int("".join(c for c in match.group(0) if c.isdigit())) == 0 else f" {SECONDS} "


def times_as_words(text: str) -> str:
    """The text with every clock time replaced by "hour", every duration by "seconds" (none for a
    duration of 0), and a failure "straight away" by the failure alone."""
    lowered = text.lower()
    if any(word in lowered for word in _AT_ONCE_WORDS):
        text = _AT_ONCE.sub(r"\1\2", text)
    if _DIGIT.search(text) is None:  # most questions name no time
        return text
    return _DURATION.sub(_duration, _CLOCK.sub(f" {HOUR} ", text))
