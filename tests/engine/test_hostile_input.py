"""Every pattern that reads user text runs in time linear in that text.

Two kinds of test. Property tests (Hypothesis) feed generated lines built from
the characters that make patterns backtrack, and check each pattern against a
simple reference: the pattern it replaced, on lines short enough for that one
to finish, or a plain character loop on any line. Regression tests feed the
crafted lines that once froze the bot, with a generous bound (each took 3 to
20 seconds before; they now take milliseconds). How time grows with the length
of such lines is printed by `benchmarks/bench_hostile.py`, not asserted here.

A longer run: `HYPOTHESIS_PROFILE=long .venv/bin/python -m pytest tests -k property`.
"""
from __future__ import annotations

import re
import string
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st
from helpers import fewer_examples

from nmbot.engine.codes import ERROR_WORD_REACH, codes_in_question, looks_like_family, normalise_dashes
from nmbot.engine.places import countries_as_words
from nmbot.engine.privacy import mask_msisdns, mask_url
from nmbot.engine.resolver import Resolver
from nmbot.engine.scanner import Scanner, is_field_line
from nmbot.engine.text import STOPWORDS, clauses, reports_a_problem, says_it_works, stem, words
from nmbot.engine.times import times_as_words
from nmbot.logs import RedactingFilter
from nmbot.replies.answers import mentions, without_mention
from nmbot.slack.files import MAX_FILES

MAX_KEY = 80  # a field's key, as long as the scanner reads keys
BOUND_SECONDS = 2.0  # generous: the lines below took 3 to 20 s each before the rewrite

# --- references ------------------------------------------------------------------------------
# The patterns the rewrite replaced. Exponential or quadratic on crafted lines, exact on short ones.
OLD_FIELD_LINE = re.compile(
    r"""^\s*["']?[A-Za-z_][\w.\-]*["']?\s*
        (?:=\s*(?:"[^"]*"|'[^']*'|[^\s"']+) | :\s*(?:"[^"]*"|'[^']*'|[^"'{\[\s].*?|-?\d+))
        \s*,?\s*$""",
    re.VERBOSE,
)
OLD_WORD = re.compile(r"[a-z][a-z0-9]*|[0-9]+[a-z]+[a-z0-9]*")
OLD_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
OLD_CODE_TOKEN = re.compile(r"(?:(?<![\w.-])(?P<sign>-)|(?<![\w.+-]))(?P<digits>[0-9Oo]{3,6})(?![\w-]|[.,]\d)")
OLD_URL_PASSWORD = re.compile(r"([/:][^/@:\s]*:)\S*@")
OLD_ERROR_WORDS = re.compile(r"(?:error|err|code|status|errorcode|error_code|fail\w*|nm)\W{0,3}$", re.I)


def field_line_by_hand(line: str) -> bool:
    """`key: value` / `key=value` with an optional trailing comma, read one character at a time."""
    text = line.rstrip()
    return _field_by_hand(text) or (text.endswith(",") and _field_by_hand(text[:-1].rstrip()))


def _field_by_hand(s: str) -> bool:
    n, i = len(s), 0
    while i < n and s[i].isspace():
        i += 1
    if i < n and s[i] in "\"'":
        i += 1
    if not (i < n and (s[i] == "_" or s[i] in string.ascii_letters)):
        return False
    key_start = i
    i += 1
    while i < n and (s[i].isalnum() or s[i] in "_.-"):
        i += 1
    if i - key_start > MAX_KEY:
        return False
    if i < n and s[i] in "\"'":
        i += 1
    while i < n and s[i].isspace():
        i += 1
    if i == n or s[i] not in "=:":
        return False
    separator, i = s[i], i + 1
    while i < n and s[i].isspace():
        i += 1
    value = s[i:]
    if not value:
        return False
    if value[0] in "\"'":
        return value.find(value[0], 1) == len(value) - 1
    if separator == "=":
        return not any(c.isspace() or c in "\"'" for c in value)
    return value[0] not in "{["


