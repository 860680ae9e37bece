"""`nmbot report --format json`: schema 1 (docs/report.md, docs/report.schema.json), its keys, types and values."""
from __future__ import annotations

import copy
import json
from dataclasses import replace
from pathlib import Path

import jsonschema
import pytest
from report_data import DAY, HOSTILE_QUESTION, NOW, fill_hostile, report_clock

from nmbot.cli.main import main
from nmbot.report import build_report, render
from nmbot.store import UsageEvent, open_store

REPO = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((REPO / "docs" / "report.schema.json").read_text(encoding="utf-8"))

TOP_KEYS = ["schema", "nmbot", "period", "knowledge_base", "totals", "days", "top_codes", "helpful_rate_per_code",
            "surfaces", "channels", "unanswered_questions", "thumbs_down", "yaml_fragment"]


def strict(schema: dict) -> dict:
    """The published schema with every object closed: the report may hold no key the schema does not document."""
    closed = copy.deepcopy(schema)

    def close(node):
        if isinstance(node, dict):
            if node.get("type") == "object" and "properties" in node:
                node["additionalProperties"] = False
            for value in node.values():
                close(value)
        elif isinstance(node, list):
            for value in node:
                close(value)

    close(closed)
    return closed


def as_json(report) -> dict:
    return json.loads(render(report, "json"))


@pytest.fixture
def week(filled, kb):
    return build_report(filled, since=NOW - 7 * DAY, until=NOW, kb=kb)


def test_the_schema_file_is_a_valid_json_schema():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def test_keys_and_types_follow_the_documented_schema(week):
    data = as_json(week)
    jsonschema.Draft202012Validator(strict(SCHEMA)).validate(data)
    assert list(data) == TOP_KEYS
    assert data["schema"] == 1 and isinstance(data["schema"], int)
    assert set(data["totals"]) == {"asked", "answered", "answers", "autoreplies", "shadow", "unanswered", "shares",
                                   "removed", "up", "down", "helpful_rate"}
    assert all(isinstance(v, int) for k, v in data["totals"].items() if k != "helpful_rate")
    assert isinstance(data["totals"]["helpful_rate"], float)
    assert all(list(d) == ["date", "asked", "answered", "unanswered"] for d in data["days"])
    for group in data["unanswered_questions"]:
        assert set(group) == {"text", "count", "variants", "offered", "thumbs_down", "unknown_codes", "surfaces",
                              "channels", "from_thumbs_down", "last_asked"}
    assert isinstance(data["yaml_fragment"], str)


def test_a_key_the_schema_does_not_document_fails_the_check(week):
    data = as_json(week)
    data["totals"]["extra"] = 1
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, strict(SCHEMA))


