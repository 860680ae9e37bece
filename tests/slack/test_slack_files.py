"""Snippets and shared log files: downloaded with the bot token, size-capped, scanned like a paste."""
from __future__ import annotations

import pytest
from slack_requests import mention, message
from webapi_stub import BOT_TOKEN

LOG = b'2024-06-03T04:15:20Z level=error errorCode=-2010 errorMsg="The trunk capacity has been exceeded"\n'


def share(bot, file: dict, *, text: str = "", event=message) -> dict:
    event = event(text, subtype="file_share", files=[file]) if event is message else event(text, files=[file])
    assert bot.slack.event(event).status == 200
    bot.wait_idle()
    return event


def test_snippet_is_downloaded_with_the_bot_token_and_scanned(bot):
    file = bot.stub.add_file("F1", "Untitled", b"noise\n" * 500 + LOG, mode="snippet")
    event = share(bot, file)
    download = bot.stub.calls_to("file:F1")
    assert len(download) == 1 and download[0].headers["authorization"] == f"Bearer {BOT_TOKEN}"
    [post] = bot.posts()
    assert post.body["thread_ts"] == event["ts"]
    assert "The trunk capacity has been exceeded" in post.blocks_text and "line 501" in post.blocks_text


@pytest.mark.parametrize("name", ["app.log", "session.json", "notes.txt"])
def test_shared_log_files_are_scanned(bot, name):
    share(bot, bot.stub.add_file("F2", name, LOG, filetype="binary", mimetype="application/octet-stream"))
    assert len(bot.posts()) == 1


def test_other_files_are_not_downloaded(bot):
    share(bot, bot.stub.add_file("F3", "screenshot.png", LOG, filetype="png", mimetype="image/png"))
    assert bot.stub.calls_to("file:F3") == [] and bot.posts() == []


def test_file_from_a_shared_channel_is_looked_up_first(bot):
    bot.stub.add_file("F4", "app.log", LOG)
    share(bot, {"id": "F4", "file_access": "check_file_info"})
    assert bot.stub.calls_to("files.info")[0].body["file"] == "F4"
    assert len(bot.stub.calls_to("file:F4")) == 1 and len(bot.posts()) == 1


class TestSizeCap:
    @pytest.fixture
    def bot_env(self):
        return {"NMBOT_MAX_FILE_BYTES": "1000"}

    def test_file_announced_too_large_is_not_downloaded(self, bot):
        share(bot, bot.stub.add_file("F5", "big.log", LOG * 100))
        assert bot.stub.calls_to("file:F5") == [] and bot.posts() == []

    def test_download_stops_at_the_cap_even_if_the_size_was_wrong(self, bot):
        share(bot, bot.stub.add_file("F6", "big.log", b"x" * 5000 + LOG, size=10))
        assert len(bot.stub.calls_to("file:F6")) == 1 and bot.posts() == []

    def test_mention_with_a_too_large_file_says_so(self, bot):
        share(bot, bot.stub.add_file("F7", "big.log", LOG * 100), text="what is in this?", event=mention)
        [post] = bot.posts()
        assert "big.log is larger than 1,000 bytes" in post.blocks_text


def test_failed_download_is_silent_for_a_paste_and_explained_for_a_mention(bot):
    share(bot, bot.stub.add_file("F8", "app.log", LOG, status=500))
    assert bot.posts() == []
    share(bot, bot.stub.add_file("F9", "app.log", LOG, status=500), event=mention)
    [post] = bot.posts()
    assert "I could not download app.log" in post.blocks_text


def test_binary_file_is_not_scanned(bot):
    share(bot, bot.stub.add_file("F10", "core.log", b"\x00\x01-2004\x00" + LOG), event=mention)
    [post] = bot.posts()
    assert "core.log looks binary" in post.blocks_text and "-2010" not in post.body["text"]


def test_mention_with_a_clean_file_says_nothing_was_found(bot):
    share(bot, bot.stub.add_file("F11", "ok.log", b"all good\n"), event=mention)
    [post] = bot.posts()
    assert "found no Number Masking error codes in ok.log" in post.blocks_text


def test_file_codes_and_message_codes_make_one_reply(bot):
    file = bot.stub.add_file("F12", "app.log", LOG)
    share(bot, file, text="also saw errorCode=-2004 earlier")
    [post] = bot.posts()
    assert "found 2 Number Masking error codes" in post.blocks_text
