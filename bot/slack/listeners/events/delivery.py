"""The Slack side of a reply in a message's thread: what its delivery claims, and the post naming that claim.

Every reply names the delivery's claim key in its Slack message metadata, so that a process taking up an
event another one died on can see in the thread whether the reply went out (journal.py). Whether to reply,
and what, is nmbot.replies.threads'.
"""
from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from ....replies.claims import POSTED, REFUSED, UNREACHED
from ....replies.threads import Posted
from ...calls import PASSING_ERRORS, PLAIN_TEXT_RETRY, slack_error, with_hint

log = logging.getLogger(__name__)

PLAIN_TEXT_CHARS = 1500
# The metadata event type of the bot's replies: `event_payload.claim` is the claim key of what they answer.
REPLY_EVENT_TYPE = "nmbot_reply"
# In the body of an event taken up again after the process answering it died (journal.py): its claim may
# have been taken by that process, so it is answered whatever the claim says.
RECOVERED = "nmbot_recovered"


def posted_of(body: dict, event: dict) -> Posted:
    """A message event as the replies layer reads it."""
    return Posted(channel=event.get("channel") or "", ts=event.get("ts") or "", text=event.get("text") or "",
                  thread_ts=event.get("thread_ts") or None, claim=delivery_key(body, event),
                  recovered=bool(body.get(RECOVERED)))


def delivery_key(body: dict, event: dict) -> str | None:
    """What a delivery claims: the message itself when the event names one (Slack's retries carry the
    same message, and so does the second copy of a mention: app_mention and message, two event ids);
    otherwise the event id."""
    if event.get("channel") and event.get("ts"):
        return f"msg:{event['channel']}:{event['ts']}"
    if body.get("event_id"):
        return f"event:{body['event_id']}"
    return None


def reply_metadata(claim: str) -> dict:
    """The Slack message metadata of a reply to the delivery claimed as `claim`."""
    return {"event_type": REPLY_EVENT_TYPE, "event_payload": {"claim": claim}}


def post_in_thread(client: WebClient, channel: str, thread_ts: str, message: dict, claim: str | None = None) -> str:
    """Post the reply, its metadata naming `claim`; POSTED, REFUSED or UNREACHED. Failures are logged, never
    raised."""
    if claim is not None:
        message = {**message, "metadata": reply_metadata(claim)}
    error, passing = _post(client, channel, thread_ts, message)
    if error in PLAIN_TEXT_RETRY and message.get("blocks"):
        error, passing = _post(client, channel, thread_ts, {**plain_text(message), **_metadata_of(message)})
    if error is None:
        return POSTED
    return UNREACHED if passing else REFUSED


def _metadata_of(message: dict) -> dict:
    return {"metadata": message["metadata"]} if "metadata" in message else {}


def _post(client: WebClient, channel: str, thread_ts: str, message: dict) -> tuple[str | None, bool]:
    """(None, False) when posted, else Slack's error code (or the connection failure), and whether it may pass."""
    try:
        client.chat_postMessage(channel=channel, thread_ts=thread_ts, unfurl_links=False, unfurl_media=False,
                                **message)
        return None, False
    except SlackApiError as exc:
        error = slack_error(exc)
        passing = error in PASSING_ERRORS or exc.response is None or exc.response.status_code != 200
    except (SlackClientError, OSError) as exc:
        error, passing = f"{type(exc).__name__}: {getattr(exc, 'reason', None) or exc}", True
    retry = " (retrying as plain text)" if error in PLAIN_TEXT_RETRY and message.get("blocks") else ""
    log.warning("chat.postMessage in %s, thread %s, failed: %s%s", channel, thread_ts, with_hint(error), retry,
                extra={"slack_method": "chat.postMessage", "channel": channel, "thread_ts": thread_ts,
                       "slack_error": error})
    return error, passing


def plain_text(message: dict) -> dict:
    """The reply as its own notification text, shortened, without blocks."""
    text = str(message.get("text") or "").strip() or "I found an answer, but Slack would not show it."
    if len(text) > PLAIN_TEXT_CHARS:
        text = text[:PLAIN_TEXT_CHARS - 1].rstrip() + "\u2026"
    return {"text": f"{text}\nAsk `/nmerror CODE` for the full card."}