def test_values(week, kb):
    data = as_json(week)
    assert data["period"] == {"since": "2027-01-08T08:00:00Z", "until": "2027-01-15T08:00:00Z", "timezone": "UTC"}
    assert data["knowledge_base"] == kb.version
    assert data["totals"] == {"asked": 8, "answered": 5, "answers": 3, "autoreplies": 2, "shadow": 1, "unanswered": 3,
                              "shares": 1, "removed": 1, "up": 2, "down": 2, "helpful_rate": 0.5}
    days = data["days"]
    assert [d["date"] for d in days] == [f"2027-01-{n:02d}" for n in range(8, 16)]  # 8 UTC days touch the week
    assert {d["date"]: (d["asked"], d["answered"], d["unanswered"]) for d in days if d["asked"]} == {
        "2027-01-14": (8, 5, 3)}
    assert [(c["code"], c["explained"]) for c in data["top_codes"]] == [(-2004, 2), (-2010, 2), (-2005, 1)]
    assert data["top_codes"][0]["title"] == kb.get(-2004).title
    assert [(c["code"], c["up"], c["down"], c["helpful_rate"]) for c in data["helpful_rate_per_code"]] == [
        (-2004, 1, 2, pytest.approx(1 / 3)), (-2010, 1, 0, 1.0)]
    assert {s["surface"]: s["autoreplies"] for s in data["surfaces"]}["autoreply"] == 2
    assert [(c["channel"], c["answers"] + c["autoreplies"], c["shadow"]) for c in data["channels"]] == [
        ({"id": "C1", "name": None}, 5, 0), ({"id": "C2", "name": None}, 0, 1)]
    malaysia, unknown = data["unanswered_questions"]
    assert (malaysia["text"], malaysia["count"], malaysia["variants"]) == (
        "calls to malaysia fail", 2, ["call to Malaysia failing"])
    assert malaysia["offered"] == [] and malaysia["channels"] == [{"id": "C1", "name": None}]
    assert malaysia["last_asked"] == "2027-01-14T08:00:00Z"
    assert unknown["unknown_codes"] == [-2042]
    assert unknown["offered"] == [{"code": -2002, "title": kb.get(-2002).title, "times": 1}]
    [down] = [d for d in data["thumbs_down"] if d["comment"]]
    assert down["comment"] == "=HYPERLINK(\"x\") no | malaysia" and down["channel"] == {"id": "C1", "name": None}
    assert "# Codes people asked about that the knowledge base does not have: -2042 (1\u00d7)" in data["yaml_fragment"]
    assert '#   "calls to malaysia fail"  (2\u00d7)' in data["yaml_fragment"]


def test_the_yaml_fragment_puts_wordings_under_the_code_offered(kb):
    clock = report_clock()
    store = open_store("memory://", clock=clock)
    fill_hostile(store, clock, kb.version)
    data = as_json(build_report(store, since=NOW - 7 * DAY, until=NOW, kb=kb))
    fragment = data["yaml_fragment"]
    assert fragment.endswith("\n")
    assert f"- code: -2010  # {kb.get(-2010).title}: asked 1 time\n  examples:\n" in fragment
    assert f"    - {json.dumps(HOSTILE_QUESTION)}  # 1\u00d7" in fragment
    assert data["unanswered_questions"][0]["text"] == HOSTILE_QUESTION  # JSON carries the text as it was asked


def test_channel_names_where_known(week):
    data = as_json(replace(week, channel_names=(("C1", "support"),)))
    assert [c["channel"] for c in data["channels"]] == [{"id": "C1", "name": "support"}, {"id": "C2", "name": None}]
    assert data["unanswered_questions"][0]["channels"] == [{"id": "C1", "name": "support"}]


def test_an_empty_period_has_every_key_and_a_day_of_zeros(kb):
    data = as_json(build_report(open_store("memory://"), since=NOW - 3600, until=NOW, kb=kb))
    jsonschema.validate(data, strict(SCHEMA))
    assert data["days"] == [{"date": "2027-01-15", "asked": 0, "answered": 0, "unanswered": 0}]
    assert data["totals"]["helpful_rate"] is None and data["unanswered_questions"] == []
    assert data["yaml_fragment"] == ""


def test_cli_json(tmp_path, monkeypatch, capsys, kb):
    url = f"sqlite:///{tmp_path / 'nmbot.sqlite3'}"
    monkeypatch.setenv("NMBOT_DATABASE_URL", url)
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    with open_store(url) as store:
        store.record_events([UsageEvent("card", "command", "C1", -2004, store.now())])
        store.record_events([UsageEvent("not_sure", "mention", "C1", None, store.now())])
        store.record_unanswered(text="is the coffee machine fixed", surface="mention", channel="C1", suggestions=[])
    assert main(["report", "--since", "3d", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    jsonschema.validate(data, strict(SCHEMA))
    assert len(data["days"]) == 4  # three days back from now touch four UTC days
    assert data["days"][-1]["asked"] == 2 and data["days"][-1]["answered"] == 1
    assert data["unanswered_questions"][0]["text"] == "is the coffee machine fixed"
