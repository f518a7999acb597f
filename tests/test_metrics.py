"""/metrics through prometheus_client on the real service: every name of before with its meaning, the
reading → push latency measured from a real reading to the broker's PUBACK of the technician's push, the
time to accept and to arrive from the ticket's steps, process figures and build info; each service its own
registry."""

from __future__ import annotations

import time
import urllib.request
from typing import Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families

from caretaker.metrics import version
from caretaker.service import Service, load_configuration
from caretaker.settings import Settings
from tests.conftest import free_port
from tests.service.harness import SMALL_SITE, Watcher, now_iso, start_service, wait_until

pytestmark = pytest.mark.slow

ADMIN = "metrics-test-admin-token-0123456789"
# the names /metrics served before prometheus_client (docs/operations.md and the tests read them)
NAMES_OF_BEFORE = (
    "caretaker_tickets", "caretaker_tickets_breached_open", "caretaker_alerts_open", "caretaker_alarms_last_10m",
    "caretaker_alarm_flood", "caretaker_outbox_backlog", "caretaker_devices_offline", "caretaker_timers_overdue",
    "caretaker_messages_received_total", "caretaker_messages_processed_total", "caretaker_messages_replayed_total",
    "caretaker_seq_gaps_total", "caretaker_seq_gaps_filled_total", "caretaker_late_readings_total",
    "caretaker_clock_skew_total", "caretaker_messages_flood_dropped_total", "caretaker_alerts_raised_total",
    "caretaker_alerts_cleared_total", "caretaker_batch_failures_total", "caretaker_telemetry_store_failures_total",
    "caretaker_pushes_sent_total", "caretaker_channel_unrouted",
)


