"""A local stand-in for Slack's Web API, file downloads and response_urls.

Runs on 127.0.0.1 on an ephemeral port, records every call it gets, and can
be told to answer a method with an error. Tests wait on its recorded calls
(`wait_for`) instead of sleeping.
"""
from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable
from urllib.parse import parse_qsl, urlsplit

from helpers import wait_on

BOT_TOKEN = "xoxb-test-0000-secret"
APP_TOKEN = "xapp-test-0000-secret"
BOT_USER_ID = "UBOT0001"
BOT_ID = "BBOT0001"


@dataclass(frozen=True)
class Call:
    method: str  # a Web API method, "file:<id>" or "response:<name>"
    body: dict
    headers: dict  # lower-case names

    @property
    def blocks_text(self) -> str:
        """Every text in the message's blocks, for assertions about what people read."""
        blocks = self.body.get("blocks") or []
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        return json.dumps(blocks, ensure_ascii=False)


@dataclass
class _File:
    meta: dict
    data: bytes
    status: int = 200
    hold: threading.Event | None = None  # answer only once the test sets this event
    trickle: float = 0.0  # seconds between bytes of the whole answer, status line and headers included


@dataclass(frozen=True)
class Fault:
    """How the stand-in misbehaves on one call: Slack's error, an HTTP status, a dropped connection, a stall."""

    error: str | None = None  # answer {"ok": false, "error": error} with HTTP 200
    status: int = 200  # answer with this HTTP status instead (429, 500, 502, 503 ...)
    retry_after: int | None = None  # the Retry-After header of a 429
    drop: bool = False  # close the connection without answering
    hold: threading.Event | None = None  # answer only once the test sets this event
    acted: bool = False  # with `drop`: do what was asked (a message is posted) before dropping the connection


