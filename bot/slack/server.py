"""Running the bot: Socket Mode, or Slack's HTTP requests on gunicorn.

HTTP mode is stock gunicorn (threaded workers, `NMBOT_WEB_WORKERS` of them)
serving web.py's WSGI app. The master never imports the app (no preload): it
binds the port and supervises, so it stays small and no database connection or
thread crosses a fork. Each worker builds the whole bot when it starts, checking
the tokens (auth.test), the knowledge base and the store, and tells the master
through a pipe that it started, or the one line saying what to fix. Until a
worker has started, the master holds its own log lines back: when the worker
cannot start, `serve()` raises that one line as a SettingsError and nothing else
is printed, just as when the check ran before the server.

SIGHUP: the master passes it to the workers, which reload the knowledge base in
place (gunicorn's own HUP replaces the workers, and a worker that finds an invalid
knowledge base cannot start, which would stop the server; reloading in place keeps
the old one serving). SIGTERM: the workers stop taking requests, let listener
runs and file reads finish their replies (at most `Settings.drain_seconds`), close the store
and exit 0.

Several workers add up their metrics through prometheus_client's multiprocess
mode, in a directory the master empties before the first worker starts.

This module imports neither Bolt nor the app at the top: the master runs it.
"""
from __future__ import annotations

import functools
import logging
import os
import select
import shutil
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable

from .. import logs
from ..settings import Settings, SettingsError
from .process_memory import fewer_malloc_arenas

log = logging.getLogger(__name__)

WORKER_BOOT_ERROR = 3  # gunicorn's exit status for a worker that could not start: the master stops
MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"  # prometheus_client reads it when a worker imports it

def serve(settings: Settings, *, http: bool, host: str | None = None, port: int | None = None) -> int:
    """Run until stopped; the process exit code. Raises SettingsError for configuration to fix."""
    logs.configure(settings)
    fewer_malloc_arenas(settings.malloc_arenas)
    if http:
        settings.require("slack_bot_token", "slack_signing_secret")
        return run_gunicorn(functools.partial(_worker_app, settings), settings, host or settings.host,
                            settings.port if port is None else port, workers=settings.web_workers)
    settings.require("slack_bot_token")
    try:
        settings.require("slack_app_token")
    except SettingsError as exc:
        raise SettingsError(f"{exc}; or run `nmbot serve --http` to receive Slack's HTTP requests "
                            "(needs SLACK_SIGNING_SECRET)") from None
    from .socket_mode import run_socket_mode  # aiohttp and the Socket Mode client load in Socket Mode only

    return run_socket_mode(settings)


def stop_serving(deps, maintenance, drain_seconds: float | None = None) -> None:
    """Let listener runs and messages with files finish their replies (at most `drain_seconds` in all,
    by default the settings'), then release everything (`deps`: a Deps; `maintenance`: its Maintenance, or None)."""
    drain_seconds = deps.settings.drain_seconds if drain_seconds is None else drain_seconds
    deadline = time.monotonic() + drain_seconds
    if maintenance is not None:
        maintenance.stop()
    pending = deps.runs.in_flight
    if pending:
        log.info("waiting for %d listener run(s) to finish their replies", pending)
    if not deps.runs.drain(drain_seconds):
        log.warning("%d listener run(s) still busy after %gs; stopping anyway", deps.runs.in_flight, drain_seconds)
    # After the listeners: a listener run may still hand a message with files over.
    if not deps.file_readers.drain(max(0.0, deadline - time.monotonic())):
        log.warning("%d message(s) with files still being read after %gs; stopping anyway",
                    deps.file_readers.in_flight, drain_seconds)
    deps.listener_executor.shutdown(wait=False)
    deps.file_readers.shutdown()
    deps.usage.close()
    deps.leases.close()
    deps.store.close()


# --- HTTP: the worker's side ------------------------------------------------------------------

def _worker_app(settings: Settings):
    from .web import worker_app  # here, in the worker: the master never imports the app

    return worker_app(settings)


