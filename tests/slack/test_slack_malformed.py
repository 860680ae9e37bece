"""Requests signed with the signing secret but shaped as Slack never sends them, replayed clicks, and
start-up errors: a 400 and one log line (never a 500 or a traceback), one share per click, no secret echoed."""
from __future__ import annotations

import json
import logging
import subprocess
import time
from urllib.parse import urlencode

import pytest
from helpers import poll_until
from server_process import NMBOT, ServerProcess, bot_env, clean_env
from slack_interactions import interaction
from slack_requests import CHANNEL, SIGNING_SECRET, USER, SlackSender, message, raw_request
from webapi_stub import BOT_TOKEN

from nmbot.cards.action_ids import FEEDBACK_MODAL, SHARE_CARD
from nmbot.logs import RedactingFilter
from nmbot.settings import Settings, SettingsError
from nmbot.slack.payloads import REFUSED_REASON

REFUSED = "refused a signed request Slack would not send"
PASTE = "level=error errorCode=-2010 callee=+6591234567"


def warnings_of(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def assert_refused_in_one_line(bot, caplog, response, field: str) -> None:
    assert response.status == 400, response
    bot.wait_idle()
    [line] = warnings_of(caplog)
    assert line.startswith(REFUSED) and field in line
    assert "Traceback" not in caplog.text
    assert bot.posts() == [] and bot.stub.calls_to("response:r1") == []
    assert bot.wsgi.deps.metrics.refused.value(reason=REFUSED_REASON) == 1


def clicked(action: dict | None = None, **payload) -> dict:
    """A block_actions payload as Slack sends it for a button, with `payload`'s fields replaced."""
    button = {"action_id": SHARE_CARD, "block_id": "b1", "type": "button", "action_ts": "1700000000.100",
              "text": {"type": "plain_text", "text": "Share in channel"}, "value": "-2004", **(action or {})}
    return {
        "type": "block_actions", "user": {"id": USER, "username": "pat", "team_id": "T0001"}, "api_app_id": "A0001",
        "token": "legacy", "trigger_id": "1700000000.1.abc", "team": {"id": "T0001", "domain": "test"},
        "container": {"type": "message", "message_ts": "1700000000.000001", "channel_id": CHANNEL,
                      "is_ephemeral": True},
        "channel": {"id": CHANNEL, "name": "support"}, "actions": [button], **payload,
    }


def submitted(**view) -> dict:
    """A view_submission of the feedback form, with `view`'s fields replaced."""
    return {
        "type": "view_submission", "team": {"id": "T0001", "domain": "test"},
        "user": {"id": USER, "username": "pat", "team_id": "T0001"}, "api_app_id": "A0001", "token": "legacy",
        "trigger_id": "tr.2", "response_urls": [],
        "view": {"id": "V0001", "team_id": "T0001", "type": "modal", "callback_id": FEEDBACK_MODAL,
                 "private_metadata": "{}", "state": {"values": {}}, **view},
    }


# --- interactions --------------------------------------------------------------------------

def test_a_click_without_actions_gets_a_400_and_one_line(bot, caplog):
    response = interaction(bot.slack, clicked(actions=[], response_url=bot.stub.response_url()))
    assert_refused_in_one_line(bot, caplog, response, "actions is empty")
    assert bot.slack.command("-2004").status == 200  # and the app is fine


def test_a_form_whose_state_is_a_string_gets_a_400_and_one_line(bot, caplog):
    response = interaction(bot.slack, submitted(state="{}"))
    assert_refused_in_one_line(bot, caplog, response, "view.state is a string, not an object")
    assert bot.store.feedback() == []


@pytest.mark.parametrize("payload,field", [
    (clicked(actions="nm_share_card"), "actions is a string"),
    (clicked(actions=[{"block_id": "b1"}]), "actions[0].action_id is missing"),
    (clicked(action={"action_id": 7}), "actions[0].action_id is a number"),
    (clicked(action={"value": ["-2004"]}), "actions[0].value is a list"),
    (clicked(user="U0000USER"), "user is a string"),
    (clicked(container=["C1"]), "container is a list"),
    (clicked(trigger_id=5), "trigger_id is a number"),
    (submitted(type=None), "view.type is missing"),
    (submitted(state={"values": {"b1": "x"}}), "view.state.values.* is a string"),
    (submitted(type="workflow_step"), "Bolt cannot read it (to_step"),
    ({**submitted(), "view": "modal"}, "view is a string"),
    ({"type": "message_action", "callback_id": "explain_error_codes", "message": "errorCode=-2004"},
     "message is a string"),
    ({"type": "interactive_message", "callback_id": "x", "actions": []}, "actions is empty"),
], ids=["actions-string", "no-action-id", "action-id-number", "value-list", "user-string", "container-list",
        "trigger-number", "view-no-type", "values-string", "workflow-step", "view-string", "shortcut-message",
        "attachment-no-actions"])
def test_other_impossible_interactions_get_a_400_and_one_line(bot, caplog, payload, field):
    assert_refused_in_one_line(bot, caplog, interaction(bot.slack, payload), field)


def test_a_command_with_a_json_body_of_the_wrong_types_gets_a_400(bot, caplog):
    body = json.dumps({"command": "/nmerror", "text": {"q": "-2004"}, "channel_id": CHANNEL})
    assert_refused_in_one_line(bot, caplog, bot.slack.post(body, "application/json"), "text is an object")


# --- events ----------------------------------------------------------------------------------

def without(event: dict, name: str) -> dict:
    return {k: v for k, v in event.items() if k != name}


def mentioning(**fields) -> dict:
    event = {**message("<@U0000BOT> errorCode=-2004"), "type": "app_mention", **fields}
    event.pop("channel_type")
    return event


@pytest.mark.parametrize("event,field", [
    (message(12345), "event.text is a number"),
    (message({"text": "errorCode=-2004"}), "event.text is an object"),
    (without(message("errorCode=-2010 trunk"), "channel"), "event.channel is missing"),
    (message("errorCode=-2010 trunk", channel=[CHANNEL]), "event.channel is a list"),
    (message("errorCode=-2010 trunk", ts=1700000000.5), "event.ts is a number"),
    ("errorCode=-2004", "event is a string"),
    ({"text": "errorCode=-2004"}, "event.type is missing"),
    (mentioning(text=5), "event.text is a number"),
    (without(mentioning(), "channel"), "event.channel is missing"),
    (mentioning(channel={"id": CHANNEL}), "event.channel is an object"),
    ({"type": "reaction_added", "user": USER, "reaction": ["x"], "item": {"type": "message"}},
     "event.reaction is a list"),
    ({"type": "reaction_added", "user": USER, "reaction": "x", "item": "1700000000.000100"}, "event.item is a string"),
    ({"type": "app_home_opened", "user": {"id": USER}, "tab": "home"}, "event.user is an object"),
], ids=["text-number", "text-object", "no-channel", "channel-list", "ts-number", "event-string", "event-no-type",
        "mention-text-number", "mention-no-channel", "mention-channel-object", "reaction-list", "item-string",
        "home-user-object"])
def test_an_event_of_the_wrong_types_is_refused_in_one_line_and_never_answered(bot, caplog, event, field):
    assert_refused_in_one_line(bot, caplog, bot.slack.event(event), field)


def test_events_slack_sends_without_the_optional_fields_still_pass(bot, caplog):
    assert bot.slack.event(message(None, subtype="channel_join")).status == 200
    assert bot.slack.event({"type": "app_home_opened", "user": USER}).status == 200
    assert bot.slack.event(message("errorCode=-2010 on the prod trunk", thread_ts=None, files=None)).status == 200
    bot.wait_idle()
    [post] = bot.posts()
    assert "-2010" in post.blocks_text
    assert warnings_of(caplog) == []


def test_the_real_server_refuses_each_impossible_event_in_one_line(stub, tmp_path):
    """The production path: gunicorn, Bolt's WSGI handler and its listener threads."""
    server = ServerProcess(bot_env(stub), tmp_path)
    try:
        slack = SlackSender(server.start())
        bad = {"event.text is a number": message(12345), "event.channel is a list": message(PASTE, channel=["C1"]),
               "event.channel is missing": without(message(PASTE), "channel"), "event is a string": "x"}
        for event in bad.values():
            assert slack.event(event).status == 400
        assert slack.event(message(PASTE)).status == 200
        [post] = stub.wait_for("chat.postMessage")
        assert "-2010" in post.blocks_text
        poll_until(lambda: server.text.count(REFUSED) >= len(bad), "a line for each refused event")
        click = urlencode({"payload": json.dumps(clicked(actions=[]))})
        assert slack.post(click, "application/x-www-form-urlencoded").status == 400
        poll_until(lambda: server.text.count(REFUSED) > len(bad), "a line for the refused click")
    finally:
        code = server.stop()
    assert code == 0
    for field in [*bad, "actions is empty"]:
        assert server.text.count(f"{REFUSED}: {field}") == 1, server.text
    assert "Traceback" not in server.text and len(stub.calls_to("chat.postMessage")) == 1


# --- a body sent in chunks ---------------------------------------------------------------------

def test_a_signed_chunked_body_is_read_or_refused_as_needing_a_length(stub, tmp_path):
    server = ServerProcess(bot_env(stub, NMBOT_DATABASE_URL="memory://"), tmp_path)
    try:
        url = server.start()
        body = urlencode({"command": "/nmerror", "text": "-2004", "channel_id": CHANNEL, "user_id": USER,
                          "response_url": stub.response_url(), "trigger_id": "1.2.3"}).encode()
        timestamp = str(int(time.time()))
        signature = SlackSender(url).verifier.generate_signature(timestamp=timestamp, body=body.decode())
        head = ("POST /slack/events HTTP/1.1\r\nHost: test\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                f"Transfer-Encoding: chunked\r\nX-Slack-Request-Timestamp: {timestamp}\r\n"
                f"X-Slack-Signature: {signature}\r\nConnection: close\r\n\r\n")
        chunks = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (body[:40], body[40:])) + b"0\r\n\r\n"
        status = raw_request(url, head, chunks)
    finally:
        server.stop()
    assert status.split(" ", 2)[1] in ("200", "411"), status


