"""The report as one self-contained HTML page: inline CSS and inline SVG charts, nothing fetched.

The page is meant to be mailed, attached to a ticket or opened from a shared folder, so it needs no network
and no script: its Content-Security-Policy forbids both, and every text that came from Slack users (questions,
comments, channel names) is HTML-escaped.
"""
from __future__ import annotations

import html
import math
from typing import Iterable, Sequence

from .figures import NO_CHANNEL, CodeRow, Day, Report
from .questions import QuestionGroup
from .render import offered, percent, period, summary_lines, when, yaml_change

# No fetch of any kind, no script; inline styles only.
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"

ANSWERED_COLOUR, UNANSWERED_COLOUR = "#2e7d32", "#e65100"
UP_COLOUR, DOWN_COLOUR = "#2e7d32", "#c62828"
EXPLAINED_COLOUR = "#1565c0"

CHART_WIDTH, CHART_HEIGHT = 720, 220
PLOT_LEFT, PLOT_RIGHT, PLOT_TOP, PLOT_BOTTOM = 44, 8, 12, 34
MAX_DATE_LABELS = 14  # more days than this: every n-th date is labelled

ROW_HEIGHT, LABEL_WIDTH, BAR_WIDTH = 26, 90, 420

STYLE = """
:root { color-scheme: light; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       color: #1f2328; background: #f6f8fa; margin: 0; }
main { max-width: 980px; margin: 0 auto; padding: 24px 20px 48px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 32px 0 10px; border-bottom: 1px solid #d0d7de; padding-bottom: 4px; }
.period { color: #57606a; margin: 0 0 16px; }
section { background: #fff; border: 1px solid #d0d7de; border-radius: 8px; padding: 4px 18px 16px;
          margin-top: 18px; }
.tiles { display: flex; flex-wrap: wrap; gap: 10px; margin-top: 12px; }
.tile { flex: 1 1 140px; background: #f6f8fa; border-radius: 6px; padding: 8px 12px; }
.tile .n { font-size: 24px; font-weight: 600; display: block; }
.tile .what { color: #57606a; font-size: 13px; }
table { border-collapse: collapse; width: 100%; margin-top: 6px; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid #eaeef2; vertical-align: top; }
th { font-size: 13px; color: #57606a; font-weight: 600; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
svg { display: block; max-width: 100%; height: auto; }
svg text { font: 11px system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; fill: #57606a; }
.legend { display: flex; gap: 16px; font-size: 13px; color: #57606a; margin: 6px 0 0; }
.swatch { display: inline-block; width: 11px; height: 11px; border-radius: 2px; margin-right: 5px;
          vertical-align: -1px; }
.question { font-weight: 600; white-space: pre-wrap; overflow-wrap: anywhere; }
.detail, .also { color: #57606a; font-size: 13px; overflow-wrap: anywhere; }
.count { font-weight: 600; white-space: nowrap; }
pre { background: #0d1117; color: #e6edf3; padding: 12px 14px; border-radius: 6px; overflow-x: auto;
      font: 13px/1.5 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; white-space: pre; }
.empty { color: #57606a; }
details summary { cursor: pointer; color: #57606a; font-size: 13px; margin-top: 8px; }
footer { color: #57606a; font-size: 12px; margin-top: 28px; }
"""


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def render_html(report: Report) -> str:
    kb = f" · knowledge base {report.kb_version}" if report.kb_version else ""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{esc(CSP)}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="referrer" content="no-referrer">',
        "<title>nmbot report</title>",
        f"<style>{STYLE}</style>",
        "</head>",
        "<body>",
        "<main>",
        "<h1>nmbot report</h1>",
        f'<p class="period">{esc(period(report))}{esc(kb)}</p>',
        summary_section(report),
        days_section(report),
    ]
    if report.empty:
        parts.append('<p class="empty" id="nothing">Nothing was recorded in this period.</p>')
    else:
        parts += [questions_section(report), yaml_section(report), codes_section(report),
                  helpful_section(report), downvotes_section(report), activity_section(report)]
    parts += [
        f"<footer>Made by <code>nmbot report --format html</code> at {esc(when(report.until))}. "
        "Times and days are UTC.</footer>",
        "</main>",
        "</body>",
        "</html>",
    ]
    return "\n".join(p for p in parts if p) + "\n"


