"""What the running bot counts, shown at GET /metrics in Prometheus' text format.

Hand-written rather than prometheus-client: a handful of counters, one
histogram and two gauges do not justify a dependency. Each process keeps its
own; the HTTP server's page adds in the event worker's (`snapshot`, `render`).
"""
from __future__ import annotations

import math
import threading
from typing import Iterable, Sequence
from urllib.parse import urlsplit

from slack_bolt.request.payload_utils import (
    is_action,
    is_event,
    is_options,
    is_shortcut,
    is_slash_command,
    is_view,
)
from slack_sdk.http_retry.handler import RetryHandler

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Slack's deadline is 3 s; the buckets resolve the range that matters, well below it.
ACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0)


def _escape(value: str) -> str:
    return value.replace("\\", r"\\").replace('"', r"\"").replace("\n", r"\n")


def _number(value: float) -> str:
    if value == math.inf:
        return "+Inf"
    return repr(float(value)) if value != int(value) else str(int(value))


class _Metric:
    kind = ""

    def __init__(self, name: str, help_text: str, labels: Sequence[str] = ()):
        self.name, self.help, self.labels = name, help_text, tuple(labels)
        self._lock = threading.Lock()

    def _key(self, labels: dict) -> tuple[str, ...]:
        return tuple(str(labels.get(name, "")) for name in self.labels)

    def _labels(self, key: tuple[str, ...], extra: str = "") -> str:
        pairs = [f'{n}="{_escape(v)}"' for n, v in zip(self.labels, key)]
        if extra:
            pairs.append(extra)
        return "{" + ",".join(pairs) + "}" if pairs else ""

    def render(self, others: Sequence = ()) -> list[str]:
        """The metric's lines, its state summed with `others` (the `state()` of the same metric elsewhere)."""
        return [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} {self.kind}", *self._samples(others)]

    def state(self):
        """What `render` needs, as plain data another process can send."""
        raise NotImplementedError

    def _samples(self, others: Sequence) -> Iterable[str]:
        raise NotImplementedError


class Counter(_Metric):
    kind = "counter"

    def __init__(self, name: str, help_text: str, labels: Sequence[str] = ()):
        super().__init__(name, help_text, labels)
        self._values: dict[tuple[str, ...], float] = {}

    def inc(self, amount: float = 1, **labels: str) -> None:
        key = self._key(labels)
        with self._lock:
            self._values[key] = self._values.get(key, 0) + amount

    def value(self, **labels: str) -> float:
        with self._lock:
            return self._values.get(self._key(labels), 0)

    def state(self) -> dict[tuple[str, ...], float]:
        with self._lock:
            return dict(self._values)

    def _samples(self, others: Sequence) -> Iterable[str]:
        total = self.state()
        for other in others:
            for key, value in other.items():
                total[key] = total.get(key, 0) + value
        return [f"{self.name}{self._labels(k)} {_number(v)}" for k, v in sorted(total.items())]


class Gauge(_Metric):
    """A value read when scraped, so it can never drift from what it describes; `combine` makes one
    value of this process's and the others' (a sum by default)."""

    kind = "gauge"

    def __init__(self, name: str, help_text: str, read, combine=sum):
        super().__init__(name, help_text)
        self._read, self._combine = read, combine

    def state(self) -> float:
        return float(self._read())

    def _samples(self, others: Sequence) -> Iterable[str]:
        return [f"{self.name} {_number(self._combine([self.state(), *others]))}"]


class Histogram(_Metric):
    kind = "histogram"

    def __init__(self, name: str, help_text: str, buckets: Sequence[float]):
        super().__init__(name, help_text)
        self.buckets = tuple(sorted(buckets)) + (math.inf,)
        self._counts = [0] * len(self.buckets)
        self._sum = 0.0

    def observe(self, value: float) -> None:
        with self._lock:
            self._sum += value
            for i, bound in enumerate(self.buckets):
                if value <= bound:
                    self._counts[i] += 1
                    break

    @property
    def count(self) -> int:
        with self._lock:
            return sum(self._counts)

    def state(self) -> tuple[list[int], float]:
        with self._lock:
            return list(self._counts), self._sum

    def _samples(self, others: Sequence) -> Iterable[str]:
        counts, total = self.state()
        for other_counts, other_sum in others:
            counts = [a + b for a, b in zip(counts, other_counts)]
            total += other_sum
        lines, running = [], 0
        for bound, count in zip(self.buckets, counts):
            running += count
            lines.append(f'{self.name}_bucket{{le="{_number(bound)}"}} {running}')
        lines += [f"{self.name}_sum {_number(total)}", f"{self.name}_count {running}"]
        return lines