# --- a replayed click ------------------------------------------------------------------------

def share_click(bot, **payload) -> dict:
    return clicked(response_url=bot.stub.response_url(), **payload)


def test_a_replayed_share_click_posts_the_card_once(bot):
    body = urlencode({"payload": json.dumps(share_click(bot))})
    signed_at = int(time.time())
    for _ in range(3):  # the very same request, signature included, as a replay sends it
        assert bot.slack.post(body, "application/x-www-form-urlencoded", timestamp=signed_at).status == 200
    bot.wait_idle()
    [post] = bot.posts()
    assert f"Shared by <@{USER}>" in post.blocks_text
    assert [(e.kind, e.code) for e in bot.store.events()] == [("share", -2004)]
    [deleted] = bot.stub.calls_to("response:r1")  # the private copy is removed once too
    assert deleted.body["delete_original"] is True


def test_two_clicks_on_share_post_twice(bot):
    first = share_click(bot, trigger_id="1700000000.1.abc")
    second = share_click(bot, trigger_id="1700000009.2.def", action={"action_ts": "1700000009.200"})
    for payload in (first, second, first):
        assert interaction(bot.slack, payload).status == 200
        bot.wait_idle()
    assert len(bot.posts()) == 2


def test_a_share_click_still_posts_while_the_store_is_down(bot):
    bot.store.close()
    assert interaction(bot.slack, share_click(bot)).status == 200
    bot.executor.wait_idle()
    [post] = bot.posts()
    assert f"Shared by <@{USER}>" in post.blocks_text


