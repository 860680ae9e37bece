"""A local stand-in for Slack's Socket Mode end: a WebSocket server on 127.0.0.1 speaking Slack's protocol.

`apps.connections.open` on the Web API stand-in hands out `ws://127.0.0.1:PORT/link/?ticket=N` (`new_url`).
A client that connects gets `hello`; the test sends envelopes (`send`) and waits for their acks (`wait_ack`),
and can misbehave as Slack and networks do: ask for a refresh (`disconnect: refresh_requested`), send a close
frame, drop the TCP connection without one, go silent (stop reading, so pings go unanswered), or refuse the
upgrade with an HTTP status. Every upgrade attempt and connection is recorded with its time, so tests wait on
conditions (`wait_until`) instead of sleeping.

For load (benchmarks/bench_runtime.py), `send_nowait` queues an envelope without waiting for it to be written,
`sent` notes when each envelope went onto the socket, and `on_ack` hears each ack as it arrives, on the
stand-in's loop, so many envelopes can be outstanding without a thread waiting on each.
"""
from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Callable
from urllib.parse import parse_qs, urlsplit

from helpers import wait_on
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request


@dataclass(frozen=True)
class Ack:
    envelope_id: str
    payload: dict | None
    at: float  # time.monotonic() when it arrived
    ticket: int  # the connection it came on


@dataclass
class Link:
    """One accepted WebSocket connection."""

    ticket: int
    ws: ServerConnection
    opened_at: float
    closed_at: float | None = None
    silent: bool = False

    @property
    def open(self) -> bool:
        return self.closed_at is None


@dataclass(frozen=True)
class Attempt:
    """One upgrade request and how it was answered (101, or the refusal's status)."""

    ticket: int
    at: float
    status: int


