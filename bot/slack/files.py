"""Log files shared in Slack: long pastes Slack turned into snippets, and .log/.txt/.json uploads.

Downloaded with the bot token, only from Slack's file hosts (`may_send_token`),
through the http proxy HTTPS_PROXY names (CONNECT, so the token travels only
inside TLS to the file host) unless NO_PROXY bypasses the host, as urllib did,
within one deadline for the whole download, never more than
`Settings.max_file_bytes`, and scanned like a paste. Anything that goes wrong
becomes a short note for the person, never an exception for the listener.

A message that carries a log file is answered on a few threads of its own
(`FileReaders`), so a slow file host holds one of those, never a thread that
answers pastes without files.
"""
from __future__ import annotations

import http.client
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Callable, Iterable
from urllib.parse import urlsplit

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from ..engine.scan_input import ScanInputError
from ..http_deadline import DeadlineConnection, ProxyProblem, is_loopback
from ..replies.answers import FileScan
from ..replies.threads import ReadFiles
from .engine_holder import LiveEngine
from .in_flight import InFlight
from .metrics import Metrics

if TYPE_CHECKING:  # deps.py builds FileReaders from here
    from .deps import Deps

log = logging.getLogger(__name__)

LOG_SUFFIXES = (".log", ".txt", ".json")
TEXT_FILETYPES = ("text", "json", "log")
MAX_FILES = 5  # per message; more is not a paste, it is an archive
# Where Slack serves url_private: the commercial cloud and GovSlack. Exact host names, port 443 only.
SLACK_FILE_HOSTS = ("files.slack.com", "files.slack-gov.com")
DEFAULT_PORTS = {"http": 80, "https": 443}


class FileProblem(Exception):
    """A file that could not be read, said in a way the person can act on."""


def log_files(event: dict) -> list[dict]:
    """The files of a message that may hold a log, in the order shared."""
    return [f for f in event.get("files") or () if isinstance(f, dict) and _may_hold_log(f)][:MAX_FILES]


def _may_hold_log(file: dict) -> bool:
    if file.get("file_access") == "check_file_info":
        return True  # the event carries only an id; files.info says what it is
    name = str(file.get("name") or "").lower()
    return (file.get("mode") == "snippet" or PurePosixPath(name).suffix in LOG_SUFFIXES
            or file.get("filetype") in TEXT_FILETYPES)


def scan_files(deps: Deps, client: WebClient, event: dict, *, read: bool = True) -> FileScan:
    """The findings in the message's log files; with `read` False, only a note per file saying it was not read."""
    result = FileScan()
    for file in log_files(event):
        if not read:
            result.notes.append(f"I was reading too many other files to read {display_name(file)}: "
                                "share it again in a few minutes.")
            continue
        try:
            file = _complete(client, file)
            if not _may_hold_log(file):
                continue
            name = display_name(file)
            data = fetch(deps, file)
            result.findings.append(deps.scanner.scan_chunks([data]))
            result.read.append(name)
        except ScanInputError:
            result.notes.append(f"{display_name(file)} looks binary, so I did not read it.")
        except FileProblem as problem:
            result.notes.append(str(problem))
    return result


def display_name(file: dict) -> str:
    return str(file.get("name") or file.get("title") or file.get("id") or "the file")


def _complete(client: WebClient, file: dict) -> dict:
    """The full file object: events from shared channels carry only the id."""
    if file.get("url_private_download") or file.get("url_private"):
        return file
    try:
        completed = client.files_info(file=file["id"])["file"]
    except (SlackApiError, SlackClientError, OSError, KeyError, TypeError):
        log.warning("files.info failed for a shared file", exc_info=True)
        raise FileProblem(f"I could not open {display_name(file)}.") from None
    if not isinstance(completed, dict):
        raise FileProblem(f"I could not open {display_name(file)}.")
    return completed


def fetch(deps: Deps, file: dict) -> bytes:
    settings = deps.settings
    limit, name = settings.max_file_bytes, display_name(file)
    size = file.get("size")
    if isinstance(size, int) and size > limit:
        raise FileProblem(too_large(name, limit))
    url = file.get("url_private_download") or file.get("url_private")
    if not isinstance(url, str) or not url:
        raise FileProblem(f"I could not download {name}.")
    if not may_send_token(url, settings.slack_api_url, settings.file_hosts):
        origin = _origin(url)
        log.warning("a shared file's URL names host %r, not one of Slack's file hosts (NMBOT_FILE_HOSTS can "
                    "add one): not downloaded", origin[1] if origin else None)
        raise FileProblem(f"{name} is not on Slack's file servers, so I did not download it.")
    return download(url, deps.bot_token, limit, name, settings.download_seconds)


# --- where the bot token may go -----------------------------------------------------------

def may_send_token(url: str, api_url: str, file_hosts: Iterable[str] = ()) -> bool:
    """True only for a URL on Slack's file hosts or one NMBOT_FILE_HOSTS lists (https, exact host and port),
    or on exactly the scheme, host and port of the Web API when that is a loopback stand-in (tests, local runs)."""
    target = _origin(url)
    if target is None:
        return False
    if target[0] == "https" and target[1:] in _allowed_hosts(file_hosts):
        return True
    api = _origin(api_url)
    return api is not None and is_loopback(api[1]) and target == api