@dataclass
class WebApiStub:
    bot_token: str = BOT_TOKEN
    calls: list[Call] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    files: dict[str, _File] = field(default_factory=dict)
    threads: dict[str, str] = field(default_factory=dict)  # ts of each posted message -> its thread's ts
    posted: list[dict] = field(default_factory=list)  # messages chat.postMessage accepted, as conversations.replies lists them
    faults: dict[str, list[Fault]] = field(default_factory=dict)  # method -> faults for its next calls, in order
    socket_urls: Callable[[], str] | None = None  # what apps.connections.open hands out (socket_stub.new_url)
    app_token: str = APP_TOKEN
    channels: dict[str, dict] = field(default_factory=dict)  # what conversations.info knows, by channel ID

    def __post_init__(self) -> None:
        self._lock = threading.Condition()
        self.busy = 0  # Web API requests being answered (held ones included)
        self._ts = itertools.count(1)
        self._server = _Server(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name="webapi-stub",
                                        daemon=True)

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> "WebApiStub":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/"

    @property
    def api_url(self) -> str:
        return self.url + "api/"

    def response_url(self, name: str = "r1") -> str:
        return f"{self.url}response/{name}"

    # --- set-up ----------------------------------------------------------------------------

    def fail(self, method: str, error: str) -> None:
        """Answer `method` with {"ok": false, "error": error} from now on."""
        self.errors[method] = error

    def fail_next(self, method: str, *faults: Fault) -> None:
        """Misbehave on the next calls to `method`, one fault per call, then answer normally again."""
        with self._lock:
            self.faults.setdefault(method, []).extend(faults)

    def count_busy(self, change: int) -> None:
        with self._lock:
            self.busy += change
            self._lock.notify_all()

    def forget(self) -> None:
        """Forget every call, posted message, error and fault so far: a stand-in that several tests share
        starts each of them afresh."""
        with self._lock:
            for kept in (self.calls, self.posted, self.threads, self.errors, self.faults):
                kept.clear()

    def clear_faults(self) -> None:
        """Forget the faults not yet acted out."""
        with self._lock:
            self.faults.clear()

    def take_fault(self, method: str) -> Fault | None:
        with self._lock:
            queued = self.faults.get(method)
            return queued.pop(0) if queued else None

    def add_file(self, file_id: str, name: str, data: bytes, *, status: int = 200,
                 hold: threading.Event | None = None, trickle: float = 0.0, **meta) -> dict:
        """Serve a file at /files/<id> to the bot token; returns the file object an event carries.

        `hold`: the answer waits until the test sets it; `trickle`: a slow server, a byte at a time."""
        obj = {
            "id": file_id,
            "name": name,
            "title": name,
            "mimetype": "text/plain",
            "filetype": "text",
            "size": len(data),
            "mode": "hosted",
            "url_private": f"{self.url}files/{file_id}",
            "url_private_download": f"{self.url}files/{file_id}?download=1",
            **meta,
        }
        self.files[file_id] = _File(obj, data, status, hold, trickle)
        return obj

    # --- recorded calls --------------------------------------------------------------------

    def record(self, call: Call) -> None:
        with self._lock:
            self.calls.append(call)
            self._lock.notify_all()

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def posted_with_claim(self) -> dict[str, int]:
        """How many posted messages name each claim key in their metadata."""
        with self._lock:
            claims = [((m.get("metadata") or {}).get("event_payload") or {}).get("claim") for m in self.posted]
        counts: dict[str, int] = {}
        for claim in filter(None, claims):
            counts[claim] = counts.get(claim, 0) + 1
        return counts

    def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        """The calls to `method` once there are at least `count`; fails after `timeout` seconds."""
        self.wait_until(lambda: len(self.calls_to(method)) >= count, timeout, f"{count} call(s) to {method}")
        return self.calls_to(method)

    def wait_until(self, condition: Callable[[], bool], timeout: float, what: str) -> None:
        wait_on(self._lock, condition, lambda: f"{what}; calls: {[c.method for c in self.calls]}", timeout)

    # --- answers ---------------------------------------------------------------------------

    def answer(self, method: str, body: dict, headers: dict) -> dict:
        if method in self.errors:
            return {"ok": False, "error": self.errors[method]}
        if method == "auth.test":
            if headers.get("authorization") != f"Bearer {self.bot_token}":
                return {"ok": False, "error": "invalid_auth"}
            return {"ok": True, "url": "https://test.slack.com/", "team": "Test", "user": "nmbot",
                    "team_id": "T0001", "user_id": BOT_USER_ID, "bot_id": BOT_ID}
        if method == "apps.connections.open":
            if headers.get("authorization") != f"Bearer {self.app_token}":
                return {"ok": False, "error": "invalid_auth"}
            if self.socket_urls is None:
                return {"ok": False, "error": "internal_error"}
            return {"ok": True, "url": self.socket_urls()}
        if method == "chat.postMessage":
            return self.post(body)
        if method == "conversations.replies":
            return {"ok": True, "messages": self.thread_of(body), "has_more": False}
        if method == "conversations.info":
            if headers.get("authorization") != f"Bearer {self.bot_token}":
                return {"ok": False, "error": "invalid_auth"}
            info = self.channels.get(body.get("channel", ""))
            return {"ok": True, "channel": info} if info else {"ok": False, "error": "channel_not_found"}
        if method == "files.info":
            stored = self.files.get(body.get("file", ""))
            return {"ok": True, "file": stored.meta} if stored else {"ok": False, "error": "file_not_found"}
        return {"ok": True}


    def post(self, body: dict) -> dict:
        with self._lock:
            ts = f"1800000{next(self._ts):03d}.000100"  # after every message the tests send, as a reply comes
            self.threads[ts] = body.get("thread_ts") or ts
            message = {"type": "message", "ts": ts, "thread_ts": self.threads[ts], "channel": body.get("channel"),
                       "user": BOT_USER_ID, "bot_id": BOT_ID, "text": body.get("text")}
            if isinstance(body.get("metadata"), dict):
                message["metadata"] = body["metadata"]
            self.posted.append(message)
            self._lock.notify_all()
        return {"ok": True, "channel": body.get("channel"), "ts": ts, "message": {"text": body.get("text"), "ts": ts}}

    def thread_of(self, body: dict) -> list[dict]:
        """The thread of `ts`, as Slack lists it: its parent first, then the bot's replies in it from `oldest`
        on, with their metadata only when `include_all_metadata` asks for it."""
        parent = self.threads.get(body.get("ts", ""), body.get("ts"))
        oldest = float(body.get("oldest") or 0)
        with_metadata = str(body.get("include_all_metadata", "")).lower() in ("1", "true")
        with self._lock:
            replies = [dict(m) for m in self.posted if m["thread_ts"] == parent and m["ts"] != parent
                       and m["channel"] == body.get("channel") and float(m["ts"]) >= oldest]
        for reply in replies:
            reply.pop("channel")
            if not with_metadata:
                reply.pop("metadata", None)
        messages = [{"type": "message", "ts": parent, "thread_ts": parent}, *replies]
        return messages[:int(body.get("limit") or len(messages))]


