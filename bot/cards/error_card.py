"""The error card: what a Number Masking error code means, what to do and who can fix it, in Block Kit.

Cards are drawn for nearly every answer, so the part of a card that depends only
on its content is rendered and validated once and memoized (`_card_body`); a
call only adds the buttons, whose values change every time.
"""
from __future__ import annotations

import pickle
from dataclasses import replace
from functools import lru_cache
from typing import Protocol, Sequence

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block, HeaderBlock, PlainTextObject, SectionBlock

from ..engine.knowledge import Sourced
from ..engine.privacy import mask_msisdns
from .action_ids import OPEN_DOCS, SHARE_CARD, VOTE_DOWN, VOTE_UP, WHY
from .content import MESSAGE_ONLY_NOTE, OWNER_IS_OURS, SUPPORT_EMAIL, Card, label_for, page_name, runs
from .kit import (EVIDENCE_CHARS, FIELD_CHARS, HEADER_CHARS, SECTION_CHARS, VALUE_CHARS, block_message, button,
                  check_limits, context, escape, fit, mrkdwn, section, titled_sections, user_ref)


class ButtonValue(Protocol):
    """What a vote or "Why this answer?" button carries, written as its value (the refs in `nmbot.replies.refs`)."""

    def encode(self) -> str: ...


def card_message(card: Card, *, shared_by: str | None = None, share_button: bool = False,
                 share_thread_ts: str | None = None, vote: ButtonValue | None = None,
                 why: ButtonValue | None = None) -> dict:
    """The full remediation card.

    `shared_by` (a user id) marks a card someone posted for the channel;
    `share_button` offers that to the reader of a private card, and
    `share_thread_ts` keeps the shared copy in the thread the card came from.
    `vote` adds the thumbs-up and thumbs-down buttons, `why` the "Why this answer?" button.
    """
    # A log finding's "why" and evidence differ on every paste: drawn per call, so the rest stays cached.
    fallback, head, tail = pickle.loads(_card_body(replace(card, why="", evidence=()), shared_by))
    found = _finding_dicts(card)
    # ActionsBlock.to_dict() writes its keys sorted, like this; five buttons are well within its 25.
    actions = {"elements": _card_buttons(card, share_button, share_thread_ts, vote, why), "type": "actions"}
    message = {"text": fallback, "blocks": [*head[:TITLE_BLOCKS], *found, *head[TITLE_BLOCKS:], actions, *tail]}
    check_limits(message)
    return message


TITLE_BLOCKS = 2  # the header and the meaning, which the why and the evidence follow


def _finding_dicts(card: Card) -> list[dict]:
    """The finding's "why" (a context) and log lines (a section), as Slack's JSON written directly:
    drawn for every pasted log, where the SDK's models cost more than the rest of the card. The tests
    check the bytes against the SDK's drawing; the texts are fitted here to the limits it would check."""
    found: list[dict] = []
    if card.why:
        found.append({"elements": [{"text": fit(escape(card.why), SECTION_CHARS), "type": "mrkdwn"}],
                      "type": "context"})
    if card.evidence:
        found.append({"text": {"text": _evidence_text(card.evidence), "type": "mrkdwn", "verbatim": True},
                      "type": "section"})
    return found


# Enough for every card of a knowledge base with and without its share and vote variants.
@lru_cache(maxsize=512)
def _card_body(card: Card, shared_by: str | None) -> bytes:
    """The fallback text, and the blocks before and after the buttons (but the finding's own blocks):
    rendered and validated once.

    Kept pickled because unpickling is the cheapest way to give every caller its own copy: a caller that
    changes its message must not change the next one.
    """
    head: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=fit(card.header, HEADER_CHARS))),
        section(f"*{escape(card.title)}*\n{_meaning_text(card)}"),
    ]
    if card.note:
        head.append(context(f":information_source: {escape(card.note)}"))
    head.extend(titled_sections("What to do", _sourced_lines(card.steps_sourced, numbered=True)))
    if card.causes:
        head.extend(titled_sections("Likely causes", _sourced_lines(card.causes_sourced, numbered=False)))
    owner_heading = f"*Who can fix it* ({OWNER_IS_OURS})" if card.message_only else "*Who can fix it*"
    head.append(SectionBlock(fields=[
        mrkdwn(fit(f"{owner_heading}\n{escape(card.owner)}", FIELD_CHARS)),
        mrkdwn(fit(f"*Category*\n{escape(card.category)}", FIELD_CHARS)),
    ]))
    head.append(section(escape(card.owner_detail)))
    head.extend(titled_sections(f"When escalating to 8x8 ({SUPPORT_EMAIL}), send",
                                [f"\u2022 {escape(item)}" for item in card.escalate]))
    if card.related:
        related = ", ".join(f"`{code}` {escape(title)}".rstrip() for code, title in card.related)
        head.append(section(f"*Related codes*: {related}"))
    footer = [escape(card.footer)]
    if shared_by:
        footer.insert(0, f"Shared by {user_ref(shared_by)}")
    fallback = escape(card.fallback_text)
    if shared_by:
        fallback += f" (shared by {user_ref(shared_by)})"
    body = block_message(fallback, [*head, context(*footer)])
    return pickle.dumps((body["text"], body["blocks"][:len(head)], body["blocks"][len(head):]))


