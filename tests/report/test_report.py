"""`nmbot report`: figures from the state store, grouping of similar questions, text, Markdown and CSV, the CLI.

JSON and HTML: test_report_json.py and test_report_html.py (test_report_browser.py in Chromium); the store
opened read-only: test_report_store.py; channel names: tests/slack/test_slack_report_channels.py.

The report filled through the real Slack surfaces is tested in tests/slack/test_slack_report.py.
"""
from __future__ import annotations

import ast
import csv
import io
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest
from report_data import DAY, NOW

from nmbot.cli.main import main
from nmbot.report import build_report, describe_duration, group_questions, parse_duration, render
from nmbot.store import Unanswered, UsageEvent, open_store

REPO = Path(__file__).resolve().parents[2]


def asked(*texts: str, suggestions=(), surface="command", channel="C1") -> list[Unanswered]:
    return [Unanswered(t, surface, channel, tuple(suggestions), NOW - i) for i, t in enumerate(texts)]


# --- durations -------------------------------------------------------------------------------

@pytest.mark.parametrize("text, seconds", [("30m", 1800), ("2h", 7200), ("1d", DAY), ("7d", 7 * DAY),
                                           ("24h", DAY), ("1w", 7 * DAY), (" 2 H ", 7200), ("90min", 5400)])
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "2", "h", "0d", "-2h", "2.5h", "2 hours please", "1y", "soon"])
def test_bad_durations(text):
    with pytest.raises(ValueError, match="use a duration such as 30m, 2h or 1d"):
        parse_duration(text)


def test_durations_are_described_in_words():
    assert [describe_duration(s) for s in (60, 1800, 7200, DAY, 7 * DAY, 5400)] == [
        "1 minute", "30 minutes", "2 hours", "1 day", "7 days", "90 minutes"]


# --- grouping similar questions ----------------------------------------------------------------

def test_similar_questions_are_grouped_and_different_ones_are_not():
    groups = group_questions(asked(
        "calls to malaysia fail", "call to Malaysia failing!", "Calls to Malaysia fail",
        "calls to singapore fail", "how do i whitelist a number", "how to whitelist numbers",
        "is the coffee machine fixed", "is the coffee machine fixed yet?",
    ))
    by_text = {g.text: g for g in groups}
    assert [g.count for g in groups] == [3, 2, 2, 1]
    malaysia = groups[0]
    assert malaysia.text == "calls to malaysia fail" and set(malaysia.variants) == {"call to Malaysia failing!",
                                                                                    "Calls to Malaysia fail"}
    assert by_text["calls to singapore fail"].count == 1
    assert by_text["how do i whitelist a number"].count == 2


def test_phone_numbers_do_not_split_a_group_and_codes_do():
    groups = group_questions(asked("why does +\u2022\u2022\u2022\u2022\u2022\u2022\u202267 not ring",
                                   "why does +\u2022\u2022\u2022\u2022\u2022\u2022\u202212 not ring",
                                   "what is -2042", "what is -2043"), known_codes=[-2002, -2003, -2004])
    assert sorted(g.count for g in groups) == [1, 1, 2]
    assert {g.unknown_codes for g in groups} == {(), (-2042,), (-2043,)}


def test_suggested_codes_are_counted_most_offered_first():
    questions = (asked("trunk full", suggestions=[-2010, -2009]) + asked("trunk full!", suggestions=[-2010])
                 + asked("trunk is full", surface="downvote", suggestions=[-2010]))
    [group] = group_questions(questions)
    assert group.suggested == ((-2010, 2), (-2009, 1)) and group.likely_code == -2010
    assert group.rejected == ((-2010, 1),)
    assert group.downvoted == 1 and group.surfaces == ("command", "downvote")


# --- figures from a store ----------------------------------------------------------------------

