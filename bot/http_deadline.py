"""HTTP with one deadline from connecting to the last byte, through HTTPS_PROXY when it names one.

A socket timeout bounds each read, and a server that sends a byte a second never trips it; here each
wait (connecting, the proxy's CONNECT, the TLS handshake, sending, every read) may last only what is left
of one deadline. Used wherever the bot token travels: shared-file downloads and the report's channel names.
"""
from __future__ import annotations

import base64
import http.client
import io
import ipaddress
import socket
import ssl
import time
import urllib.request
from urllib.parse import unquote, urlsplit

TLS = ssl.create_default_context()  # certificates and host names checked, as urllib does


class ProxyProblem(Exception):
    """The proxy would not open a tunnel; the message names no credentials, so it may be logged."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def time_left(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("the deadline passed")
    return left


class DeadlineConnection(http.client.HTTPConnection):
    """http.client's connection with every step, from connecting to the last byte, ending by one deadline.

    A socket timeout bounds each read, and a server that sends a byte a second never trips it; here
    each read may wait only for what is left of the deadline."""

    def __init__(self, host: str, port: int, deadline: float, *, tls: bool):
        super().__init__(host, port)
        self.deadline = deadline
        self.tls = tls
        self.default_port = 443 if tls else 80  # the Host header names no port when it is the scheme's own

    def connect(self) -> None:
        proxy = proxy_for(self.host, self.port) if self.tls else None
        if proxy:
            sock = tunnel(proxy, self.host, self.port, self.deadline)
        else:
            sock = open_socket(self.host, self.port, self.deadline)
        try:
            if self.tls:
                sock.settimeout(time_left(self.deadline))  # the handshake, all of it, within what is left
                sock = TLS.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise
        self.sock = DeadlineSocket(sock, self.deadline)


def open_socket(host: str, port: int, deadline: float) -> socket.socket:
    """A TCP connection to the first address that answers; every attempt within what is left of the deadline."""
    error: OSError = OSError("no address for the host")
    for family, kind, proto, _, address in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        left = time_left(deadline)
        sock = socket.socket(family, kind, proto)
        try:
            sock.settimeout(left)
            sock.connect(address)
            return sock
        except OSError as exc:
            sock.close()
            error = exc
    raise error


def proxy_for(host: str, port: int) -> str | None:
    """The proxy HTTPS_PROXY names for `host`, unless NO_PROXY bypasses it (urllib's rules) or it is loopback."""
    proxy = urllib.request.getproxies().get("https")
    if not proxy or is_loopback(host) or urllib.request.proxy_bypass(f"{host}:{port}"):
        return None
    return proxy


def tunnel(proxy: str, host: str, port: int, deadline: float) -> socket.socket:
    """A connection to host:port through an http proxy's CONNECT, opened within the deadline.

    The proxy resolves the host, as proxies do; only the proxy's own name is resolved here."""
    proxy_host, proxy_port, head = connect_request(proxy, host, port)
    sock = open_socket(proxy_host, proxy_port, deadline)
    try:
        sock.settimeout(time_left(deadline))
        sock.sendall(head)
        answer = http.client.HTTPResponse(DeadlineSocket(sock, deadline), method="CONNECT")
        answer.begin()  # the status line and headers, each read within what is left
        answer.close()  # its reader only: the socket carries TLS next
        if not 200 <= answer.status < 300:
            raise ProxyProblem(f"the proxy answered {answer.status} to CONNECT {host}:{port}")
    except BaseException:
        sock.close()
        raise
    return sock


def connect_request(proxy: str, host: str, port: int) -> tuple[str, int, bytes]:
    """The proxy's host and port, and the CONNECT request for host:port, with the proxy URL's credentials."""
    parts = urlsplit(proxy if "://" in proxy else f"http://{proxy}")  # "proxy:3128" is http, as curl reads it
    if parts.scheme != "http":  # TLS to the proxy or SOCKS would need a client of their own
        raise ProxyProblem(f"HTTPS_PROXY names a {parts.scheme}:// proxy; only http:// proxies are supported")
    try:
        proxy_port = parts.port or 80
    except ValueError:
        proxy_port = 0
    if not parts.hostname or not proxy_port:
        raise ProxyProblem("HTTPS_PROXY is not an http:// URL with a host and a port")
    target = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    head = f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n"
    if parts.username is not None:
        user = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        head += f"Proxy-Authorization: Basic {base64.b64encode(user.encode()).decode()}\r\n"
    return parts.hostname, proxy_port, f"{head}\r\n".encode()


class DeadlineSocket:
    """The socket as http.client uses it (sendall, makefile, close), each wait cut at the deadline."""

    def __init__(self, sock: socket.socket, deadline: float):
        self.sock = sock
        self.deadline = deadline

    def sendall(self, data: bytes) -> None:
        self.sock.settimeout(time_left(self.deadline))
        self.sock.sendall(data)

    def makefile(self, mode: str = "rb", *args, **kwargs) -> io.BufferedReader:
        # The socket's own unbuffered reader, so that closing the connection before the response
        # (http.client does, for a server that closes) leaves the socket open until both are closed.
        return io.BufferedReader(DeadlineReader(self.sock.makefile("rb", buffering=0), self.sock, self.deadline))

    def close(self) -> None:
        self.sock.close()


class DeadlineReader(io.RawIOBase):
    def __init__(self, raw: io.RawIOBase, sock: socket.socket, deadline: float):
        super().__init__()
        self.raw = raw
        self.sock = sock
        self.deadline = deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int | None:
        self.sock.settimeout(time_left(self.deadline))
        return self.raw.readinto(buffer)

    def close(self) -> None:
        self.raw.close()
        super().close()
