"""`nmbot completion`: the shell completion script."""
from __future__ import annotations

import argparse
import sys

from ..main import EXIT_OK


def completion(args: argparse.Namespace) -> int:
    from ..completion import script
    from ..main import build_parser

    sys.stdout.write(script(build_parser(), args.shell))
    return EXIT_OK
