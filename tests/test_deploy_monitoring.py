"""The Grafana dashboard (deploy/grafana/) and the Prometheus alert rules (deploy/prometheus/) read only metrics
that a running service serves, and Prometheus's own promtool accepts every expression of both."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Iterator

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from caretaker.service import Service, load_configuration
from caretaker.settings import Settings
from tests.channels.sites import site_with
from tests.conftest import free_port, missing
from tests.service.harness import Watcher, wait_until

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
DASHBOARD = ROOT / "deploy" / "grafana" / "caretaker-dashboard.json"
ALERTS = ROOT / "deploy" / "prometheus" / "caretaker-alerts.yml"
PROMTOOL = os.environ.get("PROMTOOL") or shutil.which("promtool") or "/usr/bin/promtool"
FROM_PROMETHEUS = {"up"}  # series Prometheus makes itself for each target
WANTED_ALERTS = {"CaretakerDown", "CaretakerIngestStalled", "CaretakerDeadLettersRising",
                 "CaretakerOutboxBacklogGrowing", "CaretakerTimersOverdue", "CaretakerMessagesLost",
                 "CaretakerPushLatencyHigh"}
# what the dashboard must show (issue: ingest, dead letters, latency, tickets, breaches, backlog, timers,
# system alarms, messages lost), each as a metric one of its panels reads
WANTED_ON_DASHBOARD = {"caretaker_messages_received_total", "caretaker_messages_rejected_total",
                       "caretaker_reading_to_push_seconds_bucket", "caretaker_ticket_time_to_accept_seconds_bucket",
                       "caretaker_ticket_time_to_arrive_seconds_bucket", "caretaker_tickets",
                       "caretaker_tickets_breached_open", "caretaker_outbox_backlog", "caretaker_timers_overdue",
                       "caretaker_system_alarms_active", "caretaker_seq_gaps_total"}

KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "offset", "bool",
            "inf", "nan"}
_STRINGS = re.compile(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'')
_MATCHERS = re.compile(r"\{[^}]*\}")
_RANGES = re.compile(r"\[[^\]]*\]")
_GROUPING = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_IDENT = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads (functions, keywords, labels and numbers left out)."""
    text = _STRINGS.sub(" ", expr)
    text = _MATCHERS.sub(" ", text)
    text = _RANGES.sub(" ", text)
    text = _GROUPING.sub(" ", text)
    names = set()
    for match in _IDENT.finditer(text):
        rest = text[match.end():].lstrip()
        word = match.group()
        if rest.startswith("(") or word.lower() in KEYWORDS or word.startswith("$"):
            continue
        if match.start() > 0 and text[match.start() - 1] in "$.0123456789":
            continue  # part of a number (1e3) or a Grafana variable
        names.add(word)
    return names


def test_metric_names_reads_promql_as_written():
    assert metric_names('histogram_quantile(0.99, sum by (le) (rate(a_bucket{push="x"}[5m]))) > 2') == {"a_bucket"}
    assert metric_names("rate(cpu[$__rate_interval]) * on (job, instance) group_left b_info") == {"cpu", "b_info"}
    assert metric_names('x - y or max(z{kind=~"a|b"}) > 0') == {"x", "y", "z"}


def dashboard_expressions() -> list[tuple[str, str]]:
    board = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    found: list[tuple[str, str]] = []

    def walk(panels: list[dict]) -> None:
        for panel in panels:
            for target in panel.get("targets", []):
                found.append((panel["title"], target["expr"]))
            walk(panel.get("panels", []))

    walk(board["panels"])
    return found


def alert_rules() -> list[dict]:
    document = yaml.safe_load(ALERTS.read_text(encoding="utf-8"))
    return [rule for group in document["groups"] for rule in group["rules"]]


