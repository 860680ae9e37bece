"""The kept-alive Web API transport: fewer connections, and otherwise what the stock WebClient does.

Real HTTP on 127.0.0.1 against the stand-in; connections are counted where
they are accepted, on the server's side.
"""
from __future__ import annotations

import gc
import gzip
import json
import logging
import os
import select
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.client import RemoteDisconnected
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator
from urllib.error import URLError

import pytest
from slack_bolt.context import BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from webapi_stub import BOT_TOKEN, Fault, WebApiStub

from bot.slack import transport
from bot.slack.deps import API_RETRIES, add_retry_handlers
from bot.slack.metrics import Metrics
from bot.slack.transport import KeepAliveWebClient, per_request_clients


class Accepted:
    """The stand-in's accepted TCP connections, counted as its server takes them."""

    def __init__(self, stub: WebApiStub) -> None:
        self.sockets: list[socket.socket] = []
        server = stub._server
        take = server.get_request

        def counting_get_request():
            sock, addr = take()
            self.sockets.append(sock)
            return sock, addr

        server.get_request = counting_get_request

    @property
    def count(self) -> int:
        return len(self.sockets)

    def close_all(self) -> None:
        """The server ends every connection it holds, as an idle timeout would."""
        for sock in self.sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


@pytest.fixture
def accepted(stub: WebApiStub) -> Accepted:
    return Accepted(stub)


def keep_alive(stub: WebApiStub, **kwargs) -> KeepAliveWebClient:
    return KeepAliveWebClient(token=BOT_TOKEN, base_url=stub.api_url, timeout=5, **kwargs)


def stock(stub: WebApiStub, **kwargs) -> WebClient:
    return WebClient(token=BOT_TOKEN, base_url=stub.api_url, timeout=5, **kwargs)


@pytest.fixture
def client(stub: WebApiStub) -> Iterator[KeepAliveWebClient]:
    made = keep_alive(stub)
    yield made
    made.close()


def with_handlers(client: WebClient) -> Metrics:
    metrics = Metrics()
    add_retry_handlers(client, metrics)
    return metrics


def slack_errors(metrics: Metrics) -> dict:
    return dict(metrics.slack_errors._values)


def post(client: WebClient, text: str = "hello"):
    return client.chat_postMessage(channel="C0001", text=text)


def texts(stub: WebApiStub) -> list[str]:
    return [c.body["text"] for c in stub.calls_to("chat.postMessage")]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_readable(sock: socket.socket, timeout: float = 2.0) -> None:
    assert select.select([sock], [], [], timeout)[0], "the server's close never reached the client"


# --- connections ------------------------------------------------------------------------------

def test_sequential_calls_share_one_connection(stub, accepted, client):
    started = time.monotonic()
    for i in range(50):
        response = post(client, f"m{i}")
        assert response["ok"] and response.status_code == 200
    # The stand-in writes head and body apart without TCP_NODELAY: were each body to wait for the
    # client's delayed ACK, these calls would take 40 ms each.
    assert time.monotonic() - started < 1.0
    assert texts(stub) == [f"m{i}" for i in range(50)]
    assert accepted.count == 1 and client.connections.open_count() == 1


def test_the_stock_client_connects_for_every_call(stub, accepted):
    """What the count above is compared with: the stand-in does see one connection per stock call."""
    plain = stock(stub)
    for i in range(5):
        post(plain, f"m{i}")
    assert accepted.count == 5


def test_requests_carry_what_urlopen_sends_but_connection_close(stub, client):
    for made in (stock(stub), client):
        made.auth_test()
        made.chat_postMessage(channel="C0001", text="hi", blocks=[{"type": "divider"}])
        made.conversations_replies(channel="C0001", ts="1.2")
    calls = stub.calls
    assert len(calls) == 6
    for old, new in zip(calls[:3], calls[3:]):
        assert (old.method, old.body) == (new.method, new.body)
        assert old.headers.pop("connection") == "close" and "connection" not in new.headers
        assert old.headers == new.headers


