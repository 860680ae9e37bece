"""The shape of what Slack sends, checked once before Bolt or a listener reads it.

Slack always sends these fields with these types. A payload that breaks them
was signed with the signing secret but not built by Slack, and the first
reader would raise on it: Bolt itself reads `actions[0]`, `view["type"]` and
`event.get(...)` for every middleware and listener, before any of our code
runs, so a bad one was a 500 with a traceback. `RefuseMalformed` answers it
with a 400 and one log line instead, right after the signature check.

Only the fields Bolt or a listener reads are checked, so a field Slack adds
or a payload kind nmbot does not handle passes untouched.
"""
from __future__ import annotations

import logging
from typing import Callable, Iterator, NamedTuple, Optional, Union

from slack_bolt.middleware import Middleware
from slack_bolt.request import BoltRequest
from slack_bolt.request.payload_utils import (
    to_action,
    to_command,
    to_event,
    to_message,
    to_options,
    to_shortcut,
    to_step,
    to_view,
)
from slack_bolt.response import BoltResponse

from .metrics import Metrics

log = logging.getLogger(__name__)

REFUSED_REASON = "bad_payload"  # nmbot_refused_requests_total{reason=...}


class Required(NamedTuple):
    """A field Slack always sends (every other field is optional: absent or null is fine)."""
    spec: "Spec"


class ListOf(NamedTuple):
    item: "Spec"
    at_least: int = 0


class MapOf(NamedTuple):
    """An object whose keys are names Slack chose (block ids, action ids), each value of one shape."""
    value: "Spec"


# A type, an object's fields by name, or one of the wrappers above.
Spec = Union[type, dict, Required, ListOf, MapOf]

_ID = {"id": str}
_MESSAGE = {"ts": str, "thread_ts": str, "text": str, "files": list}
_INTERACTION = {"user": _ID, "channel": _ID, "trigger_id": str, "response_url": str}
_VIEW = {"type": Required(str), "callback_id": Required(str), "private_metadata": str,
         "state": {"values": MapOf(MapOf(dict))}}
_MESSAGE_EVENT = {"channel": Required(str), "ts": str, "thread_ts": str, "text": str, "user": str, "subtype": str,
                  "files": list}

PAYLOADS: dict[str, dict] = {  # by the payload's `type`
    "event_callback": {"event_id": str, "event": Required({"type": Required(str)})},
    "block_actions": {**_INTERACTION, "message": _MESSAGE,
                      "container": {"channel_id": str, "message_ts": str, "thread_ts": str},
                      "actions": Required(ListOf({"action_id": Required(str), "block_id": str, "value": str,
                                                  "action_ts": str}, at_least=1))},
    "interactive_message": {"actions": Required(ListOf(dict, at_least=1))},
    "view_submission": {**_INTERACTION, "view": Required(_VIEW)},
    "view_closed": {**_INTERACTION, "view": Required(_VIEW)},
    "message_action": {**_INTERACTION, "callback_id": Required(str), "message": _MESSAGE},
    "shortcut": {**_INTERACTION, "callback_id": Required(str)},
}
EVENTS: dict[str, dict] = {  # by the event's `type`: the fields its listener reads
    "message": _MESSAGE_EVENT,
    "app_mention": _MESSAGE_EVENT,
    "reaction_added": {"reaction": str, "user": str, "item_user": str,
                       "item": {"type": str, "channel": str, "ts": str}},
    "app_home_opened": {"user": str, "tab": str},
}
# Bolt takes any payload with a `command` for a slash command.
COMMAND = {"command": Required(str), "text": str, "channel_id": str, "user_id": str, "response_url": str,
           "trigger_id": str}
# What Bolt reads from every payload for every middleware and listener (its keyword-argument injection).
_BOLT_READERS: tuple[Callable, ...] = (to_options, to_shortcut, to_action, to_view, to_command, to_event, to_message,
                                       to_step)


def problem_of(body: object) -> Optional[str]:
    """What makes `body` a payload Slack would never send, in a few words naming the field; None if nothing."""
    if not isinstance(body, dict):
        return f"the payload is {_kind(body)}, not an object"
    for value, spec, where in _parts(body):
        problem = _mismatch(value, spec, where)
        if problem:
            return problem
    return _unreadable_by_bolt(body)


def _parts(body: dict) -> Iterator[tuple[object, Spec, str]]:
    """(value, spec, where) to check, in order; a part is only reached once the ones before it passed."""
    if "command" in body:
        yield body, COMMAND, ""
    kind = body.get("type")
    if isinstance(kind, str) and kind in PAYLOADS:
        yield body, PAYLOADS[kind], ""
    if kind == "event_callback":
        event_type = body["event"]["type"]  # a dict with a str type: the event_callback part passed
        if event_type in EVENTS:
            yield body["event"], EVENTS[event_type], "event"


def _mismatch(value: object, spec: Spec, where: str) -> Optional[str]:
    if isinstance(spec, Required):
        spec = spec.spec
    if isinstance(spec, type):
        return None if isinstance(value, spec) else _wrong(where, value, spec)
    if isinstance(spec, ListOf):
        if not isinstance(value, list):
            return _wrong(where, value, list)
        if len(value) < spec.at_least:
            return f"{where} is empty"
        return _first(_mismatch(item, spec.item, f"{where}[{i}]") for i, item in enumerate(value))
    if not isinstance(value, dict):
        return _wrong(where, value, dict)
    if isinstance(spec, MapOf):  # the keys are not ours to quote in a log line
        return _first(_mismatch(item, spec.value, f"{where}.*") for item in value.values())
    return _first(_field_mismatch(value.get(name), field, _join(where, name)) for name, field in spec.items())


def _field_mismatch(value: object, spec: Spec, where: str) -> Optional[str]:
    if value is None:
        return f"{where} is missing" if isinstance(spec, Required) else None
    return _mismatch(value, spec, where)


def _unreadable_by_bolt(body: dict) -> Optional[str]:
    """The fields above cover what Slack sends; this covers what Bolt would read of anything else."""
    for read in _BOLT_READERS:
        try:
            read(body)
        except (LookupError, TypeError, AttributeError) as exc:
            return f"Bolt cannot read it ({read.__name__}: {type(exc).__name__})"
    return None


def _first(problems: Iterator[Optional[str]]) -> Optional[str]:
    return next((p for p in problems if p), None)


def _join(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def _wrong(where: str, value: object, expected: type) -> str:
    return f"{where or 'the payload'} is {_kind(value)}, not {_KINDS.get(expected, expected.__name__)}"


_KINDS = {dict: "an object", list: "a list", str: "a string", bool: "true or false", int: "a number",
          float: "a number", type(None): "null"}


def _kind(value: object) -> str:
    return _KINDS.get(type(value), type(value).__name__)


class RefuseMalformed(Middleware):
    """Bolt middleware for `App(before_authorize=...)`: after the signature check, before anything reads the
    payload. A class, not a function: Bolt builds a function middleware's arguments by reading the payload."""

    def __init__(self, metrics: Metrics):
        self.metrics = metrics

    def process(self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]):  # noqa: A002
        problem = problem_of(req.body)
        if problem is None:
            return next()
        self.metrics.refused.inc(reason=REFUSED_REASON)
        log.warning("refused a signed request Slack would not send: %s", problem)
        return BoltResponse(status=400, body=f"not a Slack payload: {problem}",
                            headers={"content-type": "text/plain; charset=utf-8"})
