"""Operating the bot: knowledge-base reloads, health, metrics, logs, graceful stop, housekeeping."""
from __future__ import annotations

import json
import signal
import threading
import time
from pathlib import Path
from wsgiref.util import setup_testing_defaults

import pytest
from helpers import poll_until
from metrics_page import metrics_of
from server_process import ServerProcess, bot_env
from slack_requests import SIGNING_SECRET, SlackSender, get, mention, message, raw_request
from webapi_stub import APP_TOKEN, BOT_TOKEN, Fault

from nmbot.engine.kb_files import load
from nmbot.settings import Settings, SettingsError
from nmbot.slack.deps import Deps, open_state
from nmbot.slack.engine_holder import Engine
from nmbot.slack.maintenance import Maintenance, reload_knowledge
from nmbot.slack.web import create_wsgi_app
from nmbot.store import SqlStore, UsageEvent, open_store

TITLE = "title: Region outside your Number Masking coverage"
EDITED = "title: Region outside the coverage map (edited)"
PASTE = "level=error errorCode=-2010 callee=+6591234567"


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


# --- knowledge base reloads ----------------------------------------------------------------

WORKERS = 2


def test_sighup_reloads_in_place_in_every_worker_and_an_invalid_edit_keeps_the_old_knowledge_base(
        stub, tmp_path, kb_file):
    server = ServerProcess(bot_env(stub, NMBOT_KNOWLEDGE=str(kb_file), NMBOT_WEB_WORKERS=str(WORKERS)), tmp_path)
    try:
        slack = SlackSender(server.start())
        poll_until(lambda: server.text.count("nmbot is serving Slack's requests") == WORKERS, "both workers")
        assert "Region outside your Number Masking coverage" in slack.command("-2004").body

        edit(kb_file, TITLE, EDITED)
        server.signal(signal.SIGHUP)
        for _ in range(WORKERS):  # each worker reloads, and says so
            server.wait_for_line(r"knowledge base reloaded: number-masking")
        for _ in range(4 * WORKERS):  # whichever worker answers
            assert "the coverage map (edited)" in slack.command("-2004").body

        kb_file.write_text(kb_file.read_text().replace("entries:", "entries: [", 1))
        server.signal(signal.SIGHUP)
        refused = [server.wait_for_line(r"knowledge base not reloaded, still serving number-masking \S+: (.+)")
                   for _ in range(WORKERS)]
        error = refused[0].group(1)
        assert str(kb_file) in error and "is not valid YAML at line" in error
        for _ in range(4 * WORKERS):
            assert "the coverage map (edited)" in slack.command("-2004").body
        for url in (server.url, server.probe_url):
            health = get(url + "/healthz").json()
            assert health["ok"] is True and "is not valid YAML" in health["knowledge_base_problem"]
        assert get(server.probe_url + "/readyz").status == 200
    finally:
        assert server.stop() == 0
    assert server.text.count("Booting worker") == WORKERS  # reloaded in place: no worker was ever replaced
    assert "Traceback" not in server.text


def deps_for(settings: Settings, kb=None) -> Deps:
    engine = Engine.build(kb if kb is not None else load(settings.knowledge.split(":")))
    return Deps(settings, engine.kb, engine.resolver, engine.scanner, open_store("memory://"), "UBOT")


def test_watching_reloads_when_a_file_changes(kb_file):
    settings = Settings.from_env({"NMBOT_KNOWLEDGE": str(kb_file), "NMBOT_WATCH_KNOWLEDGE": "1"})
    deps = deps_for(settings)
    maintenance = Maintenance(deps, watch_every=0.02).start()
    try:
        assert maintenance.watch_every and deps.kb.get(-2004).title.startswith("Region outside your")
        edit(kb_file, TITLE, EDITED)
        poll_until(lambda: deps.kb.get(-2004).title.endswith("(edited)"), "the edit to be loaded", 5)
        kb_file.write_text("entries: [")
        poll_until(lambda: deps.engines.problem is not None, "the broken edit to be refused", 5)
        assert deps.kb.get(-2004).title.endswith("(edited)")
    finally:
        maintenance.stop()


def test_watching_is_off_unless_asked_for(kb_file):
    deps = deps_for(Settings.from_env({"NMBOT_KNOWLEDGE": str(kb_file)}))
    assert Maintenance(deps).watch_every == 0


