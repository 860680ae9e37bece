"""deploy/prometheus/alerts.yml and deploy/grafana/nmbot.json ask only for figures the bot exports.

The exported names come from the bot itself: a bot is assembled in-process (with the Socket Mode runtime, which
adds its gauge) and its /metrics page rendered. Every PromQL expression is parsed (promql-parser) and every
metric, label and label value it selects is checked against that page; `promtool` checks the rules and runs
their unit tests (alerts-test.yml) where it is installed.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import promql_parser
import pytest
import yaml
from bot_settings import settings_for
from webapi_stub import APP_TOKEN, WebApiStub

from nmbot.settings import Settings
from nmbot.slack.app import assemble
from nmbot.slack.metrics import ACK_BUCKETS, LabelledCounter
from nmbot.slack.server import stop_serving
from nmbot.slack.socket_mode import SocketModeRuntime
from nmbot.store import open_store

REPO = Path(__file__).resolve().parents[2]
ALERTS = REPO / "deploy" / "prometheus" / "alerts.yml"
DASHBOARD = REPO / "deploy" / "grafana" / "nmbot.json"
ALERT_TESTS = Path(__file__).with_name("alerts-test.yml")
GUIDE = REPO / "docs" / "deploy.md"
BOT_CODE = REPO / "bot"
PROMETHEUS_OWN = {"up": set()}  # what Prometheus records about every scrape itself
TARGET_LABELS = {"job", "instance"}  # what Prometheus adds to every scraped series
# Grafana's variables, given values of the kind Grafana puts in their place before a query runs.
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__range": "1d", "$__interval": "1m", "$instance": ".*"}
SEVERITIES = {"page", "ticket"}


@dataclass
class Exported:
    """What the bot's /metrics page offers: each series name and the labels it may carry."""

    series: dict[str, set[str]] = field(default_factory=dict)
    families: set[str] = field(default_factory=set)  # nmbot's metric names, as a dashboard calls them


@pytest.fixture(scope="module")
def exported(kb) -> Iterator[Exported]:
    stub = WebApiStub().start()
    settings = settings_for(stub, SLACK_APP_TOKEN=APP_TOKEN)
    app, deps = assemble(settings, kb, open_store("memory://"))
    SocketModeRuntime(settings, app, deps)  # registers nmbot_socket_mode_connected; never started
    try:
        page = deps.metrics.render().decode()
        declared = {counter.name: set(counter.labels) for name, counter in vars(deps.metrics).items()
                    if not name.startswith("_") and isinstance(counter, LabelledCounter)}
    finally:
        stop_serving(deps, None, 1)
        stub.stop()
    yield read_page(page, declared)


def read_page(page: str, declared: dict[str, set[str]]) -> Exported:
    found = Exported()
    for name, kind in re.findall(r"^# TYPE (\S+) (\S+)$", page, re.M):
        names = [name + suffix for suffix in ("_bucket", "_count", "_sum")] if kind == "histogram" else [name]
        for series in names:
            found.series[series] = set(declared.get(series, ())) | TARGET_LABELS
        if kind == "histogram":
            found.series[name + "_bucket"].add("le")
        if name.startswith("nmbot_"):
            found.families.add(name)
    for series, labels in re.findall(r"^([a-z_]+)\{(.*)\} ", page, re.M):
        found.series[series] |= set(re.findall(r'([a-z_]+)="', labels))
    for series, labels in PROMETHEUS_OWN.items():
        found.series[series] = labels | TARGET_LABELS
    return found


@dataclass
class Selection:
    """One vector selector of an expression, and the labels the expression groups or matches on."""

    metric: str
    matchers: list[tuple[str, str, str]]  # (label, operator, value)


def selections(expr: str) -> tuple[list[Selection], set[str]]:
    """Every vector selector in `expr`, and every label named by `by (…)`, `without (…)`, `on (…)`."""
    tree = promql_parser.parse(expr)  # raises ValueError naming what does not parse
    found, grouping = [], set()

    def visit(node) -> bool:
        if isinstance(node, promql_parser.VectorSelector):
            matchers = [(m.name, str(m.op).rsplit(".", 1)[-1], m.value) for m in node.matchers.matchers]
            found.append(Selection(node.name, [m for m in matchers if m[0] != "__name__"]))
        elif isinstance(node, promql_parser.AggregateExpr) and node.modifier is not None:
            grouping.update(node.modifier.labels)
        elif isinstance(node, promql_parser.BinaryExpr) and node.modifier and node.modifier.matching:
            grouping.update(node.modifier.matching.labels)
        return True

    promql_parser.walk(tree, visit)
    return found, grouping


