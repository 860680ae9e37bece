"""Block Kit rendering of `bot.cards.content` objects: the only place Slack messages are drawn.

Every builder returns `{"text": fallback, "blocks": [...]}`, built with
`slack_sdk.models.blocks` so `.to_dict()` validates what the SDK knows, and
checked here for what it does not (block count, section field length).
All text is escaped, user text because it could otherwise ping a channel or
forge a link through the bot, knowledge-base text because one stray `<` would
break the card.
"""
from __future__ import annotations

import json
import re
from typing import Iterable, Sequence
from urllib.parse import quote

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from ..engine.privacy import mask_msisdns
from .content import SUPPORT_EMAIL, Card, LogItem, LogSummary, Suggestion

MAX_BLOCKS = 50
HEADER_CHARS = 150
SECTION_CHARS = 3000
FIELD_CHARS = 2000
BUTTON_CHARS = 75
FALLBACK_CHARS = 3000  # notifications show a line or two; keep the payload small
QUERY_CHARS = 200  # how much of a question is echoed back
EVIDENCE_CHARS = 300
MAX_SUMMARY_ITEMS = 20  # keeps a summary of a huge log well under MAX_BLOCKS
MAX_SUGGESTIONS = 5

# Action ids the listeners register; a prefix where one message holds several buttons.
SUGGESTION = "nm_suggestion"  # "did you mean" button
OPEN_CARD = "nm_open_card"  # "full card" button of a log summary
SHARE_CARD = "nm_share_card"
OPEN_DOCS = "nm_open_docs"

BUILDER_URL = "https://app.slack.com/block-kit-builder/#"
_USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")
ELLIPSIS = "\u2026"


# --- text helpers -----------------------------------------------------------------------