def test_the_watch_setting_takes_only_on_or_off():
    with pytest.raises(SettingsError, match=r"NMBOT_WATCH_KNOWLEDGE must be 1 or 0"):
        Settings.from_env({"NMBOT_WATCH_KNOWLEDGE": "sometimes"})


def test_a_listener_run_sees_one_knowledge_base_from_start_to_end(kb_file):
    deps = deps_for(Settings.from_env({"NMBOT_KNOWLEDGE": str(kb_file)}))
    swapped, midway = threading.Event(), threading.Event()
    seen = []

    def listener():
        seen.append((deps.kb, deps.resolver.kb, deps.scanner.kb))
        midway.set()
        swapped.wait(5)
        seen.append((deps.kb, deps.resolver.kb, deps.scanner.kb))

    run = threading.Thread(target=deps.runs.wrap(listener))
    run.start()
    assert midway.wait(5) and deps.runs.in_flight == 1
    edit(kb_file, TITLE, EDITED)
    assert reload_knowledge(deps)
    swapped.set()
    run.join(5)
    (before, after) = seen
    assert before == after and len({id(kb) for kb in before}) == 1
    assert deps.kb is not before[0] and deps.kb.get(-2004).title.endswith("(edited)")
    assert deps.runs.drain(5) and deps.runs.in_flight == 0
    deps.listener_executor.shutdown()


def test_purge_runs_on_its_own_schedule():
    class CountingStore(SqlStore):
        purges = 0

        def purge_expired(self) -> int:
            CountingStore.purges += 1
            return super().purge_expired()

    settings = Settings()
    kb = load()
    engine = Engine.build(kb)
    deps = Deps(settings, engine.kb, engine.resolver, engine.scanner, CountingStore("memory://"), "UBOT")
    maintenance = Maintenance(deps, purge_every=0.02).start()
    try:
        poll_until(lambda: CountingStore.purges >= 2, "two purges", 5)
    finally:
        maintenance.stop()


@pytest.mark.parametrize("keep_days, kept", [("0", 1), ("30", 0)])
def test_the_bot_keeps_records_as_long_as_nmbot_keep_days_says(tmp_path, keep_days, kept):
    url = f"sqlite:///{tmp_path / 'state.sqlite3'}"
    with open_store(url, keep_days=0) as store:
        store.record_events([UsageEvent("card", "command", "C1", -2004, time.time() - 400 * 86400)])
    with open_state(Settings.from_env({"NMBOT_DATABASE_URL": url, "NMBOT_KEEP_DAYS": keep_days})) as store:
        assert len(store.events()) == kept  # opening purges, with the bot's retention period


# --- health and metrics ----------------------------------------------------------------------

def wsgi_get(app, path: str) -> tuple[str, str]:
    environ = {"PATH_INFO": path, "REQUEST_METHOD": "GET"}
    setup_testing_defaults(environ)
    status = []
    body = b"".join(app(environ, lambda s, headers: status.append(s)))
    return status[0], body.decode()


def test_health_names_a_refused_reload_but_stays_ready(stub, tmp_path, kb_file):
    app = create_wsgi_app(Settings.from_env(bot_env(stub, NMBOT_KNOWLEDGE=str(kb_file))), store=open_store("memory://"))
    try:
        kb_file.write_text("version: 2\nentries: []\n")
        assert not reload_knowledge(app.deps)
        status, body = wsgi_get(app, "/healthz")
        assert status.startswith("200") and json.loads(body)["ok"] is True
        assert "missing 'entries'" in json.loads(body)["knowledge_base_problem"]
        assert "number-masking" in json.loads(body)["knowledge_base"]
    finally:
        app.close()


