"""The App Home tab: the code catalog by kind, how to ask, and the team's recent figures."""
from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from ..cards.home import home_view
from ..report import Report, build_report
from ..store import StoreError

if TYPE_CHECKING:
    from ..slack.deps import Deps

FIGURES_DAYS = 7


def home_tab(deps: Deps, logger: logging.Logger) -> dict:
    """The tab's view, figures included while the state store answers."""
    return home_view(deps.kb, recent_figures(deps, logger), days=FIGURES_DAYS)


def recent_figures(deps: Deps, logger: logging.Logger) -> Report | None:
    """The team's last days from the state store; None (the tab shows no figures) when it is down."""
    now = time.time()
    try:
        return build_report(deps.store, since=now - FIGURES_DAYS * 86400, until=now, kb=deps.kb, questions=False)
    except StoreError:  # the store said once that it is down
        logger.debug("state store unavailable: App Home without figures")
        return None
