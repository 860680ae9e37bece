"""The HTML report in a real headless browser: Debian's Chromium, driven by Playwright.

Playwright's own browser downloads are never used: the test launches the system Chromium
(`NMBOT_TEST_CHROMIUM`, else `chromium` on PATH) and skips, saying why, when it or Playwright is missing.
Every request the page makes is intercepted: the page itself is served from the test, anything else is
recorded and refused, so nothing reaches a network. Marked `browser`: `-m "not browser"` leaves it out.
"""
from __future__ import annotations

import os
import shutil
import time

import pytest
from report_data import HOSTILE_COMMENT, HOSTILE_QUESTION, fill, fill_hostile, report_clock

from nmbot.cli.main import main
from nmbot.store import open_store

pytestmark = pytest.mark.browser

PAGE_URL = "http://report.nmbot.test/report.html"  # never resolved: the route below answers it
TIMEOUT_MS = 15_000


def chromium_path() -> str:
    path = os.environ.get("NMBOT_TEST_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.skip("no Chromium: install Debian's `chromium` package (apt-get install -y chromium), "
                    "or set NMBOT_TEST_CHROMIUM to a Chromium binary")
    return path


@pytest.fixture(scope="module")
def browser():
    executable = chromium_path()
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed (pip install -e '.[test]')")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def report_html(tmp_path, monkeypatch, capsys, kb) -> str:
    """The page `nmbot report --since 3d --format html` prints for a store the test filled up to now."""
    url = f"sqlite:///{tmp_path / 'nmbot.sqlite3'}"
    monkeypatch.setenv("NMBOT_DATABASE_URL", url)
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    clock, now = report_clock(), time.time()
    with open_store(url, clock=clock, keep_days=0) as store:
        fill(store, clock, kb.version, end=now)
        fill_hostile(store, clock, kb.version, end=now)
    assert main(["report", "--since", "3d", "--format", "html"]) == 0
    return capsys.readouterr().out


class Visit:
    """One page load with every request, console message and page error recorded."""

    def __init__(self, browser, html: str, *, bypass_csp: bool = False):
        self.requests: list[str] = []
        self.refused: list[str] = []
        self.errors: list[str] = []
        self.context = browser.new_context(bypass_csp=bypass_csp, java_script_enabled=True)
        self.context.set_default_timeout(TIMEOUT_MS)
        self.context.route("**/*", lambda route: self._answer(route, html))
        self.page = self.context.new_page()
        self.page.on("console", lambda m: self.errors.append(f"console {m.type}: {m.text}")
                     if m.type in ("error", "warning") else None)
        self.page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.goto(PAGE_URL, wait_until="load")

    def _answer(self, route, html: str) -> None:
        if route.request.url == PAGE_URL:
            route.fulfill(status=200, content_type="text/html; charset=utf-8", body=html)
        else:
            self.refused.append(route.request.url)
            route.abort()

    def close(self) -> None:
        self.context.close()


def test_the_page_renders_in_chromium_with_nothing_fetched(browser, report_html):
    visit = Visit(browser, report_html)
    try:
        page = visit.page
        assert visit.errors == []
        assert visit.requests == [PAGE_URL] and visit.refused == []
        assert page.title() == "nmbot report"
        assert page.locator("h1").inner_text() == "nmbot report"
        days = page.locator("svg.per-day g.day")
        assert days.count() == 4  # three days back from now touch four UTC days
        dates = [days.nth(i).get_attribute("data-date") for i in range(4)]
        assert dates == sorted(dates) and len(set(dates)) == 4
        heights = page.eval_on_selector_all("svg.per-day g.day", "gs => gs.map(g => g.getBBox().height)")
        assert heights[-2] > heights[-3] > 0  # yesterday's busy day outgrows the day before, both drawn
        assert page.locator("svg.top-codes g.bar").count() == 3
        assert page.locator("section#yaml pre").inner_text().startswith("# Questions nmbot could not answer")
        box = page.locator("svg.per-day").bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 80  # laid out, not collapsed
    finally:
        visit.close()


def test_user_text_shows_literally_and_runs_nothing(browser, report_html):
    # Without the page's own Content-Security-Policy, so only the escaping stands between a question and a script.
    visit = Visit(browser, report_html, bypass_csp=True)
    try:
        page = visit.page
        assert page.evaluate("() => [window.__nmbot_pwned, document.scripts.length, document.images.length]") == [
            None, 0, 0]
        questions = page.locator("#unanswered .question").all_inner_texts()
        assert HOSTILE_QUESTION in questions
        assert HOSTILE_COMMENT in page.locator("#thumbs-down").inner_text()
        assert visit.requests == [PAGE_URL] and visit.errors == []
    finally:
        visit.close()
