"""Feedback on cards over real HTTP: thumbs-up, thumbs-down with its form, and "Why this answer?"."""
from __future__ import annotations

import json

import pytest
from slack_interactions import buttons, click, view_closed, view_submission
from slack_requests import CHANNEL, USER, mention, message

from nmbot.cards.action_ids import COMMENT_BLOCK, COMMENT_INPUT
from nmbot.cards.error_card import card_message
from nmbot.replies.refs import VoteRef, WhyRef

OTHER_USER = "U0000OTHER"


def ask(bot, text: str) -> dict:
    """/nmerror TEXT: the private card in the ack body."""
    response = bot.slack.command(text)
    assert response.status == 200
    bot.wait_idle()
    return response.json()


def press(bot, card: dict, action_id: str, **kwargs) -> None:
    assert click(bot.slack, card, action_id, response_url=bot.stub.response_url(), **kwargs).status == 200
    bot.wait_idle()


def responses(bot) -> list:
    return bot.stub.calls_to("response:r1")


def opened_form(bot) -> dict:
    [call] = bot.stub.calls_to("views.open")
    view = call.body["view"]
    return json.loads(view) if isinstance(view, str) else view


def posted_card(bot) -> dict:
    """The blocks of the one message the bot posted, as a dict like an ack body."""
    [post] = bot.posts()
    blocks = post.body["blocks"]
    return {"text": post.body["text"], "blocks": json.loads(blocks) if isinstance(blocks, str) else blocks}


# --- the buttons -------------------------------------------------------------------------

def test_every_card_offers_votes_and_why(bot, kb):
    card = ask(bot, "-2004")
    found = buttons(card)
    assert {"nm_vote_up", "nm_vote_down", "nm_why"} <= set(found)
    assert found["nm_vote_up"]["text"]["text"].startswith("\U0001f44d")
    ref = VoteRef.decode(found["nm_vote_up"]["value"])
    assert (ref.code, ref.surface, ref.kb_version) == (-2004, "command", kb.version)
    assert len(found["nm_why"]["value"]) <= 2000
    # Another question is another card, with its own id.
    assert VoteRef.decode(buttons(ask(bot, "-2004"))["nm_vote_up"]["value"]).card_id != ref.card_id


def test_a_did_you_mean_offers_no_votes_until_a_card_is_chosen(bot):
    suggestions = ask(bot, "what is -2042")
    assert not {"nm_vote_up", "nm_why"} & set(buttons(suggestions))


# --- thumbs-up ---------------------------------------------------------------------------

def test_thumbs_up_is_stored_with_its_card_and_thanked_privately(bot, kb):
    card = ask(bot, "-2004")
    press(bot, card, "nm_vote_up")
    [vote] = bot.store.feedback()
    assert (vote.user, vote.code, vote.vote, vote.surface, vote.channel, vote.kb_version) == (
        USER, -2004, "up", "command", CHANNEL, kb.version)
    [thanks] = responses(bot)
    assert thanks.body["response_type"] == "ephemeral" and thanks.body["replace_original"] is False
    assert "Thanks for the \U0001f44d" in thanks.body["text"]
    assert bot.posts() == []


def test_one_vote_per_person_per_card(bot):
    card = ask(bot, "-2004")
    press(bot, card, "nm_vote_up")
    press(bot, card, "nm_vote_up")
    press(bot, card, "nm_vote_up", user=OTHER_USER)
    votes = bot.store.feedback()
    assert sorted(v.user for v in votes) == sorted([USER, OTHER_USER])
    assert "now \U0001f44d" in responses(bot)[1].body["text"]  # the repeat is a change of vote, not a second vote


def test_changing_a_vote_keeps_one(bot):
    card = ask(bot, "-2010")
    press(bot, card, "nm_vote_up")
    bot.stub.fail("views.open", "expired_trigger_id")
    press(bot, card, "nm_vote_down")
    [vote] = bot.store.feedback()
    assert vote.vote == "down"


def test_votes_on_a_public_reply_count_per_person(bot):
    event = mention("what does -2004 mean?")
    assert bot.slack.event(event).status == 200
    bot.wait_idle()
    card = posted_card(bot)
    for user in (USER, OTHER_USER):
        press(bot, card, "nm_vote_up", user=user, ephemeral=False, message_ts="1700000001.000100",
              thread_ts=event["ts"])
    votes = bot.store.feedback()
    assert len(votes) == 2 and {v.surface for v in votes} == {"mention"} and len({v.card_id for v in votes}) == 1


# --- thumbs-down -------------------------------------------------------------------------

def test_thumbs_down_opens_the_form_and_the_comment_is_kept_masked(bot):
    card = ask(bot, "calls fail with trunk capacity exceeded")
    press(bot, card, "nm_vote_down")
    [vote] = bot.store.feedback()
    assert (vote.code, vote.vote, vote.comment) == (-2010, "down", "")
    [opened] = bot.stub.calls_to("views.open")
    assert opened.body["trigger_id"] == "tr.1"
    form = opened_form(bot)
    assert form["type"] == "modal" and form["notify_on_close"] is True
    assert responses(bot) == []  # thanked when the form closes, not twice
    # The card that missed is filed with the questions the knowledge base did not answer well.
    [filed] = bot.store.unanswered()
    assert (filed.text, filed.surface, filed.suggestions) == ("calls fail with trunk capacity exceeded", "downvote",
                                                              (-2010,))

    comment = "Nothing about our SIP trunk <!channel>, call me on +6591234567"
    values = {COMMENT_BLOCK: {COMMENT_INPUT: {"type": "plain_text_input", "value": comment}}}
    assert view_submission(bot.slack, form, values).status == 200
    bot.wait_idle()
    [vote] = bot.store.feedback()
    assert vote.vote == "down" and "+6591234567" not in vote.comment and vote.comment.endswith("67")
    assert vote.comment.startswith("Nothing about our SIP trunk <!channel>")  # stored as typed; escaped when shown
    [thanks] = responses(bot)
    assert thanks.body["response_type"] == "ephemeral" and "what was missing" in thanks.body["text"]


