"""Mentions and pasted logs over real HTTP: one threaded reply, or silence."""
from __future__ import annotations

import json
from pathlib import Path

from slack_requests import CHANNEL, mention, message
from webapi_stub import BOT_ID, BOT_USER_ID

LOGS = Path(__file__).parents[3] / "eval" / "data" / "logs"
PASTE = 'level=error sessionId=7d3f errorCode=-2005 errorMsg="Unable to synthesize text to speech" callee=+6591234567'
TWO_CODES = (LOGS / "mixed-incident-notes.txt").read_text()


def send(bot, event, **kwargs):
    response = bot.slack.event(event, **kwargs)
    assert response.status == 200
    return response


def only_post(bot):
    bot.wait_idle()
    posts = bot.posts()
    assert len(posts) == 1, [p.body.get("text") for p in posts]
    return posts[0]


def assert_silent(bot):
    bot.wait_idle()
    assert bot.posts() == []


# --- mentions ----------------------------------------------------------------------------

def test_mention_gets_a_card_in_a_new_thread(bot):
    event = mention("what does -2004 mean?")
    send(bot, event)
    post = only_post(bot)
    assert post.body["channel"] == CHANNEL and post.body["thread_ts"] == event["ts"]
    assert "No coverage available for requested area" in post.blocks_text


def test_mention_inside_a_thread_answers_in_that_thread(bot):
    send(bot, mention("-2010 ?", thread_ts="1699999999.000100"))
    assert only_post(bot).body["thread_ts"] == "1699999999.000100"


def test_mention_carrying_a_log_is_scanned(bot):
    send(bot, mention("can you check this?\n" + TWO_CODES))
    post = only_post(bot)
    assert "found 2 Number Masking error codes" in post.blocks_text
    assert "-2003" in post.blocks_text and "-2005" in post.blocks_text and "-2004" not in post.body["text"]


def test_mention_without_an_answer_is_honest(bot):
    send(bot, mention("is the coffee machine fixed?"))
    post = only_post(bot)
    assert "not sure" in post.blocks_text and "/nmerror -2004" in post.blocks_text


def test_bare_mention_explains_usage(bot):
    send(bot, mention(""))
    assert "/nmerror list" in only_post(bot).blocks_text


def test_mention_injection_is_escaped(bot):
    send(bot, mention("<!channel> <!here> <@U777|boss> <https://evil.example|click me> help with coffee"))
    post = only_post(bot)
    sent = json.dumps(post.body)
    for raw in ("<!channel>", "<!here>", "<@U777", "<https://evil"):
        assert raw not in sent
    assert "&lt;!channel&gt;" in post.blocks_text


def test_mention_by_another_bot_is_ignored(bot):
    send(bot, mention("-2004", bot_id="BOTHER01"))
    assert_silent(bot)


# --- pasted logs -------------------------------------------------------------------------

def test_paste_with_one_code_gets_its_card_with_masked_evidence(bot):
    event = message(PASTE)
    send(bot, event)
    post = only_post(bot)
    assert post.body["thread_ts"] == event["ts"]
    assert "Unable to synthesize text to speech" in post.blocks_text
    assert "Seen in your log" in post.blocks_text
    assert "6591234567" not in json.dumps(post.body) and "\u2022\u202267" in post.blocks_text


def test_paste_with_several_codes_gets_one_compact_reply(bot):
    send(bot, message((LOGS / "mixed-all-codes.log").read_text()))
    post = only_post(bot)
    blocks = json.loads(post.blocks_text)
    assert "found 12 Number Masking error codes" in post.blocks_text
    for code in ("-2001", "-2004", "-2010", "-9999", "-2099"):
        assert f"*{code}*" in post.blocks_text
    assert len(blocks) < 20 and not any(b["type"] == "header" for b in blocks)
    assert post.body["text"].startswith("Number Masking error codes found: ")


def test_thread_reply_paste_answers_in_the_thread(bot):
    send(bot, message(PASTE, thread_ts="1699999999.000100"))
    assert only_post(bot).body["thread_ts"] == "1699999999.000100"


def test_code_fence_paste(bot):
    send(bot, message("deploy broke:\n```\n" + (LOGS / "kv-expired-fence.txt").read_text() + "\n```"))
    assert "validity period of the call flow request has expired" in only_post(bot).blocks_text


def test_message_without_codes_gets_silence(bot):
    send(bot, message("calls failing since 10am, anyone? offsetMs=-2004 at 2024-06-03"))
    assert_silent(bot)


