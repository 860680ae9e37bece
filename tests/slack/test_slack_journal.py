"""Nothing acknowledged is lost: events are in the journal before the 200, settled once answered (or once
silence is decided), and a recovery pass answers what a stopped process left, once, unless the thread
already shows the reply."""
from __future__ import annotations

import threading
import time
from typing import Iterator

import pytest
from helpers import FakeClock, poll_until
from slack_requests import CHANNEL, mention, message
from store_faults import OUTAGES, DatabaseFault, Unavailable, database_fault
from webapi_stub import BOT_ID, Fault

from nmbot.slack.journal import Recovery
from nmbot.slack.leases import Leases
from nmbot.store import JournalEntry, StateStore, StoreError, open_store

PASTE = 'level=error sessionId=7d3f errorCode=-2005 errorMsg="Unable to synthesize text to speech" callee=+6591234567'
LEASE = 60.0
HOUR = 3600.0


@pytest.fixture
def clock() -> FakeClock:
    """The store's time, moved by the test: a lease lapses when the test says so."""
    return FakeClock(time.time())


@pytest.fixture
def bot_store(clock: FakeClock, request) -> StateStore:
    """A memory store on the test's clock; with param "left_behind", holding what a stopped process left;
    with a `db_fault` in the test, the store on that database."""
    if "db_fault" in request.fixturenames:
        return open_store(request.getfixturevalue("db_fault").url)
    store = open_store("memory://", clock=clock)
    if getattr(request, "param", None) == "left_behind":
        for entry in LEFT_BEHIND:
            store.journal_event(entry, owner="host:gone", lease=LEASE, keep=HOUR)
        clock.advance(LEASE)
    return store


def key_of(event: dict) -> str:
    return f"msg:{event['channel']}:{event['ts']}"


def was_recorded(store: StateStore, event: dict) -> bool:
    """Whether the journal has this event's key (a fresh record of the same key is refused then)."""
    probe = JournalEntry(key_of(event), "message", event["channel"], event["ts"])
    return not store.journal_event(probe, owner="test", lease=LEASE, keep=HOUR)


def deliver(bot, event: dict) -> None:
    assert bot.slack.event(event).status == 200


def wait_settled(bot, timeout: float = 10.0) -> None:
    """Every recorded event settled: a reply's settle is written behind it (leases.py)."""
    poll_until(lambda: bot.store.pending_events() == [],
               lambda: f"every event settled; still unsettled: {bot.store.pending_events()}", timeout)


def recovered(bot, outcome: str) -> float:
    return bot.wsgi.deps.metrics.events_recovered.value(outcome=outcome)


# --- recorded before the ack, settled after --------------------------------------------------

def test_an_event_is_in_the_journal_when_its_200_arrives(bot):
    release = threading.Event()
    busy = [mention(f"what does -200{n} mean?") for n in range(1, 5)]
    bot.stub.fail_next("chat.postMessage", *[Fault(hold=release)] * len(busy))
    for event in busy:  # every listener thread waits on its reply
        deliver(bot, event)
    bot.stub.wait_for("chat.postMessage", len(busy))
    event = message(PASTE)
    deliver(bot, event)
    [pending] = [e for e in bot.store.pending_events() if e.key == key_of(event)]
    assert len(bot.posts()) == len(busy), "its listener has not even started"
    assert (pending.event_type, pending.channel, pending.ts, pending.thread_ts) == ("message", CHANNEL, event["ts"], "")
    assert "+6591234567" not in pending.text and "errorCode=-2005" in pending.text, "phone numbers masked"
    release.set()
    bot.wait_idle()
    wait_settled(bot)


def test_every_reply_names_its_claim_and_settles_the_event(bot):
    paste, question = message(PASTE), mention("what does -2004 mean?", thread_ts="1699999999.000100")
    deliver(bot, paste)
    deliver(bot, question)
    bot.wait_idle()
    assert {post.body["thread_ts"]: post.body["metadata"] for post in bot.posts()} == {
        paste["ts"]: {"event_type": "nmbot_reply", "event_payload": {"claim": key_of(paste)}},
        "1699999999.000100": {"event_type": "nmbot_reply", "event_payload": {"claim": key_of(question)}},
    }
    wait_settled(bot)
    assert was_recorded(bot.store, paste) and was_recorded(bot.store, question)