# --- SLACK_API_URL in a start-up error ----------------------------------------------------------

SECRET_URL = "http://user:secretpass@127.0.0.1:1/api/?token=abc"


def test_a_start_up_failure_masks_the_api_urls_credentials_and_query(tmp_path):
    env = clean_env(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_API_URL=SECRET_URL,
                    NMBOT_DATABASE_URL="memory://")
    proc = subprocess.run([*NMBOT, "serve", "--http"], env=env, cwd=tmp_path, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode != 0
    # One line, ours: slack_sdk's own lines about the retried auth.test stay out of a start-up error.
    assert proc.stderr.count("\n") == 1, proc.stderr
    last = proc.stderr.splitlines()[-1]
    assert last.startswith("nmbot: cannot reach Slack's Web API at http://user:***@127.0.0.1:1/api/?*** (")
    assert "secretpass" not in proc.stderr and "abc" not in proc.stderr


def test_an_api_url_that_is_not_http_is_refused_with_its_secrets_masked():
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({"SLACK_API_URL": "htps://user:secretpass@slack.example/api/?token=abc"})
    text = str(raised.value)
    assert text.startswith("SLACK_API_URL must be an http(s) URL") and "htps://user:***@slack.example" in text
    assert "secretpass" not in text and "abc" not in text


def test_slack_sdks_line_about_a_retried_request_is_logged_with_the_api_urls_secrets_masked():
    # While serving, slack_sdk's own lines about retried requests still reach the log: with the URL masked.
    record = logging.LogRecord("slack_sdk.web.base_client", logging.INFO, __file__, 1,
                               "Going to retry the same request: %s %s", ("POST", SECRET_URL.partition("?")[0] +
                                                                         "auth.test"), None)
    RedactingFilter(urls=[SECRET_URL]).filter(record)
    assert record.getMessage() == "Going to retry the same request: POST http://user:***@127.0.0.1:1/api/auth.test"
