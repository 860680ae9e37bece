"""Text in, message out: the one path from the engine to the cards, for every surface.

Plain functions of `Deps`, so they are tested without Slack. The other modules here decide whether and
where a reply goes; these decide what it says.
"""
from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Callable, Iterable, Sequence

from ..cards.content import card_for_entry, card_for_resolution, log_summary, not_number_masking_for, suggestions_for
from ..cards.error_card import card_message
from ..cards.other_answers import (catalog_message, help_message, not_number_masking_message, not_sure_message,
                                   suggestions_message, trouble_message, with_notes)
from ..cards.summaries import log_summary_message
from ..engine.scan_input import ScanInputError
from ..engine.scanner import Finding
from . import MAX_QUESTION_CHARS
from .kinds import EXPLAINED, UNANSWERED, Kind, Surface
from .refs import VoteRef, WhyRef

if TYPE_CHECKING:  # the listeners' Deps; only what these functions read of it is used
    from ..slack.deps import Deps

# How a private answer goes through a response_url: only the person who asked sees it, and the message they
# clicked on (or used the shortcut on) stays.
PRIVATE = {"response_type": "ephemeral", "replace_original": False}


@dataclass(frozen=True)
class Reply:
    message: dict  # {"text": ..., "blocks": [...]}
    kind: Kind
    codes: tuple[int, ...] = ()  # codes the reply explains
    suggested: tuple[int, ...] = ()

    @property
    def answered(self) -> bool:
        return self.kind in EXPLAINED


@dataclass
class FileScan:
    """What a message's log files held, as nmbot.slack.files read them."""

    findings: list[list[Finding]] = field(default_factory=list)  # per file read
    read: list[str] = field(default_factory=list)  # names of the files scanned
    notes: list[str] = field(default_factory=list)  # what went wrong, per file


def looks_pasted(text: str) -> bool:
    """A multi-line text or a code block is a paste, whatever words come with it."""
    return "\n" in text.strip() or "```" in text


def scan_text(deps: Deps, text: str) -> list[Finding]:
    try:
        return deps.scanner.scan_text(text)
    except ScanInputError:
        return []  # binary junk holds no log lines worth explaining


def merge_findings(groups: Iterable[list[Finding]]) -> list[Finding]:
    """Findings of several sources (message, files) as one list: counts added, first sighting kept."""
    merged: dict[int, Finding] = {}
    for findings in groups:
        for f in findings:
            seen = merged.get(f.code)
            merged[f.code] = f if seen is None else replace(seen, count=seen.count + f.count)
    return list(merged.values())


def findings_in(deps: Deps, text: str, files: FileScan) -> list[Finding]:
    """Every code of a message: its text and its log files, as one list."""
    return merge_findings([scan_text(deps, text), *files.findings])


def new_card_id() -> str:
    """Names one posted card: every vote on it, from anyone, carries this id."""
    return secrets.token_hex(6)


def vote_for(deps: Deps, code: int, surface: Surface | None, question: str = "") -> VoteRef | None:
    """The vote buttons' reference for a new card shown on `surface` (None for a card without them)."""
    if not surface:
        return None
    return VoteRef(new_card_id(), code, surface, deps.kb.version, question)


def answer_text(deps: Deps, text: str, *, share_button: bool = False, thread_ts: str | None = None,
                surface: Surface | None = None) -> Reply:
    """A question or a paste: every code of a paste, or the resolver's answer to a question.

    With a `surface` (command, mention, autoreply, shortcut …) a card gets the feedback buttons.
    """
    findings = scan_text(deps, text)
    if len(findings) > 1 or (findings and looks_pasted(text)):
        return answer_findings(deps, findings, share_button=share_button, thread_ts=thread_ts, surface=surface)
    return answer_question(deps, text, share_button=share_button, thread_ts=thread_ts, surface=surface)


