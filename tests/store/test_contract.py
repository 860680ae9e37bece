"""The state-store contract: one suite, run against every backend.

`store`, `make_store` and `clock` come from conftest.py; each test runs once
per backend (sqlite, postgresql) on a database of its own.
"""
from __future__ import annotations

import threading

import pytest

from nmbot.store import ChannelSettings, Feedback, StateStore, StoreError, Unanswered, UsageEvent


# -- claim ---------------------------------------------------------------------


def test_claim_first_caller_wins(store: StateStore) -> None:
    assert store.claim("event:Ev123", ttl=60) is True
    assert store.claim("event:Ev123", ttl=60) is False
    assert store.claim("event:Ev124", ttl=60) is True
    assert store.claim("msg:C1:1700000000.000100", ttl=60) is True
    assert store.claim("msg:C1:1700000000.000100", ttl=60) is False


def test_claim_expires_after_ttl(store: StateStore, clock) -> None:
    assert store.claim("event:Ev1", ttl=10)
    clock.advance(9.999)
    assert not store.claim("event:Ev1", ttl=10)
    clock.advance(0.001)  # exactly ttl later: the claim is over
    assert store.claim("event:Ev1", ttl=10)
    clock.advance(5)
    assert not store.claim("event:Ev1", ttl=10), "a re-claim is alive for its own ttl"


def test_failed_claim_does_not_extend_the_live_one(store: StateStore, clock) -> None:
    assert store.claim("k", ttl=10)
    clock.advance(8)
    assert not store.claim("k", ttl=100)
    clock.advance(2)
    assert store.claim("k", ttl=10)


def test_claim_is_shared_by_stores_on_one_database(make_store) -> None:
    a, b = make_store(), make_store()
    assert a.claim("event:shared", ttl=60)
    assert not b.claim("event:shared", ttl=60)
    assert b.claim("event:other", ttl=60)
    assert not a.claim("event:other", ttl=60)


def test_claim_keys_are_exact(store: StateStore) -> None:
    keys = ["a", "A", "a ", "é", "ключ", "event:" + "x" * 2000, "msg:C1:1.0", "msg:C1:1.00"]
    assert all(store.claim(k, ttl=60) for k in keys)
    assert not any(store.claim(k, ttl=60) for k in keys)


@pytest.mark.parametrize("ttl", [0, -1, float("nan")])
def test_claim_rejects_non_positive_ttl(store: StateStore, ttl: float) -> None:
    with pytest.raises(ValueError, match="ttl"):
        store.claim("k", ttl=ttl)


def test_claim_rejects_empty_key(store: StateStore) -> None:
    with pytest.raises(ValueError, match="key"):
        store.claim("", ttl=1)


def test_threads_racing_for_keys_claim_each_once(store: StateStore) -> None:
    keys = [f"event:Ev{i}" for i in range(200)]
    won: list[list[str]] = [[] for _ in range(6)]
    start = threading.Barrier(len(won))

    def worker(mine: list[str]) -> None:
        start.wait(timeout=10)
        mine.extend(k for k in keys if store.claim(k, ttl=300))

    threads = [threading.Thread(target=worker, args=(w,)) for w in won]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in threads)
    claimed = [k for w in won for k in w]
    assert sorted(claimed) == sorted(keys), "every key claimed exactly once"


# -- cooldown ------------------------------------------------------------------


def test_cooldown_per_thread_and_code(store: StateStore, clock) -> None:
    assert store.cooldown("C1:1.0", -2004, seconds=300)
    assert not store.cooldown("C1:1.0", -2004, seconds=300)
    assert store.cooldown("C1:1.0", -2005, seconds=300), "another code"
    assert store.cooldown("C1:2.0", -2004, seconds=300), "another thread"
    clock.advance(299)
    assert not store.cooldown("C1:1.0", -2004, seconds=300)
    clock.advance(1)
    assert store.cooldown("C1:1.0", -2004, seconds=300)
    assert not store.cooldown("C1:1.0", -2004, seconds=300)


def test_cooldown_independent_of_claims(store: StateStore) -> None:
    assert store.claim("C1:1.0", ttl=60)
    assert store.cooldown("C1:1.0", 1, seconds=60)


