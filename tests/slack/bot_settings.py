"""Settings for a bot that talks to the local Web API stand-in (a module, so any test can import it)."""
from __future__ import annotations

from dataclasses import replace

from slack_requests import SIGNING_SECRET
from webapi_stub import BOT_TOKEN, WebApiStub

from nmbot.settings import Settings


def settings_for(stub: WebApiStub, **env: str) -> Settings:
    """Settings from `env` over the stand-in's; retries of a failed Web API call pause only briefly, as
    tests count them rather than wait them out."""
    base = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": stub.api_url,
        "NMBOT_DATABASE_URL": "memory://",
        "NMBOT_METRICS_PORT": "0",  # a test that wants the probes starts them on a free loopback port
    }
    return replace(Settings.from_env({**base, **env}), api_retry_pause=0.01)
