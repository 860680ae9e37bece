"""The package installs whole: every subpackage listed, the knowledge base inside."""
from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")

REPO = Path(__file__).resolve().parents[1]


def pyproject() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text())


def test_every_package_under_bot_is_listed():
    listed = set(pyproject()["tool"]["setuptools"]["packages"])
    folders = {p.parent.relative_to(REPO / "bot").parts for p in (REPO / "bot").rglob("__init__.py")}
    found = {".".join(("nmbot", *parts)) for parts in folders}
    assert found | {"nmbot.knowledge"} == listed


def test_the_bot_folder_installs_as_nmbot():
    package_dir = pyproject()["tool"]["setuptools"]["package-dir"]
    assert package_dir == {"nmbot": "bot", "nmbot.knowledge": "knowledge"}
    assert pyproject()["project"]["scripts"]["nmbot"] == "nmbot.cli.main:main"


def test_no_module_named_bot_is_ever_loaded():
    """Loading the code as `bot` beside `nmbot` would register every metric twice; everything imports nmbot."""
    code = ("import sys, nmbot.cli.main, nmbot.slack.app, nmbot.slack.server, nmbot.slack.socket_mode, "
            "nmbot.slack.web, nmbot.report, nmbot.cli.commands\n"
            "print(sorted(m for m in sys.modules if m == 'bot' or m.startswith('bot.')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO.parent)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
    sources = [p for d in ("bot", "tests", "benchmarks") for p in (REPO / d).rglob("*.py")]
    importing_bot = [str(p.relative_to(REPO)) for p in sources
                     if re.search(r"^\s*(from bot[. ]|import bot\b)", p.read_text(), re.M)]
    assert importing_bot == []


def test_ci_runs_the_readme_test_command():
    readme = (REPO / "README.md").read_text()
    ci = (REPO / ".ci" / "run").read_text()
    command = re.search(r"<!-- test-command -->\s*```(?:sh|bash)?\n(.+?)\n```", readme, re.S).group(1).strip()
    assert command in ci


def test_wheel_carries_the_knowledge_base(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(REPO)],
        capture_output=True, text=True, timeout=300,
    )
    if proc.returncode != 0 and "No module named" in proc.stderr:
        pytest.skip(f"cannot build a wheel here: {proc.stderr.strip().splitlines()[-1]}")
    assert proc.returncode == 0, proc.stderr
    [wheel] = tmp_path.glob("nmbot-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "nmbot/knowledge/number-masking.yaml" in names
    assert "nmbot/cli/main.py" in names
    assert not [n for n in names if n.startswith("bot/")]  # nothing called `bot` lands in site-packages
