"""Database outages on demand, for the state-store and Slack tests (loopback and a private tmpfs only).

* `FaultProxy`: a TCP forwarder on 127.0.0.1 to the PostgreSQL server; `refuse()` resets every open
  connection and every new one until `allow()`.
* `SmallDisk`: a tmpfs of a few megabytes (root only; `mount_small_disk` says why it cannot); `fill()`
  leaves no byte free, as a full disk does, and `free()` makes room again.
* `drop_tables`: every table of ours gone from under a running store, as a database restored empty.
* `database_fault(kind, tmp_path)`: a database of the test's own and the means to fail it (`FAULTS`).
"""
from __future__ import annotations

import contextlib
import errno
import os
import selectors
import socket
import sqlite3
import struct
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Optional

from pg_schema import fresh_schema, pg_base_url, pg_unreachable
from sqlalchemy.engine import make_url

POLL_SECONDS = 0.05  # how soon the proxy's threads notice a reset or a stop
IO_SECONDS = 5.0  # any one connect or send through the proxy
TABLES = ("meta", "claims", "cooldowns", "channel_settings", "quiet_threads", "feedback", "unanswered", "events")


class FaultProxy:
    """Forwards 127.0.0.1:`port` to `target`; can reset every connection and refuse new ones."""

    def __init__(self, target: tuple[str, int]) -> None:
        self._target = target
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(POLL_SECONDS)
        self.port = self._listener.getsockname()[1]
        self._refusing = threading.Event()
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []

    def start(self) -> "FaultProxy":
        self._spawn(self._accept_loop)
        return self

    def url(self, url: str) -> str:
        """`url` (a PostgreSQL URL to the target) through this proxy."""
        return make_url(url).set(host="127.0.0.1", port=self.port).render_as_string(hide_password=False)

    def refuse(self) -> None:
        """Reset every open connection, and every new one until `allow()`."""
        self._refusing.set()
        self.reset()

    def allow(self) -> None:
        self._refusing.clear()

    def reset(self) -> None:
        with self._lock:
            sockets = list(self._open)
        for sock in sockets:
            _abort(sock)

    def close(self) -> None:
        self._stopping.set()
        self.reset()
        for thread in self._threads:
            thread.join(IO_SECONDS)
        self._listener.close()

    def _spawn(self, target, *args) -> None:
        thread = threading.Thread(target=target, args=args, name="fault-proxy", daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            client.settimeout(IO_SECONDS)
            if self._refusing.is_set():
                _abort(client, close=True)
                continue
            try:
                server = socket.create_connection(self._target, timeout=IO_SECONDS)
            except OSError:
                _abort(client, close=True)
                continue
            with self._lock:
                self._open.update((client, server))
            self._spawn(self._pump, client, server)

    def _pump(self, client: socket.socket, server: socket.socket) -> None:
        peer = {client: server, server: client}
        with selectors.DefaultSelector() as selector:
            for sock in peer:
                selector.register(sock, selectors.EVENT_READ)
            try:
                while not self._stopping.is_set():
                    for key, _ in selector.select(POLL_SECONDS):
                        data = key.fileobj.recv(65536)
                        if not data:
                            return
                        peer[key.fileobj].sendall(data)
            except OSError:
                return
            finally:
                with self._lock:
                    self._open.difference_update(peer)
                for sock in peer:
                    sock.close()


def _abort(sock: socket.socket, *, close: bool = False) -> None:
    """End the connection with a reset, as a crashed server or a dropped network path does."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.shutdown(socket.SHUT_RDWR)
    if close:
        sock.close()


class SmallDisk:
    """A tmpfs mounted at `path`; `fill()` takes every free byte, `free()` gives them back."""

    def __init__(self, path: Path, size: str = "8m") -> None:
        self.path, self._size = path, size
        self._filler = path / "filler"

    def mount(self) -> Optional[str]:
        """None once mounted, else why it cannot be."""
        self.path.mkdir(parents=True, exist_ok=True)
        if os.geteuid() != 0:
            return "mounting a small tmpfs to fill needs root"
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={self._size}", "tmpfs", str(self.path)],
                              capture_output=True, text=True, timeout=30)
        return None if done.returncode == 0 else f"cannot mount a tmpfs: {done.stderr.strip()}"

    def fill(self) -> None:
        fd = os.open(self._filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            chunk = 1 << 20
            while chunk:
                try:
                    os.write(fd, b"\0" * chunk)
                except OSError as exc:
                    if exc.errno != errno.ENOSPC:
                        raise
                    chunk //= 2
        finally:
            os.close(fd)

    def free(self) -> None:
        self._filler.unlink(missing_ok=True)

    def unmount(self) -> None:
        self.free()
        subprocess.run(["umount", "-l", str(self.path)], capture_output=True, timeout=30)


@contextlib.contextmanager
def small_disk(path: Path) -> Iterator[SmallDisk]:
    """A mounted `SmallDisk`, unmounted afterwards; raises `Unavailable` saying why it cannot be had."""
    disk = SmallDisk(path)
    problem = disk.mount()
    if problem:
        raise Unavailable(problem)
    try:
        yield disk
    finally:
        disk.unmount()


class Unavailable(RuntimeError):
    """This machine cannot stage the fault (the test skips, saying why)."""


def drop_tables(url: str, prefix: str = "nmbot_") -> None:
    """Drop every table of ours under a store open on `url` (SQLite path/URL or PostgreSQL URL)."""
    names = ", ".join(prefix + t for t in TABLES)
    if url.startswith("postgresql"):
        import psycopg

        parsed = make_url(url)
        conninfo = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f"DROP TABLE {names}")
        return
    path = make_url(url).database if url.startswith("sqlite:") else url
    with contextlib.closing(sqlite3.connect(path, timeout=5)) as raw, raw:
        for table in TABLES:
            raw.execute(f"DROP TABLE {prefix}{table}")


OUTAGES = ("sqlite_disk_full", "postgresql_refused")
FAULTS = (*OUTAGES, "sqlite_tables_dropped", "postgresql_tables_dropped")


@dataclass
class DatabaseFault:
    """A database (`url`) that fails between `begin()` and `end()`; the failure's reason matches `says`."""

    url: str
    begin: Callable[[], None]
    end: Callable[[], None]
    says: str = ""


@contextlib.contextmanager
def database_fault(kind: str, tmp_path: Path) -> Iterator[DatabaseFault]:
    """One of `FAULTS` staged on a database of the caller's own; raises `Unavailable` saying why it cannot be."""
    if kind.startswith("sqlite"):
        if kind == "sqlite_tables_dropped":
            url = str(tmp_path / "state.sqlite3")
            yield DatabaseFault(url, lambda: drop_tables(url), lambda: None)
            return
        with small_disk(tmp_path / "disk") as disk:
            yield DatabaseFault(str(disk.path / "state.sqlite3"), disk.fill, disk.free, r"database or disk is full")
        return
    base = pg_base_url()
    reason = pg_unreachable(base)
    if reason:
        raise Unavailable(reason)
    with fresh_schema(base) as (_, url):
        if kind == "postgresql_tables_dropped":
            yield DatabaseFault(url, lambda: drop_tables(url), lambda: None)
            return
        target = make_url(base)
        proxy = FaultProxy((target.host or "127.0.0.1", target.port or 5432)).start()
        try:
            yield DatabaseFault(proxy.url(url), proxy.refuse, proxy.allow, r"connection|[Bb]roken pipe")
        finally:
            proxy.close()
