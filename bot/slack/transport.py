"""Web API calls over kept-alive connections: slack_sdk's WebClient without a new connection per call.

slack_sdk's `WebClient` sends every call through `urllib.request.urlopen`,
which builds an opener, connects (and for https shakes hands), sends
`Connection: close` and throws the socket away. `KeepAliveWebClient` overrides
only that last step, `_perform_urllib_http_request_internal`: the request goes
out on a persistent `http.client` connection of the calling thread, and the
answer comes back in the very shape urllib gives, so slack_sdk keeps doing
everything else (retry handlers, Retry-After, SlackResponse checks, logging):

- 2xx: `{"status", "headers" (an HTTPMessage), "body"}`, a str, or bytes for
  application/gzip, exactly as the parent returns it;
- any other status: `urllib.error.HTTPError` carrying the code, the headers and
  a readable body, as urlopen raises it; a redirect urllib would follow goes to
  the parent instead, which sends the request again through urlopen;
- a failure while connecting or sending: `URLError(the OSError)`; while reading
  the answer: the exception itself, both as urlopen does.

Connections are per thread (Bolt runs listeners on a thread pool), so the hot
path takes no lock. A connection is reused only after its whole answer was
read; one the server said it would close is closed. A request on a reused
connection that the server had already closed (an idle timeout) goes out once
more on a new connection: before sending when the socket is already readable
(the server's FIN), after sending when it fails with a reset, a broken pipe or
no answer at all. Nothing else is retried here: a new connection's failure goes
to slack_sdk's ConnectionErrorRetryHandler like the stock client's.

A proxy (`proxy=` or the HTTP(S)_PROXY variables slack_sdk reads at
construction), any scheme but http/https and any body but bytes go to the
parent unchanged.
"""
from __future__ import annotations

import http.client
import io
import logging
import os
import select
import socket
import threading
import urllib.request
import weakref
from ssl import SSLContext
from typing import Any, Callable
from urllib.error import HTTPError, URLError
from urllib.request import Request

from slack_sdk import WebClient

# A reused connection failing this way, before any of the answer arrived, was closed by the server while idle.
# http.client.RemoteDisconnected (no status line at all) is a ConnectionResetError.
_STALE = (ConnectionResetError, BrokenPipeError)
# The redirects urllib's HTTPRedirectHandler follows, by method; it raises HTTPError for any other.
_FOLLOWED = {"GET": (301, 302, 303, 307, 308), "HEAD": (301, 302, 303, 307, 308), "POST": (301, 302, 303)}
# Linux: acknowledge the answer's first segment at once. A server that writes its head and body separately
# without TCP_NODELAY (Python's http.server does) otherwise holds the body until the client's delayed ACK,
# 40 ms later, on every call but a new connection's first few.
_QUICKACK = getattr(socket, "TCP_QUICKACK", None)
_USER_AGENT = f"Python-urllib/{urllib.request.__version__}"  # what urlopen sends when none is set


class _ThreadConnections(dict):
    """One thread's connections by (scheme, host[:port], SSL context); closed when the thread ends."""

    def __del__(self) -> None:
        for conn in list(self.values()):
            conn.close()


class ConnectionCache:
    """Persistent connections, one per thread and server; several clients may share one cache.

    A forked child starts with none: a socket both processes wrote to would mix their requests.
    """

    def __init__(self) -> None:
        self._forget()
        _caches.add(self)

    def _forget(self) -> None:
        self._local = threading.local()
        self._lock = threading.Lock()
        self._known: weakref.WeakSet[http.client.HTTPConnection] = weakref.WeakSet()

    def connection(self, scheme: str, host: str, context: SSLContext | None,
                   timeout: float | None) -> http.client.HTTPConnection:
        """This thread's connection to `host` ("name" or "name:port"), not connected until first used."""
        try:
            conns = self._local.conns
        except AttributeError:
            conns = self._local.conns = _ThreadConnections()
        key = (scheme, host, context)
        conn = conns.get(key)
        if conn is None:
            if scheme == "https":
                conn = http.client.HTTPSConnection(host, timeout=timeout, context=context)
            else:
                conn = http.client.HTTPConnection(host, timeout=timeout)
            conns[key] = conn
            with self._lock:
                self._known.add(conn)
        elif conn.timeout != timeout:  # a client sharing the cache with another timeout
            conn.timeout = timeout
            if conn.sock is not None:
                conn.sock.settimeout(timeout)
        return conn

    def open_count(self) -> int:
        """How many of the connections are connected now (all threads)."""
        with self._lock:
            return sum(1 for conn in self._known if conn.sock is not None)

    def close(self) -> None:
        """Close every connection; the next call on any thread connects again.

        For shutdown: a call in flight on another thread when its socket closes fails.
        """
        with self._lock:
            conns = list(self._known)
        for conn in conns:
            conn.close()


_caches: weakref.WeakSet[ConnectionCache] = weakref.WeakSet()


def _forget_after_fork() -> None:
    for cache in list(_caches):
        cache._forget()  # the parent's connections: this process's copies of their sockets close, the parent's stay


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)