@pytest.fixture(scope="module")
def scraped(tmp_path_factory, mosquitto) -> Iterator[str]:
    """What a real started service's /metrics serves."""
    folder = tmp_path_factory.mktemp("monitoring")
    # a channel, so that its per-channel series exist (nothing is sent to it: no alarm is raised)
    site = site_with(folder, f"  - {{id: ops, kind: webhook, url: 'http://127.0.0.1:{free_port()}/hook', takes: [alert]}}\n")
    port = free_port()
    settings = Settings(mqtt_url=mosquitto.url, database_url=f"sqlite:///{folder / 'caretaker.db'}", site_file=site,
                        tick_seconds=0.2, http_port=port, admin_token="monitoring-test-admin-token-0123",
                        mqtt_client_id=f"monitoring-{time.monotonic_ns()}")
    service = Service(settings, load_configuration(settings))
    service.start()
    watcher = Watcher(mosquitto.host, mosquitto.port, client_id=f"monitoring-watcher-{time.monotonic_ns()}")
    try:
        # a dead letter: a counter with a label has no series before its first value
        watcher.publish("test-estate/devices/A-LEAK-1/telemetry", b"{not json")
        wait_until(lambda: "rejected:not_json" in service.pipeline.counters, what="the dead letter")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            text = response.read().decode()
    finally:
        watcher.close()
        service.stop()
    yield text


@pytest.fixture(scope="module")
def served(scraped: str) -> set[str]:
    """Every sample name /metrics serves (histograms' _bucket, _sum and _count)."""
    return {sample.name for family in text_string_to_metric_families(scraped) for sample in family.samples}


def test_metrics_pass_promtool_lint(scraped):
    """Prometheus's own linter: names, types, help texts and units as Prometheus expects them."""
    checked = subprocess.run([promtool(), "check", "metrics"], input=scraped, capture_output=True, text=True,
                             timeout=60)
    assert checked.returncode == 0 and not checked.stdout.strip(), checked.stdout + checked.stderr


def promtool() -> str:
    if not Path(PROMTOOL).exists():
        missing("promtool (apt-get install prometheus)")
    return PROMTOOL


def test_dashboard_reads_only_metrics_the_service_serves(served):
    expressions = dashboard_expressions()
    assert len(expressions) >= 20
    read: set[str] = set()
    for title, expr in expressions:
        names = metric_names(expr)
        assert names, (title, expr)
        unknown = names - served - FROM_PROMETHEUS
        assert not unknown, f"panel {title!r} reads {sorted(unknown)}, which /metrics does not serve"
        read |= names
    assert WANTED_ON_DASHBOARD <= read, sorted(WANTED_ON_DASHBOARD - read)


def test_dashboard_is_an_importable_grafana_dashboard():
    board = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    assert board["uid"] == "caretaker" and board["schemaVersion"] >= 36
    assert [i["name"] for i in board["__inputs"]] == ["DS_PROMETHEUS"]
    ids = [panel["id"] for panel in board["panels"]]
    assert len(ids) == len(set(ids))
    for panel in board["panels"]:
        if panel["type"] != "row":
            assert panel["datasource"]["uid"] == "${DS_PROMETHEUS}", panel["title"]
            assert {"x", "y", "w", "h"} <= set(panel["gridPos"]), panel["title"]


def test_every_dashboard_expression_is_valid_promql(tmp_path):
    """promtool parses each expression (as a recording rule; Grafana's $__rate_interval as 5m)."""
    rules = [{"record": f"dashboard:panel_{i}", "expr": expr.replace("$__rate_interval", "5m")}
             for i, (_title, expr) in enumerate(dashboard_expressions())]
    path = tmp_path / "dashboard-rules.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}), encoding="utf-8")
    checked = subprocess.run([promtool(), "check", "rules", str(path)], capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_alert_rules_pass_promtool_and_read_only_served_metrics(served):
    checked = subprocess.run([promtool(), "check", "rules", str(ALERTS)], capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    rules = alert_rules()
    assert {rule["alert"] for rule in rules} == WANTED_ALERTS
    for rule in rules:
        assert rule["labels"]["severity"] in ("critical", "warning"), rule["alert"]
        assert rule["annotations"]["summary"], rule["alert"]
        unknown = metric_names(rule["expr"]) - served - FROM_PROMETHEUS
        assert not unknown, f"{rule['alert']} reads {sorted(unknown)}, which /metrics does not serve"


def test_alerts_fire_on_the_series_they_watch(tmp_path):
    """promtool's rule unit tests: each alert fires on a made-up history of the series it watches, after its
    `for`, and not before."""
    cases = ROOT / "deploy" / "prometheus" / "caretaker-alerts.test.yml"
    checked = subprocess.run([promtool(), "test", "rules", str(cases)], capture_output=True, text=True, timeout=120,
                             cwd=cases.parent)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = {case["alertname"] for test in yaml.safe_load(cases.read_text())["tests"]
              for case in test.get("alert_rule_test", [])}
    assert tested == WANTED_ALERTS