def scrape(port: int) -> dict[str, list]:
    """GET /metrics and parse it as Prometheus does: sample name → [(labels, value)]."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        text = response.read().decode()
    samples: dict[str, list] = {}
    for family in text_string_to_metric_families(text):  # raises on anything Prometheus could not read
        for sample in family.samples:
            samples.setdefault(sample.name, []).append((sample.labels, sample.value))
    return samples


def value(samples: dict[str, list], name: str, **labels: str) -> float:
    matching = [v for got, v in samples.get(name, []) if all(got.get(k) == want for k, want in labels.items())]
    assert matching, f"{name}{labels} not in /metrics"
    return sum(matching)


@pytest.fixture
def running(mosquitto, sqlite_url) -> Iterator[tuple[Service, Watcher, int]]:
    port = free_port()
    settings = Settings(mqtt_url=mosquitto.url, database_url=sqlite_url, site_file=SMALL_SITE, tick_seconds=0.2,
                        http_port=port, admin_token=ADMIN, mqtt_client_id=f"metrics-{time.monotonic_ns()}")
    service = Service(settings, load_configuration(settings))
    service.start()
    watcher = Watcher(mosquitto.host, mosquitto.port, client_id=f"metrics-watcher-{time.monotonic_ns()}")
    try:
        yield service, watcher, port
    finally:
        watcher.close()
        service.stop()


def test_metrics_keep_their_names_and_add_latency_steps_process_and_build(running):
    service, watcher, port = running
    before = scrape(port)
    for name in NAMES_OF_BEFORE:
        assert name in before, name
    assert value(before, "caretaker_build_info", version=version()) == 1
    assert value(before, "process_cpu_seconds_total") > 0 and value(before, "process_resident_memory_bytes") > 0
    assert "python_info" in before
    assert value(before, "caretaker_reading_to_push_seconds_count") == 0  # nothing pushed yet

    watcher.publish("test-estate/technicians/t-near/location", {"ts": now_iso(), "building": "A", "floor": 1})
    wait_until(lambda: service.ingest.received >= 1, what="the location")
    published = time.monotonic()
    watcher.publish("test-estate/devices/A-LEAK-1/telemetry", {"ts": now_iso(), "seq": 1, "values": {"leak": True}})
    push = watcher.wait_for("technicians/t-near/dispatch", lambda p: p["type"] == "assigned", timeout=10)
    ticket = push.json()["ticket"]
    after = wait_until(lambda: (s := scrape(port)) and value(s, "caretaker_reading_to_push_seconds_count",
                                                              push="dispatch") >= 1 and s, what="the latency")
    upper = time.monotonic() - published  # the service's span (arrival → PUBACK) lies inside the test's own
    seen = push.at - published  # the watcher got the push; the PUBACK to the service comes about then
    latency = value(after, "caretaker_reading_to_push_seconds_sum", push="dispatch")
    assert value(after, "caretaker_reading_to_push_seconds_count", push="dispatch") == 1
    assert 0 < latency <= upper and latency > seen / 4, (latency, seen, upper)
    assert value(after, "caretaker_reading_to_push_seconds_bucket", push="dispatch", le="+Inf") == 1
    assert value(after, "caretaker_messages_received_total") >= 2
    assert value(after, "caretaker_alerts_raised_total") == 1
    assert value(after, "caretaker_tickets", status="assigned") == 1

    watcher.publish("test-estate/technicians/t-near/reply", {"ts": now_iso(), "ticket": ticket, "action": "accept"})
    steps = wait_until(lambda: (s := scrape(port)) and value(s, "caretaker_ticket_time_to_accept_seconds_count")
                       >= 1 and s, what="the acceptance counted")
    assert value(steps, "caretaker_ticket_time_to_accept_seconds_count", level="1") == 1
    assert value(steps, "caretaker_ticket_time_to_arrive_seconds_count") == 0
    watcher.publish("test-estate/technicians/t-near/reply", {"ts": now_iso(), "ticket": ticket, "action": "arrive"})
    # one scrape reads the database's gauges a moment before the histograms: wait for both to show the step
    steps = wait_until(lambda: (s := scrape(port)) and value(s, "caretaker_ticket_time_to_arrive_seconds_count")
                       >= 1 and value(s, "caretaker_tickets", status="on_site") == 1 and s, what="the arrival counted")
    accept_s = value(steps, "caretaker_ticket_time_to_accept_seconds_sum")
    arrive_s = value(steps, "caretaker_ticket_time_to_arrive_seconds_sum")
    assert 0 < accept_s <= arrive_s < 60, (accept_s, arrive_s)
    assert value(steps, "caretaker_tickets", status="on_site") == 1


def test_each_service_counts_in_its_own_registry(mosquitto, sqlite_url, tmp_path):
    """Tests (and a process embedding two estates) start several services in one process."""
    first = start_service(mosquitto.url, sqlite_url)
    second = start_service(mosquitto.url, f"sqlite:///{tmp_path / 'second.db'}")
    watcher = Watcher(mosquitto.host, mosquitto.port, client_id=f"metrics-two-{time.monotonic_ns()}")
    try:
        watcher.publish("test-estate/devices/NOPE-1/telemetry", {"ts": now_iso(), "values": {"leak": True}})
        wait_until(lambda: 'reason="unknown_device"} 1' in first.metrics_text()
                   and 'reason="unknown_device"} 1' in second.metrics_text(), what="both counted it")
        first.pipeline.counters["replays"] = first.pipeline.counters.get("replays", 0) + 5
        assert "caretaker_messages_replayed_total 5" in first.metrics_text()
        assert "caretaker_messages_replayed_total 0" in second.metrics_text()
    finally:
        watcher.close()
        first.stop()
        second.stop()


def test_a_part_whose_lines_fail_leaves_the_other_metrics_served():
    """The channels read the database at scrape time; while it is away the counters must still be scraped."""
    from prometheus_client import CollectorRegistry

    from caretaker.api.metrics import exposition
    from caretaker.metrics import BuildInfo, TextLines

    def lines() -> list[str]:
        raise ConnectionError("the database is away")

    registry = CollectorRegistry()
    registry.register(TextLines(lines))
    registry.register(BuildInfo())
    text = exposition(registry)
    assert "caretaker_build_info{" in text and "caretaker_channel" not in text
    registry = CollectorRegistry()
    registry.register(TextLines(lambda: ["# TYPE caretaker_channel_unrouted gauge", "caretaker_channel_unrouted 3"]))
    assert "caretaker_channel_unrouted 3\n" in exposition(registry)


def test_a_metric_that_cannot_be_noted_never_breaks_the_step(sqlite_url):
    """A ticket step commits even when noting its time fails inside the flush."""
    from datetime import datetime, timezone

    from caretaker.db import make_engine, make_sessions, migrate
    from caretaker.metrics import _by_engine
    from caretaker.dispatch.tables import TicketRow

    engine = make_engine(sqlite_url)
    migrate(engine)
    sessions = make_sessions(engine)

    class Broken:  # fails inside the flush, where the step is noted
        @property
        def time_to_accept(self):
            raise RuntimeError("no histogram")

        time_to_arrive = time_to_accept

    _by_engine[engine] = Broken()
    now = datetime.now(timezone.utc)
    try:
        with sessions.begin() as session:
            session.add(TicketRow(id="T-1", status="assigned", urgency=1, category="plumbing", title="leak",
                                  source="sensor", building="A", floor=1, created_at=now, updated_at=now,
                                  accept_by=now, resolve_by=now))
        with sessions.begin() as session:
            session.get(TicketRow, "T-1").accepted_at = now
        with sessions() as session:
            assert session.get(TicketRow, "T-1").accepted_at is not None
    finally:
        del _by_engine[engine]
        engine.dispose()