def test_threads_each_keep_their_own_connection(stub, accepted, client):
    workers, each = 6, 20
    barrier = threading.Barrier(workers)

    def work(n: int) -> list[bool]:
        barrier.wait()
        return [post(client, f"t{n}-{i}")["ok"] for i in range(each)]

    with ThreadPoolExecutor(workers) as pool:
        results = list(pool.map(work, range(workers)))
    assert all(all(r) for r in results)
    assert sorted(texts(stub)) == sorted(f"t{n}-{i}" for n in range(workers) for i in range(each))
    assert accepted.count == workers


def test_close_ends_every_connection_and_the_client_carries_on(stub, accepted, client):
    with ThreadPoolExecutor(3) as pool:
        barrier = threading.Barrier(3)
        list(pool.map(lambda n: (barrier.wait(), post(client, f"t{n}")), range(3)))
        assert client.connections.open_count() == 3
        client.close()
        assert client.connections.open_count() == 0
        assert post(client, "after")["ok"]
    assert accepted.count == 4


def test_a_finished_threads_connection_is_closed(stub, client):
    worker = threading.Thread(target=post, args=(client, "from a thread"))
    worker.start()
    worker.join()
    gc.collect()
    assert client.connections.open_count() == 0
    assert texts(stub) == ["from a thread"]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="POSIX fork")
def test_a_forked_child_opens_its_own_connection(stub, accepted, client):
    post(client, "parent")
    pid = os.fork()
    if pid == 0:  # the child: its call must not go down the parent's socket
        ok = False
        try:
            ok = post(client, "child")["ok"] and client.connections.open_count() == 1
        finally:
            os._exit(0 if ok else 1)
    assert os.waitpid(pid, 0)[1] == 0
    assert post(client, "parent again")["ok"]
    assert texts(stub) == ["parent", "child", "parent again"]
    assert accepted.count == 2  # the parent's connection, still in use, and the child's


def test_proxies_go_through_urllib_unchanged(stub, accepted):
    # The stand-in answers absolute-form requests too, so it can play the proxy.
    client = keep_alive(stub, proxy=stub.url)
    for i in range(3):
        assert post(client, f"p{i}")["ok"]
    assert accepted.count == 3 and client.connections.open_count() == 0
    assert all(c.headers["connection"] == "close" for c in stub.calls)


# --- Slack's answers and the retry handlers -----------------------------------------------------

def test_rate_limit_waits_out_retry_after_on_the_same_connection(stub, accepted, client):
    metrics = with_handlers(client)
    post(client, "first")
    stub.fail_next("chat.postMessage", Fault(status=429, retry_after=1))
    started = time.monotonic()
    assert post(client, "limited")["ok"]
    assert time.monotonic() - started >= 0.9
    assert texts(stub) == ["first", "limited", "limited"]
    assert accepted.count == 1
    assert slack_errors(metrics) == {("chat.postMessage", "ratelimited"): 1}


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_retried(stub, accepted, client, status):
    metrics = with_handlers(client)
    stub.fail_next("chat.postMessage", Fault(status=status))
    assert post(client)["ok"]
    assert len(texts(stub)) == 2 and accepted.count == 1
    assert slack_errors(metrics) == {("chat.postMessage", f"http_{status}"): 1}


@pytest.mark.parametrize("faults", [
    [Fault(error="not_in_channel")],
    [Fault(error="channel_not_found")],
    [Fault(status=503)] * (API_RETRIES + 1),
    [Fault(status=429, retry_after=60)],
], ids=["not_in_channel", "channel_not_found", "503-until-retries-run-out", "429-longer-than-worth-waiting"])
def test_failures_raise_what_the_stock_client_raises(stub, faults):
    raised = []
    for made in (stock(stub), keep_alive(stub)):
        metrics = with_handlers(made)
        stub.fail_next("chat.postMessage", *faults)
        with pytest.raises(SlackApiError) as caught:
            post(made)
        response = caught.value.response
        raised.append((str(caught.value), response.status_code, response.data, slack_errors(metrics)))
    assert raised[0] == raised[1]
    assert len(texts(stub)) == 2 * len(faults)


def test_unhandled_http_errors_carry_code_headers_and_body(stub, client):
    client.retry_handlers = []
    stub.fail_next("chat.postMessage", Fault(status=429, retry_after=7))
    with pytest.raises(SlackApiError) as caught:
        post(client)
    response = caught.value.response
    assert response.status_code == 429 and response.data == {"ok": False, "error": "ratelimited"}
    assert response.headers["Retry-After"] == "7" and response.headers["retry-after"] == "7"