def _drain_worker(_arbiter, worker) -> None:
    """gunicorn's worker_exit hook: requests are answered by now, the replies they started may not be."""
    # No app: in the master, in a worker that could not load it, or an app without a shutdown.
    shutdown = getattr(getattr(worker, "wsgi", None), "shutdown", None)
    if shutdown is not None:
        shutdown()


# --- HTTP: the master's side ------------------------------------------------------------------

class BootReports:
    """Workers tell the master through a pipe that they started, or the one line saying why not.

    A write of one short line to a pipe is atomic, so workers starting together never mix their lines.
    """

    STARTED = "started"
    LINE_BYTES = 2048

    def __init__(self, on_start: Callable[[], None], wait_seconds: float):
        self._read, self._write = os.pipe()
        self._on_start = on_start
        self._wait_seconds = wait_seconds  # the master shows its held lines after this, whatever the workers say
        self.failure: str | None = None  # the first worker's reason for not starting
        self._reader = threading.Thread(target=self._listen, name="boot-reports", daemon=True)

    def start(self) -> "BootReports":
        self._reader.start()
        return self

    def started(self) -> None:
        """In a worker that is ready to serve."""
        self._say(self.STARTED)

    def failed(self, reason: str) -> None:
        """In a worker that cannot start: `reason` in one line."""
        self._say("failed " + " ".join(reason.split()))

    def _say(self, line: str) -> None:
        data = line.encode()[: self.LINE_BYTES - 1] + b"\n"
        try:
            os.write(self._write, data)
        except OSError:  # the master is gone; the worker's exit status still tells
            pass

    def _listen(self) -> None:
        with os.fdopen(self._read, "rb") as lines:
            if not select.select([lines], [], [], self._wait_seconds)[0]:
                self._on_start()  # a worker this slow is worth seeing in the log, whatever it says later
            for line in lines:  # until every copy of the write end is closed: the workers are gone
                if line.startswith(self.STARTED.encode()):
                    self._on_start()
                elif line.startswith(b"failed ") and self.failure is None:
                    self.failure = line[len(b"failed "):].decode(errors="replace").strip()

    def finish(self, timeout: float = 5.0) -> None:
        """After the workers are gone: read what they said last."""
        os.close(self._write)
        self._reader.join(timeout)


class HeldLines(logging.Handler):
    """Stands in for the root logger's handlers, keeping every record back until `show()` (or `drop()`).

    A worker forked meanwhile inherits it with the records held so far: there the same calls pass on
    that process's own records only, so the master's lines are printed once, by the master.
    """

    def __init__(self) -> None:
        super().__init__()
        self._root = logging.getLogger()
        self._handlers = list(self._root.handlers)
        self._records: list[logging.LogRecord] = []
        self._passes: Callable[[logging.LogRecord], bool] | None = None  # None while holding

    def hold(self) -> "HeldLines":
        self._root.handlers = [self]
        return self

    def emit(self, record: logging.LogRecord) -> None:
        if self._passes is None:
            self._records.append(record)
        elif self._passes(record):
            self._pass_on(record)

    def show(self) -> None:
        """Print what was held, and everything from now on."""
        if self._let_through(lambda record: True):
            self._root.handlers = self._handlers

    def show_all_but(self, logger: str) -> None:
        """Print what was held, and everything from now on, but `logger`'s records."""
        self._let_through(lambda record: record.name != logger)

    def drop(self) -> None:
        """Forget what was held; print everything from now on."""
        with self.lock:
            self._records = []
        self.show()

    def _let_through(self, passes: Callable[[logging.LogRecord], bool]) -> bool:
        with self.lock:
            if self._passes is not None:
                return False
            self._passes = passes
            records, self._records = self._records, []
        for record in records:
            if record.process == os.getpid() and passes(record):
                self._pass_on(record)
        return True

    def _pass_on(self, record: logging.LogRecord) -> None:
        for handler in self._handlers:
            if record.levelno >= handler.level:
                handler.handle(record)


