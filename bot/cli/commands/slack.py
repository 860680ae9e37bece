"""`nmbot serve` and `nmbot manifest`: the Slack bot, and the manifest to create its Slack app from."""
from __future__ import annotations

import argparse
import sys

from ...settings import Settings
from ..main import EXIT_OK, CliError


def manifest(args: argparse.Namespace) -> int:
    """The Slack app manifest to create the app from: Socket Mode, or HTTP mode for one host."""
    from ...slack.manifest import ManifestError, http_manifest, socket_mode_manifest

    if args.http is None:
        sys.stdout.write(socket_mode_manifest())
        return EXIT_OK
    try:
        sys.stdout.write(http_manifest(args.http))
    except ManifestError as exc:
        raise CliError(f"--http: {exc}") from None
    return EXIT_OK


def serve(args: argparse.Namespace) -> int:
    from ...slack.server import serve as serve_slack

    return serve_slack(Settings.from_env(), http=args.http, host=args.host, port=args.port)
