"""More of what Slack sends, for the feedback, controls, App Home and shortcut tests:
block actions taken from a real rendered card, form submissions, message shortcuts,
reactions and App Home visits. Signed and sent like every other request (`SlackSender.post`)."""
from __future__ import annotations

import json
from urllib.parse import urlencode

from slack_requests import CHANNEL, USER, Response, SlackSender
from webapi_stub import BOT_USER_ID


def interaction(sender: SlackSender, payload: dict) -> Response:
    return sender.post(urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded")


def buttons(message: dict) -> dict:
    """action_id -> button element, over every actions block and section accessory of a message."""
    found = {}
    for block in message.get("blocks") or []:
        if isinstance(block, str):
            continue
        for element in block.get("elements", []) if block.get("type") == "actions" else [block.get("accessory") or {}]:
            if element.get("type") == "button":
                found[element["action_id"]] = element
    return found


def click(sender: SlackSender, message: dict, action_id: str, *, response_url: str, user: str = USER,
          channel: str = CHANNEL, message_ts: str = "1700000000.000001", ephemeral: bool = True,
          thread_ts: str | None = None, trigger_id: str = "tr.1") -> Response:
    """Press a button of a message the bot really produced, with the value it really carries."""
    button = buttons(message)[action_id]
    container = {"type": "message", "message_ts": message_ts, "channel_id": channel, "is_ephemeral": ephemeral}
    if thread_ts:
        container["thread_ts"] = thread_ts
    payload = {
        "type": "block_actions", "user": {"id": user, "username": "pat", "team_id": "T0001"},
        "api_app_id": "A0001", "token": "legacy", "container": container, "trigger_id": trigger_id,
        "team": {"id": "T0001", "domain": "test"}, "channel": {"id": channel, "name": "support"},
        "response_url": response_url,
        "actions": [{"action_id": action_id, "block_id": "b1", "type": "button", "action_ts": "1.2",
                     "text": button["text"], **({"value": button["value"]} if "value" in button else {})}],
    }
    if not ephemeral:
        payload["message"] = {"type": "message", "ts": message_ts, "user": BOT_USER_ID, **message}
    return interaction(sender, payload)


def view_submission(sender: SlackSender, view: dict, values: dict, *, user: str = USER) -> Response:
    """Send a form the bot opened (the `view` it passed to views.open), filled in with `values`."""
    return interaction(sender, {
        "type": "view_submission", "team": {"id": "T0001", "domain": "test"},
        "user": {"id": user, "username": "pat", "team_id": "T0001"}, "api_app_id": "A0001", "token": "legacy",
        "trigger_id": "tr.2", "view": {**view, "id": "V0001", "team_id": "T0001", "state": {"values": values}},
        "response_urls": [],
    })


def view_closed(sender: SlackSender, view: dict, *, user: str = USER) -> Response:
    return interaction(sender, {
        "type": "view_closed", "team": {"id": "T0001", "domain": "test"},
        "user": {"id": user, "username": "pat", "team_id": "T0001"}, "api_app_id": "A0001", "token": "legacy",
        "view": {**view, "id": "V0001", "team_id": "T0001", "state": {"values": {}}}, "is_cleared": False,
    })


def message_shortcut(sender: SlackSender, message: dict, *, callback_id: str = "explain_error_codes",
                     response_url: str | None, user: str = USER, channel: str = CHANNEL) -> Response:
    payload = {
        "type": "message_action", "callback_id": callback_id, "trigger_id": "tr.3", "action_ts": "1.3",
        "team": {"id": "T0001", "domain": "test"}, "user": {"id": user, "name": "pat", "team_id": "T0001"},
        "channel": {"id": channel, "name": "support"}, "message_ts": message.get("ts"), "message": message,
        "token": "legacy", "api_app_id": "A0001", "is_enterprise_install": False,
    }
    if response_url:
        payload["response_url"] = response_url
    return interaction(sender, payload)


def reaction(name: str, item_ts: str, *, item_user: str = BOT_USER_ID, user: str = USER,
             channel: str = CHANNEL) -> dict:
    """A `reaction_added` event on a message."""
    return {"type": "reaction_added", "user": user, "reaction": name, "item_user": item_user,
            "item": {"type": "message", "channel": channel, "ts": item_ts}, "event_ts": "1700009999.000100"}


def home_opened(user: str = USER, tab: str = "home") -> dict:
    return {"type": "app_home_opened", "user": user, "channel": "D0000HOME", "tab": tab,
            "event_ts": "1700009999.000200"}
