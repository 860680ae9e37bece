"""/nmerror over real HTTP: the card travels in the ack body, privately."""
from __future__ import annotations

import json

from slack_requests import CHANNEL


def ack_of(bot, text: str) -> dict:
    response = bot.slack.command(text)
    assert response.status == 200
    body = response.json()
    assert body["response_type"] == "ephemeral"
    assert body["text"]
    return body


def test_code_gets_its_card_in_the_ack(bot):
    body = ack_of(bot, "-2004")
    assert body["blocks"][0] == {"type": "header", "text": {"type": "plain_text",
                                 "text": "-2004 \u00b7 No coverage available for requested area"}}
    rendered = json.dumps(body["blocks"])
    assert "What to do" in rendered and "Share in channel" in rendered
    # 8x8's word and our notes, told apart, with 8x8's page linked
    assert "_8x8 docs_" in rendered and "_Our notes_" in rendered
    assert "<https://developer.8x8.com/connect/docs/voice/error-codes/number-masking-error-codes|" in rendered
    bot.wait_idle()
    assert bot.posts() == []  # private: nothing is posted for the channel


def test_empty_and_help_explain_usage(bot):
    for text in ("", "help", "  HELP  "):
        body = ack_of(bot, text)
        assert "/nmerror list" in json.dumps(body["blocks"])


def test_list_shows_every_code(bot):
    rendered = json.dumps(ack_of(bot, "list")["blocks"])
    for code in (-2001, -2002, -2003, -2004, -2005, -2006, -2007, -2008, -2009, -2010, -9999):
        assert f"`{code}`" in rendered


def test_vague_question_offers_buttons(bot, kb):
    body = ack_of(bot, "what is -2042")
    buttons = [b["accessory"] for b in body["blocks"] if b.get("accessory", {}).get("type") == "button"]
    assert buttons and all(kb.get(int(b["value"])) for b in buttons)
    assert all(b["action_id"].startswith("nm_suggestion_") for b in buttons)
    assert "-2042 is not a Number Masking error code" in json.dumps(body["blocks"])


def test_nothing_found_is_an_honest_not_sure(bot):
    body = ack_of(bot, "what time is lunch")
    rendered = json.dumps(body["blocks"])
    assert "not sure" in rendered and "/nmerror -2004" in rendered
    bot.wait_idle()
    assert [u.text for u in bot.store.unanswered()] == ["what time is lunch"]


def test_injection_is_escaped(bot):
    body = ack_of(bot, "<!channel> <@U999> <https://evil.example|click> lunch")
    rendered = json.dumps(body)
    assert "<!channel>" not in rendered and "<@U999>" not in rendered and "<https://evil" not in rendered
    assert "&lt;!channel&gt;" in rendered


def test_huge_and_binary_text_still_get_an_answer(bot):
    assert ack_of(bot, "x" * 40_000)["blocks"]
    assert ack_of(bot, "\x00\x01\x02\ufffd errorCode=-2004 \x00")["blocks"]


def test_usage_is_recorded(bot):
    ack_of(bot, "-2007")
    bot.wait_idle()
    assert [(e.kind, e.surface, e.channel, e.code) for e in bot.store.events()] == [("card", "command", CHANNEL, -2007)]


def test_another_products_code_gets_no_card_but_whose_it_is(bot):
    body = ack_of(bot, "SMS status 2003")
    rendered = json.dumps(body["blocks"], ensure_ascii=False)
    assert all(b["type"] != "header" for b in body["blocks"])  # no card
    assert "`2003` is not a Number Masking error code" in rendered and "SMS (8x8's Messaging API)" in rendered
    assert "https://developer.8x8.com/connect/docs/api-error-codes" in rendered
    bot.wait_idle()
    # Answered, though without a card: a usage row of its own kind, and not a gap in the knowledge base.
    assert [(e.kind, e.code) for e in bot.store.events()] == [("other_product", None)]
    assert bot.store.unanswered() == []


def test_a_sign_less_code_alone_is_an_explicit_look_up(bot):
    body = ack_of(bot, "2004")
    assert body["blocks"][0]["text"]["text"].startswith("-2004 \u00b7")
    assert "a positive 2004 from SMS, chat apps or Number Lookup" in json.dumps(body["blocks"])
