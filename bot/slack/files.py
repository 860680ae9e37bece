"""Log files shared in Slack: long pastes Slack turned into snippets, and .log/.txt/.json uploads.

Downloaded with the bot token, never more than `Settings.max_file_bytes`,
and scanned like a paste. Anything that goes wrong becomes a short note for
the person, never an exception for the listener.
"""
from __future__ import annotations

import logging
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from urllib.parse import urlsplit

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from ..engine.scanner import Finding, ScanInputError
from .deps import Deps

log = logging.getLogger(__name__)

LOG_SUFFIXES = (".log", ".txt", ".json")
TEXT_FILETYPES = ("text", "json", "log")
MAX_FILES = 5  # per message; more is not a paste, it is an archive
DOWNLOAD_TIMEOUT = 15


class FileProblem(Exception):
    """A file that could not be read, said in a way the person can act on."""


@dataclass
class FileScan:
    findings: list[list[Finding]] = field(default_factory=list)
    read: list[str] = field(default_factory=list)  # names of the files scanned
    notes: list[str] = field(default_factory=list)  # what went wrong, per file


def log_files(event: dict) -> list[dict]:
    """The files of a message that may hold a log, in the order shared."""
    return [f for f in event.get("files") or () if isinstance(f, dict) and _may_hold_log(f)][:MAX_FILES]


def _may_hold_log(file: dict) -> bool:
    if file.get("file_access") == "check_file_info":
        return True  # the event carries only an id; files.info says what it is
    name = str(file.get("name") or "").lower()
    return (file.get("mode") == "snippet" or PurePosixPath(name).suffix in LOG_SUFFIXES
            or file.get("filetype") in TEXT_FILETYPES)


def scan_files(deps: Deps, client: WebClient, event: dict) -> FileScan:
    result = FileScan()
    for file in log_files(event):
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
        return client.files_info(file=file["id"])["file"]
    except (SlackApiError, SlackClientError, OSError, KeyError):
        log.warning("files.info failed for a shared file", exc_info=True)
        raise FileProblem(f"I could not open {display_name(file)}.") from None


def fetch(deps: Deps, file: dict) -> bytes:
    limit = deps.settings.max_file_bytes
    name = display_name(file)
    size = file.get("size")
    if isinstance(size, int) and size > limit:
        raise FileProblem(too_large(name, limit))
    url = file.get("url_private_download") or file.get("url_private")
    if not url or not may_send_token(url, deps.settings.slack_api_url):
        raise FileProblem(f"I could not download {name}.")
    return download(url, deps.bot_token, limit, name)


def may_send_token(url: str, api_url: str) -> bool:
    """The bot token goes only over HTTPS, or to the Web API's own host (a local stand-in)."""
    target, api = urlsplit(url), urlsplit(api_url)
    return target.scheme == "https" or (target.scheme, target.netloc) == (api.scheme, api.netloc)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # Slack answers a bad token with a redirect to a sign-in page; following it would
    # carry the token to another URL and scan an HTML page.
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def download(url: str, token: str, limit: int, name: str) -> bytes:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with _opener.open(request, timeout=DOWNLOAD_TIMEOUT) as response:
            if response.status != 200 or "text/html" in response.headers.get("Content-Type", ""):
                raise FileProblem(f"I could not download {name}.")
            data = response.read(limit + 1)
    except (urllib.error.URLError, OSError) as exc:
        log.warning("download of a shared file failed: %s", getattr(exc, "reason", exc))
        raise FileProblem(f"I could not download {name}.") from None
    if len(data) > limit:
        raise FileProblem(too_large(name, limit))
    return data


def too_large(name: str, limit: int) -> str:
    return (f"{name} is larger than {_megabytes(limit)}, so I did not read it: "
            "paste the lines around the error instead.")


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB" if size >= 100_000 else f"{size:,} bytes"
