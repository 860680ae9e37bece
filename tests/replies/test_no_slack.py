"""The replies layer imports neither slack_sdk nor slack_bolt, nor nmbot.slack (which would bring them)."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import nmbot.replies

PACKAGE = Path(nmbot.replies.__file__).parent
PACKAGE_NAME = ["nmbot", "replies"]
SLACK = ("slack_sdk", "slack_bolt", "nmbot.slack")


def imports_of(path: Path) -> list[str]:
    """The modules a file imports at run time (imports under `if TYPE_CHECKING:` are for annotations only)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    checking = {id(node) for top in ast.walk(tree) if isinstance(top, ast.If)
                and isinstance(top.test, ast.Name) and top.test.id == "TYPE_CHECKING"
                for statement in top.body for node in ast.walk(statement)}
    names = []
    for node in ast.walk(tree):
        if id(node) in checking:
            continue
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):  # `from ..slack import x` is nmbot.slack: resolved from here
            package = PACKAGE_NAME[:len(PACKAGE_NAME) - node.level + 1] if node.level else []
            names.append(".".join([*package, node.module or ""]))
    return names


def test_no_module_of_the_package_imports_slack(tmp_path):
    modules = sorted(PACKAGE.glob("*.py"))
    assert len(modules) > 5
    slack_using = tmp_path / "slack_using.py"
    slack_using.write_text("from typing import TYPE_CHECKING\nfrom ..slack.calls import try_call\n"
                           "if TYPE_CHECKING:\n    from ..slack.deps import Deps\n")
    assert imports_of(slack_using) == ["typing", "nmbot.slack.calls"]  # the check sees what it looks for
    found = {str(p.name): name for p in modules for name in imports_of(p) if name.startswith(SLACK)}
    assert found == {}


def test_importing_the_package_loads_no_slack_module_of_its_own():
    """slack_sdk's Block Kit models arrive with the cards (nmbot.cards); the replies layer adds no Slack module."""
    code = ("import importlib, pkgutil, sys, nmbot.cards, nmbot.replies\n"
            "for m in pkgutil.iter_modules(nmbot.cards.__path__):\n"
            "    importlib.import_module('nmbot.cards.' + m.name)\n"
            "before = set(sys.modules)\n"
            "for m in pkgutil.iter_modules(nmbot.replies.__path__):\n"
            "    importlib.import_module('nmbot.replies.' + m.name)\n"
            "print(sorted(m for m in set(sys.modules) - before if m.startswith(('slack', 'nmbot.slack'))))\n"
            "print(sorted(m for m in sys.modules if m.startswith(('slack_bolt', 'nmbot.slack'))))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["[]", "[]"]
