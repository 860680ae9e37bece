"""The report as plain text (a terminal, an email), Markdown (a pull request, a wiki) or CSV (a sheet);
JSON (`as_json`) and a self-contained HTML page (`as_html`) have modules of their own."""
from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime, timezone
from typing import Callable, Optional, Sequence

from .figures import NO_CHANNEL, CodeRow, Report, Row
from .period import describe_duration
from .questions import QuestionGroup

FORMATS = ("text", "md", "csv", "json", "html")
_NUMBER = re.compile(r"-?\d+%?|-")
TEXT_CHARS = 120  # a question or comment is cut to this in text and Markdown tables

CSV_COLUMNS = ("section", "name", "code", "title", "count", "answers", "autoreplies", "shadow", "unanswered",
               "shares", "removed", "up", "down", "helpful_rate", "text", "variants", "suggested", "surfaces",
               "channels", "when")


def render(report: Report, fmt: str = "text") -> str:
    from .as_html import render_html
    from .as_json import render_json

    renderers: dict[str, Callable[[Report], str]] = {
        "text": render_text, "md": render_md, "csv": render_csv, "json": render_json, "html": render_html}
    try:
        renderer = renderers[fmt]
    except KeyError:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}") from None
    return renderer(report)


# --- shared wording -------------------------------------------------------------------------

def when(at: float) -> str:
    return datetime.fromtimestamp(at, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def period(report: Report) -> str:
    if report.since is None:
        return f"everything recorded until {when(report.until)}"
    span = describe_duration(round(report.until - report.since))
    return f"{when(report.since)} to {when(report.until)} (last {span})"


def percent(rate: Optional[float]) -> str:
    return "-" if rate is None else f"{rate * 100:.0f}%"


def helpful(up: int, down: int) -> str:
    votes = up + down
    if not votes:
        return "no votes yet"
    return f"{percent(up / votes)} helpful ({up} up, {down} down)"


def one_line(text: str, limit: int = TEXT_CHARS) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "\u2026"


def code_label(code: int, title: str) -> str:
    return f"{code} {title}".strip()


def offered(group: QuestionGroup) -> str:
    said = "no code offered" if not group.suggested else (
        "offered " + ", ".join(f"{code} ({n}\u00d7)" for code, n in group.suggested[:3]))
    if group.rejected:
        got = ", ".join(f"{code} ({n}\u00d7)" for code, n in group.rejected[:3])
        said = f"got {got} and a thumbs-down" if not group.suggested else f"{said}; got {got} and a thumbs-down"
    if group.unknown_codes:
        said = f"asks about {', '.join(map(str, group.unknown_codes))} (not in the knowledge base), {said}"
    return said


def channel_label(report: Report, channel: str) -> str:
    return channel if channel == NO_CHANNEL else report.channel_label(channel)


def channels_of(report: Report, group: QuestionGroup) -> list[str]:
    return [report.channel_label(c) for c in group.channels]


def summary_lines(report: Report) -> list[tuple[str, str]]:
    lines = [
        ("codes explained", f"{report.explained} (answers {report.answers}, auto-replies {report.autoreplies})"),
        ("not answered with confidence", str(report.unanswered)),
        ("feedback", helpful(report.up, report.down)),
        ("cards shared in channel", str(report.shares)),
        ("replies removed with a reaction", str(report.removed)),
    ]
    if report.shadow:
        noun = "code" if report.shadow == 1 else "codes"
        lines.insert(1, ("shadow mode (not posted)", f"{report.shadow} {noun} would have been explained"))
    return lines


def yaml_change(report: Report) -> list[str]:
    """A knowledge-base change to review and paste: the unanswered wordings under the code people got."""
    by_code: dict[int, list[QuestionGroup]] = {}
    orphans: list[QuestionGroup] = []
    wrong: list[QuestionGroup] = []  # answered, but the card got a thumbs-down
    missing: dict[int, int] = {}  # codes asked about that the knowledge base lacks -> times asked
    for group in report.groups:
        if group.unknown_codes:
            for code in group.unknown_codes:
                missing[code] = missing.get(code, 0) + group.count
        elif group.likely_code is None and group.rejected:
            wrong.append(group)
        elif group.likely_code is None:
            orphans.append(group)
        else:
            by_code.setdefault(group.likely_code, []).append(group)
    if not by_code and not orphans and not missing and not wrong:
        return []
    lines = [
        "# Questions nmbot could not answer with confidence (or whose card got a thumbs-down),",
        "# under the code it offered. Keep the wordings that belong to the code: add them to its",
        "# `examples:` (and distinctive words to `phrases:`) in knowledge/*.yaml, then run `nmbot kb check`.",
    ]
    for code, groups in by_code.items():
        asked = sum(g.count for g in groups)
        title = report.title(code)
        lines.append(f"- code: {code}  # {title + ': ' if title else ''}asked {asked} time{'s' if asked != 1 else ''}")
        lines.append("  examples:")
        for g in groups:
            lines.append(f"    - {quoted(g.text)}  # {g.count}\u00d7")
    if wrong:
        lines.append("# Answered, but the card got a thumbs-down: find the code they mean, or fix the card's phrases:")
        for g in wrong:
            got = ", ".join(str(code) for code, _ in g.rejected)
            lines.append(f"#   {quoted(g.text)}  (got {got}, {g.count}\u00d7)")
    if missing:
        asked = ", ".join(f"{code} ({n}\u00d7)" for code, n in missing.items())
        lines.append(f"# Codes people asked about that the knowledge base does not have: {asked}")
    if orphans:
        lines.append("# No code offered: a new entry, or questions nmbot need not answer:")
        for g in orphans:
            lines.append(f"#   {quoted(g.text)}  ({g.count}\u00d7)")
    return lines


# --- text -----------------------------------------------------------------------------------

def _table(headers: Sequence[str], rows: Sequence[Sequence[object]], indent: str = "  ") -> list[str]:
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    out = []
    for row in cells:
        parts = [c.rjust(w) if i and _NUMBER.fullmatch(c) else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths))]
        out.append((indent + "  ".join(parts)).rstrip())
    return out


