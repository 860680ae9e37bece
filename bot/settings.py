"""One settings object: defaults, then environment variables.

Secrets are wrapped so that printing or logging the settings never shows them.
"""
from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from typing import Mapping

from .engine.privacy import mask_url

SLACK_API_URL = "https://slack.com/api/"
CACHE_ENV_VAR = "NMBOT_CACHE_DIR"
MANIFEST_HINT = "create the Slack app from manifest.yml (`nmbot manifest` prints it; see README, 'Create the Slack app')"


class SettingsError(ValueError):
    """A setting that is missing or malformed; the message names the variable."""


class Secret:
    """A token or secret that never shows itself in repr, str or logs."""

    __slots__ = ("_value",)

    def __init__(self, value: str):
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('****')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def _secret(env: Mapping[str, str], name: str) -> Secret | None:
    value = env.get(name, "").strip()
    return Secret(value) if value else None


def _number(env: Mapping[str, str], name: str, default: float, *, minimum: float = 0) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from None
    if not math.isfinite(value):  # float() reads "nan" and "inf", which no setting can use
        raise SettingsError(f"{name} must be a number, got {raw!r}")
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum:g}, got {raw!r}")
    return value


def _seconds(env: Mapping[str, str], name: str, default: float, maximum: float) -> float:
    """A duration that must pass: more than 0 (0 would mean never trying), at most `maximum`."""
    value = _number(env, name, default, minimum=-math.inf)
    if not 0 < value <= maximum:
        raise SettingsError(f"{name} must be more than 0 and at most {maximum:g} seconds, got {env.get(name)!r}")
    return value


def _at_most(env: Mapping[str, str], name: str, default: float, maximum: float) -> float:
    value = _number(env, name, default)
    if value > maximum:
        raise SettingsError(f"{name} must be at most {maximum:g}, got {env.get(name)!r}")
    return value


def _whole(env: Mapping[str, str], name: str, default: int, minimum: int, maximum: int) -> int:
    value = _number(env, name, default, minimum=minimum)
    if value > maximum or value != int(value):
        raise SettingsError(f"{name} must be a whole number from {minimum} to {maximum}, got {env.get(name)!r}")
    return int(value)


def _flag(env: Mapping[str, str], name: str) -> bool:
    value = env.get(name, "").strip().lower()
    if value in ("", "0", "false", "no", "off"):
        return False
    if value in ("1", "true", "yes", "on"):
        return True
    raise SettingsError(f"{name} must be 1 or 0 (on or off), got {env.get(name)!r}")


# One DNS label, lower case ASCII (punycode for other scripts); a host is labels joined by dots, no trailing dot.
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST_ENTRY = re.compile(rf"({_LABEL}(?:\.{_LABEL})*)(?::([0-9]{{1,5}}))?")


