"""The Socket Mode connection's state and failures, as the runtime (socket_mode.py) and the probes see them.

Connected means Slack's `hello` arrived on the current socket, never just an open TCP connection or a
refused upgrade. slack_sdk's client reports a failed attempt in a log record with a traceback; `SdkLog`
turns its records into one line each with URLs masked (a socket URL carries its connection ticket) and hands
connection failures to the runtime, which reports them once.
"""
from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Callable

import aiohttp
from slack_sdk.errors import SlackClientError

from ..engine.privacy import mask_url

# apps.connections.open errors that mean the app-level token itself is wrong: nothing to retry.
TOKEN_ERRORS = frozenset({"invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive",
                          "not_allowed_token_type", "missing_scope", "no_permission", "invalid_token"})
# What the client's failed connection attempts raise (the upgrade refused, the network, Slack's Web API).
CONNECT_ERRORS = (aiohttp.ClientError, OSError, asyncio.TimeoutError, SlackClientError)
CONNECT_FAILED = "Failed to connect"  # how the client's log record of such a failure begins


class ConnectionState:
    """Whether Slack can reach this process, for the health probes (any thread may read it).

    Ready while connected; alive while connected or still inside the give-up window."""

    def __init__(self, give_up: float):
        self.give_up = give_up
        self._lock = threading.Lock()
        self._connected = False
        self._gave_up = False
        self._changed = time.monotonic()  # when `connected` last changed (or the process started)
        self._changed_wall = time.time()
        self.connections = 0  # hellos received: the first connection and every reconnection

    @property
    def connected(self) -> bool:
        with self._lock:
            return self._connected

    @property
    def gave_up(self) -> bool:
        with self._lock:
            return self._gave_up

    @property
    def since(self) -> float:
        """Unix time of the last change: connected since, or disconnected since."""
        with self._lock:
            return self._changed_wall

    def seconds_down(self) -> float:
        """How long the process has been without a connection; 0 while connected."""
        with self._lock:
            return 0.0 if self._connected else time.monotonic() - self._changed

    def alive(self) -> bool:
        with self._lock:
            return not self._gave_up and (self._connected or time.monotonic() - self._changed < self.give_up)

    def ready(self) -> bool:
        return self.connected

    def snapshot(self) -> dict:
        with self._lock:
            return {"connected": self._connected, "since": self._changed_wall, "gave_up": self._gave_up,
                    "connections": self.connections}

    def mark_up(self) -> float:
        """Connected now; returns how long it was not (0 if it already was)."""
        with self._lock:
            self.connections += 1
            down = 0.0 if self._connected else time.monotonic() - self._changed
            if not self._connected:
                self._connected, self._changed, self._changed_wall = True, time.monotonic(), time.time()
            return down

    def mark_down(self) -> None:
        with self._lock:
            if self._connected:
                self._connected, self._changed, self._changed_wall = False, time.monotonic(), time.time()

    def mark_gave_up(self) -> None:
        with self._lock:
            self._gave_up = True


class AttemptFailed(Exception):
    """A connection attempt that did not end with Slack's hello; the message says why, in one line."""

    def __init__(self, reason: str, kind: str):
        super().__init__(reason)
        self.kind = kind  # nmbot_socket_mode_failures_total{reason=...}


class TokenRejected(AttemptFailed):
    def __init__(self, error: str):
        super().__init__(f"SLACK_APP_TOKEN was rejected by Slack ({error})", "token_rejected")
        self.error = error


class Stopping(Exception):
    """SIGTERM or SIGINT arrived while connecting."""


class SdkLog(logging.Filter):
    """On the logger Bolt's adapter hands slack_sdk's client: every record one line with its URLs masked.

    The client reports a failed connection attempt with a traceback, then tries again at a fixed pace on the
    same URL, for ever; that record goes to `on_failure` instead, and the runtime decides and logs what
    happens next. (Should the client's wording change, an attempt still ends at its deadline.)
    """

    def __init__(self, on_failure: Callable[[BaseException], None]):
        super().__init__()
        self.on_failure = on_failure

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        text = one_line(record.getMessage())
        if isinstance(error, CONNECT_ERRORS) and text.startswith(CONNECT_FAILED):
            self.on_failure(error)
            return False
        record.msg, record.args = text + (f" ({type(error).__name__})" if error is not None else ""), None
        record.exc_info = record.exc_text = record.stack_info = None
        return True


def one_line(text: str) -> str:
    return mask_url(" ".join(str(text).split()), whole_query=True)


def why_connecting_failed(error: BaseException) -> AttemptFailed:
    if isinstance(error, aiohttp.WSServerHandshakeError):
        return AttemptFailed(f"Slack refused the WebSocket upgrade (HTTP {error.status})", "refused")
    return AttemptFailed(f"the WebSocket connection failed ({type(error).__name__}: {one_line(error)})", "network")