# --- summary ----------------------------------------------------------------------------------

def summary_section(report: Report) -> str:
    tiles = [
        (report.explained + report.unanswered, "asked"),
        (report.explained, "answered (codes explained)"),
        (report.unanswered, "not answered with confidence"),
        (percent(report.helpful_rate), f"helpful ({report.up} up, {report.down} down)"),
        (report.shares, "cards shared in channel"),
        (report.removed, "replies removed"),
    ]
    if report.shadow:
        tiles.append((report.shadow, "shadow mode: would have been explained"))
    body = "".join(f'<div class="tile"><span class="n">{esc(n)}</span><span class="what">{esc(what)}</span></div>'
                   for n, what in tiles)
    rows = "".join(f"<tr><th>{esc(name)}</th><td>{esc(value)}</td></tr>" for name, value in summary_lines(report))
    return (f'<section id="summary"><h2>Summary</h2><div class="tiles">{body}</div>'
            f"<details><summary>In words</summary><table>{rows}</table></details></section>")


# --- asked, answered, unanswered per day ------------------------------------------------------

def nice_ceiling(value: int) -> int:
    """The chart's top: 1, 2 or 5 times a power of ten, at least `value`."""
    if value <= 1:
        return 1
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * power >= value:
            return step * power
    return 10 * power  # pragma: no cover


def days_chart(days: Sequence[Day]) -> str:
    """Stacked bars, one per day: answered at the bottom, unanswered on top; the whole bar is what was asked."""
    plot_width = CHART_WIDTH - PLOT_LEFT - PLOT_RIGHT
    plot_height = CHART_HEIGHT - PLOT_TOP - PLOT_BOTTOM
    top = nice_ceiling(max((d.asked for d in days), default=0))
    slot = plot_width / max(len(days), 1)
    bar = max(slot * 0.7, 1.0)
    every = math.ceil(len(days) / MAX_DATE_LABELS) if days else 1
    baseline = PLOT_TOP + plot_height

    def y(value: float) -> float:
        return baseline - plot_height * value / top

    out = [f'<svg class="chart per-day" viewBox="0 0 {CHART_WIDTH} {CHART_HEIGHT}" role="img" '
           f'aria-label="Asked, answered and unanswered per day" xmlns="http://www.w3.org/2000/svg">']
    for tick in (0, top / 2, top):
        out.append(f'<line x1="{PLOT_LEFT}" x2="{CHART_WIDTH - PLOT_RIGHT}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
                   f'stroke="#eaeef2"/>')
        label = f"{tick:g}" if tick == int(tick) else ""
        out.append(f'<text x="{PLOT_LEFT - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">{esc(label)}</text>')
    for i, d in enumerate(days):
        x = PLOT_LEFT + i * slot + (slot - bar) / 2
        answered_h = plot_height * d.answered / top
        unanswered_h = plot_height * d.unanswered / top
        out.append(f'<g class="day" data-date="{esc(d.date)}" data-asked="{d.asked}" data-answered="{d.answered}" '
                   f'data-unanswered="{d.unanswered}">')
        out.append(f"<title>{esc(d.date)}: asked {d.asked}, answered {d.answered}, unanswered {d.unanswered}</title>")
        out.append(f'<rect class="answered" x="{x:.1f}" y="{baseline - answered_h:.1f}" width="{bar:.1f}" '
                   f'height="{answered_h:.1f}" fill="{ANSWERED_COLOUR}"/>')
        out.append(f'<rect class="unanswered" x="{x:.1f}" y="{baseline - answered_h - unanswered_h:.1f}" '
                   f'width="{bar:.1f}" height="{unanswered_h:.1f}" fill="{UNANSWERED_COLOUR}"/>')
        out.append("</g>")
        if i % every == 0:
            out.append(f'<text x="{x + bar / 2:.1f}" y="{baseline + 16}" text-anchor="middle">{esc(d.date[5:])}</text>')
    out.append(f'<line x1="{PLOT_LEFT}" x2="{CHART_WIDTH - PLOT_RIGHT}" y1="{baseline}" y2="{baseline}" '
               f'stroke="#8c959f"/>')
    out.append("</svg>")
    return "".join(out)


