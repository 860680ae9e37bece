"""A state store filled by hand for the report tests: a fixed clock, a week of use, hostile text."""
from __future__ import annotations

from helpers import FakeClock

from nmbot.store import StateStore, UsageEvent

DAY = 86400.0
NOW = 1_800_000_000.0  # 2027-01-15 08:00 UTC
# Questions come from Slack users: markup, quotes and a closing tag that would end the page's style.
HOSTILE_QUESTION = '<script>window.__nmbot_pwned = 1</script> why "quoted" & \'single\' </style> fail?'
HOSTILE_COMMENT = '"><img src=x onerror="window.__nmbot_pwned = 2"> nothing on -2004'


def report_clock() -> FakeClock:
    """The store's clock, set by `fill` and `fill_hostile` as they record."""
    return FakeClock(NOW - 10 * DAY)


def count(store: StateStore, kind: str, surface: str, channel: str, code: int | None) -> None:
    """One usage event, at the store's time."""
    store.record_events([UsageEvent(kind, surface, channel, code, store.now())])


def fill(store: StateStore, clock: FakeClock, kb_version: str, end: float = NOW) -> None:
    """Ten days before `end` one answer (outside a 7-day report); the day before `end` a busy day; the clock
    left at `end`."""
    clock.now = end - 10 * DAY
    count(store, "card", "command", "C1", -2004)
    clock.now = end - DAY
    for surface, code in [("command", -2004), ("mention", -2004), ("autoreply", -2005), ("autoreply", -2010),
                          ("shadow", -2005), ("shortcut", -2010)]:
        count(store, "card", surface, "C2" if surface == "shadow" else "C1", code)
    count(store, "share", "button", "C1", -2004)
    count(store, "removed", "reaction", "C1", None)
    for text, suggestions in [("calls to malaysia fail", []), ("call to Malaysia failing", []),
                              ("what is -2042", [-2002])]:
        count(store, "not_sure" if not suggestions else "suggestions", "command", "C1", None)
        store.record_unanswered(text=text, surface="command", channel="C1", suggestions=suggestions)
    for user, vote in [("U1", "up"), ("U2", "down"), ("U3", "down")]:
        store.record_feedback(card_id="card1", user=user, code=-2004, vote=vote, surface="command", channel="C1",
                              kb_version=kb_version, comment="=HYPERLINK(\"x\") no | malaysia" if user == "U2" else "")
    store.record_feedback(card_id="card2", user="U1", code=-2010, vote="up", surface="autoreply", channel="C1",
                          kb_version=kb_version)
    clock.now = end


def fill_hostile(store: StateStore, clock: FakeClock, kb_version: str, end: float = NOW) -> None:
    """Two days before `end`: a question and a thumbs-down comment written to break a web page."""
    clock.now = end - 2 * DAY
    count(store, "suggestions", "mention", "C3", None)
    store.record_unanswered(text=HOSTILE_QUESTION, surface="mention", channel="C3", suggestions=[-2010])
    count(store, "card", "mention", "C3", -2010)
    store.record_feedback(card_id="card3", user="U4", code=-2010, vote="down", surface="mention", channel="C3",
                          kb_version=kb_version, comment=HOSTILE_COMMENT)
    clock.now = end
