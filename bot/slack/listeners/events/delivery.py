"""Exactly one reply per message: deduplication, cool-downs and posting in a thread.

Every reply names the delivery's claim key in its Slack message metadata, so that a process taking up an
event another one died on can see in the thread whether the reply went out (journal.py).
"""
from __future__ import annotations

import logging
from typing import Callable, Iterable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from ....engine.scanner import Finding
from ....store import StoreError
from ...deps import Deps

log = logging.getLogger(__name__)

# Slack retries a delivery for about an hour; a claim must outlive the last retry.
CLAIM_TTL = 2 * 3600
# Refusals of the message's blocks, not of the post: the same answer as short plain text gets through.
PLAIN_TEXT_RETRY = ("msg_too_long", "msg_blocks_too_long", "invalid_blocks", "invalid_blocks_format")
PLAIN_TEXT_CHARS = 1500
# What an operator can do about the errors that mean the bot cannot post there.
HINTS = {
    "not_in_channel": "the bot is not a member: invite it with /invite @nmbot",
    "channel_not_found": "the channel is gone, or private and the bot was never invited",
    "is_archived": "the channel is archived",
    "missing_scope": "reinstall the app from manifest.yml to grant the scopes it needs",
    "invalid_auth": "SLACK_BOT_TOKEN was revoked or is wrong",
    "token_revoked": "SLACK_BOT_TOKEN was revoked",
}
# Slack's own trouble, not a refusal of this message: the same post later may well go through.
PASSING_ERRORS = ("ratelimited", "fatal_error", "internal_error", "service_unavailable", "request_timeout")
# What became of a post: Slack took it; Slack refused it (posting it again would be refused too); or it is not
# known to have reached Slack (a connection failure, Slack's own trouble), worth another try later.
POSTED, REFUSED, UNREACHED = "posted", "refused", "unreached"
# What became of a delivery, for its journal row: left open (a duplicate, whose first delivery settles it, or a
# post not known to have reached Slack: a recovery pass tries again); settled now (silence, or a reply Slack
# refused: nothing in the thread would tell a recovery pass); or answered by a reply naming its claim key, whose
# settle may be written behind (leases.py): if it is lost in a crash, recovery finds the reply in the thread.
UNSETTLED, SETTLED, REPLIED = "unsettled", "settled", "replied"
# The metadata event type of the bot's replies: `event_payload.claim` is the claim key of what they answer.
REPLY_EVENT_TYPE = "nmbot_reply"
# In the body of an event taken up again after the process answering it died (journal.py): its claim may
# have been taken by that process, so it is answered whatever the claim says.
RECOVERED = "nmbot_recovered"


def thread_of(event: dict) -> str:
    """The thread a reply belongs in: the message's thread, or a new one under it."""
    return event.get("thread_ts") or event.get("ts") or ""


def delivery_key(body: dict, event: dict) -> str | None:
    """What a delivery claims: the message itself when the event names one (Slack's retries carry the
    same message, and so does the second copy of a mention: app_mention and message, two event ids);
    otherwise the event id."""
    if event.get("channel") and event.get("ts"):
        return f"msg:{event['channel']}:{event['ts']}"
    if body.get("event_id"):
        return f"event:{body['event_id']}"
    return None


def first_delivery(deps: Deps, body: dict, event: dict) -> bool:
    """True for the first delivery of this post: one claim, one round trip to the database."""
    return _claim_delivery(deps, body, event) is not None


def fresh_findings_of_first_delivery(deps: Deps, body: dict, event: dict, channel: str, thread_ts: str,
                                     findings: list[Finding]) -> list[Finding] | None:
    """None for a repeat delivery of this post; else the findings whose code was not explained in this
    thread within the cool-down (which this starts). The claim and the cool-downs are one transaction."""
    fresh = _claim_delivery(deps, body, event, f"{channel}:{thread_ts}", [f.code for f in findings])
    return None if fresh is None else [f for f in findings if f.code in fresh]


def _claim_delivery(deps: Deps, body: dict, event: dict, thread_key: str = "",
                    codes: list[int] | None = None) -> list[int] | None:
    """None for a repeat delivery; else the codes whose cool-down in `thread_key` this started."""
    codes = codes or []
    key = delivery_key(body, event)
    if key is None:
        return codes
    try:
        if thread_key:
            fresh = deps.store.claim_with_cooldowns(key, CLAIM_TTL, thread_key, codes, deps.settings.cooldown_seconds)
        else:
            fresh = codes if deps.store.claim(key, CLAIM_TTL) else None
        outcome = "first" if fresh is not None else "duplicate"
    except StoreError:  # the store said it is down, once, and counts each failure
        fresh, outcome = codes, "unchecked"  # answering twice is a smaller failure than never answering
    if fresh is None and body.get(RECOVERED):
        return codes  # claimed by the process that died before its reply went out: the thread said so
    deps.metrics.deliveries.inc(outcome=outcome)
    return fresh


def start_cooldown(deps: Deps, channel: str, thread_ts: str, codes: Iterable[int]) -> None:
    """Mark codes as explained in a thread, so a paste that follows does not repeat them."""
    try:
        for code in codes:
            deps.store.cooldown(f"{channel}:{thread_ts}", code, deps.settings.cooldown_seconds)
    except StoreError:
        log.debug("state store unavailable: cool-down not recorded")


def settlement(posted: str) -> str:
    """What a post made of its delivery (see UNSETTLED, SETTLED, REPLIED)."""
    return {POSTED: REPLIED, REFUSED: SETTLED}.get(posted, UNSETTLED)


def finish_delivery(deps: Deps, key: str | None, outcome: str) -> None:
    deps.leases.finish(key, settled=outcome != UNSETTLED, replied=outcome == REPLIED)


def answer_delivery(deps: Deps, body: dict, event: dict, reply: Callable[[str | None], str]) -> None:
    """`reply(key)` for the delivery claimed as `key`, then its journal entry finished by what `reply` made of
    it (UNSETTLED, SETTLED or REPLIED; left open for recovery when `reply` raises)."""
    key, outcome = delivery_key(body, event), UNSETTLED
    try:
        outcome = reply(key)
    finally:
        finish_delivery(deps, key, outcome)


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
        response = exc.response
        error = (response.get("error") if response is not None else None) or "unknown_error"
        passing = error in PASSING_ERRORS or response is None or response.status_code != 200
    except (SlackClientError, OSError) as exc:
        error, passing = f"{type(exc).__name__}: {getattr(exc, 'reason', None) or exc}", True
    hint = HINTS.get(error)
    retry = " (retrying as plain text)" if error in PLAIN_TEXT_RETRY and message.get("blocks") else ""
    log.warning("chat.postMessage in %s, thread %s, failed: %s%s%s", channel, thread_ts, error,
                f" ({hint})" if hint else "", retry,
                extra={"slack_method": "chat.postMessage", "channel": channel, "thread_ts": thread_ts,
                       "slack_error": error})
    return error, passing


def plain_text(message: dict) -> dict:
    """The reply as its own notification text, shortened, without blocks."""
    text = str(message.get("text") or "").strip() or "I found an answer, but Slack would not show it."
    if len(text) > PLAIN_TEXT_CHARS:
        text = text[:PLAIN_TEXT_CHARS - 1].rstrip() + "\u2026"
    return {"text": f"{text}\nAsk `/nmerror CODE` for the full card."}