def days_section(report: Report) -> str:
    if not report.days:
        return ""
    legend = (f'<p class="legend"><span><span class="swatch" style="background:{ANSWERED_COLOUR}"></span>answered'
              f'</span><span><span class="swatch" style="background:{UNANSWERED_COLOUR}"></span>unanswered</span>'
              "<span>the whole bar: asked</span></p>")
    rows = [[d.date, d.asked, d.answered, d.unanswered] for d in report.days]
    table = table_html(("day (UTC)", "asked", "answered", "unanswered"), rows, numeric=(1, 2, 3))
    return (f'<section id="per-day"><h2>Asked, answered and unanswered per day</h2>{days_chart(report.days)}'
            f"{legend}<details><summary>As a table</summary>{table}</details></section>")


# --- codes ------------------------------------------------------------------------------------

def hbar_chart(css_class: str, label: str, rows: Iterable[tuple[str, str, Sequence[tuple[float, str, str]]]]
               ) -> str:
    """Horizontal bars: (row label, value text, [(fraction of the bar, colour, part class) ...]) per row."""
    rows = list(rows)
    height = ROW_HEIGHT * len(rows) + 4
    width = LABEL_WIDTH + BAR_WIDTH + 150
    out = [f'<svg class="chart {css_class}" viewBox="0 0 {width} {height}" role="img" aria-label="{esc(label)}" '
           'xmlns="http://www.w3.org/2000/svg">']
    for i, (name, value, parts) in enumerate(rows):
        y = i * ROW_HEIGHT + 4
        out.append(f'<g class="bar"><title>{esc(name)}: {esc(value)}</title>')
        out.append(f'<text x="{LABEL_WIDTH - 8}" y="{y + 15}" text-anchor="end">{esc(name)}</text>')
        x = float(LABEL_WIDTH)
        for fraction, colour, part in parts:
            w = BAR_WIDTH * max(fraction, 0.0)
            out.append(f'<rect class="{esc(part)}" x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="{ROW_HEIGHT - 8}" '
                       f'fill="{colour}"/>')
            x += w
        out.append(f'<text x="{x + 6:.1f}" y="{y + 15}">{esc(value)}</text></g>')
    out.append("</svg>")
    return "".join(out)


def codes_section(report: Report) -> str:
    codes = report.top_codes
    if not codes:
        return ""
    most = max(c.explained for c in codes)
    chart = hbar_chart("top-codes", "Codes explained most often",
                       ((str(c.code), f"{c.explained}", [(c.explained / most, EXPLAINED_COLOUR, "explained")])
                        for c in codes))
    return f'<section id="top-codes"><h2>Top codes</h2>{chart}{codes_table(codes)}</section>'


def codes_table(codes: Sequence[CodeRow]) -> str:
    rows = [[c.code, c.title, c.explained, c.up, c.down, percent(c.helpful_rate)] for c in codes]
    return table_html(("code", "title", "explained", "up", "down", "helpful"), rows, numeric=(0, 2, 3, 4, 5))


def helpful_section(report: Report) -> str:
    codes = report.voted_codes
    if not codes:
        return ""
    chart = hbar_chart("helpful", "Helpful rate per code",
                       ((str(c.code), f"{percent(c.helpful_rate)} ({c.up} of {c.votes})",
                         [(c.up / c.votes, UP_COLOUR, "up"), (c.down / c.votes, DOWN_COLOUR, "down")])
                        for c in codes))
    return (f'<section id="helpful"><h2>Helpful rate per code</h2><p class="detail">Least helpful first: '
            f"where the knowledge base needs work.</p>{chart}{codes_table(codes)}</section>")


