"""Buttons and votes: what the clicker is shown, what is shared, what the store keeps."""
from __future__ import annotations

import logging

from replies_stubs import CHANNEL, USER

from nmbot.replies.clicks import answer_why, open_card, share_card
from nmbot.replies.kinds import Vote
from nmbot.replies.refs import VoteRef, WhyRef
from nmbot.replies.votes import form_closed, record_comment, record_vote

LOG = logging.getLogger("test.replies")


class Responses:
    """`respond(**message) -> bool` as the listener passes it (True: Slack took it)."""

    def __init__(self, took: bool = True) -> None:
        self.sent: list[dict] = []
        self.took = took

    def __call__(self, **message) -> bool:
        self.sent.append(message)
        return self.took


def test_a_suggestion_opens_the_card_privately_and_counts_it_once_slack_took_it(deps):
    respond = Responses()
    open_card(deps, -2004, channel=CHANNEL, thread_ts="1.2", replace=True, respond=respond)
    [shown] = respond.sent
    assert (shown["response_type"], shown["replace_original"]) == ("ephemeral", True)
    assert "No coverage available" in str(shown["blocks"])
    assert deps.usage.rows == [("card", "button", CHANNEL, -2004)]
    open_card(deps, -2004, channel=CHANNEL, thread_ts=None, replace=False, respond=Responses(took=False))
    assert len(deps.usage.rows) == 1


def test_a_code_gone_from_the_knowledge_base_says_so(deps):
    respond = Responses()
    open_card(deps, -424242, channel=CHANNEL, thread_ts=None, replace=False, respond=respond)
    [shown] = respond.sent
    assert shown["replace_original"] is False and "not in the knowledge base any more" in shown["text"]


def share(deps, posted: list, respond: Responses, *, click=("T1", "1.1"), post_ok: bool = True) -> None:
    def post(message: dict) -> bool:
        posted.append(message)
        return post_ok

    share_card(deps, -2004, user=USER, channel=CHANNEL, private=True, click=click, post=post, respond=respond,
               logger=LOG)


def test_a_shared_card_names_who_shared_it_and_the_private_copy_goes(deps):
    posted, respond = [], Responses()
    share(deps, posted, respond)
    [message] = posted
    assert f"<@{USER}>" in str(message["blocks"])
    assert respond.sent == [{"delete_original": True}]
    assert deps.usage.rows == [("share", "button", CHANNEL, -2004)]


def test_a_replayed_share_click_is_ignored_and_a_failed_share_counts_nothing(deps):
    posted, respond = [], Responses()
    share(deps, posted, respond)
    share(deps, posted, respond)  # the same trigger_id and action_ts: a replay
    assert len(posted) == 1
    share(deps, posted, Responses(), click=("T2", "2.2"), post_ok=False)
    assert len(posted) == 2 and len(deps.usage.rows) == 1


def test_why_shows_what_matched_or_says_it_cannot_tell(deps):
    respond = Responses()
    answer_why(deps, WhyRef(code=-2004, basis="code", matched="-2004"), respond)
    answer_why(deps, None, respond)
    assert "-2004" in str(respond.sent[0]["blocks"]) and "cannot tell why" in respond.sent[1]["text"]
    assert all(m["response_type"] == "ephemeral" and m["replace_original"] is False for m in respond.sent)


REF = VoteRef("a1b2c3d4e5f6", -2004, "mention", "2026.1", "why does my call drop")


def vote(deps, vote: Vote, ref: VoteRef | None = REF, *, form: bool = False) -> Responses:
    respond, forms = Responses(), []

    def open_form(ref: VoteRef, first: bool) -> bool:
        forms.append((ref, first))
        return form

    record_vote(deps, ref, vote, user=USER, channel=CHANNEL, respond=respond, open_form=open_form, logger=LOG)
    return respond


def test_a_thumbs_up_is_kept_once_per_person_and_thanked(deps):
    assert "Thanks" in vote(deps, Vote.UP).sent[0]["text"]
    vote(deps, Vote.UP)
    [kept] = deps.store.feedback()
    assert (kept.vote, kept.code, kept.surface, kept.channel) == ("up", -2004, "mention", CHANNEL)


def test_a_thumbs_down_files_the_question_and_opens_the_form_which_thanks_later(deps):
    assert vote(deps, Vote.DOWN, form=True).sent == []
    [filed] = deps.store.unanswered()
    assert (filed.text, filed.surface, filed.suggestions) == ("why does my call drop", "downvote", (-2004,))
    thanks: list[dict] = []
    record_comment(deps, REF, user=USER, channel=CHANNEL, comment="the steps", first=True, thank=thanks.append,
                   logger=LOG)
    form_closed(True, thanks.append)
    [kept] = deps.store.feedback()
    assert (kept.vote, kept.comment) == ("down", "the steps") and len(thanks) == 2


def test_a_thumbs_down_whose_form_will_not_open_is_thanked_at_once(deps):
    assert "Thanks" in vote(deps, Vote.DOWN, form=False).sent[0]["text"]


def test_an_unreadable_vote_or_a_store_that_is_down_says_so(deps):
    assert "could not read that vote" in vote(deps, Vote.UP, ref=None).sent[0]["text"]
    deps.store.close()
    assert "could not record your vote" in vote(deps, Vote.UP).sent[0]["text"]
