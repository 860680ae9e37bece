"""`serve()`: the real server in a subprocess, and configuration errors as one clear sentence."""
from __future__ import annotations

import subprocess
from urllib.parse import urlencode

import pytest
from bot_settings import settings_for
from server_process import NMBOT, ServerProcess, clean_env, wait_until_healthy
from slack_requests import SIGNING_SECRET, SlackSender, message
from webapi_stub import APP_TOKEN, BOT_TOKEN

from bot.settings import Settings, SettingsError
from bot.slack.server import serve


def test_serve_http_runs_a_real_server(stub, tmp_path):
    # With state in memory nothing can be shared, so events are answered in the HTTP worker itself.
    env = clean_env(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_API_URL=stub.api_url,
                    NMBOT_DATABASE_URL="memory://", NMBOT_LOG_LEVEL="info")
    server = ServerProcess(env, tmp_path)
    try:
        url = server.wait_for_line(r"Listening at: (http://127\.0\.0\.1:\d+)").group(1)
        assert wait_until_healthy(url)["ok"] is True
        slack = SlackSender(url)
        ack = slack.command("-2008").json()
        assert ack["response_type"] == "ephemeral" and "not whitelisted" in ack["blocks"][0]["text"]["text"]
        assert slack.event(message("errorCode=-2010 on the prod trunk")).status == 200
        [post] = stub.wait_for("chat.postMessage")
        assert "trunk capacity" in post.blocks_text
        bad = slack.post(urlencode({"command": "/nmerror", "text": "-2004"}), "application/x-www-form-urlencoded",
                         signature="v0=bad")
        assert bad.status == 401
    finally:
        code = server.stop()
    assert code == 0
    output = "".join(server.output)
    assert "events are answered in this process" in output and "event worker(s)" not in output
    assert BOT_TOKEN not in output and SIGNING_SECRET not in output
    assert "Traceback" not in output


# --- configuration errors: one sentence naming the variable, never a token ----------------

def test_cli_reports_a_configuration_error_in_one_line(stub, tmp_path):
    env = clean_env(SLACK_BOT_TOKEN="xoxb-wrong-token", SLACK_SIGNING_SECRET=SIGNING_SECRET,
                    SLACK_API_URL=stub.api_url, NMBOT_DATABASE_URL="memory://")
    proc = subprocess.run([*NMBOT, "serve", "--http"], env=env, cwd=tmp_path, capture_output=True, text=True,
                          timeout=30)
    assert proc.returncode != 0 and proc.stdout == ""
    assert proc.stderr.startswith("nmbot: SLACK_BOT_TOKEN was rejected by Slack (invalid_auth)")
    assert proc.stderr.count("\n") == 1 and "xoxb-wrong-token" not in proc.stderr



def fails_with(settings: Settings, *, http: bool) -> str:
    with pytest.raises(SettingsError) as raised:
        serve(settings, http=http)
    text = str(raised.value)
    assert BOT_TOKEN not in text and APP_TOKEN not in text and SIGNING_SECRET not in text
    assert "\n" not in text
    return text


def test_missing_bot_token_names_the_variable_and_the_manifest():
    text = fails_with(Settings.from_env({"SLACK_SIGNING_SECRET": SIGNING_SECRET}), http=True)
    assert text.startswith("SLACK_BOT_TOKEN is not set") and "manifest.yml" in text


def test_http_needs_the_signing_secret(stub):
    settings = Settings.from_env({"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_API_URL": stub.api_url})
    assert fails_with(settings, http=True).startswith("SLACK_SIGNING_SECRET is not set")


def test_socket_mode_without_app_token_points_at_http_too(stub):
    text = fails_with(settings_for(stub), http=False)
    assert text.startswith("SLACK_APP_TOKEN is not set") and "--http" in text


def test_rejected_bot_token(stub, capsys):
    text = fails_with(settings_for(stub, SLACK_BOT_TOKEN="xoxb-wrong-token"), http=True)
    assert text.startswith("SLACK_BOT_TOKEN was rejected by Slack (invalid_auth)")
    captured = capsys.readouterr()
    assert "xoxb-wrong-token" not in captured.out + captured.err + text


def test_rejected_app_token(stub):
    stub.fail("apps.connections.open", "invalid_auth")
    text = fails_with(settings_for(stub, SLACK_APP_TOKEN=APP_TOKEN), http=False)
    assert text.startswith("SLACK_APP_TOKEN was rejected by Slack (invalid_auth)")


def test_unreachable_web_api(stub):
    url = stub.api_url
    stub.stop()
    text = fails_with(settings_for(stub, SLACK_API_URL=url), http=True)
    assert text.startswith("cannot reach Slack's Web API") and "SLACK_API_URL" in text


def test_broken_knowledge_base(stub, tmp_path):
    broken = tmp_path / "kb.yaml"
    broken.write_text("version: 1\nentries: [{code: -2004}]\n")
    text = fails_with(settings_for(stub, NMBOT_KNOWLEDGE=str(broken)), http=True)
    assert "knowledge base cannot be loaded" in text and "NMBOT_KNOWLEDGE" in text


def test_malformed_token_is_caught_before_any_call(stub):
    text = fails_with(settings_for(stub, SLACK_BOT_TOKEN="xapp-swapped"), http=True)
    assert text.startswith("SLACK_BOT_TOKEN does not look right")
    assert stub.calls == []

