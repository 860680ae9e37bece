"""The usage log: rows for reports, written behind the answers, never lost to a short store outage."""
from __future__ import annotations

from helpers import poll_until

from nmbot.slack.usage import UsageLog
from nmbot.store import SqlStore, StoreError, UsageEvent, open_store


class FlakyStore(SqlStore):
    """Refuses the first `failures` writes of usage rows, as a database that is restarting would."""

    def __init__(self, failures: int) -> None:
        super().__init__("memory://")
        self.failures = failures
        self.writes = 0

    def _record_events(self, events: list[UsageEvent]) -> None:
        self.writes += 1
        if self.failures:
            self.failures -= 1
            raise StoreError("state store sqlite:///x failed: database is locked")
        super()._record_events(events)


def test_rows_are_written_in_one_go_on_flush():
    store = FlakyStore(failures=0)
    log = UsageLog(store, flush_seconds=3600).start()
    for code in (-2004, -2005, -2004):
        log.add(kind="card", surface="command", channel="C1", code=code)
    assert store.events() == [] and log.pending == 3, "nothing is written before a flush is due"
    assert log.flush() == 3
    assert [e.code for e in store.events()] == [-2004, -2005, -2004]
    assert store.writes == 1
    log.close()


def test_the_writer_flushes_by_itself_within_the_interval():
    store = open_store("memory://")
    log = UsageLog(store, flush_seconds=0.05).start()
    log.add(kind="card", surface="autoreply", channel="C1", code=-2010)
    poll_until(lambda: len(store.events()) == 1, "the row written without a flush", 5)
    log.close()


def test_many_pending_rows_are_written_early():
    store = open_store("memory://")
    log = UsageLog(store, flush_seconds=3600, flush_rows=10).start()
    for _ in range(10):
        log.add(kind="card", surface="command", channel="C1", code=-2004)
    poll_until(lambda: len(store.events()) == 10, "the ten rows written early", 5)
    log.close()


def test_rows_survive_a_store_outage_and_keep_their_order():
    store = FlakyStore(failures=1)
    log = UsageLog(store, flush_seconds=3600).start()
    log.add(kind="card", surface="command", channel="C1", code=-2001)
    assert log.flush() == 0 and log.pending == 1, "kept after the failed write"
    log.add(kind="card", surface="command", channel="C1", code=-2002)
    assert log.flush() == 2
    assert [e.code for e in store.events()] == [-2001, -2002]
    log.close()


def test_close_writes_what_is_left():
    store = open_store("memory://")
    log = UsageLog(store, flush_seconds=3600).start()
    log.add(kind="removed", surface="reaction", channel="C1", code=None)
    log.close()
    assert [(e.kind, e.code) for e in store.events()] == [("removed", None)]


def test_rows_carry_the_time_they_were_counted():
    clock = [1_700_000_000.0]
    store = open_store("memory://", clock=lambda: clock[0])
    log = UsageLog(store, flush_seconds=3600).start()
    log.add(kind="card", surface="command", channel="C1", code=-2004)
    clock[0] += 30
    log.close()
    assert store.events()[0].at == 1_700_000_000.0



def test_unanswered_questions_are_written_behind_masked_and_kept_through_an_outage():
    class Refusing(SqlStore):
        failures = 1

        def _record_unanswered(self, **question) -> None:
            if self.failures:
                self.failures -= 1
                raise StoreError("state store sqlite:///x failed: database is locked")
            super()._record_unanswered(**question)

    store = Refusing("memory://")
    log = UsageLog(store, flush_seconds=3600).start()
    log.add_unanswered(text="why does +6591234567 not ring", surface="command", channel="C1", suggestions=[-2004])
    assert log.pending == 1 and store.unanswered() == []
    assert log.flush() == 0 and log.pending == 1, "kept after the failed write"
    log.close()
    [row] = store.unanswered()
    assert "6591234567" not in row.text and row.suggestions == (-2004,)
