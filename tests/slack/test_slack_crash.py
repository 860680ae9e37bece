"""Kill -9 of the whole `nmbot serve --http` mid-burst, then a new server on the same SQLite file: every
event answered exactly once, none twice.

The stand-in holds every reply the first server sends, so when the kill lands events are acknowledged
and not answered. Half of the held replies reach Slack (the stand-in posts them once released, as Slack
would a request whose sender died waiting for the answer), half never do. The second server must post the
missing ones and find the others in their threads by the claim key in their metadata.

The server is started as the leader of a process group of its own and the whole group is killed, so the
test holds for any process layout.
"""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest
from helpers import poll_until
from server_process import ServerProcess, bot_env
from slack_requests import SlackSender, message
from webapi_stub import Fault, WebApiStub

from nmbot.store import open_store

BURST = 24
IN_FLIGHT = 4  # replies under way, at least, when the kill lands
LEASE = "1"  # seconds: the second server takes up what the first held soon after it starts


@dataclass(frozen=True)
class Crash:
    acked: list[str]  # claim keys of the events the first server answered 200
    recorded: set[str]  # those in its journal, unanswered, when it died
    replies: dict[str, int]  # claim key -> replies the stand-in holds, once the second server is done


def key_of(event: dict) -> str:
    return f"msg:{event['channel']}:{event['ts']}"


@pytest.fixture(scope="module")
def crash(tmp_path_factory) -> Iterator[Crash]:
    stub = WebApiStub().start()
    try:
        yield kill_mid_burst(stub, tmp_path_factory.mktemp("crash"))
    finally:
        stub.stop()


def kill_mid_burst(stub: WebApiStub, cwd: Path) -> Crash:
    env = bot_env(stub, NMBOT_EVENT_LEASE_SECONDS=LEASE)
    release = threading.Event()
    stub.fail_next("chat.postMessage", *[Fault(hold=release, drop=n % 2 == 1) for n in range(BURST)])
    first = ServerProcess(env, cwd, own_group=True)
    try:
        slack = SlackSender(first.start())
        events = [message(f'level=error call={n} errorCode=-2005 errorMsg="Unable to synthesize text to speech"')
                  for n in range(BURST)]
        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(lambda event: slack.event(event).status, events))
        stub.wait_for("chat.postMessage", IN_FLIGHT, timeout=20)
    finally:
        first.kill_group()
    stub.clear_faults()
    release.set()  # what the dead server sent is done with, posted or not, before the next one looks
    stub.wait_until(lambda: stub.busy == 0, 10, "the replies the dead server sent to be done with")
    with open_store(str(cwd / "state.sqlite3")) as store:
        recorded = {entry.key for entry in store.pending_events()}
        second = ServerProcess(env, cwd)
        try:
            second.start()
            poll_until(lambda: not store.pending_events(), "every recorded event settled", timeout=30)
        finally:
            assert second.stop() == 0
    assert "Traceback" not in second.text, second.text
    acked = [key_of(event) for event, status in zip(events, statuses) if status == 200]
    return Crash(acked, recorded, stub.posted_with_claim())


def test_every_event_in_progress_when_the_server_died_is_answered_once(crash: Crash):
    assert len(crash.recorded) >= IN_FLIGHT
    assert all(crash.replies.get(key) == 1 for key in crash.recorded), crash.replies
    assert set(crash.replies.values()) == {1}, "none twice"


def test_every_acknowledged_event_is_answered_once_after_a_kill_mid_burst(crash: Crash):
    assert len(crash.acked) == BURST
    assert crash.replies == {key: 1 for key in crash.acked}, "none missing, none twice"