def escape(text: str) -> str:
    """mrkdwn-escape text: with &, < and > escaped no mention, broadcast or link can be formed."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _fit(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + ELLIPSIS


def _user_text(text: str, limit: int) -> str:
    """User text made safe to echo: one line, shortened, phone numbers masked, escaped."""
    line = mask_msisdns(" ".join(text.split()))  # masked before cutting, so no half number slips through
    return escape(_fit(line, limit))


def _code_span(text: str) -> str:
    # A backtick inside would end the span early and let the rest render as mrkdwn.
    return "`" + text.replace("`", "\u02cb") + "`"


def _user_ref(user: str) -> str:
    """A mention for a real user id; anything else is shown as escaped text."""
    return f"<@{user}>" if _USER_ID.fullmatch(user) else escape(user)


def _md(text: str, *, user_text: bool = False) -> MarkdownTextObject:
    # verbatim stops Slack from turning a bare "@here" or "#channel" in echoed text into a live link.
    return MarkdownTextObject(text=text, verbatim=True if user_text else None)


def _section(text: str, *, user_text: bool = False, accessory: ButtonElement | None = None) -> SectionBlock:
    return SectionBlock(text=_md(_fit(text, SECTION_CHARS), user_text=user_text), accessory=accessory)


def _sections(title: str, lines: Sequence[str]) -> list[SectionBlock]:
    """A titled list in as many sections as the 3000-character limit needs."""
    blocks: list[SectionBlock] = []
    current = f"*{title}*"
    for line in lines:
        line = _fit(line, SECTION_CHARS - 20)
        if len(current) + 1 + len(line) > SECTION_CHARS:
            blocks.append(_section(current))
            current = ""
        current = f"{current}\n{line}" if current else line
    blocks.append(_section(current))
    return blocks


def _context(*texts: str, user_text: bool = False) -> ContextBlock:
    return ContextBlock(elements=[_md(_fit(t, SECTION_CHARS), user_text=user_text) for t in texts[:10]])


def _button(text: str, action_id: str, *, value: str | None = None, url: str | None = None,
            style: str | None = None) -> ButtonElement:
    return ButtonElement(text=PlainTextObject(text=_fit(text, BUTTON_CHARS)), action_id=action_id, value=value,
                         url=url, style=style)


def _message(fallback: str, blocks: Iterable[Block]) -> dict:
    message = {"text": _fit(fallback, FALLBACK_CHARS), "blocks": [b.to_dict() for b in blocks]}
    validate_message(message)
    return message


def validate_message(message: dict) -> None:
    """Raise ValueError (or the SDK's SlackObjectFormationError) if Slack would refuse the message.

    Runs the SDK's own checks on the final JSON, plus the limits the SDK leaves unchecked.
    """
    if not str(message.get("text") or "").strip():
        raise ValueError("a message needs a top-level fallback text for notifications")
    rendered = message.get("blocks") or []
    if len(rendered) > MAX_BLOCKS:
        raise ValueError(f"{len(rendered)} blocks, Slack allows {MAX_BLOCKS}")
    for raw in rendered:
        block = Block.parse(raw)
        if block is None:
            raise ValueError(f"unknown block type {raw.get('type')!r}")
        block.validate_json()
        for field in raw.get("fields", ()):
            if len(field["text"]) > FIELD_CHARS:
                raise ValueError(f"a section field has {len(field['text'])} characters, Slack allows {FIELD_CHARS}")


# --- cards ---------------------------------------------------------------------------------

def card_message(card: Card, *, shared_by: str | None = None, share_button: bool = False,
                 share_thread_ts: str | None = None) -> dict:
    """The full remediation card.

    `shared_by` (a user id) marks a card someone posted for the channel;
    `share_button` offers that to the reader of a private card, and
    `share_thread_ts` keeps the shared copy in the thread the card came from.
    """
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=_fit(card.header, HEADER_CHARS))),
        _section(f"*{escape(card.title)}*\n{escape(card.meaning)}"),
    ]
    if card.why:
        blocks.append(_context(escape(card.why)))
    if card.evidence:
        blocks.append(_evidence_section(card.evidence))
    blocks.extend(_sections("What to do", [f"{i}. {escape(step)}" for i, step in enumerate(card.steps, 1)]))
    if card.causes:
        blocks.extend(_sections("Likely causes", [f"\u2022 {escape(c)}" for c in card.causes]))
    blocks.append(SectionBlock(fields=[
        _md(_fit(f"*Who can fix it*\n{escape(card.owner)}", FIELD_CHARS)),
        _md(_fit(f"*Category*\n{escape(card.category)}", FIELD_CHARS)),
    ]))
    blocks.append(_section(escape(card.owner_detail)))
    blocks.extend(_sections(f"When escalating to 8x8 ({SUPPORT_EMAIL}), send",
                            [f"\u2022 {escape(item)}" for item in card.escalate]))
    if card.related:
        related = ", ".join(f"`{code}` {escape(title)}".rstrip() for code, title in card.related)
        blocks.append(_section(f"*Related codes*: {related}"))
    blocks.append(ActionsBlock(elements=_card_buttons(card, share_button, share_thread_ts)))
    footer = [escape(card.footer)]
    if shared_by:
        footer.insert(0, f"Shared by {_user_ref(shared_by)}")
    blocks.append(_context(*footer))
    fallback = escape(card.fallback_text)
    if shared_by:
        fallback += f" (shared by {_user_ref(shared_by)})"
    return _message(fallback, blocks)


def _card_buttons(card: Card, share_button: bool, share_thread_ts: str | None) -> list[ButtonElement]:
    buttons = [_button("8x8 documentation", OPEN_DOCS, url=card.docs)]
    if share_button:
        value = str(card.code) if not share_thread_ts else f"{card.code}@{share_thread_ts}"
        buttons.append(_button("Share in channel", SHARE_CARD, value=value, style="primary"))
    return buttons


def _evidence_section(lines: Sequence[str]) -> SectionBlock:
    # Evidence is masked again here: it may come from anywhere, and a visible phone number is the costly mistake.
    quoted = "\n".join(escape(_fit(mask_msisdns(line), EVIDENCE_CHARS)) for line in lines[:5])
    quoted = _fit(quoted.replace("`", "\u02cb"), SECTION_CHARS - 40)  # a backtick would close the block early
    return SectionBlock(text=_md(f"*Seen in your log*\n```{quoted}```", user_text=True))


# --- answers that are not a card ------------------------------------------------------------

def suggestions_message(query: str, suggestions: Sequence[Suggestion], *, why: str = "") -> dict:
    """\"Did you mean\" buttons; each opens that code's card."""
    shown = list(suggestions)[:MAX_SUGGESTIONS]
    blocks: list[Block] = [
        _section(f"I'm not sure which error you mean by \u201c{_user_text(query, QUERY_CHARS)}\u201d. Did you mean:",
                 user_text=True),
    ]
    for s in shown:
        blocks.append(_section(f"*{s.code}* \u00b7 {escape(s.message)}\n{escape(s.title)}",
                               accessory=_button(f"Show {s.code}", f"{SUGGESTION}_{s.code}", value=str(s.code))))
    if why:
        blocks.append(_context(escape(why)))
    blocks.append(_context(_how_to_ask()))
    codes = ", ".join(str(s.code) for s in shown)
    return _message(f"Did you mean {codes}?", blocks)


def not_sure_message(query: str) -> dict:
    """An honest \"not sure\", with how to ask so that it works next time."""
    asked = _user_text(query, QUERY_CHARS)
    opening = f"I'm not sure what \u201c{asked}\u201d refers to." if asked else "I'm not sure what you are asking."
    blocks = [
        _section(f"{opening} I only know 8x8 Number Masking error codes.", user_text=True),
        _section(_how_to_ask()),
    ]
    return _message("I'm not sure which Number Masking error that is.", blocks)


def no_codes_message(sources: Sequence[str], notes: Sequence[str] = ()) -> dict:
    """What a mention with files gets when nothing in them is a Number Masking error code."""
    names = ", ".join(_user_text(s, 80) for s in sources) or "that"
    blocks: list[Block] = [_section(f"I found no Number Masking error codes in {names}.", user_text=True)]
    if notes:
        blocks.append(_notes_context(notes))
    blocks.append(_context(_how_to_ask()))
    return _message("No Number Masking error codes found.", blocks)


def with_notes(message: dict, notes: Sequence[str]) -> dict:
    """The message with a context line of problems met on the way (e.g. a file too large to read)."""
    if not notes:
        return message
    blocks = list(message["blocks"])
    blocks.insert(max(len(blocks) - 1, 0), _notes_context(notes).to_dict())
    if len(blocks) > MAX_BLOCKS:
        return message
    return {**message, "blocks": blocks}


def _notes_context(notes: Sequence[str]) -> ContextBlock:
    return _context(*(_user_text(n, 300) for n in notes), user_text=True)


def _how_to_ask() -> str:
    return ("Ask with the code (`/nmerror -2004`), the error message 8x8 returned, or paste the log lines "
            "that hold `errorCode`. `/nmerror list` shows every code.")


def help_message() -> dict:
    lines = [
        "`/nmerror -2004` \u2014 the card for a code: what it means, what to do, who fixes it",
        "`/nmerror calls to Malaysia fail with no coverage` \u2014 ask in your own words",
        "`/nmerror list` \u2014 every Number Masking error code",
        "`@nmbot <question or pasted log>` \u2014 I answer in the thread",
        "Paste a log in a channel I am in and I reply in its thread with every code I find "
        "(long pastes and shared `.log`, `.txt` and `.json` files too).",
    ]
    blocks = [
        HeaderBlock(text=PlainTextObject(text="nmbot: 8x8 Number Masking error codes")),
        *_sections("How to ask", [f"\u2022 {line}" for line in lines]),
        _context("Cards are private until you press *Share in channel*."),
    ]
    return _message("How to use /nmerror", blocks)


def catalog_message(kb) -> dict:
    """Every code in the knowledge base, one line each."""
    lines = [f"`{e.code}` *{escape(e.title)}* \u2014 {escape(e.message)}" for e in kb]
    sections = _sections(f"Number Masking error codes ({len(lines)})", lines)
    room = MAX_BLOCKS - 2
    blocks: list[Block] = [*sections[:room]]
    if len(sections) > room:
        blocks.append(_context(f"{ELLIPSIS}and more: ask `/nmerror CODE` for any code."))
    blocks.append(_context(f"Ask `/nmerror CODE` for the full card \u00b7 nmbot knowledge base {escape(kb.version)}"))
    return _message(f"{len(lines)} Number Masking error codes", blocks)


def log_summary_message(summary: LogSummary) -> dict:
    """Every code found in a paste or file, compact, each with a button for the full card."""
    items = summary.items
    count = len(items)
    noun = "code" if count == 1 else "codes"
    blocks: list[Block] = [_section(f"*I found {count} Number Masking error {noun} in this log:*")]
    for i, item in enumerate(items[:MAX_SUMMARY_ITEMS]):
        blocks.append(_summary_item(item, i))
    if count > MAX_SUMMARY_ITEMS:
        blocks.append(_context(f"{ELLIPSIS}and {count - MAX_SUMMARY_ITEMS} more. "
                               "Ask `/nmerror CODE` for any of them."))
    blocks.append(_context(escape(summary.footer)))
    return _message(escape(summary.fallback_text), blocks)


def _summary_item(item: LogItem, index: int) -> SectionBlock:
    seen = f"{item.count}\u00d7, first on line {item.line}"
    evidence = _code_span(escape(_fit(mask_msisdns(item.evidence), EVIDENCE_CHARS)))
    if item.known:
        text = (f"*{item.code}* \u00b7 {escape(item.message)}\n{escape(item.title)} \u00b7 {seen}\n{evidence}\n"
                f"First step: {escape(item.first_step)}")
        button = _button("Full card", f"{OPEN_CARD}_{index}", value=str(item.code))
        return SectionBlock(text=_md(_fit(text, SECTION_CHARS), user_text=True), accessory=button)
    text = (f"*{item.code}* \u00b7 {escape(item.title)} \u00b7 {seen}\n{evidence}\n"
            "Not a documented Number Masking code: check 8x8's error code list, or send the log to "
            f"{SUPPORT_EMAIL}.")
    return SectionBlock(text=_md(_fit(text, SECTION_CHARS), user_text=True))


def trouble_message() -> dict:
    """What the person sees when the bot itself failed: never a traceback."""
    return _message("Something went wrong on my side.", [
        _section("Something went wrong on my side and I could not answer. Please try again in a minute; "
                 "if it keeps happening, tell whoever runs nmbot."),
    ])


def notice_message(text: str) -> dict:
    """A one-line notice written by the bot (never user text)."""
    return _message(text, [_section(escape(text))])


# --- previews ------------------------------------------------------------------------------

def builder_url(message: dict) -> str:
    """A Block Kit Builder link that previews the message without deploying anything."""
    payload = json.dumps({"blocks": message["blocks"]}, separators=(",", ":"), ensure_ascii=False)
    return BUILDER_URL + quote(payload, safe="")
