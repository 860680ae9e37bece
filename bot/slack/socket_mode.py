"""Socket Mode: Slack's requests over one WebSocket that stays connected.

Bolt's aiohttp adapter keeps the connection (slack_sdk's aiohttp client): it
reconnects at once after Slack's `refresh_requested` or a close frame, and its
pings (aiohttp's heartbeat) notice a dropped or silent connection without
polling. Around it, `SocketModeRuntime` adds what it lacks:

- connected means Slack's `hello` arrived on the current socket, never just an
  open TCP connection or a refused upgrade (`ConnectionState`, for the probes);
- a connection the client has not restored within `socket_reconnect_grace`, or one of
  its attempts failing (it would retry a refused upgrade on the same URL at a
  fixed pace, for ever), is replaced by a new client on a new URL, retried with
  growing pauses; after NMBOT_SOCKET_GIVE_UP seconds without a connection the
  process exits with EXIT_GAVE_UP, so its supervisor starts it afresh;
- Bolt's sync App dispatches commands, clicks and views on a thread pool, so a
  listener computing its ack never holds up other envelopes, pings or a
  reconnect (socket_dispatch.py);
- the client's log lines are one line each, URLs masked, and connection
  failures are reported once, by this module (socket_connection.py).

SIGTERM/SIGINT: envelopes arriving from then on are left unacknowledged (Slack
delivers them again, to another connection), those being acknowledged finish,
the connection closes, listener runs finish their replies, the store closes,
exit 0. SIGHUP reloads the knowledge base.
"""
from __future__ import annotations

import asyncio
import logging
import random
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from slack_bolt import App
from slack_bolt.adapter.socket_mode.aiohttp import SocketModeHandler
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from ..settings import MANIFEST_HINT, Settings, SettingsError
from .app import assemble
from .calls import slack_error
from .deps import Deps
from .maintenance import Maintenance
from .socket_connection import (CONNECT_ERRORS, TOKEN_ERRORS, AttemptFailed, ConnectionState, SdkLog, Stopping,
                                TokenRejected, one_line, why_connecting_failed)
from .socket_dispatch import AckGate, DispatchingHandler

log = logging.getLogger(__name__)
# What slack_sdk's client and Bolt's adapter log, one line each (see SdkLog).
sdk_log = logging.getLogger(__name__ + ".client")

EXIT_GAVE_UP = 75  # EX_TEMPFAIL: nothing is wrong with the configuration, trying again later may work
FIRST_RETRY, MAX_RETRY = 1.0, 30.0  # pauses between failed attempts double from the first up to the last
ACK_DRAIN_SECONDS = 3.0  # Slack's ack deadline: at shutdown, envelopes being acknowledged get this long