# --- connections the server ends ----------------------------------------------------------------

def test_an_idle_connection_the_server_closed_is_replaced(stub, accepted, client, monkeypatch):
    metrics = with_handlers(client)
    post(client, "before")
    [conn] = client.connections._known
    assert not transport._readable(conn.sock)  # idle and open
    accepted.close_all()
    wait_readable(conn.sock)
    sent = []

    def send(data) -> None:  # connects first when it has no socket
        type(conn).send(conn, data)
        sent.append(conn.sock)

    monkeypatch.setattr(conn, "send", send)
    assert post(client, "after")["ok"]
    assert texts(stub) == ["before", "after"]
    assert accepted.count == 2 and slack_errors(metrics) == {}
    assert sent and all(sock is conn.sock for sock in sent)  # seen closed before sending: nothing went to the old one


def test_a_close_racing_the_request_is_retried_once_on_a_new_connection(stub, accepted, client, monkeypatch):
    """The server closed the idle connection just as the request went out: it never saw it, so it goes again."""
    metrics = with_handlers(client)
    post(client, "before")
    [conn] = client.connections._known
    accepted.close_all()
    wait_readable(conn.sock)
    monkeypatch.setattr(transport, "_readable", lambda sock: False)  # miss the close, as in the race
    assert post(client, "after")["ok"]
    assert texts(stub) == ["before", "after"]
    assert accepted.count == 2 and slack_errors(metrics) == {}


def test_a_reused_connection_is_retried_only_once(stub, accepted, client):
    client.retry_handlers = []
    post(client, "before")
    stub.fail_next("chat.postMessage", Fault(drop=True), Fault(drop=True))
    with pytest.raises(RemoteDisconnected):
        post(client, "dropped")
    assert texts(stub) == ["before", "dropped", "dropped"]  # the reused connection, then one new one
    assert post(client, "after")["ok"]
    assert accepted.count == 3


def test_a_new_connection_is_never_retried_by_the_transport(stub):
    raised = []
    for made in (stock(stub, retry_handlers=[]), keep_alive(stub, retry_handlers=[])):
        stub.fail_next("chat.postMessage", Fault(drop=True))
        with pytest.raises(Exception) as caught:
            post(made)
        raised.append(type(caught.value))
    assert raised == [RemoteDisconnected, RemoteDisconnected]
    assert len(texts(stub)) == 2


def test_dropped_connections_are_retried_by_the_handlers(stub, accepted, client):
    metrics = with_handlers(client)
    stub.fail_next("chat.postMessage", Fault(drop=True))
    assert post(client)["ok"]
    assert len(texts(stub)) == 2
    assert slack_errors(metrics) == {("chat.postMessage", "RemoteDisconnected"): 1}


@pytest.mark.parametrize("handlers", [False, True], ids=["no-retries", "bot-retries"])
def test_connection_refused_raises_what_the_stock_client_raises(handlers):
    url = f"http://127.0.0.1:{free_port()}/api/"
    clients = [WebClient(token=BOT_TOKEN, base_url=url, retry_handlers=[]),
               KeepAliveWebClient(token=BOT_TOKEN, base_url=url, retry_handlers=[])]
    metrics = [with_handlers(made) if handlers else None for made in clients]

    def attempt(made: WebClient) -> BaseException:
        with pytest.raises(Exception) as caught:
            made.auth_test()
        return caught.value

    with ThreadPoolExecutor(2) as pool:  # the retries' back-off, once
        old, new = pool.map(attempt, clients)
    assert type(old) is type(new) is URLError
    assert type(old.reason) is type(new.reason) is ConnectionRefusedError
    assert str(old) == str(new) and BOT_TOKEN not in str(new)
    if handlers:
        assert slack_errors(metrics[0]) == slack_errors(metrics[1]) == {("auth.test", "URLError"): API_RETRIES + 1}


def test_no_token_in_debug_logs(stub, client, caplog):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="slack_sdk.web.base_client")  # slack_sdk looks at its own level
    post(client)
    stub.fail_next("chat.postMessage", Fault(status=503))
    client.retry_handlers = []
    with pytest.raises(SlackApiError):
        post(client)
    assert "Received the following response" in caplog.text
    assert BOT_TOKEN not in caplog.text