class SharedMetrics:
    """The directory where several workers keep their figures (prometheus_client's multiprocess mode):
    PROMETHEUS_MULTIPROC_DIR if set, else a temporary one; emptied before any worker starts."""

    def __init__(self) -> None:
        given = os.environ.get(MULTIPROCESS_DIR)
        self.made = not given
        self.path = Path(given) if given else Path(tempfile.mkdtemp(prefix="nmbot-metrics-"))
        self.path.mkdir(parents=True, exist_ok=True)
        for stale in self.path.glob("*.db"):  # figures of a previous run would be added to this one's
            stale.unlink()
        os.environ[MULTIPROCESS_DIR] = str(self.path)

    def worker_gone(self, _arbiter, worker) -> None:
        """gunicorn's child_exit hook: a dead worker's in-flight gauges stop counting."""
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid, str(self.path))

    def remove(self) -> None:
        if self.made:
            shutil.rmtree(self.path, ignore_errors=True)


def gunicorn_options(settings: Settings, host: str, port: int, workers: int) -> dict:
    return {
        "bind": [f"[{host}]:{port}" if ":" in host else f"{host}:{port}"],
        "workers": workers,
        "worker_class": "gthread",
        "threads": settings.web_threads,
        "timeout": settings.web_timeout,
        "graceful_timeout": settings.graceful_seconds,
        "loglevel": settings.log_level,
        "errorlog": "-",
        "logger_class": logs.gunicorn_logger_class(),
        "worker_exit": _drain_worker,
        "proc_name": "nmbot",
        # Gunicorn >= 25 opens a control socket in $HOME by default; nmbot never uses it.
        "control_socket_disable": True,
    }


def run_gunicorn(load: Callable[[], Callable], settings: Settings, host: str, port: int, *,
                 workers: int = 1) -> int:
    """Serve the WSGI app `load()` builds in each worker, the way nmbot serves itself; the exit code.
    `load` raises SettingsError when the worker cannot start: `run_gunicorn` then raises it in one line."""
    from gunicorn.app.base import BaseApplication
    from gunicorn.arbiter import Arbiter
    from gunicorn.errors import HaltServer

    held = HeldLines().hold()
    boot = BootReports(on_start=held.show, wait_seconds=settings.boot_wait_seconds)
    shared = SharedMetrics() if workers > 1 or os.environ.get(MULTIPROCESS_DIR) else None
    options = {**gunicorn_options(settings, host, port, workers), "post_worker_init": lambda _worker: started()}
    if shared is not None:
        options["child_exit"] = shared.worker_gone

    def load_or_report() -> Callable:
        try:
            return load()
        except SettingsError as exc:
            held.show_all_but("gunicorn.error")  # a worker booting and exiting: the reason says it all
            boot.failed(str(exc))
            sys.exit(WORKER_BOOT_ERROR)

    def started() -> None:
        held.show()
        boot.started()

    class ReloadingArbiter(Arbiter):
        def handle_hup(self) -> None:
            self.log.info("Hang up: reloading the knowledge base in the workers")
            self.kill_workers(signal.SIGHUP)

    class Server(BaseApplication):
        def load_config(self) -> None:
            for key, value in options.items():
                if key in self.cfg.settings:
                    self.cfg.set(key, value)

        def load(self) -> Callable:
            return load_or_report()

        def run(self) -> None:
            try:
                ReloadingArbiter(self).run()
            except HaltServer as exc:  # another worker failing to boot while gunicorn stops for the first
                sys.exit(exc.exit_status)
            except RuntimeError as exc:  # what BaseApplication.run does with gunicorn's configuration errors
                print(f"nmbot: {exc}", file=sys.stderr)
                sys.exit(1)

    master = os.getpid()
    boot.start()
    try:
        Server().run()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if os.getpid() != master:
            _end_worker(code)
    finally:
        if os.getpid() == master and shared is not None:
            shared.remove()
    boot.finish()
    if code == WORKER_BOOT_ERROR and boot.failure:
        held.drop()  # gunicorn's story of a worker that did not boot: the reason says it all
        raise SettingsError(boot.failure)
    held.show()
    return code


def _end_worker(code: int) -> None:
    """A worker process ends here, as gunicorn decided, without returning into the code that started the
    server (it would run that code's clean-up a second time, in the wrong process)."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
