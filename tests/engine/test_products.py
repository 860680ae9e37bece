"""Product-aware reading of codes: whose a number in a question is, and whose a message in a log line is."""
from __future__ import annotations

import re
import string
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st
from helpers import fewer_examples

from nmbot.engine.codes import code_tokens, codes_in_question, normalise_dashes
from nmbot.engine.product_words import NOT_CODE_WORDS, PHRASES
from nmbot.engine.products import MAX_SIGHTINGS, PRODUCTS, Context, names_another_product, read_codes
from nmbot.engine.resolver import Resolver
from nmbot.engine.scanner import Scanner

BOUND_SECONDS = 2.0


@pytest.fixture(scope="module")
def resolver(kb):
    return Resolver(kb)


@pytest.fixture(scope="module")
def scanner(kb):
    return Scanner(kb)


# --- rule 1: a sign-less 2001-2010 is Number Masking's with Number Masking context, or asked alone ---

@pytest.mark.parametrize("text, code", [
    ("code 2002 in the session summary, what does it mean?", -2002),
    ("what does err code 2009 mean for number masking", -2009),
    ("masked calls fail with 2004", -2004),
    ("errorCode 2004", -2004),
    ('"errorCode": "2004"', -2004),
    ("callA ended in ERROR with 2004 and no callB", -2004),
    ("our call flow got 2003 back", -2003),
    ("2008 when the virtual number calls party B", -2008),
    ("nm error 2010", -2010),
])
def test_a_bare_code_with_number_masking_context_gets_its_card(resolver, text, code):
    result = resolver.resolve(text)
    assert result.answer is not None and result.answer.code == code and result.answer.field == "code"
    assert f"as {code};" in result.note and f"positive {-code}" in result.note


@pytest.mark.parametrize("text, code", [("2004", -2004), ("2007?", -2007), (" '2010' ", -2010), ("9999", -9999),
                                        ("2O04", -2004)])
def test_a_bare_code_asked_alone_is_an_explicit_look_up_with_the_note(resolver, text, code):
    result = resolver.resolve(text)
    assert result.answer.code == code
    assert "SMS, chat apps or Number Lookup is another product's code" in result.note


def test_a_signed_code_needs_no_context_and_gets_no_note(resolver):
    for text in ("-2004", "what does -2003 mean", "\u22122008 again", "SMS fine but -2004 on calls"):
        result = resolver.resolve(text)
        assert result.answer is not None and result.note == "", text


# --- rule 2: another product named beside the number: no card, that product named with its docs ---

@pytest.mark.parametrize("text, product, number", [
    ("SMS status 2003", "sms", 2003),
    ("our sms api returns code 2001", "sms", 2001),
    ("DLR came back with 2004", "sms", 2004),
    ("the delivery receipt says 2005", "sms", 2005),
    ("Viber 2010", "chat", 2010),
    ("whatsapp message failed with 2006", "chat", 2006),
    ("chat apps error 2002", "chat", 2002),
    ("Number Lookup 2004", "lookup", 2004),
    ("got 2007 from number lookup", "lookup", 2007),
    ("HLR lookup gives 2005", "lookup", 2005),
    ("numlookup 2004 again", "lookup", 2004),
    ("Voice API returned 2003", "voice", 2003),
    ("callflows API statusCode 2009", "voice", 2009),
    ("errorId abc, code 2001", "sms", 2001),
    ("Viber error 2020", "chat", 2020),
])
def test_another_products_number_gets_no_card(resolver, text, product, number):
    result = resolver.resolve(text)
    assert result.answer is None and result.suggestions == ()
    [seen] = result.elsewhere
    assert (seen.product.key, seen.number) == (product, number)
    assert "not a Number Masking error code" in result.explain()


def test_voice_api_codes_are_not_number_masking_codes(resolver):
    for text in ("statusCode -1014", "-1015", "what is \u22121015?"):
        result = resolver.resolve(text)
        assert result.answer is None and [s.product.key for s in result.elsewhere] == ["voice"], text
        assert "Voice API status code" in result.explain()


def test_a_voice_api_code_beside_a_number_masking_message_is_not_that_message_code(resolver):
    """-1015's message reads like -2007's: the code beside it says whose it is."""
    result = resolver.resolve("statusCode -1015 The validity period of the call flow request has expired")
    assert result.answer is None
    [seen] = result.elsewhere
    assert (seen.number, seen.product.key, seen.lookalike) == (-1015, "voice", -2007)
    assert seen.meaning == "validity period expired"


