"""What every listener shares in one process, opened once and checked up front.

Each opener turns a failure into one `SettingsError` naming the variable to
fix, so a misconfigured bot stops with a sentence instead of a traceback.
"""
from __future__ import annotations

import logging
import random
from concurrent.futures import Executor
from pathlib import Path

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.jitter import Jitter

from ..engine import kb_files
from ..engine.knowledge import KnowledgeBase, KnowledgeError
from ..engine.privacy import mask_url
from ..engine.resolver import Resolver
from ..engine.scanner import Scanner
from ..settings import MANIFEST_HINT, Settings, SettingsError
from ..store import SqlStore, StateStore, StoreError
from .calls import slack_error
from .engine_holder import Engine, LiveEngine
from .files import FileReaders
from .leases import Leases
from .metrics import Metrics, SlackErrorCounter
from .listener_runs import ListenerRuns, listener_threads
from .usage import UsageLog

log = logging.getLogger(__name__)


class Deps:
    """The settings, knowledge base, state store, usage log, figures, listener runs and file threads of one process,
    and the leases of the acknowledged events it is answering.

    `kb`, `resolver` and `scanner` come from one `Engine`: the one a listener
    run was pinned to, or the latest outside a run. A knowledge-base reload
    swaps `engines`; nothing else here changes after start-up.
    """

    __slots__ = ("settings", "engines", "store", "bot_user_id", "metrics", "runs", "listener_executor",
                 "file_readers", "usage", "leases")

    def __init__(self, settings: Settings, kb: KnowledgeBase, resolver: Resolver, scanner: Scanner,
                 store: StateStore, bot_user_id: str, *, metrics: Metrics | None = None,
                 listener_executor: Executor | None = None):
        self.settings = settings
        self.engines = LiveEngine(Engine(kb, resolver, scanner))
        self.store = store
        self.bot_user_id = bot_user_id
        self.metrics = metrics or Metrics()
        self.metrics.watch_store(store)
        self.runs = ListenerRuns(self.engines, self.metrics)
        # Bolt's listener executor; a test passes its own to know when the listeners are done.
        self.listener_executor = listener_executor or listener_threads(settings.listener_threads)
        self.file_readers = FileReaders(self.engines, self.metrics, threads=settings.file_threads,
                                        waiting=settings.files_waiting)
        self.usage = UsageLog(store, flush_seconds=settings.usage_flush_seconds, flush_rows=settings.usage_flush_rows,
                              rows_kept=settings.usage_rows_kept).start()
        self.leases = Leases(store, lease=settings.event_lease_seconds, longest=settings.recover_hours * 3600,
                             settle_seconds=settings.settle_seconds, settles_kept=settings.settles_kept)

    @property
    def kb(self) -> KnowledgeBase:
        return self.engines.current.kb

    @property
    def resolver(self) -> Resolver:
        return self.engines.current.resolver

    @property
    def scanner(self) -> Scanner:
        return self.engines.current.scanner

    @property
    def bot_token(self) -> str:
        return self.settings.slack_bot_token.reveal() if self.settings.slack_bot_token else ""


def make_client(settings: Settings) -> WebClient:
    """The Web API client: slack_sdk's WebClient (`open_deps` adds the retry handlers)."""
    settings.require("slack_bot_token")
    return WebClient(token=settings.slack_bot_token.reveal(), base_url=settings.slack_api_url,
                     timeout=settings.api_seconds)


class RateLimitRetries(RateLimitErrorRetryHandler):
    """429: wait as long as Slack's Retry-After asks, unless that is longer than `longest_wait` (seconds):
    a reply is not worth more."""

    def __init__(self, *, max_retry_count: int, longest_wait: float):
        super().__init__(max_retry_count=max_retry_count)
        self.longest_wait = longest_wait

    def _can_retry(self, *, state, request, response=None, error=None) -> bool:
        return super()._can_retry(state=state, request=request, response=response, error=error) and \
            _retry_after(response) <= self.longest_wait


def _retry_after(response) -> float:
    for name, values in response.headers.items():
        if name.lower() == "retry-after":
            try:
                return float(values[0] if isinstance(values, list) else values)
            except (TypeError, ValueError, IndexError):
                return 0
    return 0


class ServerErrorRetries(RetryHandler):
    """Any 5xx, with backoff: slack_sdk's own handler knows only 500 and 503, and a 502 from a proxy passes too."""

    def _can_retry(self, *, state, request, response=None, error=None) -> bool:
        return response is not None and response.status_code >= 500


class UpTo(Jitter):
    """Adds up to `most` seconds at random: slack_sdk's RandomJitter with its one second made a setting."""

    def __init__(self, most: float):
        self.most = most

    def recalculate(self, duration: float) -> float:
        return duration + random.uniform(0, self.most)


