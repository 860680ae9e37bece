"""Answers that are not a card: within Slack's limits, and no user text that could ping or link."""
from __future__ import annotations

import json
from dataclasses import replace

import pytest
from block_checks import assert_within_limits, texts

from nmbot.cards.action_ids import OPEN_DOCS, SUGGESTION
from nmbot.cards.content import (NotNumberMasking, OtherProduct, Suggestion, card_for_resolution,
                                 not_number_masking_for)
from nmbot.cards.other_answers import (catalog_message, help_message, no_codes_message, not_number_masking_message,
                                       not_sure_message, notice_message, suggestions_message, trouble_message,
                                       with_notes)
from nmbot.cards.terminal import render_not_number_masking
from nmbot.engine.knowledge import KnowledgeBase

OTHER_SMS = OtherProduct("2003", "SMS (8x8's Messaging API)", "SMS", "", "SMS errors are positive codes.",
                         "https://developer.8x8.com/connect/docs/api-error-codes", "Messaging API error codes", -2003)
INJECTION = "<!channel> <!here> <@U0ATTACK> <https://evil.example|click> & more"


@pytest.mark.parametrize("build", [
    lambda q: not_sure_message(q),
    lambda q: suggestions_message(q, [Suggestion(-2004, "No coverage", "Region")]),
    lambda q: no_codes_message([q], [q]),
    lambda q: with_notes(help_message(), [q]),
    lambda q: not_number_masking_message(q, NotNumberMasking((OTHER_SMS,), "why")),
])
def test_user_text_cannot_inject(build):
    message = build(INJECTION)
    assert_within_limits(message)
    for text in texts(message):
        for raw in ("<!channel>", "<!here>", "<@U0ATTACK>", "<https://evil"):
            assert raw not in text


def test_echoed_question_is_short_and_masked():
    message = not_sure_message("call +6591234567 " + "word " * 10_000)
    rendered = json.dumps(message)
    assert "6591234567" not in rendered and len(rendered) < 2000


def test_suggestions_are_buttons_that_open_cards():
    suggestions = [Suggestion(-2004, "No coverage available", "Region"), Suggestion(-2010, "Trunk", "Capacity")]
    message = suggestions_message("coverage?", suggestions, why="-2042 is not a code.")
    buttons = [b["accessory"] for b in message["blocks"] if "accessory" in b]
    assert [(b["action_id"], b["value"]) for b in buttons] == [(f"{SUGGESTION}_-2004", "-2004"),
                                                               (f"{SUGGESTION}_-2010", "-2010")]
    assert message["text"] == "Did you mean -2004, -2010?"
    assert "-2042 is not a code." in json.dumps(message)


def test_help_and_catalog(kb):
    assert_within_limits(help_message())
    catalog = catalog_message(kb)
    assert_within_limits(catalog)
    assert all(f"`{e.code}`" in json.dumps(catalog) for e in kb)


def test_catalog_says_which_codes_8x8_documents_only_by_message(kb):
    text = "\n".join(texts(catalog_message(kb)))
    line = {e.code: next(x for x in text.splitlines() if x.startswith(f"`{e.code}`")) for e in kb}
    assert line[-2004].endswith("_8x8 docs and our notes_")
    assert line[-2005].endswith("_8x8 docs: message only; the rest is our notes_")
    assert "*8x8 docs* (8x8's documented guidance, its page linked)" in text and "*Our notes*" in text


def test_catalog_of_a_huge_knowledge_base_stays_within_50_blocks(kb):
    entries = tuple(replace(kb.get(-2001), code=-3000 - i, title="t" * 60, message="m" * 120) for i in range(2000))
    catalog = catalog_message(KnowledgeBase(entries, "big"))
    assert_within_limits(catalog)
    assert "and more" in json.dumps(catalog)


def test_trouble_and_notice_messages():
    assert_within_limits(trouble_message())
    assert notice_message("a <b>")["blocks"][0]["text"]["text"] == "a &lt;b&gt;"


# --- another product's code: no card, whose it is -----------------------------------------

def test_another_products_code_gets_a_short_reply_naming_it_with_its_docs(kb):
    from nmbot.engine.resolver import Resolver

    resolution = Resolver(kb).resolve("Viber 2010 on our chat campaign")
    reply = not_number_masking_for(resolution)
    assert card_for_resolution(kb, resolution) is None and reply is not None
    message = not_number_masking_message(resolution.query, reply)
    assert_within_limits(message)
    assert all(b["type"] != "header" for b in message["blocks"])  # not a card
    rendered = " ".join(texts(message))
    assert "`2010` is not a Number Masking error code" in rendered and "Viber" in rendered
    assert "\u201cUnauthorized IP or ID\u201d" in rendered and "/nmerror -2010" in rendered
    [button] = [b["accessory"] for b in message["blocks"] if "accessory" in b]
    assert (button["action_id"], button["url"]) == (OPEN_DOCS, "https://developer.8x8.com/connect")
    assert message["text"] == "2010 is not a Number Masking error code: most likely Viber's."


def test_several_products_each_get_a_line_and_one_docs_button(kb):
    from nmbot.engine.resolver import Resolver

    resolution = Resolver(kb).resolve("SMS status 2003 and Number Lookup 2004 and statusCode -1015")
    message = not_number_masking_message(resolution.query, not_number_masking_for(resolution))
    assert_within_limits(message)
    rendered = json.dumps(message, ensure_ascii=False)
    for part in ("`2003`", "`2004`", "`-1015`", "provider timeout", "voice-status-codes", "api-error-codes"):
        assert part in rendered
    assert sum("accessory" in b for b in message["blocks"]) == 1


def test_terminal_says_the_same(kb):
    from nmbot.engine.resolver import Resolver

    resolution = Resolver(kb).resolve("Number Lookup 2004")
    text = render_not_number_masking(not_number_masking_for(resolution))
    assert text.startswith("Not a Number Masking error code.")
    assert "2004: most likely from Number Lookup, where it means \u201cprovider timeout\u201d." in text
    assert "Docs: https://developer.8x8.com/connect" in text and "nmbot lookup -2004" in text