class KeepAliveWebClient(WebClient):
    """A `WebClient` whose calls reuse this thread's connection to the API host."""

    def __init__(self, *args: Any, connections: ConnectionCache | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.connections = connections if connections is not None else ConnectionCache()

    def close(self) -> None:
        """Close the connections this client (and any sharing its cache) keeps open."""
        self.connections.close()

    def _perform_urllib_http_request_internal(self, url: str, req: Request) -> dict[str, Any]:
        scheme, body = req.type, req.data
        if (self.proxy is not None or scheme not in ("http", "https") or not req.host
                or not (body is None or isinstance(body, (bytes, bytearray)))):
            return super()._perform_urllib_http_request_internal(url, req)

        conn = self.connections.connection(scheme, req.host, self.ssl if scheme == "https" else None, self.timeout)
        resp = _exchange(conn, req.get_method(), req.selector, body, _headers(req, body))
        try:
            data = resp.read()  # all of it, so the connection can carry the next request
        except BaseException:
            conn.close()
            raise
        if resp.will_close:  # http.client has already let go of the socket; make sure of it
            conn.close()

        status, headers = resp.status, resp.headers
        if not 200 <= status < 300:
            if status in _FOLLOWED.get(req.get_method(), ()) and ("location" in headers or "uri" in headers):
                return super()._perform_urllib_http_request_internal(url, req)  # it asks and follows
            raise HTTPError(req.full_url, status, resp.reason, headers, io.BytesIO(data))

        if headers.get_content_type() == "application/gzip":  # admin.analytics.getFile
            if self._logger.isEnabledFor(logging.DEBUG):
                self._logger.debug(
                    "Received the following response - "
                    f"status: {status}, "
                    f"headers: {dict(headers)}, "
                    f"body: (binary)"
                )
            return {"status": status, "headers": headers, "body": data}
        decoded_body = data.decode(headers.get_content_charset() or "utf-8")
        if self._logger.isEnabledFor(logging.DEBUG):
            self._logger.debug(
                "Received the following response - "
                f"status: {status}, "
                f"headers: {dict(headers)}, "
                f"body: {decoded_body}"
            )
        return {"status": status, "headers": headers, "body": decoded_body}


def _headers(req: Request, body: bytes | bytearray | None) -> dict[str, str]:
    """The headers urlopen would send for `req`, less its `Connection: close`."""
    headers = dict(req.unredirected_hdrs)
    headers.update((k, v) for k, v in req.headers.items() if k not in headers)
    if body is not None:
        headers.setdefault("Content-type", "application/x-www-form-urlencoded")
        if "Content-length" not in headers and "Transfer-encoding" not in headers:
            headers["Content-length"] = str(len(body))
    headers.setdefault("Host", req.host)
    headers.setdefault("User-agent", _USER_AGENT)
    headers.pop("Connection", None)
    return {name.title(): value for name, value in headers.items()}


def _exchange(conn: http.client.HTTPConnection, method: str, selector: str, body: bytes | bytearray | None,
              headers: dict[str, str]) -> http.client.HTTPResponse:
    """Send the request and read the answer's head; a stale reused connection is replaced once."""
    if conn.sock is not None and _readable(conn.sock):  # idle, so that is the server's FIN (or junk)
        conn.close()
    while True:
        reused = conn.sock is not None
        try:
            try:
                conn.request(method, selector, body, headers)
            except OSError as err:
                if reused and isinstance(err, _STALE):
                    raise
                raise URLError(err)
            if _QUICKACK is not None and conn.sock is not None:
                try:
                    conn.sock.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)
                except OSError:
                    pass
            return conn.getresponse()
        except BaseException as err:
            conn.close()
            if reused and isinstance(err, _STALE):
                continue  # now on a new connection, whose failure is not retried here
            raise


def _readable(sock) -> bool:
    try:
        if hasattr(select, "poll"):
            poller = select.poll()
            poller.register(sock, select.POLLIN)
            return bool(poller.poll(0))
        return bool(select.select([sock], [], [], 0)[0])
    except (OSError, ValueError):
        return True


def per_request_clients(app_client: KeepAliveWebClient) -> Callable:
    """Bolt middleware giving each request's listeners a KeepAliveWebClient that shares `app_client`'s connections.

    Bolt builds a plain `WebClient` for every request (`App._init_context`),
    copying the app client's settings but not its class; without this only
    `app.client` keeps connections alive. Register it with `app.use(...)`.
    """

    def keep_alive_client(context, next):  # noqa: A002 - Bolt passes arguments by these names
        made = context.get("client")
        if made is not None and type(made) is WebClient:
            context["client"] = like(made, app_client.connections)
        return next()

    return keep_alive_client


def like(client: WebClient, connections: ConnectionCache | None = None) -> KeepAliveWebClient:
    """A KeepAliveWebClient with `client`'s token, URL, timeout, SSL, proxy, headers, team, logger and retries."""
    return KeepAliveWebClient(
        token=client.token,
        base_url=client.base_url,
        timeout=client.timeout,
        ssl=client.ssl,
        proxy=client.proxy,
        headers=client.headers,
        team_id=client.default_params.get("team_id"),
        logger=client.logger,
        retry_handlers=client.retry_handlers,
        connections=connections,
    )
