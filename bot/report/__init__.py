"""`nmbot report`: what people asked, what was explained, what helped and what the knowledge base lacks.

Reads the state store that the Slack surfaces fill (usage events, votes,
unanswered questions) and knows nothing about Slack itself:

    from nmbot.report import build_report, render
    print(render(build_report(store, since=time.time() - 7 * 86400, kb=kb), "md"))
"""
from __future__ import annotations

from .figures import CodeRow, Day, Downvote, Report, Row, build_report
from .questions import QuestionGroup, group_questions, question_key
from .period import describe_duration, parse_duration
from .render import FORMATS, render

__all__ = [
    "FORMATS",
    "CodeRow",
    "Day",
    "Downvote",
    "QuestionGroup",
    "Report",
    "Row",
    "build_report",
    "describe_duration",
    "group_questions",
    "parse_duration",
    "question_key",
    "render",
]