# --- what Slack does not do, done as urllib does it ----------------------------------------------

class _Odd(BaseHTTPRequestHandler):
    """Answers the Web API never gives: gzip, Connection: close, redirects, HTTP/1.0."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._answer()

    def do_GET(self) -> None:
        self._answer()

    def _answer(self) -> None:
        self.server.seen.append((self.command, self.path))
        name = self.path.rsplit("/", 1)[-1]
        if name.startswith("moved"):
            self.send_response(int(name[len("moved"):]))
            self.send_header("Location", "/api/ok")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body, kind = json.dumps({"ok": True, "path": self.path}).encode(), "application/json; charset=utf-8"
        if name == "gzip":
            body, kind = gzip.compress(b"report"), "application/gzip"
        if name == "old":  # HTTP/1.0, the body's end marked by closing
            self.protocol_version = "HTTP/1.0"
            self.close_connection = True
        self.send_response(200)
        self.send_header("Content-Type", kind)
        if name == "close":
            self.send_header("Connection", "close")
            self.close_connection = True
        if name != "old":
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def odd() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Odd)
    server.daemon_threads = True
    server.seen = []
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def odd_answers(server: ThreadingHTTPServer, method: str) -> list:
    answers = []
    base = f"http://127.0.0.1:{server.server_address[1]}/api/"
    for made in (WebClient(base_url=base, retry_handlers=[]), KeepAliveWebClient(base_url=base, retry_handlers=[])):
        try:
            response = made.api_call(method)
            answers.append((response.status_code, response.data))
        except Exception as exc:  # compared between the two clients, whatever it is
            answers.append((type(exc), str(exc)))
    return answers


@pytest.mark.parametrize("method", ["gzip", "close", "old", "moved301", "moved302", "moved303", "moved307",
                                    "moved308"])
def test_unusual_answers_come_back_as_from_the_stock_client(odd, method):
    old, new = odd_answers(odd, method)
    assert old == new


@pytest.mark.parametrize("code", [307, 308])
def test_a_redirect_urllib_refuses_for_a_post_is_sent_once(odd, code):
    odd_answers(odd, f"moved{code}")
    assert odd.seen == [("POST", f"/api/moved{code}")] * 2  # once by each client


def test_gzip_bodies_stay_bytes(odd):
    client = KeepAliveWebClient(base_url=f"http://127.0.0.1:{odd.server_address[1]}/api/")
    raw = client._perform_urllib_http_request(url=client.base_url + "gzip",
                                               args={"headers": {}, "data": {}, "params": {}, "json": {}})
    assert isinstance(raw["body"], bytes) and gzip.decompress(raw["body"]) == b"report"


def test_connection_close_answers_close_the_connection(odd):
    client = KeepAliveWebClient(base_url=f"http://127.0.0.1:{odd.server_address[1]}/api/", retry_handlers=[])
    for _ in range(3):
        assert client.api_call("close")["ok"]
        assert client.connections.open_count() == 0
    assert client.api_call("ok")["ok"] and client.api_call("ok")["ok"]
    assert client.connections.open_count() == 1


# --- Bolt's per-request clients -------------------------------------------------------------------

def test_per_request_clients_share_the_app_clients_connections(stub, accepted, client):
    with_handlers(client)
    middleware = per_request_clients(client)
    for i in range(3):
        # What Bolt's App._init_context puts in every request's context.
        made = WebClient(token=BOT_TOKEN, base_url=client.base_url, timeout=client.timeout, ssl=client.ssl,
                         proxy=client.proxy, headers=client.headers, team_id="T0001", logger=client.logger,
                         retry_handlers=client.retry_handlers.copy())
        context = BoltContext({"client": made})
        assert middleware(context=context, next=lambda: "next") == "next"
        replaced = context.client
        assert isinstance(replaced, KeepAliveWebClient) and replaced.connections is client.connections
        assert (replaced.token, replaced.base_url, replaced.timeout, replaced.default_params) == \
            (made.token, made.base_url, made.timeout, made.default_params)
        assert replaced.retry_handlers is made.retry_handlers
        assert post(replaced, f"r{i}")["ok"]
    assert texts(stub) == ["r0", "r1", "r2"] and accepted.count == 1
