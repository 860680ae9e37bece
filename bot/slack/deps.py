"""What every listener shares in one process, opened once and checked up front.

Each opener turns a failure into one `SettingsError` naming the variable to
fix, so a misconfigured bot stops with a sentence instead of a traceback.
"""
from __future__ import annotations

from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from ..engine import knowledge
from ..engine.knowledge import KnowledgeBase, KnowledgeError
from ..engine.resolver import Resolver
from ..engine.scanner import Scanner
from ..settings import MANIFEST_HINT, Settings, SettingsError
from ..store import StateStore, StoreError, open_store

API_TIMEOUT = 10  # seconds; listeners run after the ack, so this bounds a reply, not the ack


@dataclass(frozen=True)
class Deps:
    settings: Settings
    kb: KnowledgeBase
    resolver: Resolver
    scanner: Scanner
    store: StateStore
    bot_user_id: str

    @property
    def bot_token(self) -> str:
        return self.settings.slack_bot_token.reveal() if self.settings.slack_bot_token else ""


def make_client(settings: Settings) -> WebClient:
    settings.require("slack_bot_token")
    client = WebClient(token=settings.slack_bot_token.reveal(), base_url=settings.slack_api_url,
                       timeout=API_TIMEOUT)
    add_rate_limit_retries(client)
    return client


def add_rate_limit_retries(client: WebClient) -> None:
    # chat.postMessage allows about one message per second per channel; a burst of pastes must wait, not fail.
    if not any(isinstance(h, RateLimitErrorRetryHandler) for h in client.retry_handlers):
        client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=2))


def load_knowledge(settings: Settings) -> KnowledgeBase:
    try:
        return knowledge.load(knowledge.configured_paths({knowledge.ENV_VAR: settings.knowledge}))
    except KnowledgeError as exc:
        raise SettingsError(f"the knowledge base cannot be loaded ({exc}): fix the file or "
                            f"{knowledge.ENV_VAR}, then run `nmbot kb check`") from None


def open_state(settings: Settings) -> StateStore:
    try:
        store = open_store(settings.database_url)
    except StoreError as exc:
        raise SettingsError(f"NMBOT_DATABASE_URL: {exc}") from None
    if not store.ping():
        store.close()
        raise SettingsError("NMBOT_DATABASE_URL: the database does not answer")
    return store


def identify_bot(client: WebClient, settings: Settings) -> str:
    """The bot's user id, from auth.test: proves the token works before Slack sends anything."""
    try:
        auth = client.auth_test()
    except SlackApiError as exc:
        error = exc.response.get("error", "unknown_error") if exc.response is not None else "unknown_error"
        raise SettingsError(f"SLACK_BOT_TOKEN was rejected by Slack ({error}): {MANIFEST_HINT}, install it to "
                            "your workspace and copy OAuth & Permissions > Bot User OAuth Token") from None
    except (SlackClientError, OSError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise SettingsError(f"cannot reach Slack's Web API at {settings.slack_api_url} ({reason}): "
                            "check SLACK_API_URL and the network") from None
    return auth.get("user_id") or ""


def open_deps(settings: Settings, *, kb: KnowledgeBase | None = None, store: StateStore | None = None,
              client: WebClient) -> Deps:
    kb = kb if kb is not None else load_knowledge(settings)
    bot_user_id = identify_bot(client, settings)
    store = store if store is not None else open_state(settings)
    resolver = Resolver(kb)
    resolver.index  # built now, so the first question in Slack does not wait for it
    return Deps(settings=settings, kb=kb, resolver=resolver, scanner=Scanner(kb), store=store,
                bot_user_id=bot_user_id)
