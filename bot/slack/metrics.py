"""What the running bot counts, in Prometheus' text format on the probe port (see probes.py).

Built on prometheus_client. Every figure lives in the `Metrics` object's own
registry, so two bots in one process (tests) never see each other's counts.
One process serving (Socket Mode, or gunicorn with one worker) adds the
process collectors: memory, CPU, open files. Several gunicorn workers share
their figures through prometheus_client's multiprocess mode instead
(PROMETHEUS_MULTIPROC_DIR, set up by the gunicorn master): each worker writes
its own files, any of them renders the sum, and the process collectors are
left out, since a scrape reaches one process and would describe only that one.

The metric names and labels are a contract (docs/operations.md, "Health and metrics"):
dashboards use them.
"""
from __future__ import annotations

import math
import os
from typing import Callable
from urllib.parse import urlsplit

import prometheus_client
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    GCCollector,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector
from slack_bolt.middleware import Middleware
from slack_bolt.request import BoltRequest
from slack_bolt.request.payload_utils import (
    is_action,
    is_event,
    is_options,
    is_shortcut,
    is_slash_command,
    is_view,
)
from slack_bolt.response import BoltResponse
from slack_sdk.http_retry.handler import RetryHandler

from ..replies.kinds import ABSTAINED, EXPLAINED, Autoreply, Kind, Surface

CONTENT_TYPE = CONTENT_TYPE_LATEST
MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"  # prometheus_client's own variable; the gunicorn master sets it
# Slack's deadline is 3 s; the buckets resolve the range that matters, well below it.
ACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0)

# A `*_created` series beside every counter doubles the page for a figure no dashboard here reads.
prometheus_client.disable_created_metrics()


def shared_between_processes() -> bool:
    """True in a gunicorn worker of several: figures go to files every worker reads."""
    return bool(os.environ.get(MULTIPROCESS_DIR))


class LabelledCounter:
    """A counter whose labels are keyword arguments of `inc`: `refused.inc(reason="too_large")`."""

    def __init__(self, registry: CollectorRegistry, name: str, help_text: str, labels: tuple[str, ...] = ()):
        self.name = name if name.endswith("_total") else name + "_total"
        self.labels = labels
        self._registry = registry
        self._counter = Counter(name, help_text, labels, registry=registry)

    def inc(self, amount: float = 1, **labels: str) -> None:
        (self._counter.labels(**labels) if self.labels else self._counter).inc(amount)

    def value(self, **labels: str) -> float:
        """This process's count for `labels` (0 when nothing was counted)."""
        return self._registry.get_sample_value(self.name, labels) or 0.0

    def values(self) -> dict[tuple[str, ...], float]:
        """This process's counts by label values, in the order of `labels`; only those counted."""
        return {tuple(sample.labels[label] for label in self.labels): sample.value
                for metric in self._counter.collect() for sample in metric.samples
                if sample.name == self.name and sample.value}


