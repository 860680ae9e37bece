"""Questions a support engineer types that mix Number Masking words with other products' codes,
numbers that are not codes, quoted messages and causes ruled out: the right card, or none."""
from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nmbot.engine.resolver import Resolver
from nmbot.engine.text import without_denials, without_retractions

NO_CARD = None

TRICKY = [
    ("our SMS DLR shows 2004 for the masked session's customer", NO_CARD),
    ("the masked session's customer got SMS DLR 2004", NO_CARD),
    ("it's not a coverage problem, all numbers are local, but calls fail", NO_CARD),
    ("not a trunk capacity issue, we only have 3 calls, but calls fail immediately", NO_CARD),
    ("calls fail, not because of the whitelist", NO_CARD),
    ("not -2004, we're seeing coverage fine, the call drops with capacity exceeded", NO_CARD),
    ("it's not a whitelist issue and not coverage, the file download for playback fails", -2006),
    ('Voice API returned "The validity period of the call flow request has expired" with statusCode -1015',
     NO_CARD),
    ("statusCode -1014 Source or caller ID is not allowed on our masked session", NO_CARD),
    ("our masking server listens on port 2004 and calls fail", NO_CARD),
    ("masking started failing in 2010, what changed?", NO_CARD),
    ("we spent 2004 dollars on masking sessions last month and some calls drop", NO_CARD),
    ("masking session leaked the real number of calla to callb", NO_CARD),
    ("we see -2004, -2010 and -2007 in session summaries", -2004),
    ("Number Lookup returned 2004 when checking the virtual number", NO_CARD),
    ("viber 2010 on the session", NO_CARD),
    ("our WhatsApp errorCode 2010", NO_CARD),
    ("the session failed with error 1015", NO_CARD),
    ("voice api -1015 for the masked session", NO_CARD),
    ('"An internal error has occurred" in the SMS delivery report', NO_CARD),
    ("session errorCode 2004 but SMS 2003 on the same number", NO_CARD),
    ("masked call on room 2004 extension fails", NO_CARD),
    ("session lasted 2004 ms then dropped", NO_CARD),
    ("masking session +65 2004 5678 fails", NO_CARD),
    ("calls to 10.0.0.1:2004 from the masking session fail", NO_CARD),
    ("What does errorCode -2004 mean? not -2010", -2004),
    ("HLR lookup says 2005 for calla of the masked session", NO_CARD),
    ("the trunk is fine but TTS fails for our masked calls", -2005),
    ("the masked number shows 2003 in the DLR", NO_CARD),
    ("our SMS errorId 2008 while masked calls work fine", NO_CARD),
    # A timeout anywhere (a proxy, a webhook, an HTTP request) is not a call flow whose validity expired.
    ("the masking API request times out", NO_CARD),
    ("port 9999 on the masking proxy times out", NO_CARD),
    # 8x8's words, but the user says the error is not 8x8's: the code is offered, no card.
    ("The trunk capacity has been exceeded - the error comes from our PBX trunk, not 8x8", NO_CARD),
    ("Unable to download file for playback from our IVR, not from 8x8", NO_CARD),
    ("The trunk capacity has been exceeded, is this 8x8 or not?", -2010),
    # A webhook or callback timing out is not a session expiring (-2007's `unlike`).
    ("our webhook for masked sessions times out", NO_CARD),
    ("our callback endpoint times out on masked calls", NO_CARD),
    ("the session times out before the call connects", -2007),
    ("our webhook for masked sessions timed out", NO_CARD),
    ("the call flow request timed out before the call connected", -2007),
    # A code the person corrects away from is no evidence; the one they correct to is.
    ("-2004? no, it's -2010 actually", -2010),
    ("I thought it was -2004 but it's not, it's a trunk capacity thing", -2010),
    ("-2004, sorry, I meant -2010", -2010),
    ("it says -2004, no wait, -2010", -2010),
    ("we got -2004. Actually -2010, sorry", -2010),
    ("we see -2004 and -2010", -2004),
]


def test_a_number_between_number_masking_and_another_product_named_about_as_near_is_in_doubt(kb):
    from nmbot.engine.products import read_codes

    assert read_codes("the masked number shows 2003 in the DLR", kb.codes).doubtful == (-2003,)
    assert read_codes("our SMS DLR shows 2004 for the masked session's customer", kb.codes).elsewhere[0].number == 2004


@pytest.fixture(scope="module")
def resolver(kb):
    return Resolver(kb)


@pytest.mark.parametrize("question,expected", TRICKY)
def test_tricky_question_gets_the_right_card_or_none(resolver, question, expected):
    answer = resolver.resolve(question).answer
    assert (answer.code if answer else None) == expected


def test_a_question_keeps_its_own_text_when_a_ruled_out_cause_is_set_aside(resolver):
    question = "it's not a coverage problem, all numbers are local, but calls fail"
    assert resolver.resolve(question).query == question


@pytest.mark.parametrize("said", [
    "caller ID not whitelisted", "it's not whitelisted", "not working since 9am",
    "works with the old number but not with the new sender number", "callA ERROR, never a callB",
])
def test_a_negation_that_says_what_went_wrong_is_kept(said):
    assert without_denials(said) == said


@given(st.text(alphabet="not'isn t,a issue because -2004\u2019.", max_size=80))
def test_property_denials_only_ever_remove_text(text):
    kept = without_denials(text)
    assert len(kept) <= len(text)
    assert all(part in text for part in kept.split(","))


@pytest.mark.parametrize("line", ["not " * 50_000, "it's not a problem, " * 10_000, "n't" * 70_000,
                                  "not" + "'" * 200_000, "isnt issue because " * 10_000])
def test_crafted_denial_lines_are_read_quickly(line):
    started = time.perf_counter()
    without_denials(line)
    assert time.perf_counter() - started < 2.0


@given(st.text(alphabet="no,it's -2004 ?actually I mean\u2019.", max_size=80))
def test_property_retractions_only_ever_cut_a_head_off(text):
    kept = without_retractions(text)
    assert kept == text or text.endswith(kept)


@pytest.mark.parametrize("line", ["-2004, no, " * 20_000, "no," * 100_000, "2" * 200_000 + ", no, x",
                                  "actually 1, " * 20_000])
def test_crafted_retraction_lines_are_read_quickly(line):
    started = time.perf_counter()
    without_retractions(line)
    assert time.perf_counter() - started < 2.0


def test_a_quoted_message_the_question_says_is_not_8x8s_is_offered_and_the_why_says_so(resolver):
    said = resolver.resolve("The trunk capacity has been exceeded - the error comes from our PBX trunk, not 8x8")
    assert said.answer is None and [m.code for m in said.suggestions] == [-2010]
    assert "says the error is not 8x8's" in said.explain()
