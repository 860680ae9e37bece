"""The Block Kit parts every message is drawn with: escaping, Slack's limits, previews."""
from __future__ import annotations

import json
from urllib.parse import unquote

import pytest
from slack_sdk.errors import SlackObjectFormationError

from nmbot.cards.content import card_for_entry
from nmbot.cards.error_card import card_message
from nmbot.cards.kit import builder_url, escape, validate_message


def test_escape():
    assert escape("a & b <c> <!here>") == "a &amp; b &lt;c&gt; &lt;!here&gt;"


def test_builder_url_previews_the_blocks(kb):
    message = card_message(card_for_entry(kb, kb.get(-2007)))
    url = builder_url(message)
    prefix = "https://app.slack.com/block-kit-builder/#"
    assert url.startswith(prefix)
    assert json.loads(unquote(url[len(prefix):])) == {"blocks": message["blocks"]}


@pytest.mark.parametrize("message", [
    {"text": "", "blocks": [{"type": "divider"}]},
    {"text": "x", "blocks": [{"type": "divider"}] * 51},
    {"text": "x", "blocks": [{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}]},
    {"text": "x", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "s" * 3001}}]},
    {"text": "x", "blocks": [{"type": "section", "fields": [{"type": "mrkdwn", "text": "f" * 2001}]}]},
    {"text": "x", "blocks": [{"type": "no-such-block"}]},
])
def test_validate_message_refuses_what_slack_would(message):
    with pytest.raises((ValueError, SlackObjectFormationError)):
        validate_message(message)
