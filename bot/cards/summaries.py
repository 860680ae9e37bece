"""The reply to a pasted log or a shared file: every code found, compact, each with a button for its card."""
from __future__ import annotations

from slack_sdk.models.blocks import Block, SectionBlock

from ..engine.privacy import mask_msisdns
from .action_ids import OPEN_CARD
from .content import FROM_8X8, OURS, SUPPORT_EMAIL, LogItem, LogSummary
from .kit import ELLIPSIS, EVIDENCE_CHARS, SECTION_CHARS, block_message, button, context, escape, fit, mrkdwn, section

MAX_SUMMARY_ITEMS = 20  # keeps a summary of a huge log well under MAX_BLOCKS


def log_summary_message(summary: LogSummary) -> dict:
    """Every code found in a paste or file, compact, each with a button for the full card."""
    items = summary.items
    count = len(items)
    noun = "code" if count == 1 else "codes"
    blocks: list[Block] = [section(f"*I found {count} Number Masking error {noun} in this log:*")]
    for i, item in enumerate(items[:MAX_SUMMARY_ITEMS]):
        blocks.append(_summary_item(item, i))
    if count > MAX_SUMMARY_ITEMS:
        blocks.append(context(f"{ELLIPSIS}and {count - MAX_SUMMARY_ITEMS} more. "
                              "Ask `/nmerror CODE` for any of them."))
    blocks.append(context(escape(summary.footer)))
    return block_message(escape(summary.fallback_text), blocks)


def _summary_item(item: LogItem, index: int) -> SectionBlock:
    seen = f"{item.count}\u00d7, first on line {item.line}"
    evidence = _code_span(escape(fit(mask_msisdns(item.evidence), EVIDENCE_CHARS)))
    if item.known:
        source = FROM_8X8 if item.first_step_from_8x8 else OURS.lower()
        text = (f"*{item.code}* \u00b7 {escape(item.message)}\n{escape(item.title)} \u00b7 {seen}\n{evidence}\n"
                f"First step ({source}): {escape(item.first_step)}")
        full_card = button("Full card", f"{OPEN_CARD}_{index}", value=str(item.code))
        return SectionBlock(text=mrkdwn(fit(text, SECTION_CHARS), user_text=True), accessory=full_card)
    text = (f"*{item.code}* \u00b7 {escape(item.title)} \u00b7 {seen}\n{evidence}\n"
            "Not a documented Number Masking code: check 8x8's error code list, or send the log to "
            f"{SUPPORT_EMAIL}.")
    return SectionBlock(text=mrkdwn(fit(text, SECTION_CHARS), user_text=True))


def _code_span(text: str) -> str:
    # A backtick inside would end the span early and let the rest render as mrkdwn.
    return "`" + text.replace("`", "\u02cb") + "`"
