"""The App Home tab: the code catalog by kind, how to ask, and the team's recent figures."""
from __future__ import annotations

import logging
import time

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from ....cards.home import home_view
from ....report import Report, build_report
from ....store import StoreError
from ...deps import Deps

FIGURES_DAYS = 7


def handle_app_home_opened(deps: Deps, client: WebClient, event: dict, logger: logging.Logger) -> None:
    user = event.get("user")
    if event.get("tab", "home") != "home" or not user:
        return
    view = home_view(deps.kb, recent_figures(deps, logger), days=FIGURES_DAYS)
    try:
        client.views_publish(user_id=user, view=view)
    except SlackApiError as exc:
        logger.warning("views.publish failed: %s", exc.response.get("error"))
    except (SlackClientError, OSError) as exc:
        logger.warning("views.publish failed: %s", exc)


def recent_figures(deps: Deps, logger: logging.Logger) -> Report | None:
    """The team's last days from the state store; None (the tab shows no figures) when it is down."""
    now = time.time()
    try:
        return build_report(deps.store, since=now - FIGURES_DAYS * 86400, until=now, kb=deps.kb, questions=False)
    except StoreError:  # the store said once that it is down
        logger.debug("state store unavailable: App Home without figures")
        return None