def _cited(item: Sourced) -> str:
    """The item's text, escaped, and for 8x8's word a link to the page that says it."""
    if not item.from_8x8:
        return escape(item.text)
    return f"{escape(item.text)} (<{item.page}|{escape(page_name(item.page))}>)"


def _meaning_text(card: Card) -> str:
    lines = [f"_{label_for(item)}:_ {_cited(item)}" for item in card.meaning_sourced]
    if card.message_only:
        lines.append(f"_{escape(MESSAGE_ONLY_NOTE)}_")
    return "\n".join(lines)


def _sourced_lines(items: tuple[Sourced, ...], *, numbered: bool) -> list[str]:
    """Items in their order, with "8x8 docs" or "Our notes" above each run of the same kind."""
    lines = []
    for label, run in runs(items):
        lines.append(f"_{label}_")
        lines.extend(f"{number}. {_cited(item)}" if numbered else f"\u2022 {_cited(item)}" for number, item in run)
    return lines


def _card_buttons(card: Card, share_button: bool, share_thread_ts: str | None, vote: ButtonValue | None,
                  why: ButtonValue | None) -> list[dict]:
    buttons = [_button_dict("8x8 documentation", OPEN_DOCS, url=card.docs)]
    if share_button:
        value = str(card.code) if not share_thread_ts else f"{card.code}@{share_thread_ts}"
        buttons.append(_button_dict("Share in channel", SHARE_CARD, value=value, style="primary"))
    if vote is not None:
        value = vote.encode()
        buttons.append(_button_dict("\U0001f44d Helpful", VOTE_UP, value=value))
        buttons.append(_button_dict("\U0001f44e Not helpful", VOTE_DOWN, value=value))
    if why is not None:
        buttons.append(_button_dict("Why this answer?", WHY, value=why.encode()))
    return buttons


def _button_dict(text: str, action_id: str, *, value: str | None = None, url: str | None = None,
                 style: str | None = None) -> dict:
    """`button(...).to_dict()`, at a fraction of the cost: the SDK draws and checks each kind of button once,
    and a call fills in its value, checked against the limit the SDK applies."""
    drawn = pickle.loads(_button_template(text, action_id, url, style))
    if not value:  # as the SDK does, an empty value is left out
        del drawn["value"]
    elif len(value) > VALUE_CHARS:
        raise SlackObjectFormationError(f"value attribute cannot exceed {VALUE_CHARS} characters")
    else:
        drawn["value"] = value
    return drawn


@lru_cache(maxsize=256)  # a few buttons, one docs link per code
def _button_template(text: str, action_id: str, url: str | None, style: str | None) -> bytes:
    # Drawn with a stand-in value, so that "value" already sits where the SDK puts it.
    return pickle.dumps(button(text, action_id, value="-", url=url, style=style).to_dict())


def _evidence_text(lines: Sequence[str]) -> str:
    # Evidence is masked again here: it may come from anywhere, and a visible phone number is the costly mistake.
    quoted = "\n".join(escape(fit(mask_msisdns(line), EVIDENCE_CHARS)) for line in lines[:5])
    quoted = fit(quoted.replace("`", "\u02cb"), SECTION_CHARS - 40)  # a backtick would close the block early
    return f"*Seen in your log*\n```{quoted}```"