def test_figures(filled, kb):
    report = build_report(filled, since=NOW - 7 * DAY, until=NOW, kb=kb)
    assert (report.answers, report.autoreplies, report.shadow) == (3, 2, 1)
    assert (report.unanswered, report.shares, report.removed, report.up, report.down) == (3, 1, 1, 2, 2)
    assert report.helpful_rate == 0.5
    surfaces = {r.name: r for r in report.surfaces}
    assert surfaces["autoreply"].autoreplies == 2 and surfaces["shortcut"].answers == 1
    assert surfaces["command"].unanswered == 3 and surfaces["reaction"].removed == 1
    channels = {r.name: r for r in report.channels}
    assert channels["C2"].shadow == 1 and channels["C1"].explained == 5
    assert [(c.code, c.explained) for c in report.top_codes] == [(-2004, 2), (-2010, 2), (-2005, 1)]
    assert [(c.code, c.helpful_rate) for c in report.voted_codes] == [(-2004, 1 / 3), (-2010, 1.0)]
    assert [g.count for g in report.groups] == [2, 1]


def test_since_leaves_out_what_is_older(filled, kb):
    assert build_report(filled, since=NOW - 7 * DAY, until=NOW, kb=kb).answers == 3
    assert build_report(filled, since=None, until=NOW, kb=kb).answers == 4
    assert build_report(filled, since=NOW - 60, until=NOW, kb=kb).empty


def test_text_report(filled, kb):
    out = render(build_report(filled, since=NOW - 7 * DAY, until=NOW, kb=kb), "text")
    assert out.startswith("nmbot report: 2027-01-08 08:00 UTC to 2027-01-15 08:00 UTC (last 7 days)")
    assert "codes explained                  5 (answers 3, auto-replies 2)" in out
    assert "feedback                         50% helpful (2 up, 2 down)" in out
    assert "Per day\n  day (UTC)   asked  answered  unanswered\n  2027-01-08      0         0           0\n" in out
    assert "  2027-01-14      8         5           3\n  2027-01-15      0         0           0\n" in out
    assert "2\u00d7  \"calls to malaysia fail\"" in out and "also: \"call to Malaysia failing\"" in out
    assert "asks about -2042 (not in the knowledge base)" in out
    assert "# Codes people asked about that the knowledge base does not have: -2042 (1\u00d7)" in out
    assert "-2004 Region outside your Number Masking coverage: \"=HYPERLINK(\\\"x\\\") no | malaysia\"" in out


def test_markdown_report_escapes_table_cells(filled, kb):
    out = render(build_report(filled, since=NOW - 7 * DAY, until=NOW, kb=kb), "md")
    assert out.startswith("# nmbot report\n")
    assert "## Unanswered questions" in out and "## Knowledge-base change" in out and "```yaml" in out
    assert "no \\| malaysia" in out  # a pipe would split the table row
    assert "## Per day" in out and "| 2027-01-14 | 8 | 5 | 3 |" in out


def test_csv_report_is_one_table_safe_for_spreadsheets(filled, kb):
    out = render(build_report(filled, since=NOW - 7 * DAY, until=NOW, kb=kb), "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    sections = {r["section"] for r in rows}
    assert sections == {"summary", "surface", "channel", "code", "question", "downvote"}
    summary = {r["name"]: r["count"] or r["text"] for r in rows if r["section"] == "summary"}
    assert summary["explained"] == "5" and summary["helpful_rate"] == "0.500"
    [comment] = [r["text"] for r in rows if r["section"] == "downvote" and r["text"]]
    assert comment.startswith("'=HYPERLINK")  # not a formula when opened in a spreadsheet
    questions = [r for r in rows if r["section"] == "question"]
    assert [(r["count"], r["text"]) for r in questions] == [("2", "calls to malaysia fail"), ("1", "what is -2042")]


def test_an_empty_period_says_so(kb):
    out = render(build_report(open_store("memory://"), since=NOW - DAY, until=NOW, kb=kb), "text")
    assert out.endswith("Nothing was recorded in this period.\n")


def test_unknown_format():
    with pytest.raises(ValueError, match="format must be one of text, md, csv, json, html"):
        render(build_report(open_store("memory://")), "pdf")


# --- the command line ------------------------------------------------------------------------

@pytest.fixture
def database(tmp_path, monkeypatch) -> str:
    url = f"sqlite:///{tmp_path / 'state' / 'nmbot.sqlite3'}"
    monkeypatch.setenv("NMBOT_DATABASE_URL", url)
    monkeypatch.delenv("NMBOT_KNOWLEDGE", raising=False)
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)  # channel names are tested against a stand-in
    with open_store(url) as store:
        store.record_events([UsageEvent("card", "command", "C1", -2004, store.now())])
        store.record_events([UsageEvent("not_sure", "mention", "C1", None, store.now())])
        store.record_unanswered(text="is the coffee machine fixed", surface="mention", channel="C1", suggestions=[])
    return url


