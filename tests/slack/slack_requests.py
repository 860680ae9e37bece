"""Requests as Slack sends them: signed, form-encoded or JSON, over real HTTP."""
from __future__ import annotations

import itertools
import json
import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

from webapi_stub import BOT_USER_ID

SIGNING_SECRET = "test-signing-secret-0000"
CHANNEL = "C0000CHAN"
USER = "U0000USER"
_ids = itertools.count(1)


@dataclass(frozen=True)
class Response:
    status: int
    body: str
    content_type: str = ""

    def json(self) -> dict:
        return json.loads(self.body)


class SlackSender:
    def __init__(self, base_url: str, signing_secret: str = SIGNING_SECRET):
        self.base_url = base_url.rstrip("/")
        self.verifier = SignatureVerifier(signing_secret)

    def post(self, body: str, content_type: str, *, path: str = "/slack/events", headers: dict | None = None,
             timestamp: int | None = None, signature: str | None = None) -> Response:
        timestamp = int(time.time()) if timestamp is None else timestamp
        signed = self.verifier.generate_signature(timestamp=str(timestamp), body=body)
        request = urllib.request.Request(
            self.base_url + path,
            data=body.encode(),
            method="POST",
            headers={
                "Content-Type": content_type,
                "X-Slack-Request-Timestamp": str(timestamp),
                "X-Slack-Signature": signature if signature is not None else signed,
                **(headers or {}),
            },
        )
        return send(request)

    def command(self, text: str, **fields) -> Response:
        return self.post(urlencode(command_form(text, **fields)), "application/x-www-form-urlencoded")

    def event(self, event: dict, *, event_id: str | None = None, retry: int | None = None) -> Response:
        headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"} if retry else None
        return self.post(json.dumps(event_envelope(event, event_id)), "application/json", headers=headers)

    def action(self, action_id: str, value: str | None, *, response_url: str, **fields) -> Response:
        payload = action_payload(action_id, value, response_url=response_url, **fields)
        return self.post(urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded")


# What Slack sends, as the payloads both HTTP requests and Socket Mode envelopes carry.

def command_form(text: str, *, command: str = "/nmerror", user: str = USER, channel: str = CHANNEL,
                 response_url: str = "http://127.0.0.1:9/unused") -> dict:
    return {
        "token": "legacy", "team_id": "T0001", "team_domain": "test", "channel_id": channel,
        "channel_name": "support", "user_id": user, "user_name": "pat", "command": command, "text": text,
        "api_app_id": "A0001", "is_enterprise_install": "false", "response_url": response_url,
        "trigger_id": "1.2.3",
    }


def event_envelope(event: dict, event_id: str | None = None) -> dict:
    return {
        "token": "legacy", "team_id": "T0001", "api_app_id": "A0001", "type": "event_callback",
        "event_id": event_id or f"Ev{next(_ids):08d}", "event_time": int(time.time()), "event": event,
        "authorizations": [{"team_id": "T0001", "user_id": BOT_USER_ID, "is_bot": True}],
    }


def action_payload(action_id: str, value: str | None, *, response_url: str, ephemeral: bool = True,
                   user: str = USER, channel: str = CHANNEL, thread_ts: str | None = None) -> dict:
    container = {"type": "message", "message_ts": "1700000000.000001", "channel_id": channel,
                 "is_ephemeral": ephemeral}
    if thread_ts:
        container["thread_ts"] = thread_ts
    return {
        "type": "block_actions", "user": {"id": user, "username": "pat", "team_id": "T0001"},
        "api_app_id": "A0001", "token": "legacy", "container": container, "trigger_id": "1.2.3",
        "team": {"id": "T0001", "domain": "test"}, "channel": {"id": channel, "name": "support"},
        "response_url": response_url,
        "actions": [{"action_id": action_id, "block_id": "b1", "type": "button", "action_ts": "1.2",
                     "text": {"type": "plain_text", "text": "x"}, **({"value": value} if value else {})}],
    }


def send(request: urllib.request.Request) -> Response:
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return Response(response.status, response.read().decode(), response.headers.get("Content-Type", ""))
    except urllib.error.HTTPError as error:
        return Response(error.code, error.read().decode(), error.headers.get("Content-Type", ""))


def raw_request(url: str, head: str, body: bytes = b"") -> str:
    """Send exactly these bytes (a declared length need not arrive) and return the response's status line."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(head.encode() + body)
        return sock.recv(4096).decode(errors="replace").split("\r\n", 1)[0]


def post_unsigned(url: str, body: str | bytes, content_type: str) -> str:
    """POST `body` to /slack/events as anyone could, unsigned; the response's status line."""
    data = body if isinstance(body, bytes) else body.encode()
    head = (f"POST /slack/events HTTP/1.1\r\nHost: test\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n")
    return raw_request(url, head, data)


def get(url: str) -> Response:
    return send(urllib.request.Request(url))


def message(text: str, *, ts: str | None = None, user: str = USER, channel: str = CHANNEL, **extra) -> dict:
    """A `message` event as a person's post delivers it."""
    return {"type": "message", "channel": channel, "user": user, "text": text,
            "ts": ts or f"1700001{next(_ids):03d}.000200", "channel_type": "channel", "team": "T0001", **extra}


def mention(text: str, **extra) -> dict:
    event = message(f"<@{BOT_USER_ID}> {text}", **extra)
    event["type"] = "app_mention"
    event.pop("channel_type")
    return event