def test_the_plain_text_retry_names_the_claim_too(bot):
    bot.stub.fail_next("chat.postMessage", Fault(error="msg_blocks_too_long"))
    event = message(PASTE)
    deliver(bot, event)
    bot.wait_idle()
    refused, plain = bot.posts()
    assert "blocks" not in plain.body and plain.body["metadata"] == refused.body["metadata"]
    assert plain.body["metadata"]["event_payload"]["claim"] == key_of(event)
    wait_settled(bot)


def test_deciding_to_say_nothing_settles_the_event(bot):
    chatter = message("good morning, is the dashboard slow for anyone else?")
    deliver(bot, chatter)
    bot.store.update_channel_settings("CMUTED", muted_until=time.time() + HOUR)
    muted = message(PASTE, channel="CMUTED")
    deliver(bot, muted)
    bot.wait_idle()
    assert bot.posts() == []
    assert was_recorded(bot.store, chatter) and was_recorded(bot.store, muted)
    assert bot.store.pending_events() == []


def test_what_the_bot_would_never_answer_is_not_recorded(bot):
    from_a_bot = message(PASTE, bot_id="B0THER", user="U0THERBOT")
    edit = message(PASTE, subtype="message_changed")
    own = message(PASTE, bot_id=BOT_ID)
    for event in (from_a_bot, edit, own):
        deliver(bot, event)
    bot.wait_idle()
    assert not any(was_recorded(bot.store, event) for event in (from_a_bot, edit, own))


@pytest.mark.parametrize("bot_env", [{"NMBOT_RECOVER_HOURS": "0"}])
def test_recovery_hours_zero_records_nothing(bot):
    event = message(PASTE)
    deliver(bot, event)
    bot.wait_idle()
    assert len(bot.posts()) == 1
    assert not was_recorded(bot.store, event)


# --- taken up again ----------------------------------------------------------------------------

def test_a_reply_slack_never_received_is_posted_by_the_next_recovery_pass_once(bot, clock):
    bot.stub.fail_next("chat.postMessage", *[Fault(drop=True)] * 3)  # the first try and both retries
    event = message(PASTE)
    deliver(bot, event)
    bot.wait_idle()
    bot.stub.clear_faults()
    assert bot.stub.posted == [] and [e.key for e in bot.store.pending_events()] == [key_of(event)]
    assert Recovery(bot.wsgi.deps).run() == {}, "its lease has not lapsed yet"
    clock.advance(LEASE)
    passes = [Recovery(bot.wsgi.deps) for _ in range(3)]
    threads = [threading.Thread(target=p.run) for p in passes]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    bot.wait_idle()
    assert bot.stub.posted_with_claim() == {key_of(event): 1}
    [post] = [m for m in bot.stub.posted]
    assert post["thread_ts"] == event["ts"]
    wait_settled(bot)
    assert recovered(bot, "answered") == 1


def test_a_reply_that_went_out_before_the_failure_is_found_in_the_thread_and_not_posted_again(bot, clock):
    # Slack posts the reply, then the connection drops before its answer; the retries drop too.
    bot.stub.fail_next("chat.postMessage", Fault(drop=True, acted=True), Fault(drop=True), Fault(drop=True))
    event = message(PASTE)
    deliver(bot, event)
    bot.wait_idle()
    bot.stub.clear_faults()
    assert bot.stub.posted_with_claim() == {key_of(event): 1}
    assert [e.key for e in bot.store.pending_events()] == [key_of(event)], "the bot never learnt it went out"
    clock.advance(LEASE)
    assert Recovery(bot.wsgi.deps).run() == {"already_answered": 1}
    bot.wait_idle()
    assert bot.stub.posted_with_claim() == {key_of(event): 1}, "no second reply"
    [read] = bot.stub.calls_to("conversations.replies")
    assert (read.body["channel"], read.body["ts"], read.body["include_all_metadata"]) == (CHANNEL, event["ts"], "1")
    wait_settled(bot)