@pytest.mark.parametrize("fmt, expected", [("text", "codes explained"), ("md", "## Summary"),
                                           ("csv", "summary,explained,,,1,")])
def test_cli_report_formats(database, capsys, fmt, expected):
    assert main(["report", "--since", "1h", "--format", fmt]) == 0
    out = capsys.readouterr().out
    assert expected in out and "is the coffee machine fixed" in out


def test_cli_report_defaults_to_seven_days_of_text(database, capsys):
    assert main(["report"]) == 0
    assert "(last 7 days)" in capsys.readouterr().out


def test_cli_report_reaching_back_before_1970_reports_everything(database, capsys):
    assert main(["report", "--since", "999999w"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("nmbot report: everything recorded until ") and "is the coffee machine fixed" in out


@pytest.mark.parametrize("args, env, message", [
    (["--since", "yesterday"], {}, "nmbot: --since: use a duration such as 30m, 2h or 1d"),
    ([], {"NMBOT_DATABASE_URL": "memory://"}, "nothing to report"),
    ([], {"NMBOT_DATABASE_URL": "sqlite:////nonexistent/nmbot.sqlite3"}, "no database at /nonexistent/nmbot.sqlite3"),
])
def test_cli_report_problems_are_one_line(database, capsys, monkeypatch, args, env, message):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(["report", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_cli_report_deletes_nothing_past_retention(database, monkeypatch):
    """The bot purges what is past NMBOT_KEEP_DAYS; the report, opened read-only, never does."""
    with open_store(database, keep_days=0) as store:
        store.record_events([UsageEvent("card", "command", "C1", -2004, time.time() - 400 * DAY)])
    monkeypatch.setenv("NMBOT_KEEP_DAYS", "1")
    assert main(["report"]) == 0
    with open_store(database, keep_days=0) as store:
        assert len(store.events()) == 3


def test_cli_report_never_loads_slack(database):
    # A fresh interpreter, as `nmbot report` runs: the report must work where Slack's libraries are not wanted.
    code = ("import sys; from nmbot.cli.main import main; rc = main(['report', '--format', 'csv']); "
            "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('slack_sdk', 'slack_bolt')); "
            "print('SLACK', loaded, file=sys.stderr); sys.exit(rc)")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    assert "SLACK []" in proc.stderr
    assert proc.stdout.startswith("section,name,code")


def test_the_report_package_imports_nothing_from_slack():
    for path in (REPO / "bot" / "report").glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not any("slack" in name for name in names), (path.name, names)


def test_long_distinct_questions_are_grouped_quickly():
    """Members can leave 2,000-character questions; comparing whole keys of 200 of them took 40 s."""
    rng = random.Random(1)
    vocabulary = [f"w{i:05d}" for i in range(50_000)]
    questions = [Unanswered(" ".join(rng.choice(vocabulary) for _ in range(330)), "mention", "C1", (), float(i))
                 for i in range(200)]
    started = time.perf_counter()
    groups = group_questions(questions)
    assert time.perf_counter() - started < 5
    assert len(groups) == 200  # all different


def test_reports_show_control_characters_instead_of_sending_them_to_the_terminal(kb):
    store = open_store("memory://", clock=lambda: NOW - DAY)
    store.record_events([UsageEvent("not_sure", "mention", "C1", None, store.now())])
    store.record_unanswered(text="\x1b]0;owned\x07\x1b[2J why \u202eexe.gnp fail\u2028- code: -9999",
                            surface="mention", channel="C1", suggestions=[])
    report = build_report(store, since=NOW - 7 * DAY, until=NOW, kb=kb)
    for fmt in ("text", "md"):
        out = render(report, fmt)
        assert not [c for c in out if not c.isprintable() and c != "\n"], fmt
    assert "\\u001b\\]0;owned\\u0007\\u001b\\[2J why \\u202eexe.gnp fail" in render(report, "md")
    assert '#   "\\u001b]0;owned\\u0007\\u001b[2J why \\u202eexe.gnp fail - code: -9999"  (1\u00d7)' \
        in render(report, "text")
