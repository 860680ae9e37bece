"""The message shortcut "Explain error codes" over real HTTP: private, everywhere, every code."""
from __future__ import annotations

from pathlib import Path

from slack_interactions import buttons, message_shortcut
from slack_requests import CHANNEL, USER, message

from nmbot.replies.refs import VoteRef

LOGS = Path(__file__).parents[3] / "eval" / "data" / "logs"
TWO_CODES = (LOGS / "mixed-incident-notes.txt").read_text()
ONE_CODE = 'level=error sessionId=7d3f errorCode=-2005 errorMsg="Unable to synthesize text to speech" callee=+6591234567'


def explain(bot, msg: dict, *, response_url: bool = True) -> list:
    """Use the shortcut on a message; the private replies it produced."""
    url = bot.stub.response_url("sc") if response_url else None
    assert message_shortcut(bot.slack, msg, response_url=url).status == 200
    bot.wait_idle()
    return bot.stub.calls_to("response:sc")


def test_every_code_in_a_message_is_explained_privately(bot):
    [reply] = explain(bot, message(TWO_CODES))
    assert reply.body["response_type"] == "ephemeral" and reply.body["replace_original"] is False
    assert "found 2 Number Masking error codes" in reply.blocks_text
    assert "-2003" in reply.blocks_text and "-2005" in reply.blocks_text
    assert bot.posts() == []
    assert sorted((e.surface, e.code) for e in bot.store.events()) == [("shortcut", -2005), ("shortcut", -2003)]


def test_it_works_where_auto_replies_are_off_muted_or_quiet(bot):
    msg = message(ONE_CODE, thread_ts="1699999999.000100")
    bot.store.update_channel_settings(CHANNEL, autoreply="off", muted_until=4_000_000_000)
    bot.store.quiet_thread(CHANNEL, "1699999999.000100")
    [reply] = explain(bot, msg)
    assert "-2005" in reply.blocks_text


def test_one_code_gets_the_full_card_with_feedback_and_a_share_into_the_messages_thread(bot):
    msg = message(ONE_CODE, thread_ts="1699999999.000100")
    [reply] = explain(bot, msg)
    found = buttons(reply.body)
    assert found["nm_share_card"]["value"] == "-2005@1699999999.000100"
    assert VoteRef.decode(found["nm_vote_up"]["value"]).surface == "shortcut"
    assert "nm_why" in found
    assert "6591234567" not in reply.blocks_text  # the log line is quoted masked


def test_a_message_that_is_not_in_a_thread_shares_into_its_own_thread(bot):
    msg = message(ONE_CODE)
    [reply] = explain(bot, msg)
    assert buttons(reply.body)["nm_share_card"]["value"] == f"-2005@{msg['ts']}"


def test_a_question_in_the_message_gets_the_resolvers_answer(bot):
    [reply] = explain(bot, message("our calls fail with trunk capacity exceeded, any idea?"))
    assert "-2010" in reply.body["text"]


def test_a_message_without_codes_says_so_and_is_not_filed_as_a_question(bot):
    [reply] = explain(bot, message("lunch at noon? <!channel> call +6591234567"))
    assert "I found no Number Masking error codes in that message" in reply.blocks_text
    assert bot.store.unanswered() == []


def test_shared_log_files_are_read(bot):
    file = bot.stub.add_file("F0001", "incident.log", TWO_CODES.encode())
    [reply] = explain(bot, message("see attached", files=[file]))
    assert "found 2 Number Masking error codes" in reply.blocks_text


def test_without_a_response_url_it_answers_with_an_ephemeral_message(bot):
    explain(bot, message(ONE_CODE), response_url=False)
    [call] = bot.stub.calls_to("chat.postEphemeral")
    assert call.body["channel"] == CHANNEL and call.body["user"] == USER
    assert bot.posts() == []
