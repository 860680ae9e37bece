"""Feedback on a card, as the person who gave it sees it: "Why this answer?", thanks for a vote or a
comment, and the thumbs-down form."""
from __future__ import annotations

from typing import TYPE_CHECKING

from slack_sdk.models.blocks import Block, InputBlock, PlainTextInputElement, PlainTextObject
from slack_sdk.models.views import View

from ..engine.resolution import ANSWER_MIN, MARGIN, SUGGEST_MIN
from .action_ids import COMMENT_BLOCK, COMMENT_INPUT, FEEDBACK_MODAL
from .kit import QUERY_CHARS, block_message, context, echo, escape, section
from .other_answers import notice_message

if TYPE_CHECKING:  # drawn from the refs' fields; at run time the cards import nothing from nmbot.replies
    from ..replies.refs import VoteRef, WhyRef

COMMENT_CHARS = 1000  # what a thumbs-down form accepts
THUMBS = {"up": "\U0001f44d", "down": "\U0001f44e"}


def _entry_name(kb, code: int) -> str:
    entry = kb.get(code) if kb is not None else None
    return f"`{code}` {escape(entry.title)}" if entry is not None else f"`{code}`"


def why_message(why: WhyRef, kb=None) -> dict:
    """Only for the person who clicked: what matched, how well, and what came second."""
    lines = []
    if why.question:
        lines.append(f"*Question*: \u201c{echo(why.question, QUERY_CHARS)}\u201d")
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
        lines.append(f"*Matched*: the {escape(why.basis)} \u201c{escape(why.matched)}\u201d of "
                     f"{_entry_name(kb, why.code)}, score {why.score:.0f} out of 100.")
        if why.runner_up is not None:
            lines.append(f"*Runner-up*: {_entry_name(kb, why.runner_up)} through the {escape(why.runner_up_basis)} "
                         f"\u201c{escape(why.runner_up_matched)}\u201d, score {why.runner_up_score:.0f} "
                         f"(a lead of {why.score - why.runner_up_score:.0f}).")
        else:
            lines.append(f"*Runner-up*: no other code scored {SUGGEST_MIN:.0f} or more.")
    blocks: list[Block] = [
        section(f"*Why this answer?* {_entry_name(kb, why.code)}"),
        section("\n".join(lines), user_text=True),
        context(f"An answer from the wording of a question needs a score of {ANSWER_MIN:.0f} and a lead of "
                f"{MARGIN:.0f} over the runner-up; otherwise I offer \u201cdid you mean\u201d buttons. "
                "A code or 8x8's own message is an exact match."),
    ]
    return block_message(f"Why I answered {why.code}", blocks)


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
            section(f"Your {THUMBS['down']} on {_entry_name(kb, vote.code)} is recorded. What was missing or "
                    "wrong? The people who write my answers read every note."),
            InputBlock(block_id=COMMENT_BLOCK, label=PlainTextObject(text="What was missing?"), optional=True,
                       element=PlainTextInputElement(action_id=COMMENT_INPUT, multiline=True,
                                                     max_length=COMMENT_CHARS,
                                                     placeholder="e.g. the steps do not cover calls to Malaysia")),
        ],
    )
    return view.to_dict()
