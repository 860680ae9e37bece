"""Answers that are not a card: "did you mean", "not sure", another product's code, help, the catalog, notices."""
from __future__ import annotations

from typing import Sequence

from slack_sdk.models.blocks import Block, ContextBlock, HeaderBlock, PlainTextObject

from .action_ids import OPEN_DOCS, SUGGESTION
from .channel_controls import CONTROL_HELP
from .content import CATALOG_TAGS, PROVENANCE_LEGEND, NotNumberMasking, OtherProduct, Suggestion
from .kit import (ELLIPSIS, MAX_BLOCKS, QUERY_CHARS, block_message, button, context, echo, escape, section,
                  titled_sections)

MAX_SUGGESTIONS = 5


def suggestions_message(query: str, suggestions: Sequence[Suggestion], *, why: str = "") -> dict:
    """\"Did you mean\" buttons; each opens that code's card."""
    shown = list(suggestions)[:MAX_SUGGESTIONS]
    blocks: list[Block] = [
        section(f"I'm not sure which error you mean by \u201c{echo(query, QUERY_CHARS)}\u201d. Did you mean:",
                user_text=True),
    ]
    for s in shown:
        blocks.append(section(f"*{s.code}* \u00b7 {escape(s.message)}\n{escape(s.title)}",
                              accessory=button(f"Show {s.code}", f"{SUGGESTION}_{s.code}", value=str(s.code))))
    if why:
        blocks.append(context(escape(why)))
    blocks.append(context(_how_to_ask()))
    codes = ", ".join(str(s.code) for s in shown)
    return block_message(f"Did you mean {codes}?", blocks)


MAX_OTHER_PRODUCTS = 5
NUMBER_MASKING_REPORTS = ("Number Masking reports its codes with a minus sign (`-2001` \u2026 `-2010`, `-9999`) in "
                          "its callbacks and session summaries.")


def not_number_masking_message(query: str, reply: NotNumberMasking) -> dict:
    """No card: the question's numbers belong to other 8x8 products, named, with their docs."""
    shown = reply.items[:MAX_OTHER_PRODUCTS]
    blocks: list[Block] = []
    for i, item in enumerate(shown):
        docs = button(item.docs_label, OPEN_DOCS, url=item.docs) if i == 0 else None
        blocks.append(section(_other_product_text(item, link=docs is None), accessory=docs))
    lookalikes = [i.lookalike for i in shown if i.lookalike is not None]
    tail = NUMBER_MASKING_REPORTS
    if lookalikes:
        tail += f" If one of them reported `{lookalikes[0]}`, ask `/nmerror {lookalikes[0]}`."
    blocks.append(context(tail))
    blocks.append(context(f"You asked: \u201c{echo(query, QUERY_CHARS)}\u201d", user_text=True))
    return block_message(reply.fallback_text, blocks)


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
    asked = echo(query, QUERY_CHARS)
    opening = f"I'm not sure what \u201c{asked}\u201d refers to." if asked else "I'm not sure what you are asking."
    blocks = [
        section(f"{opening} I only know 8x8 Number Masking error codes.", user_text=True),
        section(_how_to_ask()),
    ]
    return block_message("I'm not sure which Number Masking error that is.", blocks)


def no_codes_message(sources: Sequence[str], notes: Sequence[str] = ()) -> dict:
    """What a mention with files gets when nothing in them is a Number Masking error code."""
    names = ", ".join(echo(s, 80) for s in sources) or "that"
    blocks: list[Block] = [section(f"I found no Number Masking error codes in {names}.", user_text=True)]
    if notes:
        blocks.append(_notes_context(notes))
    blocks.append(context(_how_to_ask()))
    return block_message("No Number Masking error codes found.", blocks)


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
    return context(*(echo(n, 300) for n in notes), user_text=True)


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
        *titled_sections("How to ask", [f"\u2022 {line}" for line in lines]),
        context("Cards are private until you press *Share in channel*."),
    ]
    return block_message("How to use /nmerror", blocks)


def catalog_line(entry) -> str:
    """One code in a catalog, with whether 8x8 documents more than its message."""
    return (f"`{entry.code}` *{escape(entry.title)}* \u2014 {escape(entry.message)} \u00b7 "
            f"_{escape(CATALOG_TAGS[entry.message_only])}_")


def catalog_message(kb) -> dict:
    """Every code in the knowledge base, one line each."""
    lines = [catalog_line(e) for e in kb]
    sections = titled_sections(f"Number Masking error codes ({len(lines)})", lines)
    room = MAX_BLOCKS - 2
    blocks: list[Block] = [*sections[:room]]
    if len(sections) > room:
        blocks.append(context(f"{ELLIPSIS}and more: ask `/nmerror CODE` for any code."))
    blocks.append(context(f"Ask `/nmerror CODE` for the full card \u00b7 {PROVENANCE_LEGEND} \u00b7 "
                          f"nmbot knowledge base {escape(kb.version)}"))
    return block_message(f"{len(lines)} Number Masking error codes", blocks)


def trouble_message() -> dict:
    """What the person sees when the bot itself failed: never a traceback."""
    return block_message("Something went wrong on my side.", [
        section("Something went wrong on my side and I could not answer. Please try again in a minute; "
                "if it keeps happening, tell whoever runs nmbot."),
    ])


def notice_message(text: str) -> dict:
    """A one-line notice written by the bot (never user text)."""
    return block_message(text, [section(escape(text))])