class Metrics:
    """Every figure one process keeps; `render()` is the /metrics page."""

    def __init__(self) -> None:
        self.requests = Counter("nmbot_requests_total", "Slack requests that passed verification, by surface",
                                ("surface",))
        self.ack_seconds = Histogram("nmbot_ack_seconds", "Time from receiving a Slack request to answering it",
                                     ACK_BUCKETS)
        self.refused = Counter("nmbot_refused_requests_total", "Requests refused before Slack's app saw them",
                               ("reason",))
        self.answers = Counter("nmbot_answers_total", "Cards and log summaries given, by surface", ("surface",))
        self.abstentions = Counter("nmbot_abstentions_total",
                                   "Questions met with suggestions or an honest 'not sure', by surface", ("surface",))
        self.autoreplies = Counter("nmbot_autoreplies_total", "Replies to pasted logs nobody asked about, by mode",
                                   ("mode",))
        self.deliveries = Counter("nmbot_event_deliveries_total",
                                  "Message deliveries by outcome: first, a duplicate (retry, other replica), "
                                  "or unchecked (the state store failed: answered anyway)",
                                  ("outcome",))
        self.slack_errors = Counter("nmbot_slack_api_errors_total",
                                    "Failed Slack Web API attempts (retried ones included), by method and error",
                                    ("method", "error"))
        self.knowledge_reloads = Counter("nmbot_knowledge_reloads_total", "Knowledge-base reloads, by result",
                                         ("result",))
        self.listener_runs = Counter("nmbot_listener_runs_total", "Listener runs finished")
        self.store_errors = Counter("nmbot_store_errors_total", "State store operations the database failed, "
                                    "by operation", ("operation",))
        self._gauges: list[Gauge] = []
        # The journal of acknowledged events (journal.py).
        self.events_unrecorded = Counter("nmbot_events_unrecorded_total",
                                         "Events acknowledged without being recorded first (the state store "
                                         "was down): answered, but lost if the process dies before replying")
        self.events_recovered = Counter("nmbot_events_recovered_total",
                                        "Acknowledged events taken up again after the process answering them "
                                        "died, by outcome: answered, already_answered (the reply was in the "
                                        "thread), unchecked (the thread could not be read: tried again later)",
                                        ("outcome",))

    def gauge(self, name: str, help_text: str, read, combine=sum) -> None:
        self._gauges.append(Gauge(name, help_text, read, combine))

    def watch_store(self, store) -> None:
        """nmbot_store_up and nmbot_store_errors_total for `store` (a StateStore)."""
        # Every process serving the bot has a store of its own: the bot's is up only when each one is.
        self.gauge("nmbot_store_up", "1 when the state store reads and writes its tables in time, else 0",
                   lambda: 1 if store.ping() else 0, combine=min)
        store.on_error(lambda operation: self.store_errors.inc(operation=operation))

    def count_request(self, body: dict) -> None:
        self.requests.inc(surface=surface_of(body))

    def count_reply(self, kind: str, surface: str) -> None:
        if kind in ("card", "summary"):
            self.answers.inc(surface=surface)
        elif kind in ("suggestions", "not_sure"):
            self.abstentions.inc(surface=surface)
        if surface in ("autoreply", "shadow"):
            self.autoreplies.inc(mode="on" if surface == "autoreply" else "shadow")

    def _all(self) -> list[_Metric]:
        return [self.requests, self.ack_seconds, self.refused, self.answers, self.abstentions, self.autoreplies,
                self.deliveries, self.slack_errors, self.knowledge_reloads, self.listener_runs, self.store_errors,
                self.events_unrecorded, self.events_recovered, *self._gauges]

    def snapshot(self) -> dict:
        """Every figure as plain data, by metric name: what another process's `render` adds in."""
        return {m.name: m.state() for m in self._all()}

    def render(self, others: Sequence[dict] = ()) -> str:
        """The /metrics page: this process's figures, plus the `snapshot()`s of others serving the same bot."""
        return "\n".join(line for m in self._all()
                         for line in m.render([o[m.name] for o in others if m.name in o])) + "\n"


def request_counter(metrics: Metrics):
    """A Bolt global middleware counting each verified request by surface (it runs after the signature check)."""

    def count_request(body: dict, next) -> None:  # noqa: A002 - Bolt passes arguments by these names
        metrics.count_request(body)
        next()

    return count_request


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