def test_a_message_quoted_with_another_product_named_is_that_products(resolver):
    result = resolver.resolve("Voice API says The validity period of the call flow request has expired")
    assert result.answer is None
    [seen] = result.elsewhere
    assert (seen.number, seen.product.key, seen.lookalike) == (None, "voice", -2007)
    # The message's own words ("call flow") are not Number Masking context; a session summary is.
    assert resolver.resolve("session summary says The validity period of the call flow request has expired"
                            ).answer.code == -2007


def test_known_meanings_and_docs_come_from_8x8s_pages(resolver):
    [viber] = resolver.resolve("Viber 2010").elsewhere
    assert viber.meaning == "Unauthorized IP or ID" and viber.named == "Viber"
    [lookup] = resolver.resolve("Number Lookup 2004").elsewhere
    assert lookup.meaning == "provider timeout"
    [sms] = resolver.resolve("SMS status 2003").elsewhere
    assert sms.meaning == "" and sms.product.docs == "https://developer.8x8.com/connect/docs/api-error-codes"
    assert all(p.docs.startswith("https://developer.8x8.com/connect") for p in PRODUCTS.values())


def test_each_number_goes_to_the_product_named_nearest_it(resolver):
    result = resolver.resolve("SMS status 2003 and viber 2010")
    assert [(s.number, s.product.key) for s in result.elsewhere] == [(2003, "sms"), (2010, "chat")]


def test_a_product_name_outweighs_a_field_name(resolver):
    [seen] = resolver.resolve("SMS errorCode 2004").elsewhere
    assert seen.product.key == "sms"


# --- rule 3: both named: the card for the Number Masking code, with the note ---

@pytest.mark.parametrize("text", [
    "we get a positive 2004 from SMS and a -2004 in the session summary",
    "SMS gives 2004 and masked calls give 2004",
])
def test_a_question_naming_both_gets_the_number_masking_card_with_the_note(resolver, text):
    result = resolver.resolve(text)
    assert result.answer.code == -2004
    assert [s.product.key for s in result.elsewhere] == ["sms"]
    assert "The 2004 beside SMS in the question is SMS's, not Number Masking's." in result.note


# --- rule 4: in doubt, no card; a year, a room, a port or a phone number is not a code ---

@pytest.mark.parametrize("text, code", [("what does 2003 mean", -2003), ("seeing 2004 a lot", -2004),
                                        ("is 2010 bad?", -2010)])
def test_a_bare_code_with_nothing_around_it_gets_suggestions_not_a_card(resolver, text, code):
    result = resolver.resolve(text)
    assert result.answer is None and result.doubtful == (code,)
    assert [s.code for s in result.suggestions] == [code]
    assert "no minus sign" in result.explain()


@pytest.mark.parametrize("text", [
    "meeting in room 2004", "we moved offices in 2005", "since 2008 nobody asked", "back in March 2009",
    "server listens on port 2004", "call me on +65 6591 2004", "dial 6591 2004 please", "10.0.0.1:2004 is down",
    "see line 2004 of the log", "ticket #2007 is closed", "my number is 2004 5678",
    "the webhook took 2004 ms", "we bridged 2010 calls today", "PR #2002 is merged", "release 2009 is out",
])
def test_years_rooms_ports_and_phone_numbers_are_not_codes(resolver, text):
    result = resolver.resolve(text)
    assert result.answer is None and result.doubtful == () and result.elsewhere == ()
    assert all(s.field != "bare number" for s in result.suggestions)


def test_a_code_beside_another_code_is_still_a_code(resolver):
    assert resolver.resolve("session summary shows 2003 2004").answer.code == -2003


# --- scan: the same family rules ---

@pytest.mark.parametrize("line", [
    '{"statusCode": -1015, "statusMessage": "The validity period of the call flow request has expired"}',
    "Voice API response: statusCode=-1015 The validity period of the call flow request has expired",
    '  "statusMessage": "The validity period of the call flow request has expired",',
    '{"code": 2001, "message": "An internal error has occurred", "errorId": "5b1c", "timestamp": "2024-01-01"}',
    "sms dlr status=2004 No coverage available for requested area",
    "viber callback code 2010: The trunk capacity has been exceeded",
    "number lookup 2004: An internal connectivity error has occurred",
    "WhatsApp delivery failed status 2005",
])
def test_scan_gives_no_finding_for_another_products_line(scanner, line):
    assert scanner.scan_text(line) == []


def test_scan_still_finds_number_masking_messages_beside_http_status_fields(scanner):
    """A field of another product (statusCode) beside a Number Masking word is not another product's line."""
    [f] = scanner.scan_text('POST /vss statusCode=200 errorMsg="No coverage available for requested area"')
    assert f.code == -2004
    [f] = scanner.scan_text('{"eventType":"SESSION_SUMMARY","errorDetails":{"errorMsg":"The validity period of '
                            'the call flow request has expired","errorCode":-2007}}')
    assert f.code == -2007