def add_retry_handlers(client: WebClient, settings: Settings, metrics: Metrics | None = None) -> None:
    """Bounded retries for rate limits, connection errors and server errors; failures counted first.

    chat.postMessage allows about one message per second per channel, so a
    burst of pastes must wait, not fail. Bolt copies this list into the client
    each request gets, so setting it once covers every call.
    """
    handlers: list[RetryHandler] = [SlackErrorCounter(metrics)] if metrics is not None else []
    retries, pause = settings.api_retries, settings.api_retry_pause
    backoff = BackoffRetryIntervalCalculator(backoff_factor=pause, jitter=UpTo(2 * pause))
    handlers += [ConnectionErrorRetryHandler(max_retry_count=retries, interval_calculator=backoff),
                 RateLimitRetries(max_retry_count=retries, longest_wait=settings.max_retry_after),
                 ServerErrorRetries(max_retry_count=retries, interval_calculator=backoff)]
    client.retry_handlers = handlers


def load_knowledge(settings: Settings) -> KnowledgeBase:
    try:
        return read_knowledge(settings)
    except KnowledgeError as exc:
        raise SettingsError(f"the knowledge base cannot be loaded ({exc}): fix the file or "
                            f"{kb_files.ENV_VAR}, then run `nmbot kb check`") from None


def read_knowledge(settings: Settings) -> KnowledgeBase:
    """The knowledge base NMBOT_KNOWLEDGE names, read now; raises KnowledgeError naming the file and field."""
    return kb_files.load(knowledge_paths(settings), cache_dir=settings.cache_dir)


def knowledge_paths(settings: Settings) -> list[Path]:
    return kb_files.configured_paths(settings.knowledge)


def open_state(settings: Settings) -> StateStore:
    """The bot's state store, checked, with what is past its time purged (then `Maintenance` purges)."""
    try:
        store = SqlStore(settings.database_url, keep_days=settings.keep_days, tuning=settings.store)
    except StoreError as exc:
        raise SettingsError(f"NMBOT_DATABASE_URL: {exc}") from None
    if not store.ping():
        problem = store.problem or "the database does not answer"
        store.close()
        raise SettingsError(f"NMBOT_DATABASE_URL: {problem}")
    purge(store)
    return store


def purge(store: StateStore) -> None:
    """Expired claims, cool-downs and journal rows, and records older than NMBOT_KEEP_DAYS, deleted."""
    try:
        removed = store.purge_expired()
    except StoreError as exc:  # the store says once that it is down, not every purge
        log.debug("could not purge expired keys and old rows: %s", exc)
        return
    if removed:
        log.info("purged %d rows: expired claims and cool-downs, records older than NMBOT_KEEP_DAYS", removed)


# slack_sdk logs each retried or failed request itself; at start-up the one-line error below says it all.
QUIET_SDK_LOG = logging.getLogger("nmbot.startup.slack_sdk")
QUIET_SDK_LOG.addHandler(logging.NullHandler())
QUIET_SDK_LOG.propagate = False


def identify_bot(client: WebClient, settings: Settings) -> str:
    """The bot's user id, from auth.test: proves the token works before Slack sends anything."""
    quiet = WebClient(token=client.token, base_url=client.base_url, timeout=client.timeout,
                      retry_handlers=client.retry_handlers, logger=QUIET_SDK_LOG)
    try:
        auth = quiet.auth_test()
    except SlackApiError as exc:
        raise SettingsError(f"SLACK_BOT_TOKEN was rejected by Slack ({slack_error(exc)}): {MANIFEST_HINT}, install it "
                            "to your workspace and copy OAuth & Permissions > Bot User OAuth Token") from None
    except (SlackClientError, OSError) as exc:
        reason = getattr(exc, "reason", None) or exc
        shown = mask_url(settings.slack_api_url, whole_query=True)
        raise SettingsError(f"cannot reach Slack's Web API at {shown} ({reason}): "
                            "check SLACK_API_URL and the network") from None
    return auth.get("user_id") or ""


def open_deps(settings: Settings, *, kb: KnowledgeBase | None = None, store: StateStore | None = None,
              client: WebClient, listener_executor: Executor | None = None) -> Deps:
    kb = kb if kb is not None else load_knowledge(settings)
    metrics = Metrics()
    add_retry_handlers(client, settings, metrics)
    bot_user_id = identify_bot(client, settings)
    store = store if store is not None else open_state(settings)
    engine = Engine.build(kb)
    return Deps(settings, engine.kb, engine.resolver, engine.scanner, store, bot_user_id, metrics=metrics,
                listener_executor=listener_executor)
