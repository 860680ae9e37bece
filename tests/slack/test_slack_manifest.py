"""manifest.yml: valid for Slack, and in step with what the app really listens to; `nmbot manifest` prints
it, or its HTTP-mode form for one host."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

import jsonschema
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from slack_interactions import message_shortcut
from slack_requests import message

from nmbot.cli.main import main
from nmbot.slack.app import BOT_SCOPES
from nmbot.slack.manifest import ManifestError, https_origin

ROOT = Path(__file__).parents[2]
# Slack's published manifest schema (github.com/slackapi/manifest-schema, MIT), kept beside the test
# so CI validates offline.
SCHEMA = Path(__file__).with_name("slack-manifest.schema.1.0.0.json")


@pytest.fixture(scope="module")
def manifest() -> dict:
    return yaml.safe_load((ROOT / "manifest.yml").read_text())


def test_validates_against_slacks_schema(manifest):
    jsonschema.validate(manifest, json.loads(SCHEMA.read_text()))
    # The schema spells this check "regex", which JSON Schema validators ignore.
    assert re.fullmatch(r"#[0-9a-fA-F]{3}([0-9a-fA-F]{3})?", manifest["display_information"]["background_color"])


def test_everything_the_bot_uses_is_declared(manifest):
    assert manifest["display_information"]["name"] == "nmbot"
    assert manifest["features"]["bot_user"]["display_name"] == "nmbot"
    [command] = manifest["features"]["slash_commands"]
    assert command["command"] == "/nmerror" and command["usage_hint"] and command["should_escape"] is False
    assert manifest["settings"]["interactivity"]["is_enabled"] is True  # the card buttons
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    [shortcut] = manifest["features"]["shortcuts"]
    assert shortcut == {"name": "Explain error codes", "type": "message", "callback_id": "explain_error_codes",
                        "description": shortcut["description"]}


def test_app_home_and_its_event_go_together(manifest):
    events = manifest["settings"]["event_subscriptions"]["bot_events"]
    assert manifest["features"]["app_home"]["home_tab_enabled"] == ("app_home_opened" in events)
    # No Messages tab: the bot reads no direct messages, so it must not invite them.
    assert manifest["features"]["app_home"]["messages_tab_enabled"] is False


def test_bot_scopes_are_exactly_the_ones_used(manifest):
    assert sorted(manifest["oauth_config"]["scopes"]["bot"]) == sorted(BOT_SCOPES)


def event_for(subscription: str) -> dict:
    """A minimal event of the kind a bot-event subscription delivers."""
    kind, _, source = subscription.partition(".")
    event = message("hello")
    if kind != "message":
        event["type"] = kind
    elif source:
        event["channel_type"] = {"channels": "channel", "groups": "group", "im": "im", "mpim": "mpim"}[source]
    return event


def test_every_subscribed_event_has_a_listener(bot, manifest):
    events = manifest["settings"]["event_subscriptions"]["bot_events"]
    assert {"app_home_opened", "app_mention", "message.channels", "message.groups", "reaction_added"} <= set(events)
    for subscription in events:
        assert bot.slack.event(event_for(subscription)).status == 200, subscription


def test_an_event_without_a_listener_would_be_refused(bot):
    # Proves the check above can fail: Bolt answers 404 to an event nobody listens to.
    assert bot.slack.event(event_for("reaction_removed")).status == 404


def test_every_declared_command_has_a_listener(bot, manifest):
    for command in manifest["features"]["slash_commands"]:
        assert bot.slack.command("help", command=command["command"]).status == 200
    assert bot.slack.command("help", command="/not-ours").status == 404


def test_every_declared_shortcut_has_a_listener(bot, manifest):
    for shortcut in manifest["features"]["shortcuts"]:
        response = message_shortcut(bot.slack, message("hello"), callback_id=shortcut["callback_id"],
                                    response_url=bot.stub.response_url())
        assert response.status == 200, shortcut["callback_id"]
    assert message_shortcut(bot.slack, message("hello"), callback_id="not_ours", response_url=None).status == 404


# --- `nmbot manifest` ---------------------------------------------------------------------------------

NMBOT = [sys.executable, "-m", "nmbot"]


def nmbot_manifest(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*NMBOT, "manifest", *args], capture_output=True, text=True, timeout=60)


@pytest.fixture
def manifest_here(capsys) -> Callable[..., subprocess.CompletedProcess]:
    """`nmbot manifest` run by the command's own `main` in this process: its exit status and output, as
    `nmbot_manifest` gives them, without an interpreter starting for each of many addresses."""
    def run(*args: str) -> subprocess.CompletedProcess:
        try:
            status = main(["manifest", *args])
        except SystemExit as exc:
            status = exc.code
        out = capsys.readouterr()
        return subprocess.CompletedProcess(["nmbot", "manifest", *args], status, out.out, out.err)

    return run


@pytest.fixture(scope="module")
def http_manifest() -> dict:
    done = nmbot_manifest("--http", "https://nmbot.example.com")
    assert done.returncode == 0 and done.stderr == ""
    return yaml.safe_load(done.stdout)


def test_prints_the_top_level_manifest_from_the_installed_package():
    """One document: the file people paste from a checkout is what an installed nmbot prints."""
    done = nmbot_manifest()
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == (ROOT / "manifest.yml").read_text()


def test_the_http_manifest_validates_against_slacks_schema(http_manifest):
    jsonschema.validate(http_manifest, json.loads(SCHEMA.read_text()))


def test_the_http_manifest_sends_everything_to_slack_events(http_manifest, manifest):
    url = "https://nmbot.example.com/slack/events"
    assert [c["url"] for c in http_manifest["features"]["slash_commands"]] == [url]
    assert http_manifest["settings"]["event_subscriptions"]["request_url"] == url
    assert http_manifest["settings"]["interactivity"] == {"is_enabled": True, "request_url": url}
    assert http_manifest["settings"]["socket_mode_enabled"] is False
    # Nothing else changes: the same scopes, events, command, shortcut and Home tab as in Socket Mode.
    for command in http_manifest["features"]["slash_commands"]:
        del command["url"]
    del http_manifest["settings"]["event_subscriptions"]["request_url"]
    del http_manifest["settings"]["interactivity"]["request_url"]
    http_manifest["settings"]["socket_mode_enabled"] = True
    assert http_manifest == manifest


@pytest.mark.parametrize("given_address, origin", [
    ("https://nmbot.example.com", "https://nmbot.example.com"),
    ("https://nmbot.example.com/", "https://nmbot.example.com"),
    ("HTTPS://Bot.Example.COM:8443", "https://bot.example.com:8443"),
])
def test_the_host_may_be_written_several_ways(given_address, origin, manifest_here):
    done = manifest_here("--http", given_address)
    assert done.returncode == 0
    assert yaml.safe_load(done.stdout)["settings"]["event_subscriptions"]["request_url"] == origin + "/slack/events"


@pytest.mark.parametrize("address, reason", [
    ("http://nmbot.example.com", "over HTTPS only"),
    ("nmbot.example.com", "over HTTPS only"),
    ("https://", "the host is missing"),
    ("https://nmbot.example.com/slack/events", "without a path"),
    ("https://nmbot.example.com?x=1", "without a path"),
    ("https://nmbot.example.com#top", "without a path"),
    ("https://user:pw@nmbot.example.com", "no user name or password"),
    ("https://nmbot.example.com:0", "the port is not a number"),
    ("https://nmbot.example.com:99999", "the port is not a number"),
    ("https://nmbot.example.com:https", "the port is not a number"),
    ("https://nmbot..example.com", "a DNS name"),
    ("https://-nmbot.example.com", "a DNS name"),
    ("https://bücher.example", "punycode"),
    ("https://[::1", "not a URL"),
    ("https://nmbot.example.com\n", "no spaces or control characters"),
    ("https://nmbot. example.com", "no spaces or control characters"),
])
def test_a_bad_host_is_one_line_and_exit_2(address, reason, manifest_here):
    done = manifest_here("--http", address)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.startswith("nmbot: --http: expected https://HOST") and done.stderr.count("\n") == 1
    assert reason in done.stderr


@given(st.text(max_size=300) | st.from_regex(r"https://[a-zA-Z0-9.\-:/@?#\[\]]{0,60}", fullmatch=True))
def test_property_any_address_gives_an_origin_or_one_line(address):
    """No input makes https_origin fail otherwise than with its one-line message; what it accepts is an
    https origin that reads back as itself."""
    try:
        origin = https_origin(address)
    except ManifestError as exc:
        assert "\n" not in str(exc) and len(str(exc)) < 400
        return
    parts = urlsplit(origin)
    assert parts.scheme == "https" and parts.path == "" and not parts.query and "@" not in origin
    assert https_origin(origin) == origin
