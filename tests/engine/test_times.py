"""Clock times read as "hour" and durations as "seconds": when calls fail, and how long a request lives."""
from __future__ import annotations

import time
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nmbot.engine.resolver import Resolver
from nmbot.engine.times import HOUR, SECONDS, times_as_words

UNITS = ("s", "sec", "secs", "second", "seconds", "min", "mins", "minute", "minutes")


@pytest.mark.parametrize("text, expected", [
    ("calls fail around 6pm", f"calls fail around  {HOUR} "),
    ("from 6 p.m. on", f"from  {HOUR}  on"),
    ("11:45-13:15", f" {HOUR} - {HOUR} "),
    ("at 7:30AM sharp", f"at  {HOUR}  sharp"),
    ("validUntil now+30s", f"validUntil now+ {SECONDS} "),
    ("wait 10 min", f"wait  {SECONDS} "),
    ("after 2 minutes", f"after  {SECONDS} "),
])
def test_clock_times_and_durations_are_read_as_words(text, expected):
    assert times_as_words(text) == expected


@pytest.mark.parametrize("text", [
    "2024-03-12T09:00:00.000Z",  # a timestamp names a moment, not a time of day
    "at 09:00:00 UTC",
    "took 2004ms", "v1:30", "25:00", "12:75", "iam here", "5 smiles", "12345s", "sessionId 4f1c", "1.5s",
])
def test_timestamps_and_look_alikes_are_left_alone(text):
    assert times_as_words(text) == text


def test_a_daily_failure_hour_is_a_capacity_symptom(kb):
    result = Resolver(kb).resolve("every weekday at about 5:30pm some masked calls fail, mornings are clean")
    assert result.answer is not None and result.answer.code == -2010, result.explain()


# --- by hand -----------------------------------------------------------------------------------
def _word_before(text: str, i: int) -> bool:
    return i > 0 and (text[i - 1].isalnum() or text[i - 1] in ("_", ":", "."))


def _hours(text: str, i: int) -> list[int]:
    """Where an hour starting at i may end, in the order the pattern tries them."""
    ends = []
    if text[i : i + 1] in ("0", "1") and text[i + 1 : i + 2].isdigit():
        ends.append(i + 2)
    if text[i : i + 1].isdigit():
        ends.append(i + 1)
    if text[i : i + 1] == "2" and text[i + 1 : i + 2] in ("0", "1", "2", "3"):
        ends.append(i + 2)
    return ends


def _minutes(text: str, j: int) -> int | None:
    if text[j : j + 1] == ":" and text[j + 1 : j + 2] != "" and text[j + 1 : j + 2] in "012345" \
            and text[j + 2 : j + 3].isdigit():
        return j + 3
    return None


def _ascii_alnum(c: str) -> bool:
    return c.isascii() and c.isalnum()


def _clock_at(text: str, i: int) -> int | None:
    """The end of a clock time starting at i, or None."""
    if _word_before(text, i):
        return None
    for j in _hours(text, i):
        for k in [m for m in (_minutes(text, j),) if m is not None] + [j]:
            for space in ((1, 0) if text[k : k + 1] == " " else (0,)):
                at = k + space
                for suffix in ("am", "pm", "a.m.", "p.m."):
                    end = at + len(suffix)
                    if text[at:end].lower() == suffix and not _ascii_alnum(text[end : end + 1] or " "):
                        return end
    for j in _hours(text, i):
        m = _minutes(text, j)
        after = text[m : m + 1] if m is not None else ""
        if m is not None and not (after.isalnum() or (after != "" and after in "_:")):
            return m
    return None


def _duration_at(text: str, i: int) -> int | None:
    if _word_before(text, i):
        return None
    j = i
    while j < len(text) and text[j].isdigit():
        j += 1
    if not 1 <= j - i <= 4:
        return None
    k = j + 1 if text[j : j + 1] == " " else j
    end = k
    while end < len(text) and _ascii_alnum(text[end]):
        end += 1
    return end if text[k:end].lower() in UNITS else None


def _replace_by_hand(text: str, at, word) -> str:
    """Each stretch `at` finds, replaced by `word` of it, with a space either side."""
    out, i = [], 0
    while i < len(text):
        end = at(text, i)
        if end is None:
            out.append(text[i])
            i += 1
        else:
            out.append(f" {word(text[i:end])} ".replace("  ", " "))
            i = end
    return "".join(out)


def _duration_word(duration: str) -> str:
    """A duration of 0 says nothing: the call never got going, whatever the code."""
    return "" if all(unicodedata.decimal(c, 1) == 0 for c in duration if c.isdecimal()) else SECONDS


def times_by_hand(text: str) -> str:
    return _replace_by_hand(_replace_by_hand(text, _clock_at, lambda _: HOUR), _duration_at, _duration_word)


TIME_PARTS = ["0", "1", "2", "3", "9", "12", "23", ":", ":30", ":5", ":61", "am", "PM", "a.m.", "p.m.", "p", " ",
              "s", "sec", "Mins", "minutes", "seconds", ".", "_", "x", "T", "-", "\u00e9", "\u0663"]


@given(st.one_of(st.text(alphabet="0123459:apmAPM. s_-xeciMnut", max_size=30),
                 st.lists(st.sampled_from(TIME_PARTS), max_size=10).map("".join)))
def test_property_times_agree_with_a_reading_by_hand(text):
    assert times_as_words(text) == times_by_hand(text)


@given(st.lists(st.sampled_from(["1", "2", "12", ":", ":30", "pm", "a.m.", " ", "s", "min", ".", "T", "x"]),
                min_size=1, max_size=4), st.integers(min_value=200, max_value=5000))
def test_property_long_lines_are_read_in_linear_time(fragments, times):
    line = "".join(fragments) * times
    started = time.perf_counter()
    times_as_words(line)
    assert time.perf_counter() - started < 2.0
