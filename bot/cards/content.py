"""What a remediation card says, independent of where it is shown.

Slack's Block Kit (the other modules of `nmbot.cards`) and the terminal (`nmbot.cards.terminal`)
both render these objects, so a card reads the same everywhere.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, NamedTuple
from urllib.parse import urlsplit

from ..engine.knowledge import Entry, Sourced
from ..engine.resolution import Match, Resolution

if TYPE_CHECKING:  # the scanner is not needed to answer a question, so not imported for it
    from ..engine.scanner import Finding

OWNER_LABELS = {
    "customer": "Your integration",
    "8x8": "8x8 (account manager or support)",
    "both": "Your integration and 8x8",
}
SUPPORT_EMAIL = "support@cpaas.8x8.com"

# How every surface tells 8x8's documented word from our own troubleshooting notes.
FROM_8X8 = "8x8 docs"
OURS = "Our notes"
MESSAGE_ONLY_NOTE = (
    "8x8 documents no cause and no fix for this code, only its message. The causes, who can fix it and the "
    f"steps marked \u201c{OURS}\u201d are our own troubleshooting notes; \u201c{FROM_8X8}\u201d marks what 8x8's "
    "pages say in general, not advice 8x8 gives for this code."
)
OWNER_IS_OURS = "our notes"  # said beside "Who can fix it" when 8x8 documents only the message
PROVENANCE_LEGEND = (f"Cards mark what is *{FROM_8X8}* (8x8's documented guidance, its page linked) and what is "
                     f"*{OURS}* (our own troubleshooting notes).")
CATALOG_TAGS = {False: f"{FROM_8X8} and {OURS.lower()}", True: f"{FROM_8X8}: message only; the rest is {OURS.lower()}"}


@dataclass(frozen=True)
class Card:
    """The full remediation card for one code."""

    code: int
    header: str  # "-2004 · No coverage available for requested area"
    title: str
    category: str
    meaning: str
    causes: tuple[str, ...]
    steps: tuple[str, ...]
    owner: str  # a label from OWNER_LABELS
    owner_detail: str
    escalate: tuple[str, ...]
    related: tuple[tuple[int, str], ...]  # (code, title) of related entries
    docs: str
    footer: str
    why: str = ""  # why this card was chosen, when it came from a question
    evidence: tuple[str, ...] = ()  # log lines that carried the code, phone numbers masked
    message: str = ""  # 8x8's message
    # The meaning, causes and steps with their sources; a card built without them shows every part as our notes.
    meaning_items: tuple[Sourced, ...] = ()
    cause_items: tuple[Sourced, ...] = ()
    step_items: tuple[Sourced, ...] = ()
    message_only: bool = False  # 8x8 documents nothing about the code beyond its message
    note: str = ""  # whose a sign-less number is, when the question typed one

    @property
    def fallback_text(self) -> str:
        """One line for notifications and screen readers."""
        return f"{self.header}: {self.title}"

    @property
    def meaning_sourced(self) -> tuple[Sourced, ...]:
        return self.meaning_items or (Sourced(self.meaning, stated=False),)

    @property
    def causes_sourced(self) -> tuple[Sourced, ...]:
        return self.cause_items or tuple(Sourced(c, stated=False) for c in self.causes)

    @property
    def steps_sourced(self) -> tuple[Sourced, ...]:
        return self.step_items or tuple(Sourced(s, stated=False) for s in self.steps)

    @property
    def pages(self) -> tuple[str, ...]:
        """Every 8x8 page the card cites, in order of first citation."""
        items = (*self.meaning_sourced, *self.causes_sourced, *self.steps_sourced)
        return tuple(dict.fromkeys(i.page for i in items if i.from_8x8))


@dataclass(frozen=True)
class Suggestion:
    code: int
    message: str
    title: str


@dataclass(frozen=True)
class LogSummary:
    """Every code found in one paste or file, compact."""

    items: tuple["LogItem", ...]
    footer: str

    @property
    def fallback_text(self) -> str:
        codes = ", ".join(str(i.code) for i in self.items)
        return f"Number Masking error codes found: {codes}"


@dataclass(frozen=True)
class LogItem:
    code: int
    known: bool
    count: int
    line: int
    evidence: str
    title: str  # our title, or "Not in the knowledge base" for unknown codes
    message: str  # 8x8's message, "" for unknown codes
    first_step: str  # the most likely fix, "" for unknown codes
    first_step_from_8x8: bool = False  # whether 8x8 documents that step (else it is our notes)


def label_for(item: Sourced) -> str:
    return FROM_8X8 if item.from_8x8 else OURS


def page_name(link: str) -> str:
    """A short name for an 8x8 page, from its address: ".../voice-status-codes" -> "Voice status codes"."""
    parts = urlsplit(link)
    segments = [s for s in parts.path.split("/") if s]
    words = segments[-1].split("-") if segments else []
    if sum(len(w) >= 3 for w in words) < 2:  # "/hc/en-us", "/faq": the host says more
        return parts.hostname or link
    name = " ".join(words)
    return name[0].upper() + name[1:]


def runs(items: tuple[Sourced, ...]) -> list[tuple[str, list[tuple[int, Sourced]]]]:
    """Items in their order, grouped where the source kind changes: [(label, [(number, item), ...]), ...].

    The order in the file is the order to try things in, so it is kept; a label is shown only where it changes.
    """
    grouped: list[tuple[str, list[tuple[int, Sourced]]]] = []
    for number, item in enumerate(items, 1):
        label = label_for(item)
        if not grouped or grouped[-1][0] != label:
            grouped.append((label, []))
        grouped[-1][1].append((number, item))
    return grouped


def item_json(item: Sourced) -> dict:
    return {"text": item.text, "source": "8x8" if item.from_8x8 else "ours", "page": item.page or None}


def card_json(card: Card) -> dict:
    """The card for scripts (`--json`): every meaning, cause and step says whether it is 8x8's or ours."""
    return {
        "code": card.code,
        "message": card.message,
        "title": card.title,
        "category": card.category,
        "message_only": card.message_only,
        "meaning": [item_json(i) for i in card.meaning_sourced],
        "causes": [item_json(i) for i in card.causes_sourced],
        "steps": [item_json(i) for i in card.steps_sourced],
        "owner": card.owner,
        "owner_detail": card.owner_detail,
        "escalate": list(card.escalate),
        "related": [{"code": code, "title": title} for code, title in card.related],
        "docs": card.docs,
        "footer": card.footer,
        **({"note": card.note} if card.note else {}),  # whose a sign-less number is, when one was typed
    }


