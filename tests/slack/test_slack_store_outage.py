"""The state store's database failing under the running bot: PostgreSQL refusing connections, SQLite on a
full disk, tables dropped. Answers keep coming, a retry is still answered once, the log says it once,
and /healthz, /readyz and /metrics tell the truth (without failing the probes)."""
from __future__ import annotations

import logging
import re
from typing import Iterator

import pytest
from slack_requests import CHANNEL, get, message
from store_faults import OUTAGES, DatabaseFault, Unavailable, database_fault

from nmbot.store import StateStore, open_store

PASTE = "level=error sessionId=7d3f errorCode=-2010 errorMsg=\"The trunk capacity has been exceeded\""
TABLES_DROPPED = ("sqlite_tables_dropped", "postgresql_tables_dropped")


@pytest.fixture
def db_fault(request, tmp_path) -> Iterator[DatabaseFault]:
    try:
        with database_fault(request.param, tmp_path) as fault:
            yield fault
    except Unavailable as exc:
        pytest.skip(str(exc))


@pytest.fixture
def bot_store(db_fault: DatabaseFault) -> StateStore:
    return open_store(db_fault.url)


def deliver(bot, event: dict, event_id: str, retry: int | None = None) -> None:
    assert bot.slack.event(event, event_id=event_id, retry=retry).status == 200


def metrics(bot) -> dict[str, float]:
    page = get(bot.probe_url + "/metrics")
    assert page.status == 200
    return {name: float(value) for name, value in
            (line.rsplit(" ", 1) for line in page.body.splitlines() if line and not line.startswith("#"))}


def warnings_logged(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.WARNING]


@pytest.mark.parametrize("db_fault", [*OUTAGES, *TABLES_DROPPED], indirect=True)
def test_a_retry_during_an_outage_is_answered_once(bot, db_fault):
    db_fault.begin()
    event = message(PASTE)
    deliver(bot, event, "EvOUTAGE1")
    bot.wait_idle()
    deliver(bot, event, "EvOUTAGE1", retry=1)
    deliver(bot, event, "EvOUTAGE1", retry=2)
    bot.wait_idle()
    assert len(bot.posts()) == 1
    assert metrics(bot)['nmbot_event_deliveries_total{outcome="duplicate"}'] == 2


@pytest.mark.parametrize("db_fault", OUTAGES, indirect=True)
def test_an_outage_logs_one_line_down_and_one_back_however_many_deliveries(bot, db_fault, caplog):
    caplog.set_level(logging.INFO)
    db_fault.begin()
    for n in range(12):
        deliver(bot, message(PASTE), f"EvDOWN{n}")
    bot.wait_idle()
    assert len(bot.posts()) == 12, "every message is answered while the store is down"
    [down] = warnings_logged(caplog)
    assert "state store down" in down.getMessage() and re.search(db_fault.says, down.getMessage())
    figures = metrics(bot)
    assert figures['nmbot_event_deliveries_total{outcome="unchecked"}'] == 12
    assert figures['nmbot_store_errors_total{operation="claim"}'] == 12
    db_fault.end()
    deliver(bot, message(PASTE), "EvBACK")
    bot.wait_idle()
    down_again, back = warnings_logged(caplog)
    assert down_again is down and "state store back" in back.getMessage()
    assert all(r.exc_info is None for r in caplog.records), "no traceback"


@pytest.mark.parametrize("db_fault", OUTAGES, indirect=True)
def test_health_and_metrics_tell_the_truth_about_an_outage(bot, db_fault):
    assert get(bot.url + "/healthz").json()["store"] == "up"
    assert metrics(bot)["nmbot_store_up"] == 1
    db_fault.begin()
    # Answering without dedupe beats silence: the outage fails neither probe, on either port; the body says it.
    for url in (bot.url + "/healthz", bot.probe_url + "/healthz", bot.probe_url + "/readyz"):
        health = get(url)
        assert health.status == 200 and health.json()["ok"] is True and health.json()["store"] == "down"
        assert re.search(db_fault.says, health.json()["store_problem"])
    figures = metrics(bot)
    assert figures["nmbot_store_up"] == 0 and figures['nmbot_store_errors_total{operation="ping"}'] >= 1
    db_fault.end()
    assert get(bot.url + "/healthz").json() | {"knowledge_base": ""} == {"ok": True, "knowledge_base": "",
                                                                          "store": "up"}
    assert metrics(bot)["nmbot_store_up"] == 1


@pytest.mark.parametrize("db_fault", TABLES_DROPPED, indirect=True)
def test_health_creates_dropped_tables_again_and_says_so(bot, db_fault, caplog):
    bot.store.update_channel_settings(CHANNEL, autoreply="off")
    db_fault.begin()
    caplog.set_level(logging.INFO)
    health = get(bot.url + "/healthz")
    assert health.status == 200 and health.json()["store"] == "up"
    [line] = warnings_logged(caplog)
    assert "was missing tables" in line.getMessage() and "channel settings" in line.getMessage()
    assert metrics(bot)["nmbot_store_up"] == 1
    assert bot.store.claim(f"msg:{CHANNEL}:1", 60) is True, "the tables are back"
