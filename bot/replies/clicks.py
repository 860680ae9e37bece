"""Buttons on cards: open a suggested card, share a private card with the channel, "Why this answer?".

The listener parses the click and passes `respond(**message) -> bool` (through the click's response_url:
True when Slack took it) and, to share, `post(message) -> bool` (in the channel).
"""
from __future__ import annotations

import hashlib
import logging
from typing import TYPE_CHECKING, Callable

from ..cards.content import card_for_entry
from ..cards.error_card import card_message
from ..cards.feedback import why_message
from ..cards.other_answers import notice_message
from ..store import StoreError
from .answers import PRIVATE, vote_for
from .kinds import Kind, Surface
from .refs import WhyRef

if TYPE_CHECKING:
    from ..slack.deps import Deps

# A signed request is accepted while its timestamp is within 5 minutes of this server's clock, either way:
# a replay of one click can arrive up to 10 minutes after the first copy.
SHARE_CLAIM_TTL = 2 * 5 * 60
GONE = "That code is not in the knowledge base any more."

Respond = Callable[..., bool]


def open_card(deps: Deps, code: int | None, *, channel: str, thread_ts: str | None, replace: bool,
              respond: Respond) -> None:
    """The card for the clicked code, visible only to the person who clicked; `replace` the message clicked."""
    entry = deps.kb.get(code) if code is not None else None
    if entry is None:
        respond(**PRIVATE, **notice_message(GONE))
        return
    message = card_message(card_for_entry(deps.kb, entry), share_button=True, share_thread_ts=thread_ts,
                                  vote=vote_for(deps, entry.code, Surface.BUTTON))
    if respond(response_type="ephemeral", replace_original=replace, **message):
        deps.usage.add(kind=Kind.CARD, surface=Surface.BUTTON, channel=channel, code=entry.code)


def share_card(deps: Deps, code: int | None, *, user: str, channel: str | None, private: bool,
               click: tuple[str, str], post: Callable[[dict], bool], respond: Respond,
               logger: logging.Logger) -> None:
    """Post the card for everyone, saying who shared it, then remove the `private` copy.

    `click` is the click's (trigger_id, action_ts): a replayed request carries the same ones."""
    entry = deps.kb.get(code) if code is not None else None
    if entry is None:
        respond(**PRIVATE, **notice_message(GONE))
        return
    if not first_click(deps, *click, logger):
        logger.info("a repeated Share in channel click was ignored")
        return
    message = card_message(card_for_entry(deps.kb, entry), shared_by=user,
                                  vote=vote_for(deps, entry.code, Surface.SHARE))
    if not post(message):
        return
    deps.usage.add(kind=Kind.SHARE, surface=Surface.BUTTON, channel=channel or "", code=entry.code)
    if private:
        respond(delete_original=True)


def first_click(deps: Deps, trigger_id: str, action_ts: str, logger: logging.Logger) -> bool:
    """False for a second copy of the same click (a replayed request): each click has a trigger_id and
    an action_ts of its own, and a copy carries the same ones."""
    if not trigger_id and not action_ts:
        return True
    # Hashed: a key of fixed size, whatever length the request gave its ids.
    click = hashlib.sha256(f"{trigger_id}\n{action_ts}".encode()).hexdigest()[:32]
    try:
        return deps.store.claim(f"click:{click}", SHARE_CLAIM_TTL)
    except StoreError:
        logger.warning("state store unavailable: sharing without checking for a repeated click")
        return True  # sharing twice is a smaller failure than not sharing


def answer_why(deps: Deps, why: WhyRef | None, respond: Respond) -> None:
    """What matched, the score and the runner-up, shown only to the person who clicked."""
    if why is None:
        respond(**PRIVATE, **notice_message("I cannot tell why any more. Ask again for a new card."))
        return
    respond(**PRIVATE, **why_message(why, deps.kb))
