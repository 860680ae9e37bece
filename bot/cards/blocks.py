"""Block Kit rendering of `nmbot.cards.content` objects: the only place Slack messages are drawn.

Every builder returns `{"text": fallback, "blocks": [...]}`, built with
`slack_sdk.models.blocks` so `.to_dict()` validates what the SDK knows, and
checked here for what it does not (block count, section field length).
Cards are drawn for nearly every answer, so the part of a card that depends only
on its content is rendered and validated once and memoized (`_card_body`); a
call only adds the buttons, whose values change every time.
All text is escaped, user text because it could otherwise ping a channel or
forge a link through the bot, knowledge-base text because one stray `<` would
break the card.
"""
from __future__ import annotations

import json
import pickle
import re
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import TYPE_CHECKING, Iterable, Optional, Sequence
from urllib.parse import quote

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import (
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from ..engine.knowledge import Sourced
from ..engine.privacy import mask_msisdns
from ..engine.resolver import ANSWER_MIN, MARGIN, SUGGEST_MIN, Resolution
from ..engine.scanner import Finding
from .content import (CATALOG_TAGS, FROM_8X8, MESSAGE_ONLY_NOTE, OURS, OWNER_IS_OURS, PROVENANCE_LEGEND, SUPPORT_EMAIL,
                      Card, LogItem, LogSummary, NotNumberMasking, OtherProduct, Suggestion, label_for, page_name,
                      runs)

if TYPE_CHECKING:
    from ..report import Report

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
MAX_VIEW_BLOCKS = 100  # modals and App Home
VALUE_CHARS = 2000  # a button's value
COMMENT_CHARS = 1000  # what a thumbs-down form accepts

# Action ids the listeners register; a prefix where one message holds several buttons.
SUGGESTION = "nm_suggestion"  # "did you mean" button
OPEN_CARD = "nm_open_card"  # "full card" button of a log summary
SHARE_CARD = "nm_share_card"
OPEN_DOCS = "nm_open_docs"
VOTE_UP = "nm_vote_up"
VOTE_DOWN = "nm_vote_down"
WHY = "nm_why"
FEEDBACK_MODAL = "nm_feedback"  # callback_id of the thumbs-down form
COMMENT_BLOCK, COMMENT_INPUT = "nm_comment", "nm_comment_text"

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
    # `.to_dict()` has run the SDK's checks on every block and everything in it, so parsing the
    # result again (as `validate_message` does for messages from elsewhere) would only repeat them.
    message = {"text": _fit(fallback, FALLBACK_CHARS), "blocks": [b.to_dict() for b in blocks]}
    _check_limits(message)
    return message


def validate_message(message: dict) -> None:
    """Raise ValueError (or the SDK's SlackObjectFormationError) if Slack would refuse the message.

    Runs the SDK's own checks on the final JSON, plus the limits the SDK leaves unchecked.
    """
    _check_limits(message)
    for raw in message.get("blocks") or ():
        block = Block.parse(raw)
        if block is None:
            raise ValueError(f"unknown block type {raw.get('type')!r}")
        block.validate_json()


def _check_limits(message: dict) -> None:
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


# --- cards ---------------------------------------------------------------------------------

def card_message(card: Card, *, shared_by: str | None = None, share_button: bool = False,
                 share_thread_ts: str | None = None, vote: "VoteRef | None" = None,
                 why: "WhyRef | None" = None) -> dict:
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
    _check_limits(message)
    return message


TITLE_BLOCKS = 2  # the header and the meaning, which the why and the evidence follow


def _finding_dicts(card: Card) -> list[dict]:
    """The finding's "why" (a context) and log lines (a section), as Slack's JSON written directly:
    drawn for every pasted log, where the SDK's models cost more than the rest of the card. The tests
    check the bytes against the SDK's drawing; the texts are fitted here to the limits it would check."""
    found: list[dict] = []
    if card.why:
        found.append({"elements": [{"text": _fit(escape(card.why), SECTION_CHARS), "type": "mrkdwn"}],
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
        HeaderBlock(text=PlainTextObject(text=_fit(card.header, HEADER_CHARS))),
        _section(f"*{escape(card.title)}*\n{_meaning_text(card)}"),
    ]
    if card.note:
        head.append(_context(f":information_source: {escape(card.note)}"))
    head.extend(_sections("What to do", _sourced_lines(card.steps_sourced, numbered=True)))
    if card.causes:
        head.extend(_sections("Likely causes", _sourced_lines(card.causes_sourced, numbered=False)))
    owner_heading = f"*Who can fix it* ({OWNER_IS_OURS})" if card.message_only else "*Who can fix it*"
    head.append(SectionBlock(fields=[
        _md(_fit(f"{owner_heading}\n{escape(card.owner)}", FIELD_CHARS)),
        _md(_fit(f"*Category*\n{escape(card.category)}", FIELD_CHARS)),
    ]))
    head.append(_section(escape(card.owner_detail)))
    head.extend(_sections(f"When escalating to 8x8 ({SUPPORT_EMAIL}), send",
                          [f"\u2022 {escape(item)}" for item in card.escalate]))
    if card.related:
        related = ", ".join(f"`{code}` {escape(title)}".rstrip() for code, title in card.related)
        head.append(_section(f"*Related codes*: {related}"))
    footer = [escape(card.footer)]
    if shared_by:
        footer.insert(0, f"Shared by {_user_ref(shared_by)}")
    fallback = escape(card.fallback_text)
    if shared_by:
        fallback += f" (shared by {_user_ref(shared_by)})"
    body = _message(fallback, [*head, _context(*footer)])
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


def _card_buttons(card: Card, share_button: bool, share_thread_ts: str | None, vote: "VoteRef | None",
                  why: "WhyRef | None") -> list[dict]:
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
    """`_button(...).to_dict()`, at a fraction of the cost: the SDK draws and checks each kind of button once,
    and a call fills in its value, checked against the limit the SDK applies."""
    button = pickle.loads(_button_template(text, action_id, url, style))
    if not value:  # as the SDK does, an empty value is left out
        del button["value"]
    elif len(value) > VALUE_CHARS:
        raise SlackObjectFormationError(f"value attribute cannot exceed {VALUE_CHARS} characters")
    else:
        button["value"] = value
    return button


@lru_cache(maxsize=256)  # a few buttons, one docs link per code
def _button_template(text: str, action_id: str, url: str | None, style: str | None) -> bytes:
    # Drawn with a stand-in value, so that "value" already sits where the SDK puts it.
    return pickle.dumps(_button(text, action_id, value="-", url=url, style=style).to_dict())


def _evidence_text(lines: Sequence[str]) -> str:
    # Evidence is masked again here: it may come from anywhere, and a visible phone number is the costly mistake.
    quoted = "\n".join(escape(_fit(mask_msisdns(line), EVIDENCE_CHARS)) for line in lines[:5])
    quoted = _fit(quoted.replace("`", "\u02cb"), SECTION_CHARS - 40)  # a backtick would close the block early
    return f"*Seen in your log*\n```{quoted}```"


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


MAX_OTHER_PRODUCTS = 5
NUMBER_MASKING_REPORTS = ("Number Masking reports its codes with a minus sign (`-2001` \u2026 `-2010`, `-9999`) in "
                          "its callbacks and session summaries.")


def not_number_masking_message(query: str, reply: NotNumberMasking) -> dict:
    """No card: the question's numbers belong to other 8x8 products, named, with their docs."""
    shown = reply.items[:MAX_OTHER_PRODUCTS]
    blocks: list[Block] = []
    for i, item in enumerate(shown):
        docs = _button(item.docs_label, OPEN_DOCS, url=item.docs) if i == 0 else None
        blocks.append(_section(_other_product_text(item, link=docs is None), accessory=docs))
    lookalikes = [i.lookalike for i in shown if i.lookalike is not None]
    tail = NUMBER_MASKING_REPORTS
    if lookalikes:
        tail += f" If one of them reported `{lookalikes[0]}`, ask `/nmerror {lookalikes[0]}`."
    blocks.append(_context(tail))
    blocks.append(_context(f"You asked: \u201c{_user_text(query, QUERY_CHARS)}\u201d", user_text=True))
    return _message(reply.fallback_text, blocks)


def _other_product_text(item: OtherProduct, *, link: bool) -> str:
    if item.number:
        text = (f"*`{escape(item.number)}` is not a Number Masking error code.* "
                f"It most likely comes from {escape(item.product)}")
        text += f", where it means \u201c{escape(item.meaning)}\u201d." if item.meaning else "."
    else:
        text = (f"*Not a Number Masking error.* With {escape(item.named)} named, that message most likely is "
                f"{escape(item.named)}'s own, from {escape(item.product)}.")
    text += f"\n{escape(item.reports)}"
    return text + f" <{item.docs}|{escape(item.docs_label)}>" if link else text


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


HOW_TO_ASK = (
    "`/nmerror -2004` \u2014 the card for a code: what it means, what to do, who fixes it",
    "`/nmerror calls to Malaysia fail with no coverage` \u2014 ask in your own words",
    "`/nmerror list` \u2014 every Number Masking error code",
    "`@nmbot <question or pasted log>` \u2014 I answer in the thread",
    "Paste a log in a channel I am in and I reply in its thread with every code I find "
    "(long pastes and shared `.log`, `.txt` and `.json` files too).",
)


def help_message() -> dict:
    lines = [*HOW_TO_ASK, *CONTROL_HELP]
    blocks = [
        HeaderBlock(text=PlainTextObject(text="nmbot: 8x8 Number Masking error codes")),
        *_sections("How to ask", [f"\u2022 {line}" for line in lines]),
        _context("Cards are private until you press *Share in channel*."),
    ]
    return _message("How to use /nmerror", blocks)


def catalog_line(entry) -> str:
    """One code in a catalog, with whether 8x8 documents more than its message."""
    return (f"`{entry.code}` *{escape(entry.title)}* \u2014 {escape(entry.message)} \u00b7 "
            f"_{escape(CATALOG_TAGS[entry.message_only])}_")


def catalog_message(kb) -> dict:
    """Every code in the knowledge base, one line each."""
    lines = [catalog_line(e) for e in kb]
    sections = _sections(f"Number Masking error codes ({len(lines)})", lines)
    room = MAX_BLOCKS - 2
    blocks: list[Block] = [*sections[:room]]
    if len(sections) > room:
        blocks.append(_context(f"{ELLIPSIS}and more: ask `/nmerror CODE` for any code."))
    blocks.append(_context(f"Ask `/nmerror CODE` for the full card \u00b7 {PROVENANCE_LEGEND} \u00b7 "
                           f"nmbot knowledge base {escape(kb.version)}"))
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
        source = FROM_8X8 if item.first_step_from_8x8 else OURS.lower()
        text = (f"*{item.code}* \u00b7 {escape(item.message)}\n{escape(item.title)} \u00b7 {seen}\n{evidence}\n"
                f"First step ({source}): {escape(item.first_step)}")
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


# --- feedback: votes, "Why this answer?", the thumbs-down form -------------------------------

_CARD_ID = re.compile(r"[A-Za-z0-9._:@-]{1,64}")
_SURFACE = re.compile(r"[a-z_]{1,20}")
_BASIS = re.compile(r"[a-z -]{1,20}")
VERSION_CHARS = 80
MATCHED_CHARS = 200
THUMBS = {"up": "\U0001f44d", "down": "\U0001f44e"}


def stored_text(text: str, limit: int = QUERY_CHARS) -> str:
    """User text to carry in a button or store: one line, phone numbers masked, shortened (not escaped)."""
    return _fit(mask_msisdns(" ".join(str(text).split())), limit)


def _json_object(value: object) -> dict | None:
    if not isinstance(value, str) or len(value) > VALUE_CHARS:
        return None
    try:
        data = json.loads(value)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@dataclass(frozen=True)
class VoteRef:
    """The card a vote is cast on. Travels in the vote buttons' value, so a vote needs no look-up."""

    card_id: str  # one posted card: every copy of it shares the id, so one vote per person per card
    code: int
    surface: str  # where the card was shown: command, mention, autoreply, shortcut, button, share
    kb_version: str  # the knowledge base the card was drawn from
    question: str = ""  # what was asked (masked, shortened): kept with a thumbs-down

    def __post_init__(self) -> None:
        # However it was made, a reference carries no phone number and fits in a button.
        object.__setattr__(self, "question", stored_text(self.question) if self.question else "")
        object.__setattr__(self, "kb_version", self.kb_version[:VERSION_CHARS])

    def encode(self) -> str:
        data = {"i": self.card_id, "c": self.code, "s": self.surface, "k": self.kb_version}
        if self.question:
            data["q"] = self.question
        return json.dumps(data, separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def decode(cls, value: object) -> Optional["VoteRef"]:
        """The reference in a button value; None for anything this bot did not write."""
        data = _json_object(value)
        if data is None:
            return None
        card_id, code, surface = data.get("i"), data.get("c"), data.get("s")
        version, question = data.get("k", ""), data.get("q", "")
        if not (isinstance(card_id, str) and _CARD_ID.fullmatch(card_id) and _is_int(code)
                and isinstance(surface, str) and _SURFACE.fullmatch(surface)
                and isinstance(version, str) and len(version) <= VERSION_CHARS and isinstance(question, str)):
            return None
        return cls(card_id, code, surface, version, question)


@dataclass(frozen=True)
class WhyRef:
    """Why a card was chosen, carried in its "Why this answer?" button."""

    code: int
    basis: str  # code, message, phrase or title (a question); log (found in a paste)
    matched: str = ""  # the knowledge-base text that matched
    score: float = 0.0
    runner_up: Optional[int] = None
    runner_up_score: float = 0.0
    runner_up_basis: str = ""
    runner_up_matched: str = ""
    question: str = ""  # masked, shortened
    count: int = 0  # log: times found
    line: int = 0  # log: first line
    shared: str = ""  # a symptom several codes tie on (or a clue), set aside so the rest of the question decided

    @classmethod
    def for_resolution(cls, resolution: Resolution) -> Optional["WhyRef"]:
        answer, runner_up = resolution.answer, resolution.runner_up
        if answer is None:
            return None
        shared = _fit(resolution.shared[0].matched, MATCHED_CHARS) if resolution.shared else ""
        if runner_up is None or answer.field in ("code", "message"):
            return cls(answer.code, answer.field, _fit(answer.matched, MATCHED_CHARS), round(answer.score, 1),
                       question=stored_text(resolution.query), shared=shared)
        return cls(answer.code, answer.field, _fit(answer.matched, MATCHED_CHARS), round(answer.score, 1),
                   runner_up.code, round(runner_up.score, 1), runner_up.field,
                   _fit(runner_up.matched, MATCHED_CHARS), stored_text(resolution.query), shared=shared)

    @classmethod
    def for_finding(cls, finding: Finding) -> "WhyRef":
        return cls(finding.code, "log", count=finding.count, line=finding.line)

    def encode(self) -> str:
        # Every field is a plain value: this is `asdict` without its deep copy, which is slow for a hot path.
        fields = {k: getattr(self, k) for k in self.__dataclass_fields__}
        data = {k: v for k, v in fields.items() if v not in ("", 0, 0.0, None) or k in ("code", "basis")}
        return json.dumps(data, separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def decode(cls, value: object) -> Optional["WhyRef"]:
        data = _json_object(value)
        if data is None or set(data) - set(cls.__dataclass_fields__):
            return None
        texts = ("matched", "runner_up_matched", "question", "shared")
        ok = (_is_int(data.get("code")) and isinstance(data.get("basis"), str) and _BASIS.fullmatch(data["basis"])
              and all(isinstance(data.get(k, ""), str) and len(data.get(k, "")) <= MATCHED_CHARS for k in texts)
              and isinstance(data.get("runner_up_basis", ""), str) and len(data.get("runner_up_basis", "")) <= 20
              and all(_is_number(data.get(k, 0)) for k in ("score", "runner_up_score"))
              and all(_is_int(data.get(k, 0)) for k in ("count", "line"))
              and (data.get("runner_up") is None or _is_int(data.get("runner_up"))))
        return cls(**data) if ok else None


def _entry_name(kb, code: int) -> str:
    entry = kb.get(code) if kb is not None else None
    return f"`{code}` {escape(entry.title)}" if entry is not None else f"`{code}`"


def why_message(why: WhyRef, kb=None) -> dict:
    """Only for the person who clicked: what matched, how well, and what came second."""
    lines = []
    if why.question:
        lines.append(f"*Question*: \u201c{_user_text(why.question, QUERY_CHARS)}\u201d")
    exact = {
        "code": f"the code `{why.code}` appears in the question: an exact match.",
        "message": f"the question quotes 8x8's own message for `{why.code}`, "
                   f"\u201c{escape(why.matched)}\u201d: an exact match.",
        "log": (f"`{why.code}` was found in the log "
                f"{'once' if why.count == 1 else f'{why.count} times'}, first on line {why.line}."),
    }
    if why.basis in exact:
        lines.append(f"*Matched*: {exact[why.basis]}")
    else:
        if why.shared:
            lines.append(f"*Set aside*: the symptom \u201c{escape(why.shared)}\u201d, which alone does not tell which "
                         "code is behind a failure; "
                         f"the rest of the question decided, with a lead of {MARGIN:.0f} and a score of "
                         f"{ANSWER_MIN:.0f} unless the whole question already had the same code {MARGIN:.0f} ahead.")
        lines.append(f"*Matched*: the {escape(why.basis)} \u201c{escape(why.matched)}\u201d of {_entry_name(kb, why.code)}, "
                     f"score {why.score:.0f} out of 100.")
        if why.runner_up is not None:
            lines.append(f"*Runner-up*: {_entry_name(kb, why.runner_up)} through the {escape(why.runner_up_basis)} "
                         f"\u201c{escape(why.runner_up_matched)}\u201d, score {why.runner_up_score:.0f} "
                         f"(a lead of {why.score - why.runner_up_score:.0f}).")
        else:
            lines.append(f"*Runner-up*: no other code scored {SUGGEST_MIN:.0f} or more.")
    blocks: list[Block] = [
        _section(f"*Why this answer?* {_entry_name(kb, why.code)}"),
        _section("\n".join(lines), user_text=True),
        _context(f"An answer from the wording of a question needs a score of {ANSWER_MIN:.0f} and a lead of "
                 f"{MARGIN:.0f} over the runner-up; otherwise I offer \u201cdid you mean\u201d buttons. "
                 "A code or 8x8's own message is an exact match."),
    ]
    return _message(f"Why I answered {why.code}", blocks)


def vote_thanks_message(vote: str, *, first: bool) -> dict:
    thumb = THUMBS.get(vote, "")
    if first:
        return notice_message(f"Thanks for the {thumb}. It goes to the people who write my answers.")
    return notice_message(f"Thanks: your vote on this card is now {thumb} (one vote per person per card).")


def comment_thanks_message() -> dict:
    return notice_message("Thanks for saying what was missing. It goes to the people who write my answers.")


def feedback_modal(vote: VoteRef, private_metadata: str, kb=None) -> dict:
    """The thumbs-down form: "what was missing?", optional, closed with Send or Skip."""
    view = View(
        type="modal",
        callback_id=FEEDBACK_MODAL,
        title=PlainTextObject(text="What was missing?"),
        submit=PlainTextObject(text="Send"),
        close=PlainTextObject(text="Skip"),
        notify_on_close=True,
        private_metadata=private_metadata,
        blocks=[
            _section(f"Your {THUMBS['down']} on {_entry_name(kb, vote.code)} is recorded. What was missing or "
                     "wrong? The people who write my answers read every note."),
            InputBlock(block_id=COMMENT_BLOCK, label=PlainTextObject(text="What was missing?"), optional=True,
                       element=PlainTextInputElement(action_id=COMMENT_INPUT, multiline=True,
                                                     max_length=COMMENT_CHARS,
                                                     placeholder="e.g. the steps do not cover calls to Malaysia")),
        ],
    )
    return view.to_dict()


# --- channel controls ----------------------------------------------------------------------

CONTROL_HELP = (
    "`/nmerror autoreply on|off|shadow` \u2014 whether I reply to pasted logs in this channel "
    "(shadow: I only record what I would have said)",
    "`/nmerror mute 2h` \u2014 pause my auto-replies here for a while (`30m`, `2h`, `1d`; `/nmerror mute off` ends it)",
    "React \u274c to one of my replies to remove it and keep me quiet in that thread",
    "*Explain error codes* in any message's \u22ee menu \u2014 a private explanation of every code in it",
)
AUTOREPLY_MEANING = {
    "on": "I reply in the thread of a pasted log that holds Number Masking error codes.",
    "off": "I do not reply to pasted logs here. `/nmerror`, mentions and *Explain error codes* still work.",
    "shadow": "I record what I would have replied to pasted logs, and post nothing.",
}


def slack_date(epoch: float) -> str:
    """A time every reader sees in their own time zone (UTC in the fallback)."""
    from datetime import datetime, timezone

    fallback = datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(epoch)}^{{date_short_pretty}} at {{time}}|{fallback}>"


def autoreply_changed_message(user: str, mode: str, muted_until: float | None = None) -> dict:
    """For the channel: who changed auto-replies, and what that means."""
    said = {"on": "turned auto-replies *on*", "off": "turned auto-replies *off*",
            "shadow": "put auto-replies in *shadow* mode"}[mode]
    lines = [f"{_user_ref(user)} {said} in this channel. {AUTOREPLY_MEANING[mode]}"]
    if muted_until is not None and mode != "off":
        lines.append(f"They stay muted until {slack_date(muted_until)} (`/nmerror mute off` ends that).")
    return _message(f"Auto-replies here are now {mode} (changed by {_user_ref(user)})", [_section("\n".join(lines))])


def autoreply_status_message(mode: str, muted_until: float | None = None) -> dict:
    """For the person who asked: the channel's setting and how to change it."""
    lines = [f"Auto-replies in this channel are *{mode}*. {AUTOREPLY_MEANING[mode]}"]
    if muted_until is not None:
        lines.append(f"They are muted until {slack_date(muted_until)}.")
    lines.append("Change it with `/nmerror autoreply on`, `off` or `shadow`, or pause with `/nmerror mute 2h`.")
    return _message(f"Auto-replies here are {mode}", [_section("\n".join(lines))])


def muted_message(user: str, duration: str, until: float) -> dict:
    text = (f"{_user_ref(user)} muted my auto-replies in this channel for {escape(duration)}, until "
            f"{slack_date(until)}. `/nmerror`, mentions and *Explain error codes* still work; "
            "`/nmerror mute off` ends the mute early.")
    return _message(f"Auto-replies muted here for {duration} (by {_user_ref(user)})", [_section(text)])


def unmuted_message(user: str, mode: str) -> dict:
    text = f"{_user_ref(user)} ended the mute: auto-replies in this channel are *{mode}* again."
    return _message(f"Auto-replies here are {mode} again (by {_user_ref(user)})", [_section(text)])


# --- App Home --------------------------------------------------------------------------------

CATEGORY_LABELS = {"caller-id": "Caller ID", "call-flow": "Call flow"}


def category_label(category: str) -> str:
    return CATEGORY_LABELS.get(category) or category.replace("-", " ").capitalize()


def home_view(kb, report: "Report | None" = None, *, days: int = 7) -> dict:
    """The App Home tab: how to ask, the team's recent figures, and every code grouped by kind."""
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text="nmbot: 8x8 Number Masking error codes")),
        _section("I explain the error codes 8x8 Number Masking reports (`-2001` \u2026 `-2010`, `-9999`): "
                 "what each means, what to do, and who can fix it."),
        *_sections("How to ask", [f"\u2022 {line}" for line in HOW_TO_ASK + CONTROL_HELP]),
        DividerBlock(),
    ]
    if report is not None:
        blocks.extend(_figures_blocks(report, days))
        blocks.append(DividerBlock())
    groups: dict[str, list[str]] = {}
    for e in kb:
        groups.setdefault(e.category, []).append(catalog_line(e))
    blocks.append(_section(f"*Error codes by kind* ({len(kb)})"))
    blocks.append(_context(PROVENANCE_LEGEND))
    catalog: list[Block] = []
    for category, lines in groups.items():
        catalog.extend(_sections(category_label(category), lines))
    room = MAX_VIEW_BLOCKS - len(blocks) - 2
    blocks.extend(catalog[:room])
    if len(catalog) > room:
        blocks.append(_context(f"{ELLIPSIS}and more: `/nmerror list` shows every code."))
    blocks.append(_context(f"Ask `/nmerror CODE` for the full card \u00b7 nmbot knowledge base {escape(kb.version)}"))
    view = View(type="home", blocks=blocks).to_dict()
    if len(view["blocks"]) > MAX_VIEW_BLOCKS:
        raise ValueError(f"{len(view['blocks'])} blocks, the App Home allows {MAX_VIEW_BLOCKS}")
    return view


