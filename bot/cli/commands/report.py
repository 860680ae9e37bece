"""`nmbot report`: what the Slack surfaces recorded in the state store, read-only."""
from __future__ import annotations

import argparse
import sys
from dataclasses import replace

from ...settings import Settings
from ..main import EXIT_OK, CliError
from .shared import load_kb


def report(args: argparse.Namespace) -> int:
    """What the Slack surfaces recorded in the state store (NMBOT_DATABASE_URL), opened read-only; Slack is
    asked only for channel names, and only when SLACK_BOT_TOKEN is set."""
    import time

    from ...report import build_report, parse_duration, render

    try:
        seconds = parse_duration(args.since)
    except ValueError as exc:
        raise CliError(f"--since: {exc}") from None
    settings = Settings.from_env()
    kb = load_kb(settings)
    store = open_report_store(settings.database_url)
    try:
        now = time.time()
        since = now - seconds if seconds < now else None  # reaching back before 1970: everything recorded
        figures = build_report(store, since=since, until=now, kb=kb)
    finally:
        store.close()
    sys.stdout.write(render(with_channel_names(figures, settings), args.format))
    return EXIT_OK


def open_report_store(url: str):
    """The bot's state store, read-only: nothing created, nothing purged (the bot keeps its own retention),
    and a role with only SELECT will do. A database that does not exist is an error, not an empty report."""
    from pathlib import Path

    from ...store import is_memory_url, open_store
    from ...store.urls import in_memory, resolve_url

    if is_memory_url(url):
        raise CliError("NMBOT_DATABASE_URL is memory://: nothing outlives the bot's process, so there is "
                       "nothing to report; point it at the bot's database")
    resolved = resolve_url(url)
    database = resolved.database or ""
    if resolved.get_backend_name() == "sqlite" and not in_memory(resolved) \
            and not database.startswith("file:") and not Path(database).is_file():
        raise CliError(f"NMBOT_DATABASE_URL: no database at {database}: point it at the bot's database")
    return open_store(url, read_only=True)


def with_channel_names(figures, settings):
    """The report with channel names from Slack where the bot token can read them; IDs otherwise."""
    from ...report.channels import ChannelNames

    if settings.slack_bot_token is None or not figures.channel_ids:
        return figures
    names = ChannelNames(settings.slack_bot_token.reveal(), settings.slack_api_url,
                         lookup_seconds=settings.channel_lookup_seconds, total_seconds=settings.channel_names_seconds,
                         lookups=settings.channel_lookups)
    found = names.names(figures.channel_ids)
    if names.problem:
        print(f"nmbot: warning: channel names unavailable ({names.problem}); the report shows channel IDs",
              file=sys.stderr)
    return replace(figures, channel_names=tuple(found.items()))
