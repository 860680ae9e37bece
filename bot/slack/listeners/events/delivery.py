"""Exactly one reply per message: deduplication, cool-downs and posting in a thread."""
from __future__ import annotations

import logging
from typing import Iterable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from ....engine.scanner import Finding
from ....store import StoreError
from ...deps import Deps

log = logging.getLogger(__name__)

# Slack retries a delivery for about an hour; a claim must outlive the last retry.
CLAIM_TTL = 2 * 3600


def thread_of(event: dict) -> str:
    """The thread a reply belongs in: the message's thread, or a new one under it."""
    return event.get("thread_ts") or event.get("ts") or ""


def first_delivery(deps: Deps, body: dict, event: dict) -> bool:
    """True for the first delivery of this post.

    Claims the event id (Slack's retries reuse it) and then the message itself
    (a mention arrives both as app_mention and as message, with two event ids).
    """
    keys = []
    if body.get("event_id"):
        keys.append(f"event:{body['event_id']}")
    if event.get("channel") and event.get("ts"):
        keys.append(f"msg:{event['channel']}:{event['ts']}")
    try:
        return all(deps.store.claim(key, CLAIM_TTL) for key in keys)
    except StoreError:
        # Answering twice is a smaller failure than never answering.
        log.warning("state store unavailable: answering without deduplication", exc_info=True)
        return True


def fresh_findings(deps: Deps, channel: str, thread_ts: str, findings: list[Finding]) -> list[Finding]:
    """Findings whose code was not explained in this thread within the cool-down (which this starts)."""
    seconds = deps.settings.cooldown_seconds
    try:
        return [f for f in findings if deps.store.cooldown(f"{channel}:{thread_ts}", f.code, seconds)]
    except StoreError:
        log.warning("state store unavailable: cool-down skipped", exc_info=True)
        return findings


def start_cooldown(deps: Deps, channel: str, thread_ts: str, codes: Iterable[int]) -> None:
    """Mark codes as explained in a thread, so a paste that follows does not repeat them."""
    try:
        for code in codes:
            deps.store.cooldown(f"{channel}:{thread_ts}", code, deps.settings.cooldown_seconds)
    except StoreError:
        log.warning("state store unavailable: cool-down not recorded", exc_info=True)


def post_in_thread(client: WebClient, channel: str, thread_ts: str, message: dict) -> bool:
    try:
        client.chat_postMessage(channel=channel, thread_ts=thread_ts, unfurl_links=False, unfurl_media=False,
                                **message)
        return True
    except SlackApiError as exc:
        log.warning("chat.postMessage failed in %s: %s", channel, exc.response.get("error"))
    except (SlackClientError, OSError) as exc:
        log.warning("chat.postMessage failed in %s: %s", channel, exc)
    return False

