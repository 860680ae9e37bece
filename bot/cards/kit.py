"""Block Kit parts every Slack surface is drawn with, and the limits Slack sets on them.

The builders return `slack_sdk.models.blocks` objects, so `.to_dict()` validates what the SDK knows;
`check_limits` checks what it does not (block count, section field length).
All text is escaped, user text because it could otherwise ping a channel or
forge a link through the bot, knowledge-base text because one stray `<` would
break the card.
"""
from __future__ import annotations

import json
import re
from typing import Iterable, Sequence
from urllib.parse import quote

from slack_sdk.models.blocks import (Block, ButtonElement, ContextBlock, MarkdownTextObject, PlainTextObject,
                                     SectionBlock)

from ..engine.privacy import mask_msisdns

MAX_BLOCKS = 50
HEADER_CHARS = 150
SECTION_CHARS = 3000
FIELD_CHARS = 2000
BUTTON_CHARS = 75
FALLBACK_CHARS = 3000  # notifications show a line or two; keep the payload small
QUERY_CHARS = 200  # how much of a question is echoed back
EVIDENCE_CHARS = 300
MAX_VIEW_BLOCKS = 100  # modals and App Home
VALUE_CHARS = 2000  # a button's value

BUILDER_URL = "https://app.slack.com/block-kit-builder/#"
_USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")
ELLIPSIS = "\u2026"


# --- text helpers -----------------------------------------------------------------------

def escape(text: str) -> str:
    """mrkdwn-escape text: with &, < and > escaped no mention, broadcast or link can be formed."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def fit(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + ELLIPSIS


def echo(text: str, limit: int) -> str:
    """User text made safe to echo: one line, shortened, phone numbers masked, escaped."""
    line = mask_msisdns(" ".join(text.split()))  # masked before cutting, so no half number slips through
    return escape(fit(line, limit))


def user_ref(user: str) -> str:
    """A mention for a real user id; anything else is shown as escaped text."""
    return f"<@{user}>" if _USER_ID.fullmatch(user) else escape(user)


def mrkdwn(text: str, *, user_text: bool = False) -> MarkdownTextObject:
    # verbatim stops Slack from turning a bare "@here" or "#channel" in echoed text into a live link.
    return MarkdownTextObject(text=text, verbatim=True if user_text else None)


def section(text: str, *, user_text: bool = False, accessory: ButtonElement | None = None) -> SectionBlock:
    return SectionBlock(text=mrkdwn(fit(text, SECTION_CHARS), user_text=user_text), accessory=accessory)


def titled_sections(title: str, lines: Sequence[str]) -> list[SectionBlock]:
    """A titled list in as many sections as the 3000-character limit needs."""
    blocks: list[SectionBlock] = []
    current = f"*{title}*"
    for line in lines:
        line = fit(line, SECTION_CHARS - 20)
        if len(current) + 1 + len(line) > SECTION_CHARS:
            blocks.append(section(current))
            current = ""
        current = f"{current}\n{line}" if current else line
    blocks.append(section(current))
    return blocks


def context(*texts: str, user_text: bool = False) -> ContextBlock:
    return ContextBlock(elements=[mrkdwn(fit(t, SECTION_CHARS), user_text=user_text) for t in texts[:10]])


def button(text: str, action_id: str, *, value: str | None = None, url: str | None = None,
           style: str | None = None) -> ButtonElement:
    return ButtonElement(text=PlainTextObject(text=fit(text, BUTTON_CHARS)), action_id=action_id, value=value,
                         url=url, style=style)


def block_message(fallback: str, blocks: Iterable[Block]) -> dict:
    # `.to_dict()` has run the SDK's checks on every block and everything in it, so parsing the
    # result again (as `validate_message` does for messages from elsewhere) would only repeat them.
    message = {"text": fit(fallback, FALLBACK_CHARS), "blocks": [b.to_dict() for b in blocks]}
    check_limits(message)
    return message


def validate_message(message: dict) -> None:
    """Raise ValueError (or the SDK's SlackObjectFormationError) if Slack would refuse the message.

    Runs the SDK's own checks on the final JSON, plus the limits the SDK leaves unchecked.
    """
    check_limits(message)
    for raw in message.get("blocks") or ():
        block = Block.parse(raw)
        if block is None:
            raise ValueError(f"unknown block type {raw.get('type')!r}")
        block.validate_json()


def check_limits(message: dict) -> None:
    """The limits the SDK leaves unchecked."""
    if not str(message.get("text") or "").strip():
        raise ValueError("a message needs a top-level fallback text for notifications")
    rendered = message.get("blocks") or []
    if len(rendered) > MAX_BLOCKS:
        raise ValueError(f"{len(rendered)} blocks, Slack allows {MAX_BLOCKS}")
    for raw in rendered:
        for field in raw.get("fields", ()):
            if len(field["text"]) > FIELD_CHARS:
                raise ValueError(f"a section field has {len(field['text'])} characters, Slack allows {FIELD_CHARS}")


# --- previews ------------------------------------------------------------------------------

def builder_url(message: dict) -> str:
    """A Block Kit Builder link that previews the message without deploying anything."""
    payload = json.dumps({"blocks": message["blocks"]}, separators=(",", ":"), ensure_ascii=False)
    return BUILDER_URL + quote(payload, safe="")