def _activity_rows(rows: Sequence[Row], name: Callable[[str], str] = str) -> list[list[object]]:
    return [[name(r.name), r.answers, r.autoreplies, r.shadow, r.unanswered, r.shares, r.removed] for r in rows]


def _channel_rows(report: Report) -> list[list[object]]:
    return _activity_rows(report.channels, lambda channel: channel_label(report, channel))


def _day_rows(report: Report) -> list[list[object]]:
    return [[d.date, d.asked, d.answered, d.unanswered] for d in report.days]


DAY_HEADERS = ("day (UTC)", "asked", "answered", "unanswered")


ACTIVITY_HEADERS = ("answers", "auto-replies", "shadow", "not answered", "shares", "removed")


def _code_rows(codes: Sequence[CodeRow]) -> list[list[object]]:
    return [[c.code, one_line(c.title, 50), c.explained, c.up, c.down, percent(c.helpful_rate)] for c in codes]


CODE_HEADERS = ("code", "title", "explained", "up", "down", "helpful")


def render_text(report: Report) -> str:
    kb = f" \u00b7 knowledge base {report.kb_version}" if report.kb_version else ""
    out = [f"nmbot report: {period(report)}{kb}", ""]
    if report.empty:
        out.append("Nothing was recorded in this period.")
        return "\n".join(out) + "\n"
    out.append("Summary")
    width = max(len(name) for name, _ in summary_lines(report))
    out += [f"  {name.ljust(width)}  {value}" for name, value in summary_lines(report)]
    if report.days:
        out += ["", "Per day"] + _table(DAY_HEADERS, _day_rows(report))
    if report.top_codes:
        out += ["", "Top codes"] + _table(CODE_HEADERS, _code_rows(report.top_codes))
    if report.voted_codes:
        out += ["", "Helpful rate per code (least helpful first)"] + _table(CODE_HEADERS, _code_rows(report.voted_codes))
    if report.surfaces:
        out += ["", "By surface"] + _table(("surface", *ACTIVITY_HEADERS), _activity_rows(report.surfaces))
    if report.channels:
        out += ["", "By channel"] + _table(("channel", *ACTIVITY_HEADERS), _channel_rows(report))
    if report.groups:
        asked = sum(g.count for g in report.groups)
        out += ["", f"Unanswered questions, similar ones together ({asked} questions in {len(report.groups)} groups)"]
        for g in report.groups:
            out.append(f"  {g.count:>3}\u00d7  {quoted(one_line(g.text))}")
            detail = [offered(g), "via " + ", ".join(g.surfaces)]
            if g.channels:
                detail.append("in " + ", ".join(channels_of(report, g)))
            if g.downvoted:
                detail.append(f"{g.downvoted} from thumbs-down")
            out.append("        " + " \u00b7 ".join(detail))
            if g.variants:
                out.append("        also: " + ", ".join(quoted(one_line(v, 60))
                                                     for v in g.variants))
    if report.downvotes:
        out += ["", "Thumbs-down"]
        for d in report.downvotes:
            comment = quoted(one_line(d.comment)) if d.comment else "(no comment)"
            out.append(f"  {code_label(d.code, d.title)}: {comment} \u00b7 {d.surface}"
                       f"{' in ' + report.channel_label(d.channel) if d.channel else ''} \u00b7 {when(d.at)} \u00b7 knowledge base {d.kb_version}")
    change = yaml_change(report)
    if change:
        out += ["", "Knowledge-base change (review, then paste into knowledge/*.yaml)"] + ["  " + line for line in change]
    return "\n".join(out) + "\n"


# --- Markdown -------------------------------------------------------------------------------

def md_cell(value: object) -> str:
    text = one_line(str(value))
    for char in ("\\", "|", "`", "*", "_", "<", ">", "[", "]"):
        text = text.replace(char, "\\" + char)
    return visible(text)