def test_cooldown_zero_seconds_is_disabled(store: StateStore) -> None:
    assert store.cooldown("T", 7, seconds=0)
    assert store.cooldown("T", 7, seconds=0)
    assert store.cooldown("T", 7, seconds=10), "a zero cool-down leaves nothing behind"


def test_cooldown_rejects_bad_arguments(store: StateStore) -> None:
    with pytest.raises(ValueError, match="seconds"):
        store.cooldown("T", 1, seconds=-5)
    with pytest.raises(TypeError, match="code"):
        store.cooldown("T", "1", seconds=5)  # type: ignore[arg-type]


def test_claim_with_cooldowns_starts_them_only_for_the_first_claimer(store: StateStore, clock) -> None:
    assert store.cooldown("C1:1.0", -2005, 60)  # explained in this thread already
    assert store.claim_with_cooldowns("msg:C1:1.1", 60, "C1:1.0", [-2004, -2005, -2010], 60) == [-2004, -2010]
    assert store.claim_with_cooldowns("msg:C1:1.1", 60, "C1:1.0", [-2001], 60) is None, "a repeat delivery"
    assert not store.cooldown("C1:1.0", -2004, 60) and store.cooldown("C1:1.0", -2001, 60)
    assert store.claim_with_cooldowns("msg:C1:1.2", 60, "C1:1.0", [-2004], 60) == [], "claimed, all cooling down"
    clock.advance(60)
    assert store.claim_with_cooldowns("msg:C1:1.3", 60, "C1:1.0", [-2004, -2004], 0) == [-2004, -2004]
    assert store.claim_with_cooldowns("msg:C1:1.4", 60, "C1:1.0", [-2004], 60) == [-2004], "the cool-down ended"


def test_claim_with_cooldowns_rejects_bad_arguments_before_claiming(store: StateStore) -> None:
    with pytest.raises(TypeError):
        store.claim_with_cooldowns("msg:C1:1.1", 60, "C1:1.0", [-2004, "-2005"], 60)  # type: ignore[list-item]
    with pytest.raises(ValueError):
        store.claim_with_cooldowns("msg:C1:1.1", 60, "", [-2004], 60)
    assert store.claim("msg:C1:1.1", 60), "nothing was claimed"


def test_claim_with_cooldowns_is_shared_by_stores_on_one_database(make_store) -> None:
    a, b = make_store(), make_store()
    assert a.claim_with_cooldowns("msg:C1:1.1", 60, "C1:1.1", [-2004], 60) == [-2004]
    assert b.claim_with_cooldowns("msg:C1:1.1", 60, "C1:1.1", [-2004], 60) is None
    assert not b.cooldown("C1:1.1", -2004, 60)


def test_cooldown_is_shared_by_stores_on_one_database(make_store) -> None:
    a, b = make_store(), make_store()
    assert a.cooldown("C1:1.0", 42, seconds=60)
    assert not b.cooldown("C1:1.0", 42, seconds=60)


# -- purge ---------------------------------------------------------------------


def test_purge_expired_counts_only_expired_rows(store: StateStore, clock) -> None:
    assert store.purge_expired() == 0
    store.claim("short", ttl=10)
    store.claim("long", ttl=1000)
    store.cooldown("T", 1, seconds=10)
    store.cooldown("T", 2, seconds=1000)
    clock.advance(10)
    assert store.purge_expired() == 2
    assert store.purge_expired() == 0
    assert not store.claim("long", ttl=10), "live claims survive a purge"
    assert not store.cooldown("T", 2, seconds=10)
    assert store.claim("short", ttl=10)


# -- channel settings ---------------------------------------------------------------


def test_channel_settings_default(store: StateStore) -> None:
    settings = store.channel_settings("C1")
    assert settings == ChannelSettings("C1", "on", None)
    assert settings.autoreply == "on" and settings.muted_until is None


