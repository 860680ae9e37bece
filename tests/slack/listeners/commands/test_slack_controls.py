"""Channel controls over real HTTP: /nmerror autoreply and mute, and a reaction that removes a reply."""
from __future__ import annotations

import threading
import time
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from slack_interactions import reaction
from slack_requests import CHANNEL, USER, SlackSender, mention, message

from nmbot.settings import Settings
from nmbot.slack.web import create_wsgi_app
from nmbot.store import open_store

PASTE = 'level=error sessionId=7d3f errorCode=-2005 errorMsg="Unable to synthesize text to speech"'
OTHER_PASTE = 'level=error sessionId=9a1c errorCode=-2010 errorMsg="The trunk capacity has been exceeded"'
OTHER_CHANNEL = "C0000OTHER"


def command(bot, text: str, **kwargs) -> dict:
    response = bot.slack.command(text, **kwargs)
    assert response.status == 200
    bot.wait_idle()
    return response.json()


def paste(bot, sender: SlackSender | None = None, text: str = PASTE, **kwargs) -> list:
    """Post a log as a person would; the bot's posts afterwards."""
    assert (sender or bot.slack).event(message(text, **kwargs)).status == 200
    bot.wait_idle()
    return bot.posts()


# --- autoreply ---------------------------------------------------------------------------

def test_autoreply_off_is_announced_with_who_and_silences_pastes_but_not_mentions(bot):
    body = command(bot, "autoreply off")
    assert body["response_type"] == "in_channel"
    assert f"<@{USER}> turned auto-replies *off*" in body["blocks"][0]["text"]["text"]
    assert bot.store.channel_settings(CHANNEL).autoreply == "off"
    assert paste(bot) == []
    assert bot.slack.event(mention("-2004")).status == 200
    bot.wait_idle()
    assert len(bot.posts()) == 1
    assert paste(bot, channel=OTHER_CHANNEL) != []  # per channel


def test_autoreply_shadow_records_what_it_would_have_said(bot):
    assert command(bot, "autoreply shadow")["response_type"] == "in_channel"
    assert paste(bot) == []
    assert [(e.surface, e.code) for e in bot.store.events()] == [("shadow", -2005)]


def test_autoreply_on_again(bot):
    command(bot, "autoreply off")
    command(bot, "AutoReply ON")
    assert len(paste(bot)) == 1


def test_autoreply_alone_shows_the_setting_privately(bot):
    command(bot, "autoreply shadow")
    body = command(bot, "autoreply")
    assert body["response_type"] == "ephemeral" and "*shadow*" in body["blocks"][0]["text"]["text"]


def test_a_bad_autoreply_word_changes_nothing(bot):
    body = command(bot, "autoreply sometimes")
    assert body["response_type"] == "ephemeral" and "autoreply: use `/nmerror autoreply on`" in body["text"]
    assert bot.store.channel_settings(CHANNEL).autoreply == "on"


# --- mute --------------------------------------------------------------------------------

def test_mute_pauses_auto_replies_for_the_duration(bot):
    before = time.time()
    body = command(bot, "mute 2h")
    assert body["response_type"] == "in_channel"
    text = body["blocks"][0]["text"]["text"]
    assert f"<@{USER}> muted my auto-replies in this channel for 2 hours" in text and "<!date^" in text
    muted_until = bot.store.channel_settings(CHANNEL).muted_until
    assert before + 7200 <= muted_until <= time.time() + 7200
    assert paste(bot) == []
    assert bot.slack.event(mention("-2004")).status == 200  # asking still works
    bot.wait_idle()
    assert len(bot.posts()) == 1


def test_mute_off_ends_it(bot):
    command(bot, "mute 30m")
    body = command(bot, "mute off")
    assert body["response_type"] == "in_channel" and "ended the mute" in body["blocks"][0]["text"]["text"]
    assert bot.store.channel_settings(CHANNEL).muted_until is None
    assert len(paste(bot)) == 1


def test_an_expired_mute_lets_auto_replies_back(bot):
    bot.store.update_channel_settings(CHANNEL, muted_until=time.time() - 1)
    assert len(paste(bot)) == 1


@pytest.mark.parametrize("text", ["mute", "mute soon", "mute 2 hours please", "mute -2h", "mute 0m"])
def test_a_bad_duration_is_explained(bot, text):
    body = command(bot, text)
    assert body["response_type"] == "ephemeral"
    assert body["text"].startswith("mute: use a duration such as 30m, 2h or 1d")
    assert bot.store.channel_settings(CHANNEL).muted_until is None


