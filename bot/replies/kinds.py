"""The words usage rows, metric labels and vote buttons carry: what a reply was (its kind), where it was given
(its surface), a vote, and a channel's auto-reply mode.

The values are a contract: stored rows, the report and dashboards read them, so they never change. Each is
a `str` too (`Kind.CARD == "card"`), so rows written before these names existed compare equal.
"""
from __future__ import annotations

import enum

if hasattr(enum, "StrEnum"):
    StrEnum = enum.StrEnum
else:  # Python 3.10: the same, by hand
    class StrEnum(str, enum.Enum):  # type: ignore[no-redef]
        def __str__(self) -> str:
            return str(self.value)


class Kind(StrEnum):
    """What a reply was."""

    CARD = "card"  # one code's card
    SUMMARY = "summary"  # several codes of a log, one line each
    SUGGESTIONS = "suggestions"  # "did you mean" buttons
    NOT_SURE = "not_sure"  # an honest "not sure"
    OTHER_PRODUCT = "other_product"  # another 8x8 product's code: said so, with no card
    NO_CODES = "no_codes"  # a message (or its files) held no code
    HELP = "help"
    CATALOG = "catalog"  # every code, by kind
    TROUBLE = "trouble"  # building the answer failed: an apology
    SHARE = "share"  # a private card posted for the channel
    REMOVED = "removed"  # a reply removed with a reaction


EXPLAINED = frozenset({Kind.CARD, Kind.SUMMARY})  # answers: a usage row per code explained
UNANSWERED = frozenset({Kind.SUGGESTIONS, Kind.NOT_SURE})  # no confident answer: the question is kept
ABSTAINED = UNANSWERED | {Kind.OTHER_PRODUCT}  # no card given, honestly


class Surface(StrEnum):
    """Where a reply was given (or a question filed)."""

    COMMAND = "command"  # /nmerror
    MENTION = "mention"  # @nmbot in a message
    AUTOREPLY = "autoreply"  # a reply to a pasted log nobody asked about
    SHADOW = "shadow"  # what an auto-reply would have said (shadow mode: nothing posted)
    SHORTCUT = "shortcut"  # the "Explain error codes" message shortcut
    BUTTON = "button"  # a card opened, or shared, with a button
    SHARE = "share"  # a card shared in the channel (the surface its vote buttons name)
    REACTION = "reaction"  # a reply removed with a reaction
    DOWNVOTE = "downvote"  # a question filed among the unanswered because its card got a thumbs-down


class Vote(StrEnum):
    UP = "up"
    DOWN = "down"


class Autoreply(StrEnum):
    """A channel's auto-replies to pasted logs (`/nmerror autoreply …`); OFF also for a muted channel or a
    thread kept quiet."""

    ON = "on"
    OFF = "off"
    SHADOW = "shadow"  # decide, record, post nothing
