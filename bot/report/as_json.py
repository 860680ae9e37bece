"""The report as JSON for scripts and dashboards: schema version 1, described in docs/report.md and
docs/report.schema.json.

The schema only grows: a new key may appear in a later nmbot, and an existing key keeps its name, type and
meaning for as long as `schema` stays 1. Times are ISO 8601 in UTC ("2027-01-15T08:00:00Z"); days are UTC.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Optional

from .. import __version__
from .figures import NO_CHANNEL, CodeRow, Report, Row
from .questions import QuestionGroup
from .render import yaml_change

SCHEMA_VERSION = 1
ACTIVITY = ("answers", "autoreplies", "shadow", "unanswered", "shares", "removed")


def render_json(report: Report) -> str:
    return json.dumps(report_json(report), ensure_ascii=False, indent=2) + "\n"


def report_json(report: Report) -> dict:
    change = yaml_change(report)
    return {
        "schema": SCHEMA_VERSION,
        "nmbot": __version__,
        "period": {"since": iso(report.since), "until": iso(report.until), "timezone": "UTC"},
        "knowledge_base": report.kb_version,
        "totals": totals(report),
        "days": [{"date": d.date, "asked": d.asked, "answered": d.answered, "unanswered": d.unanswered}
                 for d in report.days],
        "top_codes": [code_json(c) for c in report.top_codes],
        "helpful_rate_per_code": [code_json(c) for c in report.voted_codes],
        "surfaces": [{"surface": r.name, **activity(r)} for r in report.surfaces],
        "channels": [{"channel": channel_json(report, "" if r.name == NO_CHANNEL else r.name), **activity(r)}
                     for r in report.channels],
        "unanswered_questions": [group_json(report, g) for g in report.groups],
        "thumbs_down": [
            {"code": d.code, "title": d.title, "comment": d.comment, "surface": d.surface,
             "channel": channel_json(report, d.channel) if d.channel else None,
             "knowledge_base": d.kb_version, "at": iso(d.at)}
            for d in report.downvotes
        ],
        "yaml_fragment": "\n".join(change) + "\n" if change else "",
    }


def iso(at: Optional[float]) -> Optional[str]:
    if at is None:
        return None
    return datetime.fromtimestamp(at, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def totals(report: Report) -> dict:
    return {
        "asked": report.explained + report.unanswered,
        "answered": report.explained,
        "answers": report.answers,
        "autoreplies": report.autoreplies,
        "shadow": report.shadow,
        "unanswered": report.unanswered,
        "shares": report.shares,
        "removed": report.removed,
        "up": report.up,
        "down": report.down,
        "helpful_rate": report.helpful_rate,
    }


def activity(row: Row) -> dict:
    return {name: getattr(row, name) for name in ACTIVITY}


def code_json(c: CodeRow) -> dict:
    return {"code": c.code, "title": c.title, "explained": c.explained, "up": c.up, "down": c.down,
            "helpful_rate": c.helpful_rate}


def channel_json(report: Report, channel: str) -> dict:
    return {"id": channel, "name": report.channel_name(channel) if channel else None}


def group_json(report: Report, g: QuestionGroup) -> dict:
    return {
        "text": g.text,
        "count": g.count,
        "variants": list(g.variants),
        "offered": [{"code": code, "title": report.title(code), "times": n} for code, n in g.suggested],
        "thumbs_down": [{"code": code, "title": report.title(code), "times": n} for code, n in g.rejected],
        "unknown_codes": list(g.unknown_codes),
        "surfaces": list(g.surfaces),
        "channels": [channel_json(report, c) for c in g.channels],
        "from_thumbs_down": g.downvoted,
        "last_asked": iso(g.last_at),
    }