def test_metrics_count_requests_answers_abstentions_autoreplies_and_slack_errors(bot):
    bot.stub.fail_next("chat.postMessage", Fault(status=429, retry_after=0))
    assert bot.slack.command("-2004").status == 200
    assert bot.slack.command("my cat is purple").status == 200
    assert bot.slack.event(message(PASTE)).status == 200
    assert bot.slack.event(mention("what does -2008 mean?")).status == 200
    bot.stub.wait_for("chat.postMessage", 3)
    bot.wait_idle()
    page = get(bot.probe_url + "/metrics")
    assert page.status == 200
    m = metrics_of(page.body)
    assert m['nmbot_requests_total{surface="command"}'] == 2 and m['nmbot_requests_total{surface="event"}'] == 2
    assert m['nmbot_answers_total{surface="command"}'] == 1
    assert m['nmbot_abstentions_total{surface="command"}'] == 1
    assert m['nmbot_answers_total{surface="autoreply"}'] == 1 and m['nmbot_answers_total{surface="mention"}'] == 1
    assert m['nmbot_autoreplies_total{mode="on"}'] == 1
    assert m['nmbot_slack_api_errors_total{error="ratelimited",method="chat.postMessage"}'] == 1
    assert m["nmbot_ack_seconds_count"] == 4 and m['nmbot_ack_seconds_bucket{le="+Inf"}'] == 4
    buckets = [v for k, v in m.items() if k.startswith("nmbot_ack_seconds_bucket")]
    assert buckets == sorted(buckets)
    assert m["nmbot_listeners_in_flight"] == 0 and m["nmbot_listener_runs_total"] == 4


def test_requests_that_fail_verification_are_not_counted(bot):
    assert bot.slack.post("command=%2Fnmerror&text=-2004", "application/x-www-form-urlencoded",
                          signature="v0=bad").status == 401
    assert "nmbot_requests_total{" not in get(bot.probe_url + "/metrics").body


# --- a real server: signals and logs ----------------------------------------------------------

def test_sigterm_turns_readiness_off_and_lets_replies_in_flight_finish(stub, tmp_path):
    release = threading.Event()
    stub.fail_next("chat.postMessage", Fault(hold=release))
    server = ServerProcess(bot_env(stub), tmp_path)
    try:
        slack = SlackSender(server.start())
        assert slack.event(message(PASTE)).status == 200
        stub.wait_for("chat.postMessage")
        server.signal(signal.SIGTERM)
        server.wait_for_line(r"waiting for 1 listener run\(s\) to finish their replies")
        # Still finishing a reply: alive, but no longer taking work.
        assert get(server.probe_url + "/readyz").status == 503
        assert get(server.probe_url + "/healthz").status == 200
        assert server.proc.poll() is None
    finally:
        release.set()
        code = server.stop()
    assert code == 0
    assert "still busy" not in server.text and "failed" not in server.text
    assert len(stub.calls_to("chat.postMessage")) == 1


def test_the_real_server_serves_metrics_and_refuses_big_bodies(stub, tmp_path):
    server = ServerProcess(bot_env(stub), tmp_path)
    try:
        url = server.start()
        head = ("POST /slack/events HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
                f"Content-Length: {8 << 20}\r\n\r\n")
        assert raw_request(url, head).endswith("413 Request Entity Too Large")
        SlackSender(url).command("-2004")
        m = metrics_of(get(server.probe_url + "/metrics").body)
        assert m['nmbot_refused_requests_total{reason="too_large"}'] == 1
        assert m['nmbot_requests_total{surface="command"}'] == 1
    finally:
        assert server.stop() == 0


def test_logs_are_json_and_never_show_tokens_secrets_or_phone_numbers(stub, tmp_path):
    stub.fail_next("chat.postMessage", Fault(error="not_in_channel"))
    env = bot_env(stub, NMBOT_LOG_LEVEL="debug", NMBOT_LOG_FORMAT="json", SLACK_APP_TOKEN=APP_TOKEN)
    server = ServerProcess(env, tmp_path)
    try:
        slack = SlackSender(server.start())
        slack.command("call to +65 9123 4567 failed with -2004")
        slack.event(message(f"{PASTE} caller 6591234567"))
        slack.event(mention(f"why did +1-202-555-0143 get -2010? token {BOT_TOKEN}"))
        stub.wait_for("chat.postMessage", 2)
    finally:
        assert server.stop() == 0
    lines = [json.loads(line) for line in server.output]  # every line is one JSON object
    text = server.text
    for secret in (BOT_TOKEN, APP_TOKEN, SIGNING_SECRET, "9123 4567", "6591234567", "555-0143"):
        assert secret not in text, secret
    # Debug lines quote what people pasted: the token and the numbers were there, and were removed.
    assert "token [redacted]" in text and "+\u2022\u2022\u2022\u2022\u2022\u2022\u202243" in text
    [warning] = [e for e in lines if e.get("slack_error") == "not_in_channel"]
    assert warning["level"] == "warning" and warning["channel"] and warning["thread_ts"]