def literals_in_code() -> set[str]:
    """Every double-quoted string in the bot's code: label values are spelled there."""
    return {value for path in BOT_CODE.rglob("*.py") for value in re.findall(r'"([a-z_.]+)"', path.read_text())}


def bucket_bounds() -> set[str]:
    return {str(float(bound)) for bound in ACK_BUCKETS} | {"+Inf"}


def check_expression(expr: str, exported: Exported) -> list[str]:
    """What is wrong with `expr` against the bot's /metrics page: one line per problem."""
    problems = []
    chosen, grouping = selections(expr)
    if not chosen:
        problems.append(f"{expr!r} selects no metric")
    literals = None
    for selection in chosen:
        labels = exported.series.get(selection.metric)
        if labels is None:
            problems.append(f"{selection.metric} is not exported by the bot")
            continue
        for label, op, value in selection.matchers:
            if label not in labels:
                problems.append(f"{selection.metric} has no label {label!r}")
            elif op in ("Equal", "NotEqual") and label == "le" and value not in bucket_bounds():
                problems.append(f"{selection.metric}: no bucket le={value!r}")
            elif op in ("Equal", "NotEqual") and label not in TARGET_LABELS | {"le"}:
                literals = literals if literals is not None else literals_in_code()
                if value not in literals:
                    problems.append(f"{selection.metric}: the bot never sets {label}={value!r}")
    carried = set().union(*(exported.series.get(s.metric, set()) for s in chosen)) if chosen else set()
    problems += [f"{expr!r} groups by {label!r}, which none of its metrics carries" for label in grouping - carried]
    return problems


# --- the check itself ------------------------------------------------------------------------------------

def test_the_check_refuses_what_the_bot_does_not_export(exported):
    assert check_expression("sum by (surface) (rate(nmbot_requests_total[5m]))", exported) == []
    assert check_expression('nmbot_ack_seconds_bucket{le="3.0"}', exported) == []
    assert check_expression("rate(nmbot_request_total[5m])", exported) == \
        ["nmbot_request_total is not exported by the bot"]
    assert check_expression('nmbot_store_up{operation="x"}', exported) == ["nmbot_store_up has no label 'operation'"]
    assert check_expression('nmbot_ack_seconds_bucket{le="3"}', exported) == \
        ["nmbot_ack_seconds_bucket: no bucket le='3'"]
    assert check_expression('nmbot_knowledge_reloads_total{result="failed"}', exported) == \
        ["nmbot_knowledge_reloads_total: the bot never sets result='failed'"]
    assert check_expression("sum by (channel) (nmbot_answers_total)", exported) == \
        ["'sum by (channel) (nmbot_answers_total)' groups by 'channel', which none of its metrics carries"]
    assert check_expression("nmbot_store_up * on (instance) group_left up", exported) == []
    assert check_expression("nmbot_store_up * on (replica) up", exported) == \
        ["'nmbot_store_up * on (replica) up' groups by 'replica', which none of its metrics carries"]
    with pytest.raises(ValueError):
        selections("rate(nmbot_requests_total[5m]")


def test_the_page_is_read_from_the_bot(exported):
    assert {"nmbot_requests_total", "nmbot_ack_seconds", "nmbot_store_up", "nmbot_socket_mode_connected",
            "nmbot_listeners_in_flight", "nmbot_file_reads_in_flight"} <= exported.families
    assert exported.series["nmbot_slack_api_errors_total"] == {"method", "error", "job", "instance"}
    assert "le" in exported.series["nmbot_ack_seconds_bucket"]


