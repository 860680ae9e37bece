"""`nmbot kb check`: every problem in the knowledge-base files, and cards that Slack would refuse."""
from __future__ import annotations

import argparse

from ...cards.content import card_for_entry
from ...engine.knowledge import KnowledgeBase, KnowledgeError
from ...settings import Settings
from ..main import EXIT_NOTHING, EXIT_OK, CliError


def kb_check(args: argparse.Namespace) -> int:
    from ...engine.kb_files import configured_paths, source_paths
    from ...engine.lint import lint

    settings = Settings.offline()
    try:
        paths = source_paths(args.paths, expand=False) if args.paths else configured_paths(settings.knowledge)
    except KnowledgeError as exc:
        raise CliError(str(exc)) from None
    kb, problems = lint(paths, settings.cache_dir)
    if kb is not None:
        problems += card_problems(kb)
    for problem in problems:
        print(f"problem: {problem}")
    if problems:
        print(f"{len(problems)} problem(s) found.")
        return EXIT_NOTHING
    print(f"ok: {len(kb)} entries, knowledge base {kb.version}")
    return EXIT_OK


def card_problems(kb: KnowledgeBase) -> list[str]:
    """Cards that Slack would refuse, found by rendering them for real."""
    try:
        from ...cards.error_card import card_message
        from ...cards.kit import validate_message
    except ImportError:  # Slack libraries missing: loading and linting still count
        return []
    problems = []
    for entry in kb:
        try:
            validate_message(card_message(card_for_entry(kb, entry)))
        except Exception as exc:  # the renderer's own limit errors, whatever their type
            problems.append(f"{entry.source}: entry {entry.code}: its Slack card breaks Block Kit limits: {exc}")
    return problems