@dataclass
class SocketModeStub:
    links: list[Link] = field(default_factory=list)
    attempts: list[Attempt] = field(default_factory=list)
    acks: dict[str, Ack] = field(default_factory=dict)
    refuse_with: int | None = None  # refuse every upgrade with this HTTP status while set
    sent: dict[str, float] = field(default_factory=dict)  # envelope_id -> time.monotonic() as it was written
    on_ack: Callable[[Ack], None] | None = None  # called on the stand-in's loop with each first ack

    def __post_init__(self) -> None:
        self._changed = threading.Condition()
        self._tickets = itertools.count(1)
        self._envelopes = itertools.count(1)
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="socket-stub", daemon=True)

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> "SocketModeStub":
        self._thread.start()
        if not self._ready.wait(5):
            raise RuntimeError("the Socket Mode stand-in did not start")
        return self

    def stop(self) -> None:
        self.close_all()
        self._call(self._server.close)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(self._listen())
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    async def _listen(self):
        return await serve(self._serve, "127.0.0.1", 0, process_request=self._upgrade, ping_interval=None,
                           compression=None, close_timeout=2)

    def new_url(self) -> str:
        """What apps.connections.open answers: a URL with a ticket of its own."""
        return f"ws://127.0.0.1:{self.port}/link/?ticket={next(self._tickets)}"

    # --- the server side ---------------------------------------------------------------------

    def _upgrade(self, connection: ServerConnection, request: Request):
        ticket = int(parse_qs(urlsplit(request.path).query).get("ticket", ["0"])[0])
        status = self.refuse_with or 101
        self._note(lambda: self.attempts.append(Attempt(ticket, time.monotonic(), status)))
        if status != 101:
            return connection.respond(status, "refused by the stand-in\n")
        return None

    async def _serve(self, ws: ServerConnection) -> None:
        ticket = int(parse_qs(urlsplit(ws.request.path).query).get("ticket", ["0"])[0])
        link = Link(ticket, ws, time.monotonic())
        await ws.send(json.dumps({"type": "hello", "num_connections": sum(1 for l in self.links if l.open) + 1,
                                  "debug_info": {"host": "stand-in", "approximate_connection_time": 18060},
                                  "connection_info": {"app_id": "A0001"}}))
        self._note(lambda: self.links.append(link))
        try:
            async for raw in ws:
                self._receive(link, raw)
        except Exception:  # a dropped connection ends the same way as a closed one
            pass
        finally:
            self._note(lambda: setattr(link, "closed_at", time.monotonic()))

    def _receive(self, link: Link, raw: str | bytes) -> None:
        message = json.loads(raw)
        if "envelope_id" in message:
            ack = Ack(message["envelope_id"], message.get("payload"), time.monotonic(), link.ticket)
            first = ack.envelope_id not in self.acks
            self._note(lambda: self.acks.setdefault(ack.envelope_id, ack))
            if first and self.on_ack is not None:
                self.on_ack(ack)

    def _note(self, change: Callable[[], object]) -> None:
        with self._changed:
            change()
            self._changed.notify_all()

    def _call(self, coro_or_fn) -> None:
        """Run on the stand-in's loop and wait for it: a coroutine, or a plain function."""
        async def run():
            result = coro_or_fn()
            if asyncio.iscoroutine(result):
                await result
        asyncio.run_coroutine_threadsafe(run(), self._loop).result(5)

    # --- what a test does --------------------------------------------------------------------

    def wait_until(self, condition: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
        wait_on(self._changed, condition, lambda: f"{what}; links: {self.describe()}", timeout)

    def describe(self) -> str:
        return ", ".join(f"#{l.ticket} {'open' if l.open else 'closed'}" for l in self.links) or "none"

    def wait_for_link(self, count: int = 1, timeout: float = 10.0) -> Link:
        """The `count`-th connection, once it is open and greeted."""
        self.wait_until(lambda: len(self.links) >= count, f"connection #{count}", timeout)
        return self.links[count - 1]

    def open_links(self) -> list[Link]:
        with self._changed:
            return [l for l in self.links if l.open]

    def send(self, kind: str, payload: dict, *, link: Link | None = None, envelope_id: str | None = None,
             retry_attempt: int | None = None) -> str:
        """Send an envelope ("slash_commands", "events_api", "interactive") on `link` (the newest open one)."""
        link = link or self.open_links()[-1]
        envelope = self._envelope(kind, payload, envelope_id, retry_attempt)
        self._call(lambda: self._send_if_open(link, envelope))
        return envelope["envelope_id"]

    def send_nowait(self, kind: str, payload: dict, *, link: Link | None = None, envelope_id: str | None = None,
                    retry_attempt: int | None = None) -> str:
        """`send`, without waiting for the stand-in's loop to write it (`sent` says when it did)."""
        link = link or self.open_links()[-1]
        envelope = self._envelope(kind, payload, envelope_id, retry_attempt)
        asyncio.run_coroutine_threadsafe(self._send_if_open(link, envelope), self._loop)
        return envelope["envelope_id"]

    def _envelope(self, kind: str, payload: dict, envelope_id: str | None, retry_attempt: int | None) -> dict:
        envelope = {"envelope_id": envelope_id or f"env-{next(self._envelopes):05d}", "type": kind,
                    "payload": payload, "accepts_response_payload": kind != "events_api"}
        if retry_attempt is not None:
            envelope |= {"retry_attempt": retry_attempt, "retry_reason": "timeout"}
        return envelope

    async def _send_if_open(self, link: Link, message: dict) -> None:
        if "envelope_id" in message:
            self.sent[message["envelope_id"]] = time.monotonic()
        try:
            await link.ws.send(json.dumps(message))
        except ConnectionClosed:
            pass  # the client closed it first: lost, as on Slack's side

    def wait_ack(self, envelope_id: str, timeout: float = 5.0) -> Ack:
        self.wait_until(lambda: envelope_id in self.acks, f"the ack of {envelope_id}", timeout)
        return self.acks[envelope_id]

    def refresh(self, link: Link) -> None:
        """What Slack sends a while before it recycles a connection."""
        self._call(lambda: self._send_if_open(
            link, {"type": "disconnect", "reason": "refresh_requested", "debug_info": {"host": "stand-in"}}))

    def close_frame(self, link: Link) -> None:
        self._call(lambda: link.ws.close(1001, "going away"))

    def drop(self, link: Link) -> None:
        """End the TCP connection without a close frame."""
        self._call(lambda: link.ws.transport.abort())

    def silence(self, link: Link) -> None:
        """Stop reading the connection: the client's pings go unanswered, as over a dead network path."""
        link.silent = True
        self._call(lambda: link.ws.transport.pause_reading())

    def close_all(self) -> None:
        for link in self.open_links():
            self._call(lambda: link.ws.transport.abort())
