"""manifest.yml: valid for Slack, and in step with what the app really listens to."""
from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml
from slack_interactions import message_shortcut
from slack_requests import message

from nmbot.slack.app import BOT_SCOPES

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
