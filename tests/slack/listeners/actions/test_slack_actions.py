"""Buttons: a suggestion opens its card; Share in channel posts the card saying who shared it."""
from __future__ import annotations

from slack_requests import CHANNEL, USER


def click(bot, action_id, value, **kwargs):
    response = bot.slack.action(action_id, value, response_url=bot.stub.response_url(), **kwargs)
    assert response.status == 200
    bot.wait_idle()


def responses(bot):
    return bot.stub.calls_to("response:r1")


def test_suggestion_button_replaces_the_private_message_with_the_card(bot):
    click(bot, "nm_suggestion_-2004", "-2004")
    [response] = responses(bot)
    assert response.body["replace_original"] is True and response.body["response_type"] == "ephemeral"
    assert response.body["blocks"][0]["text"]["text"].startswith("-2004 \u00b7 No coverage")
    assert bot.posts() == []


def test_full_card_button_on_a_public_summary_answers_privately(bot):
    click(bot, "nm_open_card_0", "-2010", ephemeral=False, thread_ts="1699999999.000100")
    [response] = responses(bot)
    assert response.body["replace_original"] is False and response.body["response_type"] == "ephemeral"
    share = [e for b in response.body["blocks"] if b["type"] == "actions" for e in b["elements"]
             if e["action_id"] == "nm_share_card"]
    assert share[0]["value"] == "-2010@1699999999.000100"


def test_share_posts_for_everyone_saying_who_shared_then_removes_the_private_copy(bot):
    click(bot, "nm_share_card", "-2004")
    [post] = bot.posts()
    assert post.body["channel"] == CHANNEL and "thread_ts" not in post.body
    assert f"Shared by <@{USER}>" in post.blocks_text and "Share in channel" not in post.blocks_text
    [response] = responses(bot)
    assert response.body["delete_original"] is True
    assert [(e.kind, e.code) for e in bot.store.events()] == [("share", -2004)]


def test_share_keeps_the_card_in_its_thread(bot):
    click(bot, "nm_share_card", "-2004@1699999999.000100", ephemeral=False)
    [post] = bot.posts()
    assert post.body["thread_ts"] == "1699999999.000100"
    assert responses(bot) == []


def test_share_where_the_bot_is_not_a_member_uses_the_response_url(bot):
    bot.stub.fail("chat.postMessage", "not_in_channel")
    click(bot, "nm_share_card", "-2004")
    shared, deleted = responses(bot)
    assert shared.body["response_type"] == "in_channel" and f"<@{USER}>" in shared.blocks_text
    assert deleted.body["delete_original"] is True


def test_share_failure_is_explained_privately(bot):
    bot.stub.fail("chat.postMessage", "is_archived")
    click(bot, "nm_share_card", "-2004")
    [response] = responses(bot)
    assert response.body["response_type"] == "ephemeral" and "is_archived" in response.body["text"]


def test_forged_or_stale_values_get_a_notice(bot):
    click(bot, "nm_share_card", "-2042")
    click(bot, "nm_suggestion_x", "<!channel>")
    assert [r.body["text"] for r in responses(bot)] == ["That code is not in the knowledge base any more."] * 2
    assert bot.posts() == []


def test_docs_link_button_is_acknowledged(bot):
    click(bot, "nm_open_docs", None)
    assert responses(bot) == [] and bot.posts() == []
