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


def times_as_words(text: str) -> str:
    """The text with every clock time replaced by "hour", and every duration by "seconds"."""
    if _DIGIT.search(text) is None:  # most questions name no time
        return text
    return _DURATION.sub(f" {SECONDS} ", _CLOCK.sub(f" {HOUR} ", text))