def visible(text: str) -> str:
    """Control and bidirectional characters written out as \\uXXXX, as JSON and YAML read them: reports are
    read in terminals, where an escape sequence in a question would act, and a U+202E reverse the line."""
    return "".join(c if c.isprintable() else json.dumps(c)[1:-1] for c in text)


def quoted(text: str) -> str:
    return visible(json.dumps(text, ensure_ascii=False))


def _md_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    out += ["| " + " | ".join(md_cell(c) for c in row) + " |" for row in rows]
    return out


def render_md(report: Report) -> str:
    kb = f" · knowledge base `{report.kb_version}`" if report.kb_version else ""
    out = ["# nmbot report", "", f"{period(report)}{kb}", ""]
    if report.empty:
        out.append("Nothing was recorded in this period.")
        return "\n".join(out) + "\n"
    out += ["## Summary", ""] + [f"- **{name}**: {md_cell(value)}" for name, value in summary_lines(report)]
    if report.days:
        out += ["", "## Per day", ""] + _md_table(DAY_HEADERS, _day_rows(report))
    if report.top_codes:
        out += ["", "## Top codes", ""] + _md_table(CODE_HEADERS, _code_rows(report.top_codes))
    if report.voted_codes:
        out += ["", "## Helpful rate per code", "", "Least helpful first."]
        out += [""] + _md_table(CODE_HEADERS, _code_rows(report.voted_codes))
    if report.surfaces:
        out += ["", "## By surface", ""] + _md_table(("surface", *ACTIVITY_HEADERS), _activity_rows(report.surfaces))
    if report.channels:
        out += ["", "## By channel", ""] + _md_table(("channel", *ACTIVITY_HEADERS), _channel_rows(report))
    if report.groups:
        out += ["", "## Unanswered questions", "", "Similar questions grouped together, largest group first.", ""]
        rows = [[g.count, g.text, "; ".join(g.variants), offered(g), ", ".join(g.surfaces),
                 ", ".join(channels_of(report, g))] for g in report.groups]
        out += _md_table(("asked", "question", "also asked as", "offered", "via", "channels"), rows)
    if report.downvotes:
        out += ["", "## Thumbs-down", ""]
        rows = [[code_label(d.code, d.title), d.comment or "(no comment)", d.surface,
                 report.channel_label(d.channel), when(d.at), d.kb_version] for d in report.downvotes]
        out += _md_table(("card", "what was missing", "surface", "channel", "when", "knowledge base"), rows)
    change = yaml_change(report)
    if change:
        out += ["", "## Knowledge-base change", "", "Review, then paste into `knowledge/*.yaml`:", "", "```yaml"]
        out += change + ["```"]
    return "\n".join(out) + "\n"


# --- CSV ------------------------------------------------------------------------------------

def render_csv(report: Report) -> str:
    """One table; the `section` column says what a row is: summary, surface, channel, code, question, downvote."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, CSV_COLUMNS, lineterminator="\n", extrasaction="raise")
    writer.writeheader()
    summary = {
        "since": "" if report.since is None else when(report.since), "until": when(report.until),
        "knowledge_base": report.kb_version, "helpful_rate": _rate(report.helpful_rate),
    }
    for name, value in summary.items():
        writer.writerow({"section": "summary", "name": name, "text": value})
    for name in ("explained", "answers", "autoreplies", "shadow", "unanswered", "shares", "removed", "up", "down"):
        writer.writerow({"section": "summary", "name": name, "count": getattr(report, name)})
    for section, rows in (("surface", report.surfaces), ("channel", report.channels)):
        for r in rows:
            name = channel_label(report, r.name) if section == "channel" else r.name
            writer.writerow({"section": section, "name": _cell(name), "count": r.explained, "answers": r.answers,
                             "autoreplies": r.autoreplies, "shadow": r.shadow, "unanswered": r.unanswered,
                             "shares": r.shares, "removed": r.removed})
    for c in report.codes:
        writer.writerow({"section": "code", "code": c.code, "title": c.title, "count": c.explained, "up": c.up,
                         "down": c.down, "helpful_rate": _rate(c.helpful_rate)})
    for g in report.groups:
        writer.writerow({"section": "question", "code": "" if g.likely_code is None else g.likely_code,
                         "count": g.count, "down": g.downvoted, "text": _cell(g.text),
                         "variants": _cell(" | ".join(g.variants)),
                         "suggested": " ".join(f"{code}:{n}" for code, n in g.suggested),
                         "surfaces": " ".join(g.surfaces), "channels": _cell(" ".join(channels_of(report, g))),
                         "when": when(g.last_at)})
    for d in report.downvotes:
        writer.writerow({"section": "downvote", "code": d.code, "title": d.title, "count": 1, "down": 1,
                         "text": _cell(d.comment), "surfaces": d.surface,
                         "channels": _cell(report.channel_label(d.channel) if d.channel else ""), "when": when(d.at),
                         "name": d.kb_version})
    return buffer.getvalue()


def _rate(rate: Optional[float]) -> str:
    return "" if rate is None else f"{rate:.3f}"


def _cell(text: str) -> str:
    """User text for a spreadsheet: a leading = + - @ would make it a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