def _hosts(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """A comma-separated list of host names, each optionally with a port: "files.example.com,dl.example.com:8443"."""
    hosts = []
    for entry in env.get(name, "").split(","):
        entry = entry.strip().lower()
        if not entry:
            continue
        match = _HOST_ENTRY.fullmatch(entry)
        if match is None or len(match[1]) > 253 or (match[2] and not 0 < int(match[2]) < 65536):
            raise SettingsError(f"{name} must be a comma-separated list of host names such as "
                                f"files.example.com (punycode for non-ASCII names, an optional :port), got {entry!r}")
        hosts.append(entry)
    return tuple(hosts)


def _knowledge(env: Mapping[str, str]) -> dict:
    """The knowledge base's settings: NMBOT_KNOWLEDGE, and its parse cache: NMBOT_CACHE_DIR (set empty: no
    cache), else nmbot's folder in the XDG cache ($XDG_CACHE_HOME, ~/.cache)."""
    folder = env.get(CACHE_ENV_VAR)
    if folder is None:
        base = env.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        folder = os.path.join(base, "nmbot")
    return {"knowledge": env.get("NMBOT_KNOWLEDGE", "").strip(), "cache_dir": folder}


def _choice(env: Mapping[str, str], name: str, default: str, choices: tuple[str, ...]) -> str:
    value = env.get(name, "").strip().lower() or default
    if value not in choices:
        raise SettingsError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


@dataclass(frozen=True)
class StoreTuning:
    """How the state store uses its database and the process's memory. No environment variable sets these."""

    ping_seconds: float = 2.0  # a health check's answer: slower than this counts as down
    sqlite_busy_seconds: float = 30.0  # a SQLite writer waits this long for another process's lock
    sqlite_cache_kib: int = 256  # each SQLite connection's page cache
    pg_connect_seconds: int = 10  # unless the URL's connect_timeout says otherwise (psycopg would wait forever)
    pg_pool_size: int = 5  # PostgreSQL connections a process keeps open ...
    pg_pool_overflow: int = 5  # ... and opens beyond them under load
    # Claims remembered in the process for an outage. Slack retries a delivery for about an hour, a few times;
    # ten thousand keys are hours of a busy workspace's deliveries, a couple of megabytes at most.
    claims_kept: int = 10_000
    claims_kept_seconds: float = 2 * 3600.0
    settings_kept: int = 10_000  # channels whose settings one store keeps copies of (`channel_settings(max_age)`)
    # Every pasted log needs its channel's settings, which change a few times a year: a copy this old is good
    # enough. A change made in this process is seen at once; one made in another (a replica, a gunicorn
    # worker) within this many seconds.
    channel_settings_seconds: float = 5.0


@dataclass(frozen=True)
class Settings:
    knowledge: str = ""  # NMBOT_KNOWLEDGE; empty means the shipped knowledge base
    cache_dir: str = ""  # where parsed knowledge files are kept (NMBOT_CACHE_DIR); empty: no cache
    slack_bot_token: Secret | None = None
    slack_signing_secret: Secret | None = None
    slack_app_token: Secret | None = None
    slack_api_url: str = SLACK_API_URL
    database_url: str = "sqlite:///nmbot.sqlite3"
    log_format: str = "text"
    log_level: str = "info"
    host: str = "127.0.0.1"
    port: int = 3000
    cooldown_seconds: float = 1800.0  # the same code is not re-explained in a thread within this
    max_file_bytes: int = 2_000_000  # shared log files larger than this are not downloaded
    file_hosts: tuple[str, ...] = ()  # hosts besides Slack's own that may receive the bot token for a file
    download_seconds: float = 10.0  # one shared file's whole download, connecting included
    body_seconds: float = 10.0  # HTTP mode: one request body's whole read (Slack sends its few kB at once)
    watch_knowledge: bool = False  # reload the knowledge base when its files change (SIGHUP always reloads)
    web_workers: int = 1  # HTTP mode: gunicorn worker processes, each a whole bot
    metrics_host: str = "0.0.0.0"  # /healthz, /readyz and /metrics: reachable by container probes by default
    metrics_port: int = 9000  # 0: no probe server
    keep_days: float = 180.0  # votes, questions, usage events and quiet threads older than this are deleted; 0: never
    socket_give_up: float = 300.0  # Socket Mode: exit non-zero after this long without a connection
    socket_ping_seconds: float = 10.0  # Socket Mode: keep-alive pings; a silent connection is noticed in about 2x this
    recover_hours: float = 1.0  # an acknowledged event is answered after a crash within this; 0: nothing recorded
    event_lease_seconds: float = 60.0  # an event a process died on waits this long before another takes it up
    # -- how the bot runs: no environment variable sets these -----------------------------------------------
    store: StoreTuning = StoreTuning()
    purge_seconds: float = 600.0  # between purges of expired claims and cool-downs, and rows past retention
    watch_seconds: float = 2.0  # between looks at the knowledge files' modification times (NMBOT_WATCH_KNOWLEDGE)
    # Between looks for events left unanswered, at most: a lease shorter than this is looked for as often as it
    # can lapse, so an event waits at most about two leases after its process died.
    recover_seconds: float = 60.0
    recover_batch: int = 20  # events taken up per transaction; each is then answered in turn
    # Pages of 200 replies searched for an event's reply: a reply comes within moments, not after a thousand others.
    recover_pages: int = 5
    api_seconds: int = 10  # one Web API call; listeners run after the ack, so this bounds a reply, not the ack
    api_retries: int = 2  # per kind of failure; a reply that needs more is not coming soon
    # Before retrying a dropped connection or a 5xx: this, doubling for each later retry, plus up to twice this
    # at random (slack_sdk's own pauses). Rate limits wait as long as Retry-After says instead.
    api_retry_pause: float = 0.5
    max_retry_after: float = 30.0  # Slack asking for a longer pause means the reply is better given up
    # Bolt runs a slash command's answer on the same threads as the replies to pasted logs, and its default
    # pool has five: five replies waiting out Slack's rate limit would make every /nmerror miss its 3 s.
    # Twelve leave commands room while most wait; a thread that once ran keeps its stack and allocator caches
    # resident, so the pool is no wider. (deploy/prometheus/alerts.yml alerts at this many.)
    listener_threads: int = 12
    file_threads: int = 4  # threads reading messages with files; each holds one message for its downloads
    # Messages with files waiting for a file thread, beyond which one is answered at once without its files
    # (a note per file says so): a flood of slow files then costs file pastes their files, never every paste
    # its reply. Far above a burst of fast downloads, which clear in a fraction of a second each.
    files_waiting: int = 100
    usage_flush_seconds: float = 1.0  # usage rows for reports are written together at least this often ...
    usage_flush_rows: int = 500  # ... and as soon as this many pile up
    usage_rows_kept: int = 50_000  # rows kept through a store outage; past this the oldest are dropped, not memory
    settle_seconds: float = 1.0  # replies' settles are written together at least this often
    settles_kept: int = 10_000  # settles kept through a store outage; past this the oldest are left to recovery
    probe_seconds: float = 5.0  # a probe or scrape that has not sent its request within this is dropped
    refusal_log_seconds: float = 10.0  # a flood of refused requests logs one line per reason this often
    web_threads: int = 8  # HTTP mode: threads per worker; Slack requests are short, threads cover bursts
    web_timeout: int = 30  # HTTP mode: gunicorn restarts a worker silent this long
    # HTTP mode: SIGTERM to exit, requests in progress and then the replies they started (deploy/ gives more).
    graceful_seconds: int = 15
    boot_wait_seconds: float = 60.0  # HTTP mode: the master shows its held log lines after this, started or not
    malloc_arenas: int = 2  # glibc's malloc arenas per process (MALLOC_ARENA_MAX)
    socket_attempt_seconds: float = 15.0  # Socket Mode: one connection attempt (a new URL, the upgrade, hello)
    socket_reconnect_grace: float = 5.0  # Socket Mode: how long the client may take to restore a connection itself
    socket_watch_seconds: float = 1.0  # Socket Mode: how often the connection is looked at (the probes' resolution)
    socket_close_seconds: float = 5.0  # Socket Mode: closing a connection (the close frame's answer, the client)
    socket_dispatch_threads: int = 4  # Socket Mode: commands, clicks and views dispatched at once, each until acked
    channel_lookup_seconds: float = 5.0  # `nmbot report`: one channel name looked up, connecting included ...
    channel_names_seconds: float = 20.0  # ... and every lookup of one report
    channel_lookups: int = 500  # channels named per report; the rest keep their IDs

    @classmethod
    def offline(cls, env: Mapping[str, str] | None = None) -> "Settings":
        """The defaults, and from the environment only what the offline commands read (the knowledge base and
        its parse cache): a malformed Slack or server setting is no reason to refuse explaining a code."""
        return cls(**_knowledge(os.environ if env is None else env))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Settings":
        env = dict(os.environ if env is None else env)
        api_url = env.get("SLACK_API_URL", "").strip() or SLACK_API_URL
        if not api_url.startswith(("http://", "https://")):
            raise SettingsError(f"SLACK_API_URL must be an http(s) URL such as {SLACK_API_URL}, "
                                f"got {mask_url(api_url, whole_query=True)!r}")
        return cls(
            **_knowledge(env),
            slack_bot_token=_secret(env, "SLACK_BOT_TOKEN"),
            slack_signing_secret=_secret(env, "SLACK_SIGNING_SECRET"),
            slack_app_token=_secret(env, "SLACK_APP_TOKEN"),
            slack_api_url=api_url if api_url.endswith("/") else api_url + "/",
            database_url=env.get("NMBOT_DATABASE_URL", "").strip() or cls.database_url,
            log_format=_choice(env, "NMBOT_LOG_FORMAT", "text", ("text", "json")),
            log_level=_choice(env, "NMBOT_LOG_LEVEL", "info", ("debug", "info", "warning", "error")),
            host=env.get("NMBOT_HOST", "").strip() or cls.host,
            port=_whole(env, "NMBOT_PORT", 3000, 1, 65535),
            cooldown_seconds=_number(env, "NMBOT_COOLDOWN_SECONDS", cls.cooldown_seconds),
            max_file_bytes=int(_number(env, "NMBOT_MAX_FILE_BYTES", cls.max_file_bytes, minimum=1)),
            file_hosts=_hosts(env, "NMBOT_FILE_HOSTS"),
            download_seconds=_seconds(env, "NMBOT_DOWNLOAD_SECONDS", cls.download_seconds, 600),
            body_seconds=_seconds(env, "NMBOT_BODY_SECONDS", cls.body_seconds, 60),
            watch_knowledge=_flag(env, "NMBOT_WATCH_KNOWLEDGE"),
            web_workers=_whole(env, "NMBOT_WEB_WORKERS", cls.web_workers, 1, 32),
            metrics_host=env.get("NMBOT_METRICS_HOST", "").strip() or cls.metrics_host,
            metrics_port=_whole(env, "NMBOT_METRICS_PORT", cls.metrics_port, 0, 65535),
            keep_days=_number(env, "NMBOT_KEEP_DAYS", cls.keep_days),
            socket_give_up=_seconds(env, "NMBOT_SOCKET_GIVE_UP", cls.socket_give_up, 86400),
            socket_ping_seconds=_seconds(env, "NMBOT_SOCKET_PING_SECONDS", cls.socket_ping_seconds, 15),
            recover_hours=_at_most(env, "NMBOT_RECOVER_HOURS", cls.recover_hours, 24),
            event_lease_seconds=_seconds(env, "NMBOT_EVENT_LEASE_SECONDS", cls.event_lease_seconds, 3600),
        )

    @property
    def drain_seconds(self) -> float:
        """The replies' share of `graceful_seconds` at shutdown, so gunicorn's SIGKILL never cuts one off."""
        return self.graceful_seconds - 3

    @property
    def has_slack_tokens(self) -> bool:
        return self.slack_bot_token is not None

    def require(self, *names: str) -> None:
        """Raise one clear SettingsError for the first missing or malformed Slack setting."""
        hints = {
            "slack_bot_token": ("SLACK_BOT_TOKEN", "xoxb-", "OAuth & Permissions > Bot User OAuth Token"),
            "slack_signing_secret": ("SLACK_SIGNING_SECRET", "", "Basic Information > App Credentials > Signing Secret"),
            "slack_app_token": ("SLACK_APP_TOKEN", "xapp-", "Basic Information > App-Level Tokens (scope connections:write)"),
        }
        for name in names:
            variable, prefix, where = hints[name]
            value = getattr(self, name)
            if value is None:
                raise SettingsError(f"{variable} is not set: {MANIFEST_HINT}, then copy it from {where}")
            if prefix and not value.reveal().startswith(prefix):
                raise SettingsError(
                    f"{variable} does not look right (it should start with {prefix!r}): copy it from {where}"
                )