class Metrics:
    """Every figure one bot keeps; `render()` is the /metrics page."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.shared = shared_between_processes()
        if not self.shared:
            for collector in (ProcessCollector, PlatformCollector, GCCollector):
                collector(registry=self.registry)
        self._scrape_time: list[tuple[Gauge, Callable[[], float]]] = []
        counter = self._counter
        self.requests = counter("nmbot_requests_total", "Slack requests that passed verification, by surface",
                                "surface")
        self.ack_seconds = Histogram("nmbot_ack_seconds", "Time from receiving a Slack request to answering it",
                                     buckets=ACK_BUCKETS, registry=self.registry)
        self.refused = counter("nmbot_refused_requests_total", "Requests refused before Slack's app saw them",
                               "reason")
        self.answers = counter("nmbot_answers_total", "Cards and log summaries given, by surface", "surface")
        self.abstentions = counter("nmbot_abstentions_total",
                                   "Questions met with suggestions, an honest 'not sure' or 'not a Number Masking "
                                   "code', by surface", "surface")
        self.autoreplies = counter("nmbot_autoreplies_total", "Replies to pasted logs nobody asked about, by mode",
                                   "mode")
        self.deliveries = counter("nmbot_event_deliveries_total",
                                  "Message deliveries by outcome: first, a duplicate (retry, other replica), "
                                  "or unchecked (the state store failed: answered anyway)", "outcome")
        self.slack_errors = counter("nmbot_slack_api_errors_total",
                                    "Failed Slack Web API attempts (retried ones included), by method and error",
                                    "method", "error")
        self.knowledge_reloads = counter("nmbot_knowledge_reloads_total", "Knowledge-base reloads, by result",
                                         "result")
        self.listener_runs = counter("nmbot_listener_runs_total", "Listener runs finished")
        self.store_errors = counter("nmbot_store_errors_total", "State store operations the database failed, "
                                    "by operation", "operation")
        # Socket Mode (bot/slack/socket_mode.py); nmbot_socket_mode_connected is a gauge it adds.
        self.socket_connections = counter("nmbot_socket_mode_connections_total",
                                          "Socket Mode connections Slack greeted: the first and every reconnection")
        self.socket_failures = counter("nmbot_socket_mode_failures_total",
                                       "Socket Mode connection attempts that failed, by reason", "reason")
        # The journal of acknowledged events (journal.py).
        self.events_unrecorded = counter("nmbot_events_unrecorded_total",
                                         "Events acknowledged without being recorded first (the state store "
                                         "was down): answered, but lost if the process dies before replying")
        self.events_recovered = counter("nmbot_events_recovered_total",
                                        "Acknowledged events taken up again after the process answering them "
                                        "died, by outcome: answered, already_answered (the reply was in the "
                                        "thread), unchecked (the thread could not be read: tried again later)",
                                        "outcome")

    def _counter(self, name: str, help_text: str, *labels: str) -> LabelledCounter:
        return LabelledCounter(self.registry, name, help_text, labels)

    def in_flight(self, name: str, help_text: str) -> Gauge:
        """A gauge of work under way, moved with `inc()` and `dec()`: exact across processes too (their sum)."""
        return Gauge(name, help_text, registry=self.registry, multiprocess_mode="livesum")

    def gauge(self, name: str, help_text: str, read: Callable[[], float]) -> None:
        """A gauge whose value is `read()` when scraped. Between processes the latest reading wins, so
        use it for what every process sees alike (the shared store), not for per-process amounts."""
        gauge = Gauge(name, help_text, registry=self.registry, multiprocess_mode="livemostrecent")
        if self.shared:
            self._scrape_time.append((gauge, read))  # another process renders the page: see render()
        else:
            gauge.set_function(read)

    def watch_store(self, store) -> None:
        """nmbot_store_up and nmbot_store_errors_total for `store` (a StateStore)."""
        self.gauge("nmbot_store_up", "1 when the state store reads and writes its tables in time, else 0",
                   lambda: 1 if store.ping() else 0)
        store.on_error(lambda operation: self.store_errors.inc(operation=operation))

    def count_request(self, body: dict) -> None:
        self.requests.inc(surface=surface_of(body))

    def count_reply(self, kind: Kind, surface: Surface) -> None:
        if kind in EXPLAINED:
            self.answers.inc(surface=surface)
        elif kind in ABSTAINED:
            self.abstentions.inc(surface=surface)
        if surface in (Surface.AUTOREPLY, Surface.SHADOW):
            self.autoreplies.inc(mode=Autoreply.ON if surface == Surface.AUTOREPLY else Autoreply.SHADOW)

    def render(self) -> bytes:
        """The /metrics page: this process's figures, or every worker's added up when they share them."""
        if not self.shared:
            return generate_latest(self.registry)
        for gauge, read in self._scrape_time:  # read now, so this scrape shows the value as of now
            gauge.set(read())
        merged = CollectorRegistry()
        MultiProcessCollector(merged)
        return generate_latest(merged)


class CountRequests(Middleware):
    """Bolt global middleware counting each verified request by surface (it runs after the signature check).
    A class, like `payloads.RefuseMalformed`: Bolt builds a function middleware's arguments by reading the
    payload, on every request."""

    def __init__(self, metrics: Metrics):
        self.metrics = metrics

    def process(self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]):  # noqa: A002
        self.metrics.count_request(req.body)
        return next()


def request_counter(metrics: Metrics) -> CountRequests:
    """The Bolt global middleware counting each verified request by surface (`app.use`)."""
    return CountRequests(metrics)


def surface_of(body: dict) -> str:
    for surface, test in (("command", is_slash_command), ("event", is_event), ("action", is_action),
                          ("shortcut", is_shortcut), ("view", is_view), ("options", is_options)):
        if test(body):
            return surface
    return "other"


class SlackErrorCounter(RetryHandler):
    """Counts every failed Web API attempt and never asks for a retry.

    A retry handler is the one hook slack_sdk calls for every response and
    connection error, in every per-request client Bolt copies from the app's
    client; it must come first in the list to see attempts other handlers retry.
    """

    def __init__(self, metrics: Metrics):
        super().__init__(max_retry_count=math.inf)
        self.metrics = metrics

    def _can_retry(self, *, state, request, response=None, error=None) -> bool:
        failure = _failure_of(response, error)
        if failure:
            method = urlsplit(request.url).path.rsplit("/", 1)[-1] or "unknown"
            self.metrics.slack_errors.inc(method=method, error=failure)
        return False


def _failure_of(response, error) -> str:
    if response is None:
        return type(error).__name__ if error is not None else ""
    if response.status_code != 200:
        return "ratelimited" if response.status_code == 429 else f"http_{response.status_code}"
    body = response.body if isinstance(response.body, dict) else {}
    return str(body.get("error") or "unknown_error") if body.get("ok") is False else ""
