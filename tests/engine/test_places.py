"""Countries in a question read as the word "country"; both patterns are linear and agree with a reading by hand."""
from __future__ import annotations

import itertools
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nmbot.engine.places import COUNTRY, ISO_CODES, countries_as_words
from nmbot.engine.resolver import Resolver


@pytest.mark.parametrize("text, expected", [
    ("calls to Kenya fail", "calls to country fail"),
    ("Papua New Guinea and the United States", "country and the country"),
    ("our Filipino riders", "our country riders"),
    ("destinationCountryCode VN, SG fine", "destinationcountrycode  country ,  country  fine"),
    ("Hong-Kong works", "country works"),
])
def test_countries_are_read_as_country(text, expected):
    assert countries_as_words(text) == expected


@pytest.mark.parametrize("text", [
    "caller ID not whitelisted",  # ID is Indonesia's code, and a word everyone uses
    "the IT team and QA", "HR said CR is pending", "our thai text is never spoken", "english prompt",
    "SGD and MYR prices", "sg my in lower case", "SG1 and XSG",
])
def test_words_that_only_look_like_countries_are_left_alone(text):
    assert COUNTRY not in countries_as_words(text).split()


def test_a_named_country_is_a_coverage_symptom(kb):
    result = Resolver(kb).resolve("every masked call to Kenya fails, Nigeria is fine")
    assert result.answer is not None and result.answer.code == -2004, result.explain()


def test_a_language_is_not_a_country(kb):
    result = Resolver(kb).resolve("the text to speech fails for thai text")
    assert result.answer is not None and result.answer.code == -2005, result.explain()




def capitals_by_hand(text: str) -> str:
    """Each run of letters and digits that is exactly two capitals of a country code becomes " country "."""
    out = []
    for is_alnum, group in itertools.groupby(text, key=lambda c: c.isascii() and c.isalnum()):
        run = "".join(group)
        out.append(f" {COUNTRY} " if is_alnum and run in ISO_CODES else run)
    return "".join(out)


@given(st.text(alphabet="SGMYVNUKEsg1 _-.\u00e9", max_size=40))
def test_property_country_codes_agree_with_a_reading_by_hand(text):
    assert countries_as_words(text) == countries_as_words(capitals_by_hand(text))
    assert countries_as_words(text).count(COUNTRY) >= capitals_by_hand(text).count(f" {COUNTRY} ")


@given(st.lists(st.sampled_from(["SG", "S", "G1", " ", "united", "new", "papua", "guinea", "-", "kenya", "x"]),
                min_size=1, max_size=4), st.integers(min_value=200, max_value=5000))
def test_property_long_lines_are_read_in_linear_time(fragments, times):
    line = "".join(fragments) * times
    started = time.perf_counter()
    countries_as_words(line)
    assert time.perf_counter() - started < 2.0
