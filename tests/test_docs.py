"""The documentation stays true to the code: the README's Configuration table names exactly the environment
variables the bot reads, and every link between the Markdown pages leads to a file and heading that exist."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md")), REPO / "benchmarks" / "README.md"]
FENCE = re.compile(r"^```.*?^```", re.M | re.S)


def configuration_table() -> set[str]:
    """The variables in the rows of the README's Configuration table (`NAME` or `NAME`, `NAME` first)."""
    section = (REPO / "README.md").read_text().split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([A-Z_]+)`(?:, `([A-Z_]+)`)?", section, re.M)
    return {name for row in rows for name in row if name}


def variables_the_bot_reads() -> set[str]:
    """Every NMBOT_* and SLACK_* name the package's code spells as a string: the environment variables it reads."""
    names = set()
    for source in (REPO / "bot").rglob("*.py"):
        names |= set(re.findall(r"[\"']((?:NMBOT|SLACK)_[A-Z_]+)[\"']", source.read_text()))
    return names


def test_the_readme_configuration_table_lists_exactly_the_variables_the_bot_reads():
    read, documented = variables_the_bot_reads(), configuration_table()
    assert "NMBOT_DATABASE_URL" in read  # the search finds them
    assert read - documented == set(), "read by the bot, missing from the README's Configuration table"
    assert documented - read == set(), "in the README's Configuration table, read nowhere"


def heading_anchors(page: Path) -> set[str]:
    """The anchors GitHub gives a page's headings: lower case, punctuation dropped, spaces as hyphens."""
    headings = re.findall(r"^#+ (.+)$", FENCE.sub("", page.read_text()), re.M)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


def relative_links(page: Path) -> list[str]:
    links = re.findall(r"\]\(([^)\s]+)\)", FENCE.sub("", page.read_text()))
    return [link for link in links if not re.match(r"[a-z]+:", link)]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_link_between_pages_leads_to_a_file_and_heading_that_exist(page):
    broken = []
    for link in relative_links(page):
        path, _, anchor = link.partition("#")
        target = (page.parent / path).resolve() if path else page
        if not target.exists():
            broken.append(link)
        elif anchor and target.suffix == ".md" and anchor not in heading_anchors(target):
            broken.append(link)
    assert broken == []