def test_an_unreadable_thread_leaves_the_event_for_a_later_pass(bot, clock):
    bot.stub.fail_next("chat.postMessage", *[Fault(drop=True)] * 3)
    event = message(PASTE)
    deliver(bot, event)
    bot.wait_idle()
    bot.stub.clear_faults()
    bot.stub.fail_next("conversations.replies", Fault(error="internal_error"))
    clock.advance(LEASE)
    assert Recovery(bot.wsgi.deps).run() == {"unchecked": 1}
    assert bot.stub.posted == []
    clock.advance(LEASE)
    assert Recovery(bot.wsgi.deps).run() == {"answered": 1}
    bot.wait_idle()
    assert bot.stub.posted_with_claim() == {key_of(event): 1}


# What a process that stopped left in the journal: a paste, a mention and a paste with a log file.
LEFT_BEHIND = [
    JournalEntry(f"msg:{CHANNEL}:1700002001.000200", "message", CHANNEL, "1700002001.000200", user="U1", text=PASTE),
    JournalEntry(f"msg:{CHANNEL}:1700002002.000200", "app_mention", CHANNEL, "1700002002.000200",
                 thread_ts="1700002000.000100", user="U1", text="<@UBOT0001> what does -2004 mean?"),
    JournalEntry(f"msg:{CHANNEL}:1700002003.000200", "message", CHANNEL, "1700002003.000200", user="U1",
                 text="see attached", files=("FLEFT",)),
]
TRUNK_LOG = b'level=error errorCode=-2010 errorMsg="The trunk capacity has been exceeded"\n'


@pytest.mark.parametrize("bot_store", ["left_behind"], indirect=True)
def test_a_new_process_answers_what_was_left_as_it_starts(stub, bot_store, request):
    stub.add_file("FLEFT", "app.log", TRUNK_LOG)
    bot = request.getfixturevalue("bot")  # its maintenance thread looks as it starts
    stub.wait_until(lambda: len(stub.posted) == len(LEFT_BEHIND), 10, "a reply to each event left behind")
    bot.wait_idle()
    assert stub.posted_with_claim() == {entry.key: 1 for entry in LEFT_BEHIND}
    by_thread = {call.body["thread_ts"]: call for call in bot.posts()}
    assert "-2005" in by_thread["1700002001.000200"].blocks_text
    assert "No coverage available for requested area" in by_thread["1700002000.000100"].blocks_text
    assert "-2010" in by_thread["1700002003.000200"].blocks_text, "the file read again through files.info"
    wait_settled(bot)
    assert recovered(bot, "answered") == 3


# --- leases ---------------------------------------------------------------------------------

def test_a_held_lease_is_renewed_until_every_delivery_holding_it_is_finished(tmp_path):
    lease = 0.3
    with open_store(str(tmp_path / "state.sqlite3")) as store:
        leases = Leases(store, lease=lease, longest=HOUR)
        event = message(PASTE)
        store.journal_event(JournalEntry(key_of(event), "message", CHANNEL, event["ts"]), owner=leases.owner,
                            lease=lease, keep=HOUR)
        leases.hold(key_of(event))
        leases.hold(key_of(event))  # Slack's retry, reaching the process still answering the first delivery
        leases.finish(key_of(event), settled=False)  # the retry, dropped as a duplicate
        held_until = time.monotonic() + 4 * lease
        while time.monotonic() < held_until:  # several leases long, it never lapses
            assert store.take_lapsed_events(owner="host:other", lease=lease) == []
            time.sleep(lease / 10)
        leases.finish(key_of(event), settled=False)
        taken = poll_until(lambda: store.take_lapsed_events(owner="host:other", lease=HOUR),
                           "a lease no longer renewed to lapse", 10 * lease, every=lease / 10)
        assert [e.key for e in taken] == [key_of(event)]
        assert leases.held == 0


