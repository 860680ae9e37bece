"""Replies in a thread: whether a paste gets one, where it goes, what the journal makes of it; mentions;
a reply removed with a reaction."""
from __future__ import annotations

import logging

import pytest
from replies_stubs import CHANNEL, no_files

from nmbot.replies.answers import FileScan
from nmbot.replies.claims import REFUSED, UNREACHED
from nmbot.replies.threads import Posted, answer_mention, answer_paste, autoreply_mode, remove_reply

LOG = logging.getLogger("test.replies")
PASTE = "level=error errorCode=-2010 callee=+6591234567"
TS = "1700000001.000100"


def paste(text: str = PASTE, *, ts: str = TS, thread_ts: str | None = None, recovered: bool = False) -> Posted:
    return Posted(channel=CHANNEL, ts=ts, text=text, thread_ts=thread_ts, claim=f"msg:{CHANNEL}:{ts}",
                  recovered=recovered)


def test_a_paste_with_a_code_gets_one_reply_in_a_thread_under_it(deps, posts):
    answer_paste(deps, paste(), no_files, posts, LOG)
    [(channel, thread_ts, message, claim)] = posts.sent
    assert (channel, thread_ts, claim) == (CHANNEL, TS, f"msg:{CHANNEL}:{TS}")
    assert "-2010" in str(message["blocks"]) and "6591234567" not in str(message["blocks"])
    assert deps.metrics.replies == [("card", "autoreply")]
    assert deps.usage.rows == [("card", "autoreply", CHANNEL, -2010)]
    assert deps.leases.finished == [(f"msg:{CHANNEL}:{TS}", True, True)]  # settled by the reply naming it


def test_a_message_without_codes_is_silence_settled_at_once(deps, posts):
    answer_paste(deps, paste("lunch?"), no_files, posts, LOG)
    assert posts.sent == [] and deps.metrics.replies == []
    assert deps.leases.finished == [(f"msg:{CHANNEL}:{TS}", True, False)]


def test_a_second_delivery_of_the_same_message_says_nothing_and_leaves_it_to_the_first(deps, posts):
    answer_paste(deps, paste(), no_files, posts, LOG)
    answer_paste(deps, paste(), no_files, posts, LOG)
    assert len(posts.sent) == 1
    assert deps.metrics.deliveries.counts == {("first",): 1, ("duplicate",): 1}
    assert deps.leases.finished[-1] == (f"msg:{CHANNEL}:{TS}", False, False)


def test_a_delivery_taken_up_again_is_answered_though_its_claim_was_taken(deps, posts):
    answer_paste(deps, paste(), no_files, lambda *sent: UNREACHED, LOG)  # the process died before posting
    answer_paste(deps, paste(recovered=True), no_files, posts, LOG)
    assert len(posts.sent) == 1


def test_a_code_explained_in_a_thread_is_not_explained_again_there(deps, posts):
    answer_paste(deps, paste(), no_files, posts, LOG)
    answer_paste(deps, paste(ts="1700000002.000100", thread_ts=TS), no_files, posts, LOG)
    assert len(posts.sent) == 1
    assert deps.leases.finished[-1] == (f"msg:{CHANNEL}:1700000002.000100", True, False)


def test_a_paste_in_a_thread_is_answered_in_that_thread(deps, posts):
    answer_paste(deps, paste(ts="1700000002.000100", thread_ts=TS), no_files, posts, LOG)
    assert posts.sent[0][1] == TS


@pytest.mark.parametrize("result, finished", [(REFUSED, (True, False)), (UNREACHED, (False, False))])
def test_a_post_slack_refused_is_settled_and_one_that_never_arrived_is_left_for_recovery(deps, posts, result,
                                                                                         finished):
    posts.result = result
    answer_paste(deps, paste(), no_files, posts, LOG)
    assert deps.leases.finished == [(f"msg:{CHANNEL}:{TS}", *finished)]
    assert deps.metrics.replies == []  # nobody saw it


def test_shadow_mode_records_what_it_would_have_said_and_posts_nothing(deps, posts):
    deps.store.update_channel_settings(CHANNEL, autoreply="shadow")
    answer_paste(deps, paste(), no_files, posts, LOG)
    assert posts.sent == []
    assert deps.metrics.replies == [("card", "shadow")] and deps.usage.rows == [("card", "shadow", CHANNEL, -2010)]