def answer_question(deps: Deps, text: str, *, share_button: bool = False, thread_ts: str | None = None,
                    surface: Surface | None = None) -> Reply:
    query = text.strip()[:MAX_QUESTION_CHARS]
    resolution = deps.resolver.resolve(query)
    card = card_for_resolution(deps.kb, resolution)
    if card is not None:
        codes = (card.code,)
        # A thumbs-down on a fuzzy answer says the wording matched the wrong card, so the question is kept
        # with the vote; on an exact match (a code, 8x8's message) the card itself missed, and the comment says how.
        asked = query if resolution.answer.field not in ("code", "message") else ""
        message = card_message(card, share_button=share_button, share_thread_ts=thread_ts,
                                      vote=vote_for(deps, card.code, surface, asked),
                                      why=WhyRef.for_resolution(resolution) if surface else None)
        return Reply(message, Kind.CARD, codes)
    other = not_number_masking_for(resolution)
    if other is not None:  # another product's code: said so, and no card
        return Reply(not_number_masking_message(query, other), Kind.OTHER_PRODUCT)
    suggestions = suggestions_for(resolution)
    if suggestions:
        why = resolution.explain() if resolution.unknown_codes or resolution.doubtful else ""
        message = suggestions_message(query, suggestions, why=why)
        return Reply(message, Kind.SUGGESTIONS, suggested=tuple(s.code for s in suggestions))
    return Reply(not_sure_message(query), Kind.NOT_SURE)


def answer_findings(deps: Deps, findings: list[Finding], *, share_button: bool = False,
                    thread_ts: str | None = None, surface: Surface | None = None) -> Reply:
    """One known code gets its full card with the log line; several get one compact summary."""
    codes = tuple(f.code for f in findings)
    if len(findings) == 1 and findings[0].entry is not None:
        f = findings[0]
        times = "once" if f.count == 1 else f"{f.count} times"
        card = card_for_entry(deps.kb, f.entry, why=f"Found {times} in the log, first on line {f.line}.",
                              evidence=(f.evidence,))
        message = card_message(card, share_button=share_button, share_thread_ts=thread_ts,
                                      vote=vote_for(deps, f.code, surface),
                                      why=WhyRef.for_finding(f) if surface else None)
        return Reply(message, Kind.CARD, codes)
    return Reply(log_summary_message(log_summary(deps.kb, findings)), Kind.SUMMARY, codes)


def command_reply(deps: Deps, text: str) -> Reply:
    """What `/nmerror <text>` shows the person who typed it."""
    word = text.strip().lower()
    if word in ("", "help", "?"):
        return Reply(help_message(), Kind.HELP)
    if word == "list":
        return Reply(catalog_message(deps.kb), Kind.CATALOG)
    return answer_text(deps, text, share_button=True, surface=Surface.COMMAND)


def noted(reply: Reply, notes: Sequence[str]) -> Reply:
    """The reply with a line saying what went wrong on the way (a file left unread says why)."""
    return replace(reply, message=with_notes(reply.message, notes))


def or_trouble(build: Callable[[], Reply], logger: logging.Logger, failure: str) -> Reply:
    """`build()`, or an apology when it raised (logged as `failure`): a person who asked gets an answer."""
    try:
        return build()
    except Exception:
        logger.exception(failure)
        return Reply(trouble_message(), Kind.TROUBLE)


# Bounded like Slack's own ids and display names, so a run of unclosed `<@U1|` costs each start
# a fixed look ahead, not the rest of the message.
_MENTION = re.compile(r"<@([UW][A-Z0-9]{1,30})(?:\|[^>]{0,255})?>")


def without_mention(text: str, bot_user_id: str) -> str:
    return _MENTION.sub(lambda m: "" if m.group(1) == bot_user_id else m.group(0), text).strip()


def mentions(text: str, user_id: str) -> bool:
    return bool(user_id) and any(m.group(1) == user_id for m in _MENTION.finditer(text or ""))


def remember(deps: Deps, reply: Reply, *, surface: Surface, channel: str, question: str = "") -> None:
    """Usage for reports, and the question when it went unanswered: counted in memory and written
    behind (`UsageLog`), so neither a slow database nor an outage costs anyone their answer."""
    deps.metrics.count_reply(reply.kind, surface)
    if reply.answered:
        for code in reply.codes:
            deps.usage.add(kind=reply.kind, surface=surface, channel=channel, code=code)
    elif reply.kind == Kind.OTHER_PRODUCT:  # answered, though with no card: not a gap in the knowledge base
        deps.usage.add(kind=reply.kind, surface=surface, channel=channel, code=None)
    elif reply.kind in UNANSWERED:
        deps.usage.add(kind=reply.kind, surface=surface, channel=channel, code=None)
        deps.usage.add_unanswered(text=question[:MAX_QUESTION_CHARS], surface=surface, channel=channel,
                                  suggestions=list(reply.suggested))