def test_replies_are_settled_behind_together_and_what_is_left_at_close(tmp_path):
    with open_store(str(tmp_path / "state.sqlite3")) as store:
        leases = Leases(store, lease=LEASE, longest=HOUR)
        replied, silent = [message(PASTE) for _ in range(3)], message(PASTE)
        for event in (*replied, silent):
            store.journal_event(JournalEntry(key_of(event), "message", CHANNEL, event["ts"]), owner=leases.owner,
                                lease=LEASE, keep=HOUR)
            leases.hold(key_of(event))
        leases.finish(key_of(silent), settled=True)
        assert key_of(silent) not in {e.key for e in store.pending_events()}, "silence leaves no trace: settled at once"
        for event in replied:
            leases.finish(key_of(event), settled=True, replied=True)
        leases.close()  # what the writer thread has not written yet, written now
        assert store.pending_events() == []
        again = message(PASTE)
        store.journal_event(JournalEntry(key_of(again), "message", CHANNEL, again["ts"]), owner=leases.owner,
                            lease=LEASE, keep=HOUR)
        leases.hold(key_of(again))
        leases.finish(key_of(again), settled=True, replied=True)
        # the writer thread, within about a second
        poll_until(lambda: not store.pending_events(), "a reply's settle to be written behind it", 10)


class SettlesRefused:
    """A store whose `settle_events` fails (as a store that is down does) until `down` is cleared."""

    def __init__(self, store: StateStore):
        self.store, self.down = store, True

    def settle_events(self, keys) -> None:
        if self.down:
            raise StoreError("state store is down")
        self.store.settle_events(keys)

    def __getattr__(self, name: str):
        return getattr(self.store, name)


def test_settles_the_store_refused_are_written_once_it_is_back(tmp_path):
    with open_store(str(tmp_path / "state.sqlite3")) as store:
        flaky = SettlesRefused(store)
        leases = Leases(flaky, lease=LEASE, longest=HOUR)
        event = message(PASTE)
        store.journal_event(JournalEntry(key_of(event), "message", CHANNEL, event["ts"]), owner=leases.owner,
                            lease=LEASE, keep=HOUR)
        leases.hold(key_of(event))
        leases.finish(key_of(event), settled=True, replied=True)
        assert leases.write_settles() == 0, "the store refused them"
        assert [e.key for e in store.pending_events()] == [key_of(event)]
        flaky.down = False
        leases.close()
        assert store.pending_events() == []


# --- the store down ----------------------------------------------------------------------------

@pytest.fixture
def db_fault(request, tmp_path) -> Iterator[DatabaseFault]:
    try:
        with database_fault(request.param, tmp_path) as fault:
            yield fault
    except Unavailable as exc:
        pytest.skip(str(exc))


@pytest.mark.parametrize("db_fault", OUTAGES, indirect=True)
def test_while_the_store_is_down_events_are_answered_and_counted_unrecorded(db_fault, request):
    request.getfixturevalue("bot_store")
    bot = request.getfixturevalue("bot")
    db_fault.begin()
    for _ in range(3):
        deliver(bot, message(PASTE))
    bot.wait_idle()
    assert len(bot.posts()) == 3
    assert bot.wsgi.deps.metrics.events_unrecorded.value() == 3
    db_fault.end()
    # Known down, the store is not asked before an ack (a dead database's timeout would hold it): the first
    # event after the outage is answered unrecorded, and its claim shows the store is back.
    first, second = message(PASTE), message(PASTE)
    deliver(bot, first)
    bot.wait_idle()
    deliver(bot, second)
    bot.wait_idle()
    assert len(bot.posts()) == 5 and bot.wsgi.deps.metrics.events_unrecorded.value() == 4
    assert was_recorded(bot.store, second), "recorded again once the store is back"
    wait_settled(bot)
