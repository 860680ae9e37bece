"""Two real `nmbot serve --http` processes on one PostgreSQL database and one Web API stand-in.

Slack's deliveries of one message (the event, its retries, and the message
copy of a mention) land on either replica, at once or in any order: exactly
one reply. The database is a schema of this module's own on the local
PostgreSQL server (dropped afterwards); the tests skip, saying why, only when
no server listens there.
"""
from __future__ import annotations

import itertools
import random
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Iterator

import pytest
from helpers import poll_until
from pg_schema import fresh_schema, reachable_pg_url
from server_process import ServerProcess, bot_env
from slack_requests import SlackSender, get, mention, message
from webapi_stub import WebApiStub

ROUNDS = 6  # messages per test; each delivered several times over both replicas
_ids = itertools.count(1)


@dataclass
class Replica:
    server: ServerProcess
    url: str
    slack: SlackSender

    def metric(self, name: str) -> float:
        found = re.search(rf"^{re.escape(name)} (\S+)$", get(self.server.probe_url + "/metrics").body, re.M)
        return float(found.group(1)) if found else 0.0


@pytest.fixture(scope="module")
def database_url() -> Iterator[str]:
    url = reachable_pg_url()
    with fresh_schema(url) as (_, schema_url):
        yield schema_url


@pytest.fixture(scope="module")
def api() -> Iterator[WebApiStub]:
    stub = WebApiStub().start()
    yield stub
    stub.stop()


@pytest.fixture(scope="module")
def replicas(api: WebApiStub, database_url: str, tmp_path_factory) -> Iterator[list[Replica]]:
    env = bot_env(api, NMBOT_DATABASE_URL=database_url)
    servers = [ServerProcess(env, tmp_path_factory.mktemp(f"replica{i}")) for i in range(2)]
    try:
        urls = [server.start() for server in servers]
        yield [Replica(server, url, SlackSender(url)) for server, url in zip(servers, urls)]
    finally:
        codes = [server.stop() for server in servers]
    assert codes == [0, 0]
    for server in servers:
        assert "Traceback" not in server.text, server.text[server.text.find("Traceback") - 2000:][:6000]


@dataclass(frozen=True)
class Delivery:
    replica: int
    event: dict
    event_id: str
    retry: int | None = None


def deliver_at_once(replicas: list[Replica], deliveries: list[Delivery]) -> None:
    """Send every delivery at the same moment, each on its own connection, and wait until both
    replicas have finished every listener run those deliveries started."""
    before = sum(r.metric("nmbot_listener_runs_total") for r in replicas)
    start = threading.Barrier(len(deliveries))

    def send(d: Delivery) -> int:
        start.wait(10)
        return replicas[d.replica].slack.event(d.event, event_id=d.event_id, retry=d.retry).status

    with ThreadPoolExecutor(max_workers=len(deliveries)) as pool:
        assert list(pool.map(send, deliveries)) == [200] * len(deliveries)
    expected = before + len(deliveries)
    poll_until(lambda: sum(r.metric("nmbot_listener_runs_total") for r in replicas) >= expected
               and all(r.metric("nmbot_listeners_in_flight") == 0 for r in replicas),
               f"{len(deliveries)} listener runs to finish")


def replies_in(api: WebApiStub, event: dict) -> list:
    return [c for c in api.calls_to("chat.postMessage") if c.body.get("thread_ts") == event["ts"]]


def paste(n: int) -> dict:
    return message(f"level=error call {n} failed errorCode=-2010 errorMsg=\"The trunk capacity has been exceeded\"")


def test_the_same_event_sent_to_both_replicas_at_once_is_answered_once(api, replicas):
    events = [paste(i) for i in range(ROUNDS)]
    deliveries = []
    for event in events:
        event_id = f"EvSame{next(_ids):06d}"
        deliveries += [Delivery(0, event, event_id), Delivery(1, event, event_id)]
    deliver_at_once(replicas, deliveries)
    for event in events:
        assert len(replies_in(api, event)) == 1


def test_retries_in_any_order_on_either_replica_are_answered_once(api, replicas):
    rng = random.Random(7)
    events = [paste(100 + i) for i in range(ROUNDS)]
    deliveries = []
    for event in events:
        event_id = f"EvRetry{next(_ids):06d}"
        # The first delivery and three retries, each to a replica picked at random.
        deliveries += [Delivery(rng.randrange(2), event, event_id, retry) for retry in (None, 1, 2, 3)]
    rng.shuffle(deliveries)
    deliver_at_once(replicas, deliveries)
    for event in events:
        assert len(replies_in(api, event)) == 1


def test_a_mention_delivered_as_app_mention_and_as_message_is_answered_once(api, replicas):
    events = []
    deliveries = []
    for i in range(ROUNDS):
        as_mention = mention(f"what does -2004 mean? ({i})")
        as_message = {**as_mention, "type": "message", "channel_type": "channel"}
        events.append(as_mention)
        first, second = (0, 1) if i % 2 else (1, 0)
        mention_id, message_id = f"EvMention{next(_ids):06d}", f"EvMessage{next(_ids):06d}"
        deliveries += [Delivery(first, as_mention, mention_id), Delivery(second, as_message, message_id),
                       Delivery(second, as_mention, mention_id, 1), Delivery(first, as_message, message_id, 1)]
    deliver_at_once(replicas, deliveries)
    for event in events:
        [reply] = replies_in(api, event)
        assert "No coverage available" in reply.blocks_text