def _origin(url: object) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an http(s) URL with a plain ASCII host and no user info; None for anything else.

    The download connects to this very host, so no second parser can read the URL differently."""
    if not isinstance(url, str):
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # a port that is not a number, a broken IPv6 literal
        return None
    host = parts.hostname
    if parts.scheme not in DEFAULT_PORTS or not host or not host.isascii() or "@" in parts.netloc:
        return None
    return parts.scheme, host, DEFAULT_PORTS[parts.scheme] if port is None else port


def _allowed_hosts(file_hosts: Iterable[str]) -> set[tuple[str, int]]:
    allowed = {(host, 443) for host in SLACK_FILE_HOSTS}
    for entry in file_hosts:  # validated by Settings: "host" or "host:port", lower case
        host, _, port = entry.partition(":")
        allowed.add((host, int(port) if port else 443))
    return allowed


# --- the download: one deadline from connecting to the last byte ---------------------------

def download(url: str, token: str, limit: int, name: str, seconds: float) -> bytes:
    """The file at `url` (already checked by `may_send_token`), read within `seconds` in all."""
    deadline = time.monotonic() + seconds
    origin = _origin(url)
    if origin is None:
        raise FileProblem(f"I could not download {name}.")
    scheme, host, port = origin
    parts = urlsplit(url)
    connection = DeadlineConnection(host, port, deadline, tls=scheme == "https")
    try:
        # http.client follows no redirect: Slack answers a bad token with one to a sign-in page,
        # and following it would carry the token to another URL and scan an HTML page.
        connection.request("GET", (parts.path or "/") + (f"?{parts.query}" if parts.query else ""),
                           headers={"Authorization": f"Bearer {token}"})
        with connection.getresponse() as response:
            return _body(response, limit, name)
    except ProxyProblem as problem:
        log.warning("download of a shared file failed: %s", problem)
        raise FileProblem(f"I could not download {name}.") from None
    except TimeoutError:
        log.warning("download of a shared file took longer than %gs; given up", seconds)
        unit = "second" if seconds == 1 else "seconds"
        raise FileProblem(f"{name} took longer than {seconds:g} {unit} to download, so I did not read it.") from None
    except (OSError, http.client.HTTPException, ValueError) as exc:  # ValueError: a path http.client cannot send
        log.warning("download of a shared file failed: %s", getattr(exc, "strerror", None) or type(exc).__name__)
        raise FileProblem(f"I could not download {name}.") from None
    finally:
        connection.close()


def _body(response: http.client.HTTPResponse, limit: int, name: str) -> bytes:
    if response.status != 200 or "text/html" in (response.getheader("Content-Type") or ""):
        raise FileProblem(f"I could not download {name}.")
    data = response.read(limit + 1)
    if len(data) > limit:
        raise FileProblem(too_large(name, limit))
    return data


def too_large(name: str, limit: int) -> str:
    return (f"{name} is larger than {_megabytes(limit)}, so I did not read it: "
            "paste the lines around the error instead.")


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB" if size >= 100_000 else f"{size:,} bytes"


# --- the threads messages with files are answered on -----------------------------------------

class FileReaders:
    """A few threads that answer messages carrying log files, from start to end.

    Downloads wait on other servers; here they hold these threads only, never the ones that
    answer pastes without files. Each run sees one knowledge base, like a listener run.
    """

    def __init__(self, engines: LiveEngine, metrics: Metrics, *, threads: int, waiting: int):
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="files")
        self._engines = engines
        self._limit = threads + waiting
        self._reads = InFlight(metrics.in_flight("nmbot_file_reads_in_flight",
                                                 "Messages with log files being read or waiting for a file thread"))

    @property
    def in_flight(self) -> int:
        return self._reads.count

    def submit(self, fn: Callable[..., None], /, *args) -> bool:
        """Run `fn(*args)` on a file thread; False, and nothing run, when too many wait or the pool is shut."""
        if not self._reads.start(limit=self._limit):
            return False
        try:
            self._pool.submit(self._run, self._engines.pinned(fn), args)
        except RuntimeError:  # shut down: the app is stopping
            self._reads.finish()
            return False
        return True

    def _run(self, fn: Callable[..., None], args: tuple) -> None:
        try:
            fn(*args)
        except Exception:  # what Bolt does for a listener that raises: log it, keep the thread
            log.exception("a message with log files could not be answered")
        finally:
            self._reads.finish()

    def drain(self, timeout: float) -> bool:
        """Wait until no message is being read or waiting, at most `timeout` seconds; True when none is left."""
        return self._reads.drain(timeout)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def answer_with_files(deps: Deps, event: dict, answer: Callable[[bool], None]) -> None:
    """`answer(read_files)` for a message: here when it carries no log file, else on a file thread; here
    without reading its files (each gets a note) when the file threads are too far behind."""
    if not log_files(event):
        answer(True)
    elif not deps.file_readers.submit(answer, True):
        log.warning("too many messages with files are waiting to be read: one is answered without its files")
        answer(False)


def answer_reading_files(deps: Deps, client: WebClient, event: dict, answer: Callable[[ReadFiles], None]) -> None:
    """`answer(read_files)`, where `read_files()` reads the message's log files (`scan_files`): here when it
    carries none, else on a file thread (`answer_with_files`)."""
    answer_with_files(deps, event, lambda read: answer(partial(scan_files, deps, client, event, read=read)))
