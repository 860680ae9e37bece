"""Envelopes from Socket Mode to Bolt's sync App, and their acks back, until shutdown closes the gate."""
from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

from slack_bolt import App
from slack_bolt.adapter.socket_mode.aiohttp import SocketModeHandler
from slack_bolt.adapter.socket_mode.async_internals import send_async_response
from slack_bolt.adapter.socket_mode.internals import run_bolt_app
from slack_sdk.socket_mode.async_client import AsyncBaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from .deps import Deps


class DispatchingHandler(SocketModeHandler):
    """Bolt's aiohttp Socket Mode adapter, with the sync App dispatched on a thread pool where it may wait.

    Bolt's sync dispatch of a command, a click or a view waits for its listener's ack; on the event loop that
    wait would hold up every other envelope, the pings and a reconnect. An event's dispatch does not wait
    (Bolt acks events as it hands them to a listener thread) and, with a store on this machine, only records
    the event first: it runs on the loop, as in Bolt's own adapter, sparing a thread hand-off per event. A
    store across a network could stall that record, so with one every envelope goes to the pool.
    Envelopes arriving once the gate has closed (shutdown) are left unacknowledged, for Slack to deliver
    again."""

    def __init__(self, app: App, app_token: str, *, pool: ThreadPoolExecutor, gate: "AckGate", deps: Deps,
                 **kwargs):
        super().__init__(app, app_token, **kwargs)
        self.pool, self.gate, self.deps = pool, gate, deps

    async def handle(self, client: AsyncBaseSocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]
        if not self.gate.enter():
            return
        try:
            started = time.time()
            if req.type == "events_api" and self.deps.store.local:
                response = run_bolt_app(self.app, req)  # returns at once: Bolt acks events before the listener
            else:
                response = await asyncio.get_running_loop().run_in_executor(self.pool, run_bolt_app, self.app, req)
            if 400 <= response.status < 500:
                # Refused as malformed, or no listener for it: a second delivery would be refused the same way.
                await client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))
            else:
                await send_async_response(client, req, response, started)
            if response.status < 500:
                self.deps.metrics.ack_seconds.observe(time.time() - started)
        finally:
            self.gate.leave()


class AckGate:
    """Counts envelopes being dispatched and acknowledged, and closes for shutdown (event-loop thread only)."""

    def __init__(self) -> None:
        self.open = True
        self.in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def enter(self) -> bool:
        if not self.open:
            return False
        self.in_flight += 1
        self._idle.clear()
        return True

    def leave(self) -> None:
        self.in_flight -= 1
        if not self.in_flight:
            self._idle.set()

    async def close(self, timeout: float) -> bool:
        """Take no more envelopes; True when those in flight were acknowledged within `timeout`."""
        self.open = False
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
            return True
        except asyncio.TimeoutError:
            return False
