"""Exactly one reply per message: its delivery's claim, the cool-downs of the codes a thread was told about,
and what became of the delivery, for its journal row.

Slack retries a delivery it thinks was lost, and a mention arrives twice (app_mention and message): the
first delivery claims the message in the state store, and the others find the claim and stay silent.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Callable, Iterable

from ..engine.scanner import Finding
from ..store import StoreError

if TYPE_CHECKING:
    from ..slack.deps import Deps

log = logging.getLogger(__name__)

# Slack retries a delivery for about an hour; a claim must outlive the last retry.
CLAIM_TTL = 2 * 3600
# What became of a post: Slack took it; Slack refused it (posting it again would be refused too); or it is not
# known to have reached Slack (a connection failure, Slack's own trouble), worth another try later.
POSTED, REFUSED, UNREACHED = "posted", "refused", "unreached"
# What became of a delivery, for its journal row: left open (a duplicate, whose first delivery settles it, or a
# post not known to have reached Slack: a recovery pass tries again); settled now (silence, or a reply Slack
# refused: nothing in the thread would tell a recovery pass); or answered by a reply naming its claim key, whose
# settle may be written behind (nmbot.slack.leases): if it is lost in a crash, recovery finds the reply in the
# thread.
UNSETTLED, SETTLED, REPLIED = "unsettled", "settled", "replied"


def first_delivery(deps: Deps, claim: str | None, recovered: bool = False) -> bool:
    """True for the first delivery of this post: one claim, one round trip to the database.

    `claim` names what the delivery claims (None: nothing to claim, so it is answered); a `recovered` delivery
    was taken up again after the process answering it died, and is answered whatever its claim says."""
    return _claim_delivery(deps, claim, recovered) is not None


def fresh_findings_of_first_delivery(deps: Deps, claim: str | None, recovered: bool, thread: str,
                                     findings: list[Finding]) -> list[Finding] | None:
    """None for a repeat delivery of this post; else the findings whose code was not explained in `thread`
    ("channel:thread_ts") within the cool-down, which this starts. The claim and the cool-downs are one
    transaction."""
    fresh = _claim_delivery(deps, claim, recovered, thread, [f.code for f in findings])
    return None if fresh is None else [f for f in findings if f.code in fresh]


def _claim_delivery(deps: Deps, claim: str | None, recovered: bool, thread: str = "",
                    codes: list[int] | None = None) -> list[int] | None:
    """None for a repeat delivery; else the codes whose cool-down in `thread` this started."""
    codes = codes or []
    if claim is None:
        return codes
    try:
        if thread:
            fresh = deps.store.claim_with_cooldowns(claim, CLAIM_TTL, thread, codes, deps.settings.cooldown_seconds)
        else:
            fresh = codes if deps.store.claim(claim, CLAIM_TTL) else None
        outcome = "first" if fresh is not None else "duplicate"
    except StoreError:  # the store said it is down, once, and counts each failure
        fresh, outcome = codes, "unchecked"  # answering twice is a smaller failure than never answering
    if fresh is None and recovered:
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


def settlement(sent: str) -> str:
    """What a post (POSTED, REFUSED, UNREACHED) made of its delivery (UNSETTLED, SETTLED or REPLIED)."""
    return {POSTED: REPLIED, REFUSED: SETTLED}.get(sent, UNSETTLED)


def settled_after(deps: Deps, claim: str | None, reply: Callable[[], str]) -> None:
    """`reply()`, then the delivery's journal entry finished by what it made of it (UNSETTLED, SETTLED or
    REPLIED; left open for recovery when `reply` raises)."""
    outcome = UNSETTLED
    try:
        outcome = reply()
    finally:
        deps.leases.finish(claim, settled=outcome != UNSETTLED, replied=outcome == REPLIED)
