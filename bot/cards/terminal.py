"""Cards for the terminal: the same content as the Slack card, as text.

Colour only on a terminal that wants it (not when piped, not with NO_COLOR), unless asked for
(`--color always`, FORCE_COLOR).
"""
from __future__ import annotations

import os
import textwrap
from typing import TextIO

from ..engine.knowledge import Sourced
from .content import (FROM_8X8, MESSAGE_ONLY_NOTE, OURS, OWNER_IS_OURS, Card, LogSummary, NotNumberMasking, Suggestion,
                      label_for, runs)

WIDTH = 88


class Style:
    """ANSI styling that turns itself off where colour is not wanted."""

    def __init__(self, enabled: bool):
        self.enabled = enabled

    @classmethod
    def for_stream(cls, stream: TextIO, mode: str = "auto") -> "Style":
        return cls(wants_color(stream, mode))

    def _wrap(self, code: str, text: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self.enabled else text

    def bold(self, text: str) -> str:
        return self._wrap("1", text)

    def dim(self, text: str) -> str:
        return self._wrap("2", text)

    def red(self, text: str) -> str:
        return self._wrap("1;31", text)

    def yellow(self, text: str) -> str:
        return self._wrap("33", text)

    def cyan(self, text: str) -> str:
        return self._wrap("36", text)


PLAIN = Style(False)


def wants_color(stream: TextIO, mode: str = "auto", env=None) -> bool:
    """`--color always|never` decides; with `auto`, NO_COLOR (no-color.org) turns colour off, FORCE_COLOR
    (force-color.org) on, and otherwise a terminal that is not TERM=dumb gets it. Either variable counts only
    when set to something."""
    if mode != "auto":
        return mode == "always"
    env = os.environ if env is None else env
    if env.get("NO_COLOR"):
        return False
    if env.get("FORCE_COLOR"):
        return True
    return bool(hasattr(stream, "isatty") and stream.isatty()) and env.get("TERM") != "dumb"


def _para(text: str, indent: str = "  ") -> str:
    return textwrap.fill(text, WIDTH, initial_indent=indent, subsequent_indent=indent)


def _items(items, numbered: bool, indent: str = "  ") -> list[str]:
    lines = []
    for i, item in enumerate(items, 1):
        mark = f"{i}. " if numbered else "\u2022 "
        lines.append(
            textwrap.fill(item, WIDTH, initial_indent=indent + mark, subsequent_indent=indent + " " * len(mark))
        )
    return lines


def _label(label: str, style: Style) -> str:
    return style.yellow(label) if label == OURS else style.cyan(label)


def _cite(item: Sourced, pages: tuple[str, ...]) -> str:
    """The item's text with a footnote to its 8x8 page, listed under the card."""
    return f"{item.text} [{pages.index(item.page) + 1}]" if item.from_8x8 else item.text


def _sourced_items(items: tuple[Sourced, ...], pages: tuple[str, ...], numbered: bool, style: Style) -> list[str]:
    """Items in their order, with "8x8 docs:" or "Our notes:" above each run of the same kind."""
    lines = []
    for label, run in runs(items):
        lines.append(f"  {_label(label, style)}:")
        for number, item in run:
            mark = f"{number}. " if numbered else "\u2022 "
            lines.append(textwrap.fill(_cite(item, pages), WIDTH, initial_indent="  " + mark,
                                       subsequent_indent="  " + " " * len(mark)))
    return lines


def _meaning(card: Card, style: Style) -> list[str]:
    lines = []
    for item in card.meaning_sourced:
        label = label_for(item)
        text = textwrap.fill(f"{label}: {_cite(item, card.pages)}", WIDTH, initial_indent="  ", subsequent_indent="  ")
        lines.append(text.replace(label, _label(label, style), 1))
    if card.message_only:
        lines.append(style.dim(_para(MESSAGE_ONLY_NOTE)))
    return lines


def render_card(card: Card, style: Style = PLAIN) -> str:
    pages = card.pages
    owner_heading = f"Who can fix it ({OWNER_IS_OURS})" if card.message_only else "Who can fix it"
    out = [style.red(card.header), style.bold(card.title), ""]
    if card.note:
        out += [style.yellow(_para(card.note, "")), ""]
    out += [style.bold("What it means"), *_meaning(card, style), ""]
    out += [style.bold("Likely causes"), *_sourced_items(card.causes_sourced, pages, False, style), ""]
    out += [style.bold("What to do"), *_sourced_items(card.steps_sourced, pages, True, style), ""]
    out += [style.bold(owner_heading), _para(f"{card.owner}: {card.owner_detail}"), ""]
    out += [style.bold("Before escalating, collect"), *_items(card.escalate, numbered=False), ""]
    if card.evidence:
        out += [style.bold("Seen in"), *(f"  {style.dim(line)}" for line in card.evidence), ""]
    if card.related:
        related = ", ".join(f"{code} {title}".strip() for code, title in card.related)
        out += [style.bold("Related codes"), _para(related), ""]
    if pages:
        out += [style.bold("8x8 pages cited"), *(f"  [{i}] {style.cyan(page)}" for i, page in enumerate(pages, 1)), ""]
    out.append(f"Docs: {style.cyan(card.docs)}")
    if card.why:
        out.append(style.dim(f"Why this answer: {card.why}"))
    out.append(style.dim(card.footer))
    return "\n".join(out)


def render_suggestions(query: str, suggestions: tuple[Suggestion, ...], reason: str, style: Style = PLAIN) -> str:
    out = [style.yellow(f"Not sure what \u201c{_short(query)}\u201d refers to. Did you mean:")]
    out += [f"  {style.bold(str(s.code))}  {s.message} ({s.title})" for s in suggestions]
    out.append(style.dim(reason))
    out.append(style.dim("Ask again with the code, e.g. nmbot lookup " + str(suggestions[0].code)))
    return "\n".join(out)


def render_not_sure(query: str, reason: str, style: Style = PLAIN) -> str:
    return "\n".join(
        [
            style.yellow(f"No Number Masking error matches \u201c{_short(query)}\u201d."),
            style.dim(reason),
            style.dim("Try the code (-2004), 8x8's error message, or a few words such as 'trunk capacity'."),
        ]
    )


def render_not_number_masking(reply: NotNumberMasking, style: Style = PLAIN) -> str:
    """The terminal's "not a Number Masking code": whose the numbers most likely are, and their docs."""
    out = [style.yellow("Not a Number Masking error code."), ""]
    for item in reply.items:
        if item.number:
            head = f"{item.number}: most likely from {item.product}"
            head += f", where it means \u201c{item.meaning}\u201d." if item.meaning else "."
        else:
            head = f"That message: most likely {item.named}'s own, from {item.product}."
        out += [style.bold(_para(head, "")), _para(item.reports), f"  Docs: {style.cyan(item.docs)}", ""]
    out.append(style.dim(f"Why this answer: {reply.reason}"))
    lookalikes = [i.lookalike for i in reply.items if i.lookalike is not None]
    if lookalikes:
        out.append(style.dim(f"Number Masking reports its codes with a minus sign; if a session summary said "
                             f"{lookalikes[0]}, try: nmbot lookup {lookalikes[0]}"))
    return "\n".join(out)


def render_log_summary(summary: LogSummary, style: Style = PLAIN) -> str:
    out = []
    for item in summary.items:
        times = f"{item.count}\u00d7" if item.count > 1 else "once"
        head = f"{item.code}" + (f" \u00b7 {item.message}" if item.message else "")
        out.append(f"{style.red(head)}  {style.dim(f'({times}, first on line {item.line})')}")
        out.append(f"  {style.bold(item.title)}")
        if item.first_step:
            source = FROM_8X8 if item.first_step_from_8x8 else OURS.lower()
            out.append(_para(f"First step ({source}): " + item.first_step, "  "))
        out.append(f"  {style.dim(item.evidence)}")
        out.append("")
    out.append(style.dim(summary.footer))
    return "\n".join(out)


def _short(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"