def test_update_channel_settings_changes_only_given_fields(store: StateStore, clock) -> None:
    assert store.update_channel_settings("C1", autoreply="shadow") == ChannelSettings("C1", "shadow", None)
    until = clock.now + 3600.5
    assert store.update_channel_settings("C1", muted_until=until) == ChannelSettings("C1", "shadow", until)
    assert store.update_channel_settings("C1", autoreply="off") == ChannelSettings("C1", "off", until)
    assert store.update_channel_settings("C1") == ChannelSettings("C1", "off", until)
    assert store.channel_settings("C1") == ChannelSettings("C1", "off", until)
    assert store.channel_settings("C2") == ChannelSettings("C2"), "channels are independent"


def test_mute_on_a_new_channel_keeps_default_autoreply(store: StateStore) -> None:
    settings = store.update_channel_settings("C9", muted_until=1_800_000_000.0)
    assert settings == ChannelSettings("C9", "on", 1_800_000_000.0)


def test_muted_until_zero_unmutes(store: StateStore, clock) -> None:
    store.update_channel_settings("C1", muted_until=clock.now + 60)
    assert store.channel_settings("C1").is_muted(clock.now)
    assert store.update_channel_settings("C1", muted_until=0).muted_until is None
    assert not store.channel_settings("C1").is_muted(clock.now)


def test_settings_with_max_age_see_a_change_made_through_the_same_store_at_once(store: StateStore) -> None:
    assert store.channel_settings("C1", max_age=60).autoreply == "on"
    store.update_channel_settings("C1", autoreply="off")
    assert store.channel_settings("C1", max_age=60).autoreply == "off"
    store.update_channel_settings("C1", muted_until=1_800_000_000.0)
    assert store.channel_settings("C1", max_age=60) == ChannelSettings("C1", "off", 1_800_000_000.0)


def test_settings_with_max_age_see_another_stores_change_once_the_copy_is_that_old(make_store, clock) -> None:
    here, elsewhere = make_store(), make_store()  # two processes sharing one database
    assert here.channel_settings("C1", max_age=5).autoreply == "on"
    elsewhere.update_channel_settings("C1", autoreply="off")
    assert here.channel_settings("C1", max_age=5).autoreply == "on", "a copy younger than max_age is used"
    assert here.channel_settings("C1").autoreply == "off", "without max_age the database is read"
    elsewhere.update_channel_settings("C1", autoreply="shadow")
    clock.advance(5.5)
    assert here.channel_settings("C1", max_age=5).autoreply == "shadow"


@pytest.mark.parametrize("value", ["ON", "yes", "", "mute"])
def test_update_channel_settings_rejects_unknown_autoreply(store: StateStore, value: str) -> None:
    with pytest.raises(ValueError, match=r"autoreply must be one of 'on', 'off', 'shadow'"):
        store.update_channel_settings("C1", autoreply=value)
    assert store.channel_settings("C1") == ChannelSettings("C1"), "nothing half-written"


def test_quiet_threads(store: StateStore) -> None:
    assert not store.is_thread_quiet("C1", "1700000000.000100")
    store.quiet_thread("C1", "1700000000.000100")
    store.quiet_thread("C1", "1700000000.000100")  # idempotent
    assert store.is_thread_quiet("C1", "1700000000.000100")
    assert not store.is_thread_quiet("C2", "1700000000.000100")
    assert not store.is_thread_quiet("C1", "1700000000.000200")
    settings = store.update_channel_settings("C1", quiet_threads_add="1700000000.000200")
    assert settings == ChannelSettings("C1"), "adding a quiet thread leaves the settings alone"
    assert store.is_thread_quiet("C1", "1700000000.000200")


# -- feedback ----------------------------------------------------------------------


def _vote(store: StateStore, **overrides) -> bool:
    fields = dict(
        card_id="card-1", user="U1", code=-2004, vote="up", surface="slack",
        channel="C1", kb_version="2024.06",
    )
    fields.update(overrides)
    return store.record_feedback(**fields)