class SocketModeRuntime:
    """One process's Socket Mode connection, from the first attempt to the exit code."""

    def __init__(self, settings: Settings, app: App, deps: Deps, *, maintenance: Maintenance | None = None):
        settings.require("slack_app_token")
        self.settings, self.app, self.deps, self.maintenance = settings, app, deps, maintenance
        self.state = ConnectionState(settings.socket_give_up)
        self.ping_seconds = settings.socket_ping_seconds
        self.pool = ThreadPoolExecutor(max_workers=settings.socket_dispatch_threads,
                                       thread_name_prefix="socket-dispatch")
        self._sdk_log = SdkLog(self._client_failed)
        self._greeted: object | None = None  # the client session Slack's last hello came on
        self._failure: AttemptFailed | None = None  # the last failure the client reported
        self._connections = deps.metrics.socket_connections
        self._failures = deps.metrics.socket_failures
        deps.metrics.gauge("nmbot_socket_mode_connected", "1 while the Socket Mode connection is open "
                           "(Slack's hello received), else 0", lambda: 1 if self.state.connected else 0)

    # --- the whole run ---------------------------------------------------------------------------

    async def run(self) -> int:
        """Connect, stay connected, stop when asked; the exit code. Raises SettingsError for a rejected token."""
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self._wake = asyncio.Event()  # the watch looks now: stopping, or the client reported a failure
        self._hello = asyncio.Event()
        self.gate = AckGate()
        self.web = AsyncWebClient(base_url=self.settings.slack_api_url, timeout=self.settings.api_seconds)
        self._install_signals()
        sdk_log.addFilter(self._sdk_log)
        sdk_log.setLevel(logging.DEBUG if log.isEnabledFor(logging.DEBUG) else logging.WARNING)
        handler = None
        try:
            handler = await self._connect(starting=True)
            while True:
                await self._watch(handler)
                if self._stop.is_set():
                    return 0
                await self._discard(handler)
                handler = None
                handler = await self._connect(starting=False)
        except Stopping:
            return 0
        except GaveUp as gave_up:
            self.state.mark_gave_up()
            log.error("no Socket Mode connection for %.0fs (NMBOT_SOCKET_GIVE_UP), the last attempt: %s; exiting "
                      "with status %d so that the supervisor starts nmbot again", self.state.seconds_down(),
                      gave_up, EXIT_GAVE_UP)
            return EXIT_GAVE_UP
        finally:
            await self._finish(handler)
            sdk_log.removeFilter(self._sdk_log)
            self.pool.shutdown(wait=False)

    def stop(self) -> None:
        """Ask the run to end; safe from any thread."""
        self._loop.call_soon_threadsafe(self._stopping)

    def _stopping(self) -> None:
        self._stop.set()
        self._wake.set()

    def _install_signals(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # signal handlers can only be set from the main thread
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self._stopping)
        if self.maintenance is not None:
            loop.add_signal_handler(signal.SIGHUP, self.maintenance.request_reload)

    async def _finish(self, handler: SocketModeHandler | None) -> None:
        if not await self.gate.close(ACK_DRAIN_SECONDS):
            log.warning("%d envelope(s) not acknowledged after %gs; Slack will deliver them again",
                        self.gate.in_flight, ACK_DRAIN_SECONDS)
        if handler is not None:
            await self._discard(handler)
        self.state.mark_down()

    async def _discard(self, handler: SocketModeHandler) -> None:
        """Close `handler`'s connection and client; a close that fails or hangs (a silent peer never answers
        the close frame) is given up on, since a new connection or the exit follows either way."""
        try:
            await asyncio.wait_for(handler.close_async(), self.settings.socket_close_seconds)
        except (Exception, asyncio.TimeoutError) as exc:
            log.debug("closing a Socket Mode client: %s", one_line(f"{type(exc).__name__}: {exc}"))

    # --- connecting ------------------------------------------------------------------------------

    async def _open_url(self) -> str:
        try:
            response = await asyncio.wait_for(
                self.web.apps_connections_open(app_token=self.settings.slack_app_token.reveal()),
                self.settings.socket_attempt_seconds)
            url = response.get("url")
        except SlackApiError as exc:
            error = slack_error(exc)
            if error in TOKEN_ERRORS:
                raise TokenRejected(error) from None
            raise AttemptFailed(f"apps.connections.open failed ({error})", "api_error") from None
        except CONNECT_ERRORS as exc:
            raise AttemptFailed(f"cannot reach Slack's Web API for a socket URL ({type(exc).__name__})",
                                "network") from None
        if not isinstance(url, str) or not url.startswith(("wss://", "ws://")):
            raise AttemptFailed("apps.connections.open answered without a WebSocket URL", "api_error")
        return url

    async def _connect(self, *, starting: bool) -> SocketModeHandler:
        """A connection Slack has greeted, retried with growing pauses. Raises Stopping or GaveUp, and
        SettingsError when the app token is rejected at start-up."""
        pause = FIRST_RETRY
        while True:
            handler = self._new_handler()
            try:
                await self._attempt(handler)
                return handler
            except AttemptFailed as failure:
                await self._discard(handler)
                if starting and isinstance(failure, TokenRejected):
                    raise SettingsError(f"{failure}: {MANIFEST_HINT}, then create it under Basic Information > "
                                        "App-Level Tokens with the scope connections:write") from None
                starting = False
                self._failures.inc(reason=failure.kind)
                left = self.settings.socket_give_up - self.state.seconds_down()
                if left <= 0:
                    raise GaveUp(str(failure)) from None
                wait = min(pause * random.uniform(0.9, 1.1), left)
                log.warning("no Socket Mode connection: %s; trying again in %.1fs (exits after %gs without one)",
                            failure, wait, self.settings.socket_give_up)
                if await self._stopped_within(wait):
                    raise Stopping from None
                pause = min(pause * 2, MAX_RETRY)
            except BaseException:
                await self._discard(handler)
                raise

    def _new_handler(self) -> SocketModeHandler:
        handler = DispatchingHandler(self.app, self.settings.slack_app_token.reveal(), pool=self.pool,
                                     gate=self.gate, deps=self.deps, logger=sdk_log, web_client=self.web,
                                     ping_interval=self.ping_seconds)
        handler.client.message_listeners.append(self._on_message)
        return handler

    async def _attempt(self, handler: SocketModeHandler) -> None:
        """Open `handler`'s connection on a new URL and wait for Slack's hello."""
        handler.client.wss_uri = await self._unless_stopped(self._open_url())
        self._hello.clear()
        self._wake.clear()
        self._failure = None
        connecting = asyncio.ensure_future(handler.connect_async())
        greeted = asyncio.ensure_future(self._hello.wait())
        woken = asyncio.ensure_future(self._wake.wait())
        attempt_seconds = self.settings.socket_attempt_seconds
        try:
            await asyncio.wait({greeted, woken}, timeout=attempt_seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (connecting, greeted, woken):
                task.cancel()
            await asyncio.gather(connecting, greeted, woken, return_exceptions=True)
        if self._hello.is_set() and self._greeted is handler.client.current_session:
            return
        if self._stop.is_set():
            raise Stopping
        raise self._failure or AttemptFailed(f"no hello from Slack within {attempt_seconds:g}s", "timeout")

    async def _on_message(self, client, message: dict, _raw: str | None) -> None:
        """Every message the client receives; Slack's hello opens each connection."""
        if message.get("type") != "hello":
            return
        self._greeted = client.current_session
        self._hello.set()
        self._connections.inc()
        was_down = self.state.mark_up()
        if self.state.connections == 1:
            log.info("nmbot is connected to Slack in Socket Mode (knowledge base %s)", self.deps.kb.version)
        else:
            log.info("reconnected to Slack in Socket Mode%s",
                     f" after {was_down:.0f}s without a connection" if was_down >= 1 else "")

    def _client_failed(self, error: BaseException) -> None:
        """From SdkLog, on the event-loop thread: the client failed a connection attempt."""
        self._failure = why_connecting_failed(error)
        self._wake.set()

    # --- staying connected -----------------------------------------------------------------------

    async def _watch(self, handler: SocketModeHandler) -> None:
        """Return when stopping, or when the connection is lost and the client did not restore it in time."""
        lost_at = None
        while True:
            await self._stopped_within(self.settings.socket_watch_seconds, wake=True)
            if self._stop.is_set():
                return
            if await self._up(handler):
                lost_at, self._failure = None, None
                self._wake.clear()
                continue
            now = time.monotonic()
            if lost_at is None:
                lost_at = now
                self.state.mark_down()
                log.warning("the Socket Mode connection was lost; reconnecting")
            if self._failure is not None or now - lost_at >= self.settings.socket_reconnect_grace:
                if self._failure is not None:
                    log.warning("reconnecting failed: %s", self._failure)
                    self._failures.inc(reason=self._failure.kind)
                    self._failure = None
                return

    async def _up(self, handler: SocketModeHandler) -> bool:
        client = handler.client
        return self._greeted is client.current_session and await client.is_connected()

    async def _unless_stopped(self, work):
        """`work`'s result; raises Stopping, and cancels it, if asked to stop first."""
        task, stopped = asyncio.ensure_future(work), asyncio.ensure_future(self._stop.wait())
        try:
            await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
            if not task.done():
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        if self._stop.is_set():
            if task.done() and not task.cancelled():
                task.exception()  # seen: stopping wins over what it brought
            raise Stopping
        return task.result()

    async def _stopped_within(self, seconds: float, *, wake: bool = False) -> bool:
        """Wait `seconds`, less if asked to stop (or, with `wake`, if the client reported a failure)."""
        event = self._wake if wake else self._stop
        try:
            await asyncio.wait_for(event.wait(), seconds)
        except asyncio.TimeoutError:
            pass
        return self._stop.is_set()


class GaveUp(Exception):
    """No connection for NMBOT_SOCKET_GIVE_UP seconds; the message is the last attempt's failure."""


def run_socket_mode(settings: Settings) -> int:
    """Serve Slack in Socket Mode until stopped; the exit code. Raises SettingsError for configuration to fix."""
    from .probes import Probes, bot_details, start_probes
    from .process_memory import release_freed_memory
    from .server import stop_serving  # the shutdown both modes share: replies, then store

    settings.require("slack_app_token")
    app, deps = assemble(settings)
    release_freed_memory()
    maintenance = Maintenance(deps).start()
    runtime = SocketModeRuntime(settings, app, deps, maintenance=maintenance)
    try:
        # Live while connected or still inside the give-up window; ready only while connected.
        probes = start_probes(Probes(lambda: bot_details(deps), deps.metrics.render,
                                     live=runtime.state.alive, ready=runtime.state.ready),
                              settings.metrics_host, settings.metrics_port, request_seconds=settings.probe_seconds)
    except BaseException:
        stop_serving(deps, maintenance)
        raise
    try:
        return asyncio.run(runtime.run())
    finally:
        if probes is not None:
            probes.close()
        stop_serving(deps, maintenance)