class _Server(ThreadingHTTPServer):
    # A bot answering a burst opens many connections at once; the default backlog of 5 resets the rest.
    request_queue_size = 128


def _handler_for(stub: WebApiStub):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # keep test output clean
            pass

        def _headers(self) -> dict:
            return {k.lower(): v for k, v in self.headers.items()}

        def _body(self) -> dict:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            if "json" in (self.headers.get("Content-Type") or ""):
                return json.loads(raw or "{}")
            return dict(parse_qsl(raw))

        def _send(self, status: int, payload: bytes, content_type: str, extra: dict | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(payload)

        def _misbehave(self, fault: Fault, method: str, body: dict, headers: dict) -> bool:
            """Act out `fault`; True when that was the whole answer."""
            if fault.hold is not None:
                fault.hold.wait(30)
            if fault.drop:
                if fault.acted:
                    stub.answer(method, body, headers)
                self.close_connection = True
                return True
            if fault.status != 200:
                extra = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else None
                error = "ratelimited" if fault.status == 429 else "internal_error"
                self._send(fault.status, json.dumps({"ok": False, "error": error}).encode(), "application/json", extra)
                return True
            if fault.error:
                self._send(200, json.dumps({"ok": False, "error": fault.error}).encode(), "application/json")
                return True
            return False

        def do_POST(self) -> None:
            stub.count_busy(1)
            try:
                self._answer_post()
            finally:
                stub.count_busy(-1)

        def _answer_post(self) -> None:
            path = urlsplit(self.path).path
            body, headers = self._body(), self._headers()
            if path.startswith("/api/"):
                method = path[len("/api/"):]
                stub.record(Call(method, body, headers))
                fault = stub.take_fault(method)
                if fault is not None and self._misbehave(fault, method, body, headers):
                    return
                answer = stub.answer(method, body, headers)
                self._send(200, json.dumps(answer).encode(), "application/json; charset=utf-8")
            elif path.startswith("/response/"):
                stub.record(Call("response:" + path[len("/response/"):], body, headers))
                self._send(200, b"ok", "text/plain")
            else:
                self._send(404, b"not found", "text/plain")

        def do_GET(self) -> None:
            path = urlsplit(self.path).path
            if path.startswith("/api/"):  # Web API methods the SDK calls with GET (conversations.replies)
                body, headers, method = dict(parse_qsl(urlsplit(self.path).query)), self._headers(), path[len("/api/"):]
                stub.record(Call(method, body, headers))
                self._send(200, json.dumps(stub.answer(method, body, headers)).encode(), "application/json; charset=utf-8")
                return
            if not path.startswith("/files/"):
                self._send(404, b"not found", "text/plain")
                return
            file_id = path[len("/files/"):]
            headers = self._headers()
            stub.record(Call("file:" + file_id, {}, headers))
            stored = stub.files.get(file_id)
            if stored is None:
                self._send(404, b"not found", "text/plain")
            elif headers.get("authorization") != f"Bearer {stub.bot_token}":
                # What Slack does without a valid token: send the browser to sign in.
                self._send(302, b"", "text/html", {"Location": "https://slack.com/signin"})
            elif stored.status != 200:
                self._send(stored.status, b"server error", "text/plain")
            elif stored.trickle:
                self._trickle(stored)
            else:
                if stored.hold is not None:
                    stored.hold.wait(30)
                self._send(200, stored.data, "text/plain; charset=utf-8")

        def _trickle(self, stored: _File) -> None:
            """The whole answer a byte at a time, until it is sent or the client hangs up."""
            head = f"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {len(stored.data)}\r\n\r\n"
            self.close_connection = True
            try:
                for byte in head.encode() + stored.data:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(stored.trickle)  # the pace of a slow server, not a wait for a result
            except OSError:
                pass

    return Handler
