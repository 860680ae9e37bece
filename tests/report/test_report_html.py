"""`nmbot report --format html`: one self-contained page, user text escaped (read here with an HTML parser;
test_report_browser.py opens it in Chromium)."""
from __future__ import annotations

from dataclasses import replace
from html.parser import HTMLParser

import pytest
from report_data import DAY, HOSTILE_COMMENT, HOSTILE_QUESTION, NOW, fill, fill_hostile, report_clock

from nmbot.cli.main import main
from nmbot.report import build_report, render
from nmbot.store import UsageEvent, open_store

FETCHING_TAGS = {"script", "link", "img", "iframe", "object", "embed", "audio", "video", "source", "base", "form",
                 "frame", "image", "use", "track", "input"}
FETCHING_ATTRIBUTES = {"src", "href", "srcset", "action", "poster", "data", "xlink:href", "background", "ping"}


class Page(HTMLParser):
    """What the browser would build: elements with their attributes, and the text of the question rows."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.styles: list[str] = []
        self._open: list[str] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))
        self._open.append(tag)

    def handle_endtag(self, tag):
        while self._open and self._open.pop() != tag:
            pass

    def handle_data(self, data):
        self.text.append(data)
        if self._open and self._open[-1] == "style":
            self.styles.append(data)

    def all(self, tag: str, css_class: str | None = None) -> list[dict]:
        return [a for t, a in self.elements
                if t == tag and (css_class is None or css_class in (a.get("class") or "").split())]


@pytest.fixture
def hostile(kb):
    clock = report_clock()
    store = open_store("memory://", clock=clock)
    fill(store, clock, kb.version)
    fill_hostile(store, clock, kb.version)
    report = build_report(store, since=NOW - 7 * DAY, until=NOW, kb=kb)
    return replace(report, channel_names=(("C1", "support"), ("C3", '<b onmouseover="x()">ops</b>')))


def test_the_page_fetches_nothing_and_runs_nothing(hostile):
    text = render(hostile, "html")
    page = Page(text)
    assert text.startswith("<!DOCTYPE html>\n")
    assert not [t for t, _ in page.elements if t in FETCHING_TAGS]
    assert not [(t, a) for t, a in page.elements for name in a if name in FETCHING_ATTRIBUTES or name.startswith("on")]
    [policy] = [a["content"] for t, a in page.elements if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script-src" not in policy
    assert page.styles and not any("url(" in s or "@import" in s for s in page.styles)
    assert "http://" not in text.replace("http://www.w3.org/2000/svg", "") and "https://" not in text


def test_user_text_is_escaped_and_shown_as_written(hostile):
    text = render(hostile, "html")
    page = Page(text)
    for raw in (HOSTILE_QUESTION, HOSTILE_COMMENT, "<b onmouseover"):
        assert raw not in text
    assert "&lt;script&gt;window.__nmbot_pwned = 1&lt;/script&gt; why &quot;quoted&quot; &amp; &#x27;single&#x27;" \
        in text
    assert not page.all("script") and not page.all("img") and not page.all("b")
    shown = "".join(page.text)
    assert HOSTILE_QUESTION in shown and HOSTILE_COMMENT in shown  # the text itself, literally
    assert '#<b onmouseover="x()">ops</b>' in shown  # a channel name, as a name


def test_one_bar_per_day_of_the_period(hostile):
    page = Page(render(hostile, "html"))
    [chart] = page.all("svg", "per-day")
    bars = page.all("g", "day")
    assert [b["data-date"] for b in bars] == [f"2027-01-{n:02d}" for n in range(8, 16)]
    asked = {b["data-date"]: (int(b["data-asked"]), int(b["data-answered"]), int(b["data-unanswered"])) for b in bars}
    assert asked["2027-01-14"] == (8, 5, 3) and asked["2027-01-13"] == (2, 1, 1) and asked["2027-01-12"] == (0, 0, 0)
    heights = {}
    for rect in page.all("rect", "answered") + page.all("rect", "unanswered"):
        heights.setdefault(rect["class"], []).append(float(rect["height"]))
    assert len(heights["answered"]) == len(heights["unanswered"]) == 8
    assert max(heights["answered"]) == heights["answered"][6] > heights["answered"][5] > 0 == heights["answered"][0]


def test_the_sections_a_support_lead_reads(hostile, kb):
    page = Page(render(hostile, "html"))
    sections = [a.get("id") for a in page.all("section")]
    assert sections == ["summary", "per-day", "unanswered", "yaml", "top-codes", "helpful", "thumbs-down", "activity"]
    shown = "".join(page.text)
    assert "calls to malaysia fail" in shown and "also asked as: " in shown
    assert f"- code: -2010  # {kb.get(-2010).title}: asked 1 time" in shown  # the YAML fragment, as text
    assert len(page.all("g", "bar")) == 3 + 2  # top codes -2004, -2010, -2005; helpful rate of -2004, -2010
    assert "#support" in shown and "in #support" in shown


def test_an_empty_period_still_draws_its_days(kb):
    page = Page(render(build_report(open_store("memory://"), since=NOW - 2 * DAY, until=NOW, kb=kb), "html"))
    assert len(page.all("g", "day")) == 3
    assert "Nothing was recorded in this period." in "".join(page.text)


def test_cli_html(tmp_path, monkeypatch, capsys):
    url = f"sqlite:///{tmp_path / 'nmbot.sqlite3'}"
    monkeypatch.setenv("NMBOT_DATABASE_URL", url)
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    with open_store(url) as store:
        store.record_events([UsageEvent("not_sure", "mention", "C1", None, store.now())])
        store.record_unanswered(text="<i>is</i> the coffee machine fixed", surface="mention", channel="C1",
                                suggestions=[])
    assert main(["report", "--since", "1d", "--format", "html"]) == 0
    out = capsys.readouterr().out
    page = Page(out)
    assert len(page.all("g", "day")) == 2 and not page.all("i")
    assert "<i>is</i> the coffee machine fixed" in "".join(page.text)