def old_codes_in_question(text: str, known: set[int]) -> tuple[list[int], list[int]]:
    """The question reader as it was: a search of the whole text before every number."""
    text = normalise_dashes(text)
    found: list[int] = []
    unknown: list[int] = []
    for m in OLD_CODE_TOKEN.finditer(text):
        raw = m.group("digits")
        if not any(c.isdigit() for c in raw) or raw[0] in "Oo":
            continue
        digits = raw.replace("O", "0").replace("o", "0")
        if raw != digits and not m.group("sign") and -int(digits) not in known:
            continue
        code = -int(digits)
        if code in known:
            if code not in found:
                found.append(code)
        elif not looks_like_family(code):
            continue
        elif (m.group("sign") or OLD_ERROR_WORDS.search(text[: m.start()])
              or text.strip(" \t\"'`?!.") == m.group(0).strip()):
            if code not in unknown:
                unknown.append(code)
    return found, unknown


# --- generated hostile lines -----------------------------------------------------------------
# The characters that make field, key and code patterns backtrack.
FIELD_CHARS = st.text(alphabet=" \t,:=\"'-_.{[xeC2041\u00a0", max_size=40)
FRAGMENTS = [":", "@", "//", "xoxb-", "xapp-1", "errorCode", "\"errorCode\"", ":", "=", " ", "\t", ",", "\"", "'", "-2004", "2004", "-2042", "x",
             "<@U1|", "<@U1>", "fail", "failed", "error ", "1", "12345678", "+65 9123 4567", "\u2212", "O", ".",
             "aaaaa", "ran out", "n't", "{", "["]


def hostile(fragments: list[str], times: int) -> str:
    return "".join(fragments) * times


@st.composite
def long_hostile_lines(draw) -> str:
    fragments = draw(st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=4))
    head = draw(st.sampled_from(["", "errorCode: -2004", "\"errorCode\": -2004,", "errorCode=-2004",
                                 "fail ", "<@U1|"]))
    return head + hostile(fragments, draw(st.integers(min_value=200, max_value=4000)))


@given(FIELD_CHARS)
def test_property_field_line_agrees_with_the_pattern_it_replaced(line):
    assert is_field_line(line) == bool(OLD_FIELD_LINE.match(line))


@given(st.one_of(FIELD_CHARS, long_hostile_lines()))
def test_property_field_line_agrees_with_a_reading_by_hand(line):
    assert is_field_line(line) == field_line_by_hand(line)


@given(st.text(alphabet="ab1 9-_.Z\u00e9", max_size=60))
def test_property_words_are_the_words_the_old_pattern_found(text):
    expected = [stem(w) for w in OLD_WORD.findall(text.lower()) if w not in STOPWORDS]
    assert words(text) == expected


@given(st.text(alphabet="<@UW1A|>x ", max_size=60))
def test_property_mentions_agree_with_the_pattern_they_replaced(text):
    old = OLD_MENTION.sub(lambda m: "" if m.group(1) == "U1" else m.group(0), text).strip()
    assert without_mention(text, "U1") == old
    assert mentions(text, "U1") == any(m.group(1) == "U1" for m in OLD_MENTION.finditer(text))


@given(parts=st.lists(st.sampled_from(["error", "fail", "ed", "code", "status", "nm", " ", ": ", "-", "\u2212",
                                 "2004", "2042", "9001", "2O04", "1", ".", "x", "?", "+"]), max_size=12))
def test_property_codes_in_question_agree_with_the_whole_text_search(parts, kb):
    text = "".join(parts)
    known = {e.code for e in kb}
    if len(text) <= ERROR_WORD_REACH:  # within reach, the window sees all the old search saw
        assert codes_in_question(text, known) == old_codes_in_question(text, known)
    found, unknown = codes_in_question(text, known)
    assert set(found) <= known and not set(unknown) & known


@given(st.text(alphabet="/:@ab \t?=", max_size=40))
def test_property_url_passwords_are_masked_as_the_old_pattern_masked_them(text):
    assert mask_url(text) == OLD_URL_PASSWORD.sub(r"\1***@", text)