def downvotes_section(report: Report) -> str:
    if not report.downvotes:
        return ""
    rows = [[f"{d.code} {d.title}".strip(), d.comment or "(no comment)", d.surface,
             report.channel_label(d.channel) if d.channel else "", when(d.at), d.kb_version]
            for d in report.downvotes]
    table = table_html(("card", "what was missing", "surface", "channel", "when", "knowledge base"), rows)
    return f'<section id="thumbs-down"><h2>Thumbs-down</h2>{table}</section>'


# --- questions and the change to paste ---------------------------------------------------------

def group_html(report: Report, g: QuestionGroup) -> str:
    detail = [offered(g), "via " + ", ".join(g.surfaces)]
    if g.channels:
        detail.append("in " + ", ".join(report.channel_label(c) for c in g.channels))
    if g.downvoted:
        detail.append(f"{g.downvoted} from thumbs-down")
    detail.append("last " + when(g.last_at))
    also = ""
    if g.variants:
        also = '<div class="also">also asked as: ' + " · ".join(
            f"<q>{esc(v)}</q>" for v in g.variants) + "</div>"
    return (f'<tr class="group"><td class="n count">{g.count}×</td><td><div class="question">{esc(g.text)}</div>'
            f'{also}<div class="detail">{esc(" · ".join(detail))}</div></td></tr>')


def questions_section(report: Report) -> str:
    if not report.groups:
        return ('<section id="unanswered"><h2>Unanswered questions</h2>'
                '<p class="empty">Every question got a confident answer.</p></section>')
    asked = sum(g.count for g in report.groups)
    rows = "".join(group_html(report, g) for g in report.groups)
    return (f'<section id="unanswered"><h2>Unanswered questions</h2><p class="detail">{asked} questions in '
            f"{len(report.groups)} groups of similar ones, most asked first.</p><table>{rows}</table></section>")


def yaml_section(report: Report) -> str:
    change = yaml_change(report)
    if not change:
        return ""
    return ('<section id="yaml"><h2>Knowledge-base change</h2><p class="detail">Review, then paste into '
            "<code>knowledge/*.yaml</code> and run <code>nmbot kb check</code>.</p>"
            f'<pre><code class="language-yaml">{esc(chr(10).join(change))}</code></pre></section>')


# --- activity -----------------------------------------------------------------------------------

def activity_section(report: Report) -> str:
    headers = ("answers", "auto-replies", "shadow", "not answered", "shares", "removed")

    def rows(items, name) -> list[list[object]]:
        return [[name(r.name), r.answers, r.autoreplies, r.shadow, r.unanswered, r.shares, r.removed] for r in items]

    def channel(c: str) -> str:
        return c if c == NO_CHANNEL else report.channel_label(c)

    numeric = (1, 2, 3, 4, 5, 6)
    out = ['<section id="activity"><h2>By surface and channel</h2>']
    if report.surfaces:
        out.append(table_html(("surface", *headers), rows(report.surfaces, str), numeric=numeric))
    if report.channels:
        out.append(table_html(("channel", *headers), rows(report.channels, channel), numeric=numeric))
    out.append("</section>")
    return "".join(out)


def table_html(headers: Sequence[str], rows: Sequence[Sequence[object]], numeric: Sequence[int] = ()) -> str:
    def cell(tag: str, i: int, value: object) -> str:
        klass = ' class="n"' if i in numeric else ""
        return f"<{tag}{klass}>{esc(value)}</{tag}>"

    head = "".join(cell("th", i, h) for i, h in enumerate(headers))
    body = "".join("<tr>" + "".join(cell("td", i, v) for i, v in enumerate(row)) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