def test_bot_messages_are_ignored(bot):
    send(bot, message(PASTE, bot_id="BOTHER01"))
    send(bot, {**message(PASTE, subtype="bot_message", bot_id="BOTHER02"), "username": "alerts"})
    assert_silent(bot)


def test_own_messages_are_ignored(bot):
    send(bot, message(PASTE, user=BOT_USER_ID, bot_id=BOT_ID))
    send(bot, message(PASTE, user=BOT_USER_ID))
    assert_silent(bot)


def test_edits_deletions_and_joins_are_acknowledged_and_ignored(bot):
    edited = {"type": "message", "subtype": "message_changed", "channel": CHANNEL, "hidden": True,
              "ts": "1700000000.000900", "message": message(PASTE), "previous_message": message("typo")}
    deleted = {"type": "message", "subtype": "message_deleted", "channel": CHANNEL, "hidden": True,
               "ts": "1700000000.000901", "deleted_ts": "1700000000.000001", "previous_message": message(PASTE)}
    joined = message(f"<@{'U0000USER'}> has joined the channel", subtype="channel_join")
    for event in (edited, deleted, joined):
        send(bot, event)
    assert_silent(bot)


# --- exactly one reply -------------------------------------------------------------------

def test_retried_delivery_never_answers_twice(bot):
    event = message(PASTE)
    send(bot, event, event_id="EvRETRY1")
    bot.wait_idle()
    send(bot, event, event_id="EvRETRY1", retry=1)
    send(bot, event, event_id="EvRETRY1", retry=2)
    only_post(bot)


def test_mention_delivered_as_app_mention_and_message_gets_one_reply(bot):
    event = mention("errorCode=-2004 in prod")
    as_message = {**event, "type": "message", "channel_type": "channel"}
    send(bot, as_message)
    send(bot, event)
    post = only_post(bot)
    assert "No coverage available" in post.blocks_text


def test_same_code_in_the_same_thread_is_not_explained_again(bot):
    send(bot, message(PASTE, thread_ts="1699999999.000100"))
    bot.wait_idle()
    send(bot, message(PASTE, thread_ts="1699999999.000100"))
    send(bot, message(PASTE.replace("-2005", "-2010").replace("Unable to synthesize text to speech", ""),
                      thread_ts="1699999999.000100"))
    bot.wait_idle()
    posts = bot.posts()
    assert len(posts) == 2
    assert "-2005" in posts[0].body["text"] and "-2010" in posts[1].body["text"]


def test_a_mention_starts_the_cool_down_for_later_pastes(bot):
    first = mention("what is -2005?")
    send(bot, first)
    bot.wait_idle()
    send(bot, message(PASTE, thread_ts=first["ts"]))
    only_post(bot)


def test_muted_channel_gets_no_auto_reply_but_mentions_still_work(bot):
    bot.store.update_channel_settings(CHANNEL, autoreply="off")
    send(bot, message(PASTE))
    bot.wait_idle()
    assert bot.posts() == []
    send(bot, mention("-2004"))
    only_post(bot)


def test_failed_post_is_not_an_error_for_slack(bot):
    bot.stub.fail("chat.postMessage", "channel_not_found")
    assert send(bot, message(PASTE)).status == 200
    bot.wait_idle()
    assert len(bot.posts()) == 1


# --- bad input ---------------------------------------------------------------------------

def test_a_40000_character_paste_is_scanned(bot):
    send(bot, message("x=1 " * 9_980 + "\n" + PASTE))
    assert "-2005" in only_post(bot).body["text"]


def test_binary_junk_gets_silence(bot):
    send(bot, message("\x00\x01\x02 errorCode=-2004 \x00" + "\ufffd" * 50))
    assert_silent(bot)


def test_shadow_mode_records_without_posting(bot):
    bot.store.update_channel_settings(CHANNEL, autoreply="shadow")
    send(bot, message(PASTE))
    assert_silent(bot)
    assert [(e.surface, e.code) for e in bot.store.events()] == [("shadow", -2005)]


def test_mention_of_another_products_code_names_that_product(bot):
    send(bot, mention("our Voice API call returns statusCode -1015 The validity period of the call flow request "
                      "has expired"))
    post = only_post(bot)
    assert "`-1015` is not a Number Masking error code" in post.blocks_text
    assert "-2007 \u00b7" not in post.blocks_text and "/nmerror -2007" in post.blocks_text
