"""`serve()`: the real server in a subprocess, and configuration errors as one clear sentence."""
from __future__ import annotations

import socket
import subprocess
from urllib.parse import urlencode

import pytest
from bot_settings import settings_for
from server_process import NMBOT, ServerProcess, clean_env, wait_until_healthy
from slack_requests import SIGNING_SECRET, SlackSender, message
from webapi_stub import APP_TOKEN, BOT_TOKEN

from nmbot.settings import Settings, SettingsError
from nmbot.slack.server import serve
from nmbot.slack.web import worker_app


def test_serve_http_runs_a_real_server(stub, tmp_path):
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
    assert "nmbot is serving Slack's requests" in output and "health and metrics at" not in output  # port 0: off
    assert BOT_TOKEN not in output and SIGNING_SECRET not in output
    assert "Traceback" not in output


# --- configuration errors: one sentence naming the variable, never a token ----------------

def serve_fails(tmp_path, **env: str) -> str:
    """`nmbot serve --http` that cannot start: its standard error, checked to be one line and nothing else."""
    proc = subprocess.run([*NMBOT, "serve", "--http", "--host", "127.0.0.1", "--port", "0"], env=clean_env(**env),
                          cwd=tmp_path, capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.startswith("nmbot: ") and proc.stderr.count("\n") == 1, proc.stderr
    return proc.stderr


def test_cli_reports_a_configuration_error_in_one_line(stub, tmp_path):
    # Each of the two workers checks the token when it starts, and each is refused: one line all the same.
    stderr = serve_fails(tmp_path, SLACK_BOT_TOKEN="xoxb-wrong-token", SLACK_SIGNING_SECRET=SIGNING_SECRET,
                         SLACK_API_URL=stub.api_url, NMBOT_DATABASE_URL="memory://", NMBOT_WEB_WORKERS="2")
    assert stderr.startswith("nmbot: SLACK_BOT_TOKEN was rejected by Slack (invalid_auth)")
    assert "xoxb-wrong-token" not in stderr


def test_cli_reports_a_broken_knowledge_base_in_one_line(stub, tmp_path):
    broken = tmp_path / "kb.yaml"
    broken.write_text("version: 1\nentries: [{code: -2004}]\n")
    stderr = serve_fails(tmp_path, SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET,
                         SLACK_API_URL=stub.api_url, NMBOT_DATABASE_URL="memory://", NMBOT_KNOWLEDGE=str(broken))
    assert "knowledge base cannot be loaded" in stderr and "NMBOT_KNOWLEDGE" in stderr


def test_cli_reports_a_probe_port_in_use_in_one_line(stub, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        stderr = serve_fails(tmp_path, SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET,
                             SLACK_API_URL=stub.api_url, NMBOT_DATABASE_URL="memory://",
                             NMBOT_METRICS_HOST="127.0.0.1", NMBOT_METRICS_PORT=str(taken.getsockname()[1]))
    assert stderr.startswith("nmbot: NMBOT_METRICS_HOST, NMBOT_METRICS_PORT: cannot listen at 127.0.0.1:")
    assert "Address already in use" in stderr



def fails_with(settings: Settings, *, http: bool) -> str:
    """What `serve` says before any server starts (the settings alone), or for Socket Mode."""
    with pytest.raises(SettingsError) as raised:
        serve(settings, http=http)
    return one_line(str(raised.value))


def worker_fails_with(settings: Settings) -> str:
    """What a gunicorn worker says when it cannot start: `nmbot serve --http` prints it alone (see above)."""
    with pytest.raises(SettingsError) as raised:
        worker_app(settings)
    return one_line(str(raised.value))


def one_line(text: str) -> str:
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
    text = worker_fails_with(settings_for(stub, SLACK_BOT_TOKEN="xoxb-wrong-token"))
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
    text = worker_fails_with(settings_for(stub, SLACK_API_URL=url))
    assert text.startswith("cannot reach Slack's Web API") and "SLACK_API_URL" in text


def test_broken_knowledge_base(stub, tmp_path):
    broken = tmp_path / "kb.yaml"
    broken.write_text("version: 1\nentries: [{code: -2004}]\n")
    text = worker_fails_with(settings_for(stub, NMBOT_KNOWLEDGE=str(broken)))
    assert "knowledge base cannot be loaded" in text and "NMBOT_KNOWLEDGE" in text


def test_malformed_token_is_caught_before_any_call(stub):
    text = fails_with(settings_for(stub, SLACK_BOT_TOKEN="xapp-swapped"), http=True)
    assert text.startswith("SLACK_BOT_TOKEN does not look right")
    assert stub.calls == []

