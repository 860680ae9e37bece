"""The App Home tab: how to ask, the team's recent figures, and every code grouped by kind."""
from __future__ import annotations

from typing import TYPE_CHECKING

from slack_sdk.models.blocks import Block, DividerBlock, HeaderBlock, PlainTextObject, SectionBlock
from slack_sdk.models.views import View

from .channel_controls import CONTROL_HELP
from .content import PROVENANCE_LEGEND
from .kit import ELLIPSIS, FIELD_CHARS, MAX_VIEW_BLOCKS, context, escape, fit, mrkdwn, section, titled_sections
from .other_answers import HOW_TO_ASK, catalog_line

if TYPE_CHECKING:
    from ..report import Report

CATEGORY_LABELS = {"caller-id": "Caller ID", "call-flow": "Call flow"}


def category_label(category: str) -> str:
    return CATEGORY_LABELS.get(category) or category.replace("-", " ").capitalize()


def home_view(kb, report: "Report | None" = None, *, days: int = 7) -> dict:
    """The App Home tab: how to ask, the team's recent figures, and every code grouped by kind."""
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text="nmbot: 8x8 Number Masking error codes")),
        section("I explain the error codes 8x8 Number Masking reports (`-2001` \u2026 `-2010`, `-9999`): "
                "what each means, what to do, and who can fix it."),
        *titled_sections("How to ask", [f"\u2022 {line}" for line in HOW_TO_ASK + CONTROL_HELP]),
        DividerBlock(),
    ]
    if report is not None:
        blocks.extend(_figures_blocks(report, days))
        blocks.append(DividerBlock())
    groups: dict[str, list[str]] = {}
    for e in kb:
        groups.setdefault(e.category, []).append(catalog_line(e))
    blocks.append(section(f"*Error codes by kind* ({len(kb)})"))
    blocks.append(context(PROVENANCE_LEGEND))
    catalog: list[Block] = []
    for category, lines in groups.items():
        catalog.extend(titled_sections(category_label(category), lines))
    room = MAX_VIEW_BLOCKS - len(blocks) - 2
    blocks.extend(catalog[:room])
    if len(catalog) > room:
        blocks.append(context(f"{ELLIPSIS}and more: `/nmerror list` shows every code."))
    blocks.append(context(f"Ask `/nmerror CODE` for the full card \u00b7 nmbot knowledge base {escape(kb.version)}"))
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
        section(f"*The team's last {days} days*"),
        SectionBlock(fields=[mrkdwn(fit(f, FIELD_CHARS)) for f in fields]),
        context("`nmbot report` turns these into knowledge-base work: unanswered questions grouped, "
                "helpful rate per code."),
    ]