def test_skipping_the_form_keeps_the_vote_and_thanks(bot):
    card = ask(bot, "-2004")
    press(bot, card, "nm_vote_down")
    assert view_closed(bot.slack, opened_form(bot)).status == 200
    bot.wait_idle()
    [vote] = bot.store.feedback()
    assert vote.vote == "down" and vote.comment == ""
    [thanks] = responses(bot)
    assert "Thanks for the \U0001f44e" in thanks.body["text"]


def test_thumbs_down_is_thanked_at_once_when_the_form_cannot_open(bot):
    bot.stub.fail("views.open", "expired_trigger_id")
    card = ask(bot, "-2004")
    press(bot, card, "nm_vote_down")
    assert [v.vote for v in bot.store.feedback()] == ["down"]
    [thanks] = responses(bot)
    assert "Thanks for the \U0001f44e" in thanks.body["text"]


def test_a_log_card_that_got_a_thumbs_down_is_not_filed_as_a_question(bot):
    paste = 'level=error sessionId=7d3f errorCode=-2005 errorMsg="Unable to synthesize text to speech"'
    assert bot.slack.event(message(paste)).status == 200
    bot.wait_idle()
    card = posted_card(bot)
    press(bot, card, "nm_vote_down", ephemeral=False)
    assert [(v.code, v.surface) for v in bot.store.feedback()] == [(-2005, "autoreply")]
    assert bot.store.unanswered() == []


@pytest.mark.parametrize("value", ["-2004", "{}", '{"i":"x","c":"-2004","s":"command","k":"1"}', "<!channel>",
                                   '{"i":"a b","c":-2004,"s":"command","k":"1"}'])
def test_forged_vote_values_change_nothing(bot, value):
    card = {"blocks": [{"type": "actions", "elements": [
        {"type": "button", "action_id": "nm_vote_up", "text": {"type": "plain_text", "text": "x"}, "value": value}]}]}
    press(bot, card, "nm_vote_up")
    assert bot.store.feedback() == []
    [notice] = responses(bot)
    assert "could not read that vote" in notice.body["text"]


# --- why this answer? --------------------------------------------------------------------

def test_why_shows_the_matched_phrase_score_and_runner_up_only_to_the_clicker(bot):
    card = ask(bot, "internal connectivity error")
    press(bot, card, "nm_why")
    [why] = responses(bot)
    assert why.body["response_type"] == "ephemeral" and why.body["replace_original"] is False
    text = why.blocks_text
    assert "*Matched*: the " in text and "Internal connectivity" in text and "score 100" in text
    assert "*Runner-up*: `-2001`" in text and "score 69" in text and "a lead of 31" in text
    assert "needs a score of 65 and a lead of 8" in text
    assert bot.posts() == []


def test_why_says_when_no_other_code_came_close(bot):
    press(bot, ask(bot, "no coverage"), "nm_why")
    assert "*Runner-up*: no other code scored 55 or more." in responses(bot)[0].blocks_text


def test_why_for_a_code_says_it_was_exact(bot):
    press(bot, ask(bot, "what does -2004 mean"), "nm_why")
    assert "the code `-2004` appears in the question" in responses(bot)[0].blocks_text


def test_why_for_an_auto_reply_points_at_the_log_line(bot):
    paste = "ts=1 level=info start\nts=2 level=error errorCode=-2005 callee=+6591234567"
    assert bot.slack.event(message(paste)).status == 200
    bot.wait_idle()
    press(bot, posted_card(bot), "nm_why", ephemeral=False)
    assert "found in the log once, first on line 2" in responses(bot)[0].blocks_text


def test_why_echoes_the_question_escaped_and_masked(bot):
    card = ask(bot, "calls fail <!channel> with trunk capacity exceeded +6591234567")
    press(bot, card, "nm_why")
    text = responses(bot)[0].blocks_text
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text
    assert "6591234567" not in text and "\u2022" * 7 + "67" in text


def test_a_forged_why_value_gets_a_notice(bot):
    card = {"blocks": [{"type": "actions", "elements": [
        {"type": "button", "action_id": "nm_why", "text": {"type": "plain_text", "text": "x"},
         "value": '{"code":-2004,"basis":"phrase","evil":1}'}]}]}
    press(bot, card, "nm_why")
    assert "cannot tell why" in responses(bot)[0].body["text"]


# --- what the buttons carry ----------------------------------------------------------------

def test_button_values_stay_within_slacks_limit_whatever_was_asked(kb):
    from nmbot.cards.content import card_for_entry
    from nmbot.engine.resolution import Match, Resolution

    junk = '"\\<>&' * 2000 + " +6591234567"
    runner_up = Match(-2009, 61.0, "phrase", junk, kb.get(-2009))
    resolution = Resolution(junk, Match(-2010, 91.7, "phrase", junk, kb.get(-2010)), runner_up=runner_up)
    why = WhyRef.for_resolution(resolution)
    vote = VoteRef("0123456789ab", -2010, "mention", kb.version, junk)
    assert len(why.encode()) <= 2000 and len(vote.encode()) <= 2000
    assert WhyRef.decode(why.encode()) == why and VoteRef.decode(vote.encode()) == vote
    assert "6591234567" not in why.encode() + vote.encode()
    for entry in kb:  # every card still renders with the feedback buttons
        card_message(card_for_entry(kb, entry), share_button=True, share_thread_ts="1700000000.000100",
                     vote=vote, why=why)