def test_muted_and_off_channels_and_quiet_threads_get_no_auto_reply(deps, posts):
    deps.store.update_channel_settings("C1", autoreply="off")
    deps.store.update_channel_settings("C2", muted_until=deps.store.now() + 3600)
    deps.store.quiet_thread(CHANNEL, TS)
    assert autoreply_mode(deps, "C1", None) == autoreply_mode(deps, "C2", None) == "off"
    assert autoreply_mode(deps, CHANNEL, TS) == "off" and autoreply_mode(deps, CHANNEL, None) == "on"
    answer_paste(deps, paste(ts="1700000002.000100", thread_ts=TS), no_files, posts, LOG)
    assert posts.sent == []


def test_a_state_store_that_is_down_costs_nobody_their_reply(deps, posts):
    deps.store.close()
    answer_paste(deps, paste(), no_files, posts, LOG)
    assert len(posts.sent) == 1


def test_codes_in_the_text_and_the_files_are_one_reply_with_the_notes_of_files_left_unread(deps, posts, kb):
    files = FileScan(findings=[deps.scanner.scan_text("errorCode=-2004\nerrorCode=-2010")], read=["app.log"],
                     notes=["big.log is larger than 2.0 MB, so I did not read it."])
    answer_paste(deps, paste(), lambda: files, posts, LOG)
    [(_, _, message, _)] = posts.sent
    assert deps.metrics.replies == [("summary", "autoreply")]
    assert sorted(code for _, _, _, code in deps.usage.rows) == [-2010, -2004]
    assert "big.log is larger" in str(message["blocks"])


def mention(text: str, ts: str = TS) -> Posted:
    return Posted(channel=CHANNEL, ts=ts, text=text, claim=f"msg:{CHANNEL}:{ts}")


def test_a_mention_always_gets_an_answer_with_the_question_kept_when_unsure(deps, posts):
    answer_mention(deps, mention("<@U0000BOT> is lunch ready?"), no_files, posts, LOG)
    [(_, thread_ts, message, _)] = posts.sent
    assert thread_ts == TS and message["text"].startswith("I'm not sure")
    assert deps.metrics.replies == [("not_sure", "mention")]
    assert [q["text"] for q in deps.usage.questions] == ["is lunch ready?"]


def test_a_mention_answered_starts_the_cool_down_of_its_codes_in_the_thread(deps, posts):
    answer_mention(deps, mention("<@U0000BOT> what does -2010 mean?"), no_files, posts, LOG)
    answer_paste(deps, paste(ts="1700000002.000100", thread_ts=TS), no_files, posts, LOG)
    assert len(posts.sent) == 1 and deps.metrics.replies == [("card", "mention")]


def test_a_mention_alone_gets_help_and_one_with_an_unreadable_file_says_why(deps, posts):
    answer_mention(deps, mention("<@U0000BOT>"), no_files, posts, LOG)
    unread = FileScan(notes=["app.log looks binary, so I did not read it."])
    answer_mention(deps, mention("<@U0000BOT>", ts="1700000002.000100"), lambda: unread, posts, LOG)
    assert [kind for kind, _ in deps.metrics.replies] == ["help", "no_codes"]
    assert "looks binary" in str(posts.sent[1][2]["blocks"])


def test_a_mention_whose_answer_fails_gets_an_apology(deps, posts, caplog):
    def broken() -> FileScan:
        raise RuntimeError("boom")

    answer_mention(deps, mention("<@U0000BOT> -2004"), broken, posts, LOG)
    [(_, _, message, _)] = posts.sent
    assert "Something went wrong on my side" in message["text"] and "boom" not in str(message)
    assert "could not answer a mention" in caplog.text


def test_a_duplicate_mention_is_not_answered_twice(deps, posts):
    answer_mention(deps, mention("<@U0000BOT> -2004"), no_files, posts, LOG)
    answer_mention(deps, mention("<@U0000BOT> -2004"), no_files, posts, LOG)
    assert len(posts.sent) == 1 and deps.leases.finished[-1][1:] == (False, False)


def test_a_removed_reply_keeps_its_thread_quiet(deps):
    done = []
    remove_reply(deps, "event:Ev1", CHANNEL, "1700000009.000100", lambda: TS, lambda: done.append("deleted"), LOG)
    remove_reply(deps, "event:Ev1", CHANNEL, "1700000009.000100", lambda: TS, lambda: done.append("deleted"), LOG)
    assert done == ["deleted"]  # the second delivery of the same reaction does nothing
    assert deps.store.is_thread_quiet(CHANNEL, TS)
    assert deps.usage.rows == [("removed", "reaction", CHANNEL, None)]