@fewer_examples(4)  # each example is a long text read by every scanner
@given(line=long_hostile_lines())
def test_property_hostile_lines_take_linear_time_everywhere(line, kb, engines):
    scanner, resolver = engines
    started = time.perf_counter()
    scanner.scan_text(line)
    resolver.resolve(line[:40_000])
    codes_in_question(line, {e.code for e in kb})
    without_mention(line, "U1")
    mask_msisdns(line)
    mask_url(line)
    RedactingFilter(["s3cret"]).redact(line)
    reports_a_problem(line)
    countries_as_words(line)
    times_as_words(line)
    for part in clauses(line):
        says_it_works(part)
    assert time.perf_counter() - started < BOUND_SECONDS, f"{len(line)} characters took too long"


# --- the crafted lines that froze the bot ------------------------------------------------------
CRAFTED = {
    "spaces after a field": "errorCode: -2004" + " " * 2000 + "x",
    "quoted field, tabs and spaces": "\"errorCode\": -2004," + " \t" * 1000 + "x",
    "key=value, spaces": "errorCode=-2004" + " " * 40_000 + "x",
    "unclosed mentions": "<@U1|" * 8000,
    "a digit run": "1" * 40_000,
    "many bare numbers after an error word": "fail " + "2042 " * 8000,
    "one long word": "a" * 120_000,
    "colons before an at sign": ":" * 40_000 + "@",
    "country codes and a name's first word": "SG united " * 8000,
    "a long key, then many codes": "k" * 20_000 + "".join(f" err=-2{i:03d}" for i in range(1000))[:19_999] + ",",
    "an identifier of underscores": "make_call_" * 12_000 + "!",
    "failure words, then at once": "fails out " * 12_000 + "immediately",
    "plus signs and digits": "+1" * 40_000,
    "joining words": "and but, " * 12_000,
}


@pytest.fixture(scope="module")
def engines(kb):
    return Scanner(kb), Resolver(kb)


@pytest.mark.parametrize("name", CRAFTED)
def test_crafted_line_is_read_quickly(name, kb, engines):
    scanner, resolver = engines
    line = CRAFTED[name]
    started = time.perf_counter()
    findings = scanner.scan_text(line)
    resolver.resolve(line)
    without_mention(line, "U1")
    words(line)
    mask_url(line)
    codes_in_question(line, {e.code for e in kb})
    countries_as_words(line)
    times_as_words(line)
    for part in clauses(line):
        says_it_works(part)
    assert time.perf_counter() - started < BOUND_SECONDS
    if name not in ("many bare numbers after an error word", "a long key, then many codes") and "-2004" in line:
        assert [f.code for f in findings] == [-2004]  # still found, as before


@pytest.mark.parametrize("head", [b"", b"a: "])
def test_a_file_of_one_long_line_with_many_codes_is_read_quickly(engines, head):
    """Each code on a line once re-read the whole line: 2,000 codes on a 2 MB line took seconds to minutes.
    A message may carry five such files."""
    tail = "".join(f" err=-2{i:03d} err=-9{i:03d}" for i in range(1000)).encode() + b","
    data = head + b"k" * (2_000_000 - len(tail)) + tail
    started = time.perf_counter()
    for _ in range(MAX_FILES):
        findings = engines[0].scan_chunks([data])
        assert len(findings) == 2000
    assert time.perf_counter() - started < BOUND_SECONDS


def test_crafted_field_lines_are_still_fields():
    assert is_field_line("errorCode: -2004" + " " * 2000)
    assert is_field_line("\"errorCode\": -2004," + " \t" * 1000)
    assert not is_field_line("errorCode=-2004" + " " * 2000 + "x")


KNOWN_WORDS = ["failed", "failure", "expired", "exceeded", "rejected", "broken", "silent", "stopped", "timeout"]


@given(st.text(alphabet="failedxpirtonsbkm", min_size=1, max_size=10))
def test_property_one_edit_look_up_agrees_with_comparing_every_word(word):
    """The deletion index finds exactly the words a scan of the whole list finds, in the list's order."""
    from rapidfuzz.distance import OSA

    from nmbot.engine.text import OneEditAway

    near = OneEditAway(KNOWN_WORDS)
    expected = tuple(w for w in KNOWN_WORDS if OSA.distance(word, w) <= 1)
    assert near.matches(word) == expected
    assert near.matches(word) == expected  # and again, from what it remembers