def test_one_vote_per_user_and_card(store: StateStore, clock) -> None:
    t0 = clock.now
    assert _vote(store) is True
    clock.advance(5)
    assert _vote(store, vote="down", comment="wrong code") is False
    assert _vote(store, user="U2") is True
    assert _vote(store, card_id="card-2") is True
    votes = store.feedback()
    assert len(votes) == 3
    first = next(f for f in votes if (f.user, f.card_id) == ("U1", "card-1"))
    assert first == Feedback(
        card_id="card-1", user="U1", code=-2004, vote="down", surface="slack", channel="C1",
        kb_version="2024.06", comment="wrong code", created_at=t0, updated_at=t0 + 5,
    )


def test_feedback_since_filters_on_latest_vote(store: StateStore, clock) -> None:
    _vote(store, user="U1")
    clock.advance(10)
    _vote(store, user="U2")
    cut = clock.now
    clock.advance(10)
    _vote(store, user="U1", vote="down")
    assert [f.user for f in store.feedback()] == ["U2", "U1"], "oldest first"
    assert [f.user for f in store.feedback(since=cut)] == ["U2", "U1"]
    assert [f.user for f in store.feedback(since=cut + 1)] == ["U1"]
    assert store.feedback(since=clock.now + 1) == []


def test_feedback_rejects_bad_vote(store: StateStore) -> None:
    with pytest.raises(ValueError, match="vote must be 'up' or 'down'"):
        _vote(store, vote="meh")
    assert store.feedback() == []


def test_feedback_comment_is_masked(store: StateStore) -> None:
    _vote(store, comment="customer +65 9123 4567 still fails")
    assert store.feedback()[0].comment == "customer +•••••••67 still fails"


def test_racing_first_votes_count_once(store: StateStore) -> None:
    results: list[bool] = []
    start = threading.Barrier(4)

    def worker() -> None:
        start.wait(timeout=10)
        results.append(_vote(store))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(results) == [False, False, False, True]
    assert len(store.feedback()) == 1


# -- unanswered questions and usage events ----------------------------------------


def test_unanswered_is_masked_and_kept_in_order(store: StateStore, clock) -> None:
    store.record_unanswered(
        text="call to +6591234567 fails with 4xx", surface="slack", channel="C1", suggestions=[-2004, 13]
    )
    clock.advance(1)
    store.record_unanswered(text="what is this?", surface="cli", channel="", suggestions=[])
    rows = store.unanswered()
    assert rows == [
        Unanswered("call to +•••••••67 fails with 4xx", "slack", "C1", (-2004, 13), clock.now - 1),
        Unanswered("what is this?", "cli", "", (), clock.now),
    ]
    assert "6591234567" not in repr(rows)
    assert store.unanswered(since=clock.now) == rows[1:]


def test_unanswered_rejects_non_int_suggestions(store: StateStore) -> None:
    with pytest.raises(TypeError):
        store.record_unanswered(text="x", surface="cli", channel="", suggestions=["-2004"])  # type: ignore[list-item]
    assert store.unanswered() == []


def test_events(store: StateStore, clock) -> None:
    store.record_events([UsageEvent("answer", "slack", "C1", -2004, store.now())])
    clock.advance(1)
    store.record_events([UsageEvent("autoreply", "slack", "C2", None, store.now())])
    store.record_events([UsageEvent("answer", "cli", "", 7, store.now())])
    events = store.events()
    assert events == [
        UsageEvent("answer", "slack", "C1", -2004, clock.now - 1),
        UsageEvent("autoreply", "slack", "C2", None, clock.now),
        UsageEvent("answer", "cli", "", 7, clock.now),
    ]
    assert store.events(since=clock.now) == events[1:]


def test_events_written_together_keep_their_own_times(store: StateStore) -> None:
    rows = [UsageEvent("card", "command", "C1", -2004, 1_700_000_000.0),
            UsageEvent("card", "autoreply", "C2", -2010, 1_700_000_001.5)]
    store.record_events(rows)
    assert store.events() == rows


def test_events_with_a_bad_row_are_refused_whole(store: StateStore) -> None:
    rows = [UsageEvent("card", "command", "C1", -2004, 1.0), UsageEvent("card", "command", "C1", "-2004", 2.0)]
    with pytest.raises(TypeError, match="code must be an int"):
        store.record_events(rows)  # type: ignore[arg-type]
    assert store.events() == []