# --- alert rules ----------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def rules() -> list[dict]:
    document = yaml.safe_load(ALERTS.read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def test_alert_rules_are_well_formed(rules):
    document = yaml.safe_load(ALERTS.read_text())
    assert set(document) == {"groups"} and all(set(group) == {"name", "rules"} for group in document["groups"])
    names = [rule["alert"] for rule in rules]
    assert len(names) == len(set(names)), "alert names repeat"
    for rule in rules:
        assert set(rule) <= {"alert", "expr", "for", "labels", "annotations"}, rule["alert"]
        assert re.fullmatch(r"Nmbot[A-Z][A-Za-z]+", rule["alert"])
        assert rule["labels"]["severity"] in SEVERITIES, rule["alert"]
        assert {"summary", "description"} <= set(rule["annotations"]), rule["alert"]
        if "for" in rule:
            assert re.fullmatch(r"\d+[smh]", rule["for"]), rule["alert"]


def test_alert_rules_ask_only_for_exported_metrics(rules, exported):
    problems = [f"{rule['alert']}: {problem}" for rule in rules for problem in check_expression(rule["expr"], exported)]
    assert problems == []


def test_every_alert_has_a_unit_test(rules):
    tested = {case["alertname"] for test in yaml.safe_load(ALERT_TESTS.read_text())["tests"]
              for case in test["alert_rule_test"]}
    assert tested == {rule["alert"] for rule in rules}


def test_the_saturation_alert_counts_the_listener_threads(rules):
    [rule] = [rule for rule in rules if rule["alert"] == "NmbotListenersSaturated"]
    assert rule["expr"] == f"nmbot_listeners_in_flight >= {Settings().listener_threads}"


@pytest.fixture(scope="module")
def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        pytest.skip("promtool is not installed (Debian: apt-get install --no-install-recommends prometheus; "
                    ".ci/run installs it)")
    return found


def test_promtool_accepts_the_rules(promtool):
    proc = subprocess.run([promtool, "check", "rules", str(ALERTS)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_alerts_fire_on_trouble_and_only_there(promtool, tmp_path):
    """alerts-test.yml's cases, run by promtool against the rules without their annotations (see that file)."""
    document = yaml.safe_load(ALERTS.read_text())
    for group in document["groups"]:
        for rule in group["rules"]:
            rule.pop("annotations", None)
    (tmp_path / "alerts.yml").write_text(yaml.safe_dump(document))
    shutil.copy(ALERT_TESTS, tmp_path / "alerts-test.yml")
    proc = subprocess.run([promtool, "test", "rules", "alerts-test.yml"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


# --- the Grafana dashboard --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def dashboard() -> dict:
    return json.loads(DASHBOARD.read_text())


def panels_of(dashboard: dict) -> list[dict]:
    return [panel for panel in dashboard["panels"] if panel["type"] != "row"]


def grafana_expanded(expr: str) -> str:
    for variable, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(variable, value)
    assert "$" not in expr, f"a Grafana variable the dashboard does not define: {expr}"
    return expr


def test_the_dashboard_is_well_formed(dashboard):
    assert dashboard["title"] == "nmbot" and dashboard["uid"] and isinstance(dashboard["schemaVersion"], int)
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    variables = {variable["name"]: variable for variable in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"
    assert "$instance" in GRAFANA_VARIABLES and variables["instance"]["allValue"] == ".*"
    for panel in panels_of(dashboard):
        grid = panel["gridPos"]
        assert panel["type"] in {"stat", "timeseries"} and panel["title"], panel
        assert grid["x"] + grid["w"] <= 24 and grid["h"] > 0, panel["title"]
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
        refs = [target["refId"] for target in panel["targets"]]
        assert refs and len(refs) == len(set(refs)), panel["title"]


def test_the_dashboards_panels_do_not_overlap(dashboard):
    taken: set[tuple[int, int]] = set()
    for panel in dashboard["panels"]:
        grid = panel["gridPos"]
        columns, rows = range(grid["x"], grid["x"] + grid["w"]), range(grid["y"], grid["y"] + grid["h"])
        cells = {(x, y) for x in columns for y in rows}
        assert not cells & taken, panel["title"]
        taken |= cells


def test_the_dashboard_asks_only_for_exported_metrics(dashboard, exported):
    queries = [(panel["title"], target["expr"]) for panel in panels_of(dashboard) for target in panel["targets"]]
    queries.append(("variable instance", dashboard["templating"]["list"][1]["query"]["query"].replace(
        "label_values(", "").rsplit(",", 1)[0]))
    problems = [f"{title}: {problem}" for title, expr in queries
                for problem in check_expression(grafana_expanded(expr), exported)]
    assert problems == []


def test_the_dashboard_shows_every_figure_of_the_bot(dashboard, exported):
    shown = set()
    for panel in panels_of(dashboard):
        for target in panel["targets"]:
            shown |= {selection.metric for selection in selections(grafana_expanded(target["expr"]))[0]}
    families = {name if name in exported.series else name + "_bucket" for name in exported.families}
    assert families - shown == set()


# --- the guide -------------------------------------------------------------------------------------------------

def test_the_guide_lists_every_figure_and_alert(exported, rules):
    guide = GUIDE.read_text()
    listed = set(re.findall(r"^\| `(nmbot_[a-z_]+)", guide, re.M))
    assert listed == exported.families
    named = set(re.findall(r"\b(nmbot_[a-z_]+)", guide))
    assert named - exported.families - {"nmbot_ack_seconds_bucket"} == set(), "the guide names figures the bot lacks"
    documented = dict(re.findall(r"^\| `(Nmbot[A-Za-z]+)` \| (\w+) \|", guide, re.M))
    assert documented == {rule["alert"]: rule["labels"]["severity"] for rule in rules}