def test_names_another_product():
    assert names_another_product("statusCode=-1015 x")
    assert names_another_product("sms gateway")
    assert names_another_product("errorId=1")
    assert not names_another_product("errorId=1 sessionId=2")  # a field beside a Number Masking field
    assert not names_another_product("errorCode=-2004 callA ERROR")
    assert not names_another_product("1015 and a-1015 are not codes")


# --- every pattern linear, property tested ---

def words_by_hand(text: str) -> list[tuple[int, int, str]]:
    """Runs of ASCII letters and digits, read one character at a time."""
    runs, start = [], None
    for i, c in enumerate(text + " "):
        inside = c in string.ascii_letters or c in string.digits
        if inside and start is None:
            start = i
        elif not inside and start is not None:
            runs.append((start, i, text[start:i].lower()))
            start = None
    return runs


WORDISH = st.text(alphabet="smSvibrecallAflowsnumberlookup 2004-1015\u2212:#+.\u00e9_", max_size=80)


@given(WORDISH)
def test_property_context_reads_the_words_a_reading_by_hand_finds(text):
    context = Context(text)
    assert [tuple(r) for r in context.runs] == words_by_hand(text)
    for m in context.names + context.terms:
        said = tuple(r[2] for r in words_by_hand(text[m.start:m.end]))
        assert PHRASES[said] == (m.family, m.strength)


@given(text=WORDISH)
def test_property_read_codes_only_sorts_what_codes_in_question_finds(text, kb):
    """Product-aware reading never invents a code: it gives each number codes_in_question finds to a family."""
    reading = read_codes(text, kb.codes)
    known, unknown = codes_in_question(text, kb.codes)
    assert set(reading.number_masking) | set(reading.doubtful) <= set(known)
    assert set(reading.unknown) <= set(unknown)
    signed = {t.code for t in code_tokens(normalise_dashes(text), kb.codes) if t.signed}
    assert signed & set(known) <= set(reading.number_masking)  # a sign always says Number Masking
    for s in reading.elsewhere:
        assert s.product.key in PRODUCTS


@fewer_examples(8)  # every example is a text of up to a hundred thousand characters, read four ways
@given(parts=st.lists(st.sampled_from(["sms ", "viber ", "room ", "in ", "session ", "2004 ", "-1015 ", "+65 ",
                                       "6591 ", "errorCode=", "-2004 ", "number lookup ", ": ", "#", "x"]),
                      min_size=1, max_size=6),
       times=st.integers(min_value=200, max_value=3000))
def test_property_hostile_questions_take_linear_time(parts, times, kb, resolver, scanner):
    text = "".join(parts) * times
    started = time.perf_counter()
    read_codes(text, kb.codes)
    resolver.resolve(text[:40_000])
    names_another_product(text)
    scanner.scan_text(text + " The trunk capacity has been exceeded")
    assert time.perf_counter() - started < BOUND_SECONDS


CRAFTED = {
    "many bare codes beside product names": "sms 2004 viber 2010 " * 2000,
    "many bare codes, no context": "2004 " * 8000,
    "product words, then one code": "number lookup " * 3000 + "2004",
    "phone-like groups": "+65 6591 2004 " * 3000,
    "voice codes and a message": "-1015 " * 6000 + "The validity period of the call flow request has expired",
    "not-code words": "room in since port " * 3000 + "2004",
}


@pytest.mark.parametrize("name", CRAFTED)
def test_crafted_question_is_read_quickly(name, kb, resolver, scanner):
    text = CRAFTED[name]
    started = time.perf_counter()
    read_codes(text, kb.codes)
    resolver.resolve(text)
    names_another_product(text)
    scanner.scan_text(text)
    assert time.perf_counter() - started < BOUND_SECONDS


def test_not_code_words_are_single_lower_case_words():
    assert all(w == w.lower() and w.isalnum() for w in NOT_CODE_WORDS)
    assert normalise_dashes("\u22121015") == "-1015"


def test_a_voice_api_code_beside_a_number_masking_code_is_noted_as_the_voice_apis(resolver):
    result = resolver.resolve("callflows API gave -1014 earlier, and now the VSS for a masked call has errorCode -2008")
    assert result.answer.code == -2008
    assert result.note == "The -1014 in the question is a Voice API status code, not Number Masking's."


def test_a_question_full_of_other_products_numbers_names_a_few(resolver):
    question = " ".join(f"sms error {n}" for n in range(2000, 3000))
    result = resolver.resolve(question)
    assert result.answer is None and len(result.elsewhere) == MAX_SIGHTINGS
    assert [s.number for s in result.elsewhere] == list(range(2000, 2000 + MAX_SIGHTINGS))