def test_records_are_shared_by_stores_on_one_database(make_store) -> None:
    a, b = make_store(), make_store()
    a.update_channel_settings("C1", autoreply="off")
    a.quiet_thread("C1", "1.0")
    a.record_events([UsageEvent("answer", "slack", "C1", 1, a.now())])
    assert b.channel_settings("C1").autoreply == "off"
    assert b.is_thread_quiet("C1", "1.0")
    assert len(b.events()) == 1


# -- retention -------------------------------------------------------------------

DAY = 86400.0


def _record_all(store: StateStore, tag: str) -> None:
    """One row of every kind the retention period covers, written now."""
    _vote(store, card_id=f"card-{tag}", user="U1")
    store.record_unanswered(text=f"question {tag}", surface="cli", channel="", suggestions=[])
    store.record_events([UsageEvent(f"answer-{tag}", "slack", "C1", None, store.now())])
    store.quiet_thread("C1", f"thread-{tag}")


def _kept(store: StateStore) -> dict[str, list]:
    return {
        "feedback": sorted(f.card_id for f in store.feedback()),
        "unanswered": [u.text for u in store.unanswered()],
        "events": [e.kind for e in store.events()],
        "quiet": [t for t in ("thread-old", "thread-new") if store.is_thread_quiet("C1", t)],
    }


def test_purge_deletes_records_older_than_keep_days(make_store, clock) -> None:
    store = make_store(keep_days=1)
    _record_all(store, "old")
    _vote(store, card_id="card-revoted", user="U2")
    clock.advance(DAY / 2)
    _record_all(store, "new")
    _vote(store, card_id="card-revoted", user="U2", vote="down")  # a changed vote is as young as its change
    clock.advance(DAY / 2)
    assert store.purge_expired() == 0, "a row exactly keep_days old is kept"
    clock.advance(1)
    assert store.purge_expired() == 4
    assert _kept(store) == {
        "feedback": ["card-new", "card-revoted"],
        "unanswered": ["question new"],
        "events": ["answer-new"],
        "quiet": ["thread-new"],
    }
    assert store.purge_expired() == 0


def test_purge_counts_old_records_with_expired_claims(make_store, clock) -> None:
    store = make_store(keep_days=1)
    store.claim("k", ttl=10)
    # Written late: an event is as old as the time it carries, not the time it was stored.
    store.record_events([UsageEvent("answer", "slack", "C1", 7, clock.now - 2 * DAY)])
    clock.advance(10)
    assert store.purge_expired() == 2
    assert store.events() == [] and store.claim("k", ttl=10)


def test_records_are_kept_180_days_by_default(store: StateStore, clock) -> None:
    _record_all(store, "old")
    clock.advance(180 * DAY)
    assert store.purge_expired() == 0
    clock.advance(1)
    assert store.purge_expired() == 4


def test_keep_days_zero_keeps_everything(make_store, clock) -> None:
    store = make_store(keep_days=0)
    _record_all(store, "old")
    clock.advance(10 * 365 * DAY)
    assert store.purge_expired() == 0
    assert _kept(store) == {
        "feedback": ["card-old"], "unanswered": ["question old"], "events": ["answer-old"], "quiet": ["thread-old"],
    }


@pytest.mark.parametrize("keep_days, error", [
    (-1, ValueError), (float("nan"), ValueError), (float("inf"), ValueError), ("30", TypeError), (True, TypeError),
])
def test_keep_days_must_be_days_from_zero(make_store, keep_days, error) -> None:
    with pytest.raises(error, match="keep_days must be a number of days"):
        make_store(keep_days=keep_days)


# -- lifecycle ---------------------------------------------------------------------


def test_ping_and_close(store: StateStore) -> None:
    assert store.ping() is True
    store.close()
    store.close()  # idempotent
    assert store.ping() is False
    with pytest.raises(StoreError, match="closed"):
        store.claim("k", ttl=1)
    with pytest.raises(StoreError, match="closed"):
        store.events()


def test_context_manager_closes(make_store) -> None:
    with make_store() as store:
        assert store.claim("k", ttl=1)
    assert store.ping() is False