def _figures_blocks(report: "Report", days: int) -> list[Block]:
    """Team totals only: no question text and no channel names, since the tab is personal but the figures are not."""
    votes = report.up + report.down
    helpful = (f"{report.up / votes:.0%} ({report.up} \U0001f44d, {report.down} \U0001f44e)" if votes
               else "no votes yet")
    top = ", ".join(f"`{c.code}` ({c.explained})" for c in report.top_codes[:5]) or "none yet"
    fields = [
        f"*Codes explained*\n{report.explained} ({report.answers} asked, {report.autoreplies} auto-replies)",
        f"*Not answered with confidence*\n{report.unanswered}",
        f"*Helpful*\n{helpful}",
        f"*Most asked*\n{top}",
    ]
    return [
        _section(f"*The team's last {days} days*"),
        SectionBlock(fields=[_md(_fit(f, FIELD_CHARS)) for f in fields]),
        _context("`nmbot report` turns these into knowledge-base work: unanswered questions grouped, "
                 "helpful rate per code."),
    ]


# --- previews ------------------------------------------------------------------------------

def builder_url(message: dict) -> str:
    """A Block Kit Builder link that previews the message without deploying anything."""
    payload = json.dumps({"blocks": message["blocks"]}, separators=(",", ":"), ensure_ascii=False)
    return BUILDER_URL + quote(payload, safe="")