def header_for(entry: Entry) -> str:
    return f"{entry.code} \u00b7 {entry.message}"


def footer_for(kb_version: str) -> str:
    return f"nmbot knowledge base {kb_version}"


def build_card(entry: Entry, kb_version: str, related: dict[int, Entry] | None = None, *, why: str = "",
               evidence: tuple[str, ...] = ()) -> Card:
    related = related or {}
    return Card(
        code=entry.code,
        header=header_for(entry),
        title=entry.title,
        category=entry.category,
        meaning=entry.meaning,
        causes=entry.causes,
        steps=entry.steps,
        owner=OWNER_LABELS.get(entry.owner, entry.owner),
        owner_detail=entry.owner_detail,
        escalate=entry.escalate,
        related=tuple((c, related[c].title if c in related else "") for c in entry.related),
        docs=entry.docs,
        footer=footer_for(kb_version),
        why=why,
        evidence=evidence,
        message=entry.message,
        meaning_items=entry.meaning_items,
        cause_items=entry.cause_items,
        step_items=entry.step_items,
        message_only=entry.message_only,
    )


def card_for_entry(kb, entry: Entry, *, why: str = "", evidence: tuple[str, ...] = ()) -> Card:
    """The card for an entry of the knowledge base `kb`, related titles filled in."""
    related = {c: e for c in entry.related if (e := kb.get(c)) is not None}
    return build_card(entry, kb.version, related, why=why, evidence=evidence)


def card_for_resolution(kb, resolution: Resolution) -> Card | None:
    if resolution.answer is None or resolution.answer.entry is None:
        return None
    card = card_for_entry(kb, resolution.answer.entry, why=resolution.explain())
    return replace(card, note=resolution.note) if resolution.note else card


class OtherProduct(NamedTuple):  # NamedTuples: a dataclass each would cost `nmbot ask` start-up time
    """One number (or message) of a question that belongs to another 8x8 product, ready to show."""

    number: str  # as written ("2003", "-1015"); "" for a message quoted without a code
    product: str  # "SMS (8x8's Messaging API)"
    named: str  # as a sentence names it: "SMS", "Viber"
    meaning: str  # what the number means there, from 8x8's docs; "" when they do not say
    reports: str  # how that product reports its codes
    docs: str
    docs_label: str
    lookalike: int | None  # the Number Masking code it can be mistaken for


class NotNumberMasking(NamedTuple):
    """The reply to a question whose numbers belong to other 8x8 products: no card, and whose they are."""

    items: tuple[OtherProduct, ...]
    reason: str  # the resolver's one-sentence explanation

    @property
    def fallback_text(self) -> str:
        first = self.items[0]
        what = first.number or "That message"
        return f"{what} is not a Number Masking error code: most likely {first.named}'s."


def not_number_masking_for(resolution: Resolution) -> NotNumberMasking | None:
    """The "not a Number Masking code" reply, when the resolver gave the question's numbers to other products."""
    if resolution.answer is not None or not resolution.elsewhere:
        return None
    items = tuple(
        OtherProduct("" if s.number is None else str(s.number),
                     f"{s.named} ({s.product.name})" if s.app else s.product.name, s.named, s.meaning,
                     s.product.reports, s.product.docs, s.product.docs_label, s.lookalike)
        for s in resolution.elsewhere
    )
    return NotNumberMasking(items, resolution.explain())


def suggestions_for(resolution: Resolution) -> tuple[Suggestion, ...]:
    return tuple(_suggestion(m) for m in resolution.suggestions if m.entry is not None)


def _suggestion(match: Match) -> Suggestion:
    return Suggestion(match.code, match.entry.message, match.entry.title)


def log_summary(kb, findings: list["Finding"]) -> LogSummary:
    items = []
    for f in findings:
        if f.entry is not None:
            first = f.entry.step_items[0] if f.entry.step_items else None
            items.append(LogItem(f.code, True, f.count, f.line, f.evidence, f.entry.title, f.entry.message,
                                 f.entry.steps[0], first is not None and first.from_8x8))
        else:
            items.append(LogItem(f.code, False, f.count, f.line, f.evidence, "Not in the knowledge base", "", ""))
    return LogSummary(tuple(items), footer_for(kb.version))