def test_a_mute_longer_than_a_month_points_at_autoreply_off(bot):
    body = command(bot, "mute 45d")
    assert "at most 30d" in body["text"] and "/nmerror autoreply off" in body["text"]


def test_a_store_outage_is_said_and_nothing_pretends_to_change(bot):
    bot.store.close()
    body = command(bot, "autoreply off")
    assert body["response_type"] == "ephemeral" and "nothing changed" in body["text"]


def test_control_words_inside_a_question_are_still_a_question(bot):
    body = command(bot, "why does autoreply mute fail -2004")
    assert body["blocks"][0]["type"] == "header"


# --- settings survive restarts and are shared across replicas ----------------------------

class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def database(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'nmbot.sqlite3'}"


@pytest.fixture
def bot_store(database):
    return open_store(database)


@pytest.fixture
def replica(bot, database, kb):
    """A second app on the same database, as another replica or the bot after a restart."""
    from slack_requests import SIGNING_SECRET
    from webapi_stub import BOT_TOKEN

    settings = Settings.from_env({"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                                  "SLACK_API_URL": bot.stub.api_url, "NMBOT_DATABASE_URL": database})
    wsgi = create_wsgi_app(settings, kb=kb, listener_executor=bot.executor)  # opens its own store
    server = make_server("127.0.0.1", 0, wsgi, server_class=_Server, handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield SlackSender(f"http://127.0.0.1:{server.server_port}")
    finally:
        bot.wait_idle()
        server.shutdown()
        server.server_close()
        wsgi.close()


def test_settings_are_shared_through_the_state_store(bot, replica):
    command(bot, "autoreply off")
    assert paste(bot, replica) == []  # the other replica keeps quiet too
    assert replica.command("mute 1h").status == 200
    bot.wait_idle()
    assert bot.store.channel_settings(CHANNEL).muted_until is not None


# --- a reaction removes a reply ------------------------------------------------------------

def reply_to_a_paste(bot) -> tuple[dict, str]:
    """A person's paste and the ts of the bot's threaded reply to it."""
    event = message(PASTE)
    assert bot.slack.event(event).status == 200
    bot.wait_idle()
    [post] = bot.posts()
    assert post.body["thread_ts"] == event["ts"]
    [reply_ts] = [ts for ts, thread in bot.stub.threads.items() if thread == event["ts"]]
    return event, reply_ts


@pytest.mark.parametrize("name", ["x", "negative_squared_cross_mark"])
def test_a_cross_removes_the_reply_and_the_thread_stays_quiet(bot, name):
    event, reply_ts = reply_to_a_paste(bot)
    assert bot.slack.event(reaction(name, reply_ts)).status == 200
    bot.wait_idle()
    [deleted] = bot.stub.calls_to("chat.delete")
    assert (deleted.body["channel"], deleted.body["ts"]) == (CHANNEL, reply_ts)
    assert bot.store.is_thread_quiet(CHANNEL, event["ts"])
    # A new paste in that thread gets no auto-reply (a code not explained there yet, so no cool-down
    # hides it); elsewhere in the channel it still does.
    assert len(paste(bot, text=OTHER_PASTE, thread_ts=event["ts"])) == 1
    assert len(paste(bot)) == 2
    assert [e.kind for e in bot.store.events()].count("removed") == 1


def test_other_reactions_and_other_peoples_messages_are_left_alone(bot):
    _, reply_ts = reply_to_a_paste(bot)
    assert bot.slack.event(reaction("thumbsup", reply_ts)).status == 200
    assert bot.slack.event(reaction("x", "1700001999.000200", item_user=USER)).status == 200
    bot.wait_idle()
    assert bot.stub.calls_to("chat.delete") == []


def test_a_retried_reaction_deletes_once(bot):
    _, reply_ts = reply_to_a_paste(bot)
    for retry in (None, 1):
        assert bot.slack.event(reaction("x", reply_ts), event_id="EvCROSS1", retry=retry).status == 200
        bot.wait_idle()
    assert len(bot.stub.calls_to("chat.delete")) == 1


def test_the_thread_stays_quiet_even_if_the_delete_fails(bot):
    event, reply_ts = reply_to_a_paste(bot)
    bot.stub.fail("chat.delete", "message_not_found")
    assert bot.slack.event(reaction("x", reply_ts)).status == 200
    bot.wait_idle()
    assert bot.store.is_thread_quiet(CHANNEL, event["ts"])
