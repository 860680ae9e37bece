"""The bot's log output (bot/logs.py): JSON lines, and the redaction every handler gets.

A real server's log lines, redacted as they come from gunicorn, Bolt and slack_sdk, are checked end to end in
tests/slack/test_slack_ops.py.
"""
from __future__ import annotations

import io
import json
import logging

from nmbot import logs
from nmbot.settings import Settings

BOT_TOKEN = "xoxb-test-0000-secret"
SIGNING_SECRET = "test-signing-secret-0000"


def test_the_redacting_filter_covers_messages_tracebacks_and_context():
    settings = Settings.from_env({"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                                  "NMBOT_LOG_FORMAT": "json"})
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    handler.addFilter(logs.RedactingFilter(logs.secrets_of(settings)))
    log = logging.getLogger("test.redaction")
    log.addHandler(handler)
    log.propagate = False
    try:
        log.warning("secret %s and user token %s", SIGNING_SECRET, "xoxp-1234-5678-abcdef",
                    extra={"caller": "+6591234567"})
        try:
            raise RuntimeError(f"failed with {BOT_TOKEN} for 6591234567")
        except RuntimeError:
            log.exception("boom")
    finally:
        log.removeHandler(handler)
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["message"] == "secret [redacted] and user token [redacted]"
    assert first["caller"].startswith("+\u2022") and first["caller"].endswith("67")
    assert "RuntimeError: failed with [redacted] for \u2022" in second["exception"]
    assert BOT_TOKEN not in stream.getvalue() and "6591234567" not in stream.getvalue()


def test_configuring_again_leaves_a_callers_handler_one_redaction_with_the_new_secrets():
    root, sdk = logging.getLogger(), logging.getLogger("slack_sdk.web.base_client")
    stream, sdk_level = io.StringIO(), sdk.level
    handler = logging.StreamHandler(stream)  # set up before the bot's, as a test or an embedding program does
    root.addHandler(handler)
    try:
        logs.configure(Settings.from_env({"SLACK_SIGNING_SECRET": "an-old-secret-0000"}))
        logs.configure(Settings.from_env({"SLACK_SIGNING_SECRET": SIGNING_SECRET}))
        assert len([f for f in handler.filters if isinstance(f, logs.RedactingFilter)]) == 1
        logging.getLogger("test.configure").warning("secret %s", SIGNING_SECRET)
    finally:
        root.removeHandler(handler)
        for each in root.handlers:
            for redactor in [f for f in each.filters if isinstance(f, logs.RedactingFilter)]:
                each.removeFilter(redactor)
        sdk.setLevel(sdk_level)
    assert stream.getvalue() == "secret [redacted]\n"
