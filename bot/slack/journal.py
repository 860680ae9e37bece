"""Nothing acknowledged is lost: events recorded before the ack, and taken up again when their process dies.

Bolt acknowledges an event before its listener runs, so a process killed in
between would lose an event Slack will never send again. `JournalEvents`, a
Bolt global middleware, records each event the bot would answer in the state
store's journal before Bolt's `dispatch` returns, which is when the 200 (or
the Socket Mode ack) leaves: the claim key, what answering it again needs
(channel, ts, thread, user, the text with phone numbers masked, file ids; no
raw payload) and a lease for this process, renewed while the reply is built
(leases.py). The listener settles it once the reply is posted or silence was
decided.

`Recovery` (run by maintenance.py at start-up and every minute) takes the
events whose lease lapsed unanswered, within NMBOT_RECOVER_HOURS. Before
answering one it reads the thread: every reply names its claim key in Slack
message metadata, so a reply that went out just before the crash is found
there and not posted twice.

While the store is down there is nothing to record: the event is answered
anyway and counted (nmbot_events_unrecorded_total).
"""
from __future__ import annotations

import logging
from collections import Counter
from typing import Callable, Optional

from slack_bolt.middleware import Middleware
from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from ..store import JournalEntry, StoreError
from .calls import slack_error
from .deps import Deps, add_retry_handlers, make_client
from .files import log_files
from .listeners.events import handle_mention, handle_message
from .listeners.events.delivery import RECOVERED, REPLY_EVENT_TYPE, delivery_key

log = logging.getLogger(__name__)

HANDLERS: dict[str, Callable[..., None]] = {"message": handle_message, "app_mention": handle_mention}


class JournalEvents(Middleware):
    """Bolt global middleware (`app.use`): records the events `answerable` accepts, then lets Bolt go on.

    A class, like `payloads.RefuseMalformed`: Bolt builds a function middleware's arguments by reading the
    payload, and this runs on every request."""

    def __init__(self, deps: Deps, answerable: Callable[[Deps, dict], bool]):
        self.deps = deps
        self.answerable = answerable

    def process(self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]):  # noqa: A002
        body = req.body
        event = body.get("event") if body.get("type") == "event_callback" else None
        if self.deps.settings.recover_hours and isinstance(event, dict) and self.answerable(self.deps, event):
            record(self.deps, body, event)
        return next()


def record(deps: Deps, body: dict, event: dict) -> None:
    """The event in the journal, leased to this process; counted as unrecorded when the store cannot say."""
    key = delivery_key(body, event)
    if key is None or not key.startswith("msg:"):
        return  # no channel and ts: nothing to answer in
    if deps.store.problem is not None:  # known down: the ack must not wait out a dead database's timeout
        deps.metrics.events_unrecorded.inc()
        return
    try:
        deps.store.journal_event(entry_for(key, event), owner=deps.leases.owner, lease=deps.leases.lease,
                                 keep=deps.settings.recover_hours * 3600)
    except StoreError:  # the store said it is down, once, and counts each failure
        deps.metrics.events_unrecorded.inc()
        return
    # A retry finds the row there already and holds it too: whichever delivery answers, it stays leased.
    deps.leases.hold(key)


def entry_for(key: str, event: dict) -> JournalEntry:
    files = tuple(f["id"] for f in log_files(event) if isinstance(f.get("id"), str) and f["id"])
    return JournalEntry(key=key, event_type=event["type"], channel=event["channel"], ts=event["ts"],
                        thread_ts=event.get("thread_ts") or "", user=event.get("user") or "",
                        text=event.get("text") or "", files=files)


def event_of(entry: JournalEntry) -> tuple[dict, dict]:
    """The body and event a listener answers, rebuilt from what the journal kept."""
    event = {"type": entry.event_type, "channel": entry.channel, "ts": entry.ts, "user": entry.user,
             "text": entry.text}
    if entry.thread_ts:
        event["thread_ts"] = entry.thread_ts
    if entry.files:  # file ids only: files.info says the rest, as for a file shared from another workspace
        event["files"] = [{"id": file_id, "file_access": "check_file_info"} for file_id in entry.files]
    return {"type": "event_callback", "event": event, RECOVERED: True}, event


# --- taking events up again -----------------------------------------------------------------

class Recovery:
    """Takes up the events whose process died before answering them. Its Web API client is made on first use:
    most passes find nothing to do."""

    def __init__(self, deps: Deps, client: Optional[WebClient] = None):
        self.deps = deps
        self._client = client

    @property
    def client(self) -> WebClient:
        if self._client is None:
            self._client = make_client(self.deps.settings)
            add_retry_handlers(self._client, self.deps.settings, self.deps.metrics)
        return self._client

    def run(self) -> Counter:
        """One pass, until no lapsed event is left; how many went each way (answered, already_answered,
        unchecked). An event taken up too often is left alone (see `StateStore.take_lapsed_events`)."""
        outcomes: Counter = Counter()
        if not self.deps.settings.recover_hours:
            return outcomes
        while batch := self._take():
            for entry in batch:
                outcome = self.answer_again(entry)
                outcomes[outcome] += 1
                self.deps.metrics.events_recovered.inc(outcome=outcome)
        if outcomes:
            log.info("took up %d acknowledged event(s) left unanswered by a process that stopped: %s",
                     sum(outcomes.values()), ", ".join(f"{n} {what}" for what, n in sorted(outcomes.items())))
        return outcomes

    def _take(self) -> list[JournalEntry]:
        leases = self.deps.leases
        try:
            return self.deps.store.take_lapsed_events(owner=leases.owner, lease=leases.lease,
                                                       limit=self.deps.settings.recover_batch)
        except StoreError as exc:  # the store said it is down; the next pass tries again
            log.debug("could not look for unanswered events: %s", exc)
            return []

    def answer_again(self, entry: JournalEntry) -> str:
        """Answer one event taken up, unless its reply is in the thread already."""
        self.deps.leases.hold(entry.key)
        replied = self.replied_already(entry)
        if replied is None:
            self.deps.leases.finish(entry.key, settled=False)  # lapses again: another pass, another attempt
            return "unchecked"
        if replied:
            self.deps.leases.finish(entry.key, settled=True)
            return "already_answered"
        body, event = event_of(entry)
        HANDLERS[entry.event_type](self.deps, self.client, body, event, log)  # it settles the event itself
        return "answered"

    def replied_already(self, entry: JournalEntry) -> Optional[bool]:
        """Whether a reply naming this event's claim key is in its thread; None when the thread cannot be read."""
        cursor = None
        for _ in range(self.deps.settings.recover_pages):
            try:
                page = self.client.conversations_replies(channel=entry.channel, ts=entry.thread_ts or entry.ts,
                                                         oldest=entry.ts, inclusive=True, include_all_metadata=True,
                                                         limit=200, cursor=cursor)
            except SlackApiError as exc:
                log.warning("conversations.replies in %s failed: %s; the event is tried again later", entry.channel,
                            slack_error(exc))
                return None
            except (SlackClientError, OSError) as exc:
                log.warning("conversations.replies in %s failed: %s; the event is tried again later", entry.channel,
                            getattr(exc, "reason", None) or type(exc).__name__)
                return None
            if any(names_claim(message, entry.key) for message in page.get("messages") or ()):
                return True
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return False
        return False


def names_claim(message: object, key: str) -> bool:
    metadata = message.get("metadata") if isinstance(message, dict) else None
    if not isinstance(metadata, dict) or metadata.get("event_type") != REPLY_EVENT_TYPE:
        return False
    payload = metadata.get("event_payload")
    return isinstance(payload, dict) and payload.get("claim") == key
