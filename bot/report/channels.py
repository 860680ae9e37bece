"""Channel names for the report, from Slack's `conversations.info`, where the bot token may read them.

Plain HTTP (no Slack SDK: `nmbot report` stays a light command). The bot token goes only to Slack's own
hosts over https (slack.com, slack-gov.com and their sub-domains) or to a loopback `SLACK_API_URL` (tests,
local stand-ins); every lookup has a deadline, and so have all of them together. Any failure leaves the
channel's ID in the report: a name is a nicety, never a reason for the report to fail.
"""
from __future__ import annotations

import http.client
import json
import time
from typing import Iterable, Optional
from urllib.parse import urlencode, urlsplit

from ..http_deadline import DeadlineConnection, ProxyProblem, is_loopback
from ..settings import Settings

SLACK_DOMAINS = ("slack.com", "slack-gov.com")
MAX_ANSWER_BYTES = 256 * 1024  # conversations.info answers in a few KiB
MAX_NAME_CHARS = 80  # Slack's own limit on a channel's name
HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789.-")
# Errors that every further call would get too: stop asking.
FINAL_ERRORS = frozenset({"not_authed", "invalid_auth", "account_inactive", "token_revoked", "token_expired",
                          "missing_scope", "no_permission", "ratelimited", "org_login_required",
                          "ekm_access_denied", "team_access_not_granted", "access_denied"})


class LookupFailed(Exception):
    """One lookup failed; `final` when the others would fail the same way."""

    def __init__(self, reason: str, *, final: bool = False):
        super().__init__(reason)
        self.final = final


def token_may_go(api_url: str) -> bool:
    """True for https on Slack's own hosts, or any http(s) loopback address (a local stand-in)."""
    try:
        parts = urlsplit(api_url)
        parts.port  # a malformed port raises here
    except ValueError:
        return False
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host or parts.username or parts.password:
        return False
    if is_loopback(host):
        return True
    if not HOST_CHARS.issuperset(host):  # a space or a backslash would reach the resolver, or crash http.client
        return False
    return parts.scheme == "https" and any(host == d or host.endswith("." + d) for d in SLACK_DOMAINS)


def looks_like_channel_id(value: str) -> bool:
    """Slack's conversation IDs: C…, G… or D… followed by upper-case letters and digits."""
    return (2 < len(value) <= 32 and value[0] in "CGD" and value.isascii() and value.isalnum()
            and value == value.upper())


def printable_name(name: object) -> Optional[str]:
    """A channel's name as Slack allows it: no control characters (reports go to terminals), 80 characters."""
    if isinstance(name, str) and name and name.isprintable() and len(name) <= MAX_NAME_CHARS:
        return name
    return None


class ChannelNames:
    """Names of channels by ID, each looked up once per run (failures too): each lookup within `lookup_seconds`,
    all of them within `total_seconds`, at most `lookups` of them (the rest keep their IDs)."""

    def __init__(self, token: str, api_url: str, *, lookup_seconds: float = Settings.channel_lookup_seconds,
                 total_seconds: float = Settings.channel_names_seconds, lookups: int = Settings.channel_lookups):
        self._token = token
        self._api_url = api_url if api_url.endswith("/") else api_url + "/"
        self._lookup_seconds = lookup_seconds
        self._total_seconds = total_seconds
        self._lookups = lookups
        self._cache: dict[str, Optional[str]] = {}
        self._deadline: Optional[float] = None
        self.problem: Optional[str] = None if token_may_go(api_url) else (
            "SLACK_API_URL is not one of Slack's hosts, so the bot token is not sent there")

    def names(self, channels: Iterable[str]) -> dict[str, str]:
        """{channel ID: name} for those whose name could be read."""
        found = {}
        for channel in channels:
            name = self.name(channel)
            if name:
                found[channel] = name
        return found

    def name(self, channel: str) -> Optional[str]:
        if channel in self._cache:
            return self._cache[channel]
        name = None
        if self.problem is None and looks_like_channel_id(channel) and len(self._cache) < self._lookups:
            try:
                name = self._look_up(channel)
            except LookupFailed as exc:
                if exc.final:
                    self.problem = f"conversations.info: {exc}"
        self._cache[channel] = name
        return name

    def _look_up(self, channel: str) -> Optional[str]:
        now = time.monotonic()
        if self._deadline is None:
            self._deadline = now + self._total_seconds
        seconds = min(self._lookup_seconds, self._deadline - now)
        if seconds <= 0:
            raise LookupFailed(f"no answers within {self._total_seconds:g} s", final=True)
        answer = self._post("conversations.info", {"channel": channel}, seconds)
        if not answer.get("ok"):
            error = str(answer.get("error") or "not ok")[:80]
            raise LookupFailed(error, final=error in FINAL_ERRORS)
        info = answer.get("channel")
        if not isinstance(info, dict) or info.get("is_im"):
            return None
        return printable_name(info.get("name"))

    def _post(self, method: str, fields: dict, seconds: float) -> dict:
        """POST one Web API call and read its JSON answer, all within `seconds`."""
        parts = urlsplit(self._api_url)
        tls = parts.scheme == "https"
        port = parts.port or (443 if tls else 80)
        conn = DeadlineConnection(parts.hostname or "", port, time.monotonic() + seconds, tls=tls)
        try:
            # http.client follows no redirect, so the token goes nowhere but this host.
            conn.request("POST", parts.path + method, body=urlencode(fields),
                         headers={"Authorization": f"Bearer {self._token}",
                                  "Content-Type": "application/x-www-form-urlencoded"})
            with conn.getresponse() as response:
                status, body = response.status, response.read(MAX_ANSWER_BYTES + 1)
        except TimeoutError:
            raise LookupFailed(f"no answer within {seconds:g} s", final=True) from None
        except (OSError, http.client.HTTPException, ProxyProblem) as exc:
            raise LookupFailed(f"{type(exc).__name__} from the Web API", final=True) from None
        finally:
            conn.close()
        if status == 429:
            raise LookupFailed("ratelimited", final=True)
        if status != 200 or len(body) > MAX_ANSWER_BYTES:
            raise LookupFailed(f"HTTP {status}", final=True)
        try:
            answer = json.loads(body)
        except (ValueError, RecursionError):  # RecursionError: arrays nested thousands deep
            raise LookupFailed("an answer that is not JSON", final=True) from None
        return answer if isinstance(answer, dict) else {}
