"""The App Home tab, published when a person opens it (nmbot.replies.home says what it shows)."""
from __future__ import annotations

import logging

from slack_sdk import WebClient

from ....replies.home import home_tab
from ...calls import try_call
from ...deps import Deps


def handle_app_home_opened(deps: Deps, client: WebClient, event: dict, logger: logging.Logger) -> None:
    user = event.get("user")
    if event.get("tab", "home") != "home" or not user:
        return
    view = home_tab(deps, logger)
    try_call(logger, "views.publish", f"the App Home of {user}", lambda: client.views_publish(user_id=user, view=view))
