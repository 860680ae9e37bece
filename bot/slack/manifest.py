"""The Slack app manifest, for `nmbot manifest`: Socket Mode as shipped, or HTTP mode for one host.

The Socket Mode manifest ships inside the package (manifest.yml beside this module), so an installed
nmbot prints it without a checkout; the repository's top-level manifest.yml is the same document
(tests/slack/test_slack_manifest.py compares them). HTTP mode is that document with Slack's three
request URLs pointed at the host and Socket Mode off.

Imports neither Bolt nor the app: printing a manifest needs no Slack library.
"""
from __future__ import annotations

from importlib import resources
from urllib.parse import urlsplit

EVENTS_PATH = "/slack/events"  # where `nmbot serve --http` takes every request from Slack
MAX_HOST_CHARS = 253  # DNS's limit on a whole name
MAX_LABEL_CHARS = 63  # and on each of its labels
SHOWN_CHARS = 80  # of a rejected value, in the error message

HTTP_HEADER = """\
# Slack app manifest for nmbot in HTTP mode (`nmbot serve --http`), printed by
# `nmbot manifest --http {origin}`. Create the app from it at https://api.slack.com/apps
# ("Create New App" > "From an app manifest"). See README, "Create the Slack app".
#
# Slack sends slash commands, events and interactivity (card buttons, the feedback
# form, the message shortcut) to {url}; Socket Mode is off.
"""


class ManifestError(ValueError):
    """A host Slack could not send its requests to; the message is one line."""


def socket_mode_manifest() -> str:
    """The manifest as shipped: Socket Mode, no public URL."""
    return resources.files(__package__).joinpath("manifest.yml").read_text(encoding="utf-8")


def http_manifest(address: str) -> str:
    """The manifest for HTTP mode, Slack's requests going to `address` (https://HOST[:PORT]) + /slack/events."""
    import yaml

    origin = https_origin(address)
    url = origin + EVENTS_PATH
    manifest = yaml.safe_load(socket_mode_manifest())
    for command in manifest["features"]["slash_commands"]:
        command["url"] = url
    settings = manifest["settings"]
    settings["event_subscriptions"] = {"request_url": url, **settings["event_subscriptions"]}
    settings["interactivity"] = {**settings["interactivity"], "request_url": url}
    settings["socket_mode_enabled"] = False
    body = yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True, width=1000)
    return HTTP_HEADER.format(origin=origin, url=url) + body


def https_origin(address: str) -> str:
    """`https://HOST` or `https://HOST:PORT` from what the operator typed; a trailing / is allowed.

    Raises ManifestError, saying what is wrong, for anything Slack would refuse or nmbot does not
    serve: another scheme, a path, a query, a user name, a host that is not a DNS name.
    """
    shown = shown_value(address)
    if any(c.isspace() or not c.isprintable() for c in address):
        # urlsplit would quietly drop tabs and line breaks; a URL has none.
        raise ManifestError(f"expected https://HOST, got {shown}: no spaces or control characters")
    try:
        parts = urlsplit(address)
    except ValueError:  # an unclosed [ of an IPv6 address
        raise ManifestError(f"expected https://HOST, got {shown}: not a URL") from None
    if parts.scheme.lower() != "https":
        raise ManifestError(f"expected https://HOST, got {shown}: Slack sends its requests over HTTPS only")
    if not parts.netloc:
        raise ManifestError(f"expected https://HOST, got {shown}: the host is missing")
    if parts.path not in ("", "/") or parts.query or parts.fragment or address.endswith(("?", "#")):
        raise ManifestError(f"expected https://HOST without a path, got {shown}: "
                            f"nmbot takes Slack's requests at {EVENTS_PATH}")
    if "@" in parts.netloc:
        raise ManifestError(f"expected https://HOST, got {shown}: no user name or password")
    try:
        port = parts.port
    except ValueError:
        raise ManifestError(f"expected https://HOST or https://HOST:PORT, got {shown}: the port is not "
                            "a number from 1 to 65535") from None
    host = parts.hostname or ""
    if not is_dns_name(host):
        raise ManifestError(f"expected https://HOST, got {shown}: HOST must be a DNS name such as "
                            "bot.example.com (punycode for non-ASCII names)")
    if port == 0:
        raise ManifestError(f"expected https://HOST or https://HOST:PORT, got {shown}: the port is not "
                            "a number from 1 to 65535")
    return f"https://{host}" + (f":{port}" if port is not None else "")


def is_dns_name(host: str) -> bool:
    """Letters, digits and hyphens in dot-separated labels, none empty or at a label's ends."""
    if not host or len(host) > MAX_HOST_CHARS:
        return False
    return all(is_dns_label(label) for label in host.split("."))


def is_dns_label(label: str) -> bool:
    return (0 < len(label) <= MAX_LABEL_CHARS and not label.startswith("-") and not label.endswith("-")
            and all(c.isascii() and (c.isalnum() or c == "-") for c in label))


def shown_value(address: str) -> str:
    """The value as typed, quoted on one line and cut short: it goes into an error message."""
    cut = address if len(address) <= SHOWN_CHARS else address[:SHOWN_CHARS] + "…"
    return repr(cut)
