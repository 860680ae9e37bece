"""One Web API call whose failure is logged, never raised: for replies that are nice to have."""
from __future__ import annotations

import logging
from typing import Any, Callable

from slack_sdk.errors import SlackApiError, SlackClientError

FAILED = object()  # what `try_call` returns when the call failed


def try_call(logger: logging.Logger, method: str, channel: str, call: Callable[[], Any]) -> Any:
    """The call's response, or FAILED after logging Slack's error (or the connection failure) and the channel."""
    try:
        return call()
    except SlackApiError as exc:
        logger.warning("%s failed in %s: %s", method, channel, exc.response.get("error"))
    except (SlackClientError, OSError) as exc:
        logger.warning("%s failed in %s: %s", method, channel, exc)
    return FAILED
