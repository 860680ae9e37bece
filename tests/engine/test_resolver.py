"""The resolver: code forms, messages, fuzzy phrases, abstention."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from nmbot.engine.codes import codes_in_question, nearest_codes
from nmbot.engine.resolution import MAX_SUGGESTIONS
from nmbot.engine.resolver import Resolver

NEAR_MISSES = yaml.safe_load((Path(__file__).parent / "data" / "near-misses.yaml").read_text())


@pytest.fixture(scope="module")
def resolver(kb):
    return Resolver(kb)


@pytest.mark.parametrize(
    "text",
    ["-2004", "2004", "\u22122004", "\u20132004", "\u20142004", "'-2004'", '"-2004"', "(-2004).", "`-2004`",
     "errorCode=-2004", '"errorCode": "-2004"', '"errorCode": -2004', "errorCode:-2004", "-2O04", "-2o04",
     "what does 2004 mean for number masking?", "error -2004 since this morning", "[-2004]"],
)
def test_code_forms_resolve(resolver, text):
    result = resolver.resolve(text)
    assert result.answer is not None and result.answer.code == -2004
    assert result.answer.field == "code" and result.answer.score == 100.0


@pytest.mark.parametrize(
    "text", ["2008-2010", "2004-06-01", "+1-202-555-2004", "123e4567-2004-12d3", "took 2004ms", "-2004.5", "v2004", "since 2023"]
)
def test_numbers_that_are_not_codes_are_not_read_as_codes(text, kb):
    assert codes_in_question(text, kb.codes) == ([], [])


def test_every_code_and_official_message_resolves_to_itself(resolver, kb):
    for e in kb:
        assert resolver.resolve(str(e.code)).answer.code == e.code
        for variant in (e.message, e.message.upper(), f'got "{e.message}" again today', e.message + "!!"):
            answer = resolver.resolve(variant).answer
            assert answer is not None and answer.code == e.code, variant


def test_longer_official_message_wins_over_the_one_it_resembles(resolver):
    assert resolver.resolve("An internal connectivity error has occurred").answer.code == -2002
    assert resolver.resolve("An internal error has occurred").answer.code == -2001


def test_several_codes_answer_the_first_and_suggest_the_others(resolver):
    result = resolver.resolve("we see -2010 and sometimes -2004")
    assert result.answer.code == -2010
    assert [s.code for s in result.suggestions] == [-2004]


@pytest.mark.parametrize("text, expected", [("trunk capacty exceded", -2010), ("caller id not whitelsited", -2008),
                                            ("tts not working in the masked call", -2005),
                                            ("session expired before the call connected", -2007)])
def test_typos_and_paraphrases(resolver, text, expected):
    result = resolver.resolve(text)
    assert result.answer is not None and result.answer.code == expected
    assert result.answer.field in ("phrase", "title", "official message")


def test_every_example_resolves_to_its_own_entry(resolver, kb):
    for e in kb:
        for example in e.examples:
            assert resolver.resolve(example).answer.code == e.code, example


def test_examples_are_not_matched_verbatim(kb):
    """Examples double as tests, so they must not be part of what is matched."""
    from nmbot.engine.phrases import PhraseIndex

    index = PhraseIndex(kb, kb.synonyms)
    indexed = {p.text for p in index.phrases}
    assert not indexed & {x for e in kb for x in e.examples}


@pytest.mark.parametrize("text", ["thanks!", "lunch?", "", "   ", "?!", "ok 👍", "who is on call today?"])
def test_chatter_gets_nothing(resolver, text):
    result = resolver.resolve(text)
    assert result.answer is None and result.suggestions == ()


@pytest.mark.parametrize("text", ["how do I set up the webhook?", "what's the SMS API rate limit", "how do I rotate my API key"])
def test_off_topic_questions_get_no_card(resolver, text):
    assert resolver.resolve(text).answer is None


@pytest.mark.parametrize("text", NEAR_MISSES)
def test_near_misses_never_get_a_card(resolver, text):
    assert resolver.resolve(text).answer is None


def test_unknown_code_gets_nearest_codes_as_suggestions(resolver):
    result = resolver.resolve("-2042")
    assert result.answer is None
    assert result.unknown_codes == (-2042,)
    assert [s.code for s in result.suggestions] == nearest_codes(-2042, [e for e in resolver.kb.codes])
    assert 0 < len(result.suggestions) <= MAX_SUGGESTIONS
    assert "-2042 is not a Number Masking error code" in result.explain()


def test_unknown_code_of_another_family_gets_no_suggestions(resolver):
    result = resolver.resolve("statusCode -1014")
    assert result.answer is None and result.suggestions == ()


def test_nearest_codes_prefer_few_edits_then_numeric_closeness(kb):
    assert nearest_codes(-9998, kb.codes) == [-9999]
    assert nearest_codes(-2011, kb.codes)[:2] == [-2010, -2001]
    assert nearest_codes(-1014, kb.codes) == []


def test_vague_question_gets_suggestions_not_an_answer(resolver):
    result = resolver.resolve("invalid")
    assert result.answer is None
    assert {s.code for s in result.suggestions} >= {-2003}
    assert len(result.suggestions) <= MAX_SUGGESTIONS


def test_explain_names_the_phrase_score_and_runner_up(resolver):
    result = resolver.resolve("trunk capacity exceeded on every call")
    assert result.answer.code == -2010
    text = result.explain()
    assert "matched with score" in text and "\u201c" in text
    if result.runner_up:
        assert str(result.runner_up.code) in text


def test_answer_needs_a_lead_over_the_runner_up(kb):
    """Two entries that share every phrase word: no confident answer for either."""
    import dataclasses

    from nmbot.engine.knowledge import KnowledgeBase

    a = dataclasses.replace(kb.get(-2001), phrases=("widget outage",))
    b = dataclasses.replace(kb.get(-2002), phrases=("widget outage",))
    result = Resolver(KnowledgeBase((a, b), "t")).resolve("widget outage")
    assert result.answer is None and {s.code for s in result.suggestions} == {-2001, -2002}


def test_synonyms_apply_to_questions(resolver):
    assert resolver.resolve("callflow is malformed").answer.code == -2003
    assert resolver.resolve("CLID not on the allowlist").answer.code == -2008


def test_huge_and_binary_input_do_not_break_the_resolver(resolver):
    assert resolver.resolve("x" * 40_000).answer is None
    assert resolver.resolve("\x00\xff\ufffd" * 1000).answer is None
    assert resolver.resolve("trunk capacity exceeded " * 2000).answer.code == -2010
