"""T06: one message that breaks rule evaluation, then 1,000 valid → the bad one dead-lettered and acked; the
1,000 pass with p99 latency ≤ 2× a baseline measured in the same test.

How the break is injected: through files the service legitimately loads, no switch in the code. A rules
file (CARETAKER_RULES_FILE) has a `between` rule for pressure sensors, and the site file gives one sensor,
B-PRESS-1, an override the evaluator cannot use (`pressure_kpa: "normal"` where the rule wants
[low, high]; neither `check-site` nor `rules check` sees the pair). Evaluating any reading of that
sensor raises. Measured (SQLite and PostgreSQL, 400 messages a second from 4 other devices): the
baseline 1,000 readings' p99 from publish to acknowledgement was 11-39 ms; B-PRESS-1's reading went to
the dead letters as `internal_error` and was acknowledged; the 1,000 after it had a p99 of 0.6-1.3× the
baseline (limit 2×), none lost.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import select

from caretaker.service import Service, load_configuration
from caretaker.settings import Settings
from caretaker.ingest.tables import DeadLetterRow
from tests.faults.service_process import wait_for
from tests.service.harness import SMALL_SITE

pytestmark = pytest.mark.faults

RULES = """\
version: 1
rules:
  - id: water-leak
    title: Water leak
    device_types: [water_leak]
    when: {metric: leak, op: "==", value: true}
    urgency: 1
    category: plumbing
  - id: pressure-out-of-band
    title: Water pressure out of its band
    device_types: [water_pressure]
    when: {metric: pressure_kpa, op: between, value: [900, 2000]}
    urgency: 3
    category: plumbing
"""
BROKEN = "  - {id: B-PRESS-1, type: water_pressure, building: B, floor: 1, overrides: {pressure-out-of-band: {pressure_kpa: normal}}}"
VALID_DEVICES = ("A-PRESS-1", "A-LEAK-1", "A-LEAK-2", "B-LEAK-1")
RATE = 400  # messages a second
COUNT = 1000


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[int(len(ordered) * 0.99) - 1]


class Feed:
    """Publishes readings at a steady rate and records when each left, by payload."""

    def __init__(self, host: str, port: int) -> None:
        self.sent: dict[bytes, float] = {}
        self.seq = 0
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"t06-{time.monotonic_ns()}",
                                  protocol=mqtt.MQTTv311)
        self.client.max_inflight_messages_set(1000)
        self.client.connect(host, port)
        self.client.loop_start()

    def reading(self, device: str) -> tuple[str, bytes]:
        self.seq += 1
        values = {"pressure_kpa": 300.0} if "PRESS" in device else {"leak": False}
        ts = datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        return (f"caretaker/test-estate/devices/{device}/telemetry",
                json.dumps({"ts": ts, "seq": self.seq, "values": values}).encode())

    def publish(self, topic: str, payload: bytes) -> None:
        self.sent[payload] = time.monotonic()
        self.client.publish(topic, payload, qos=1)

    def steady(self, count: int) -> list[bytes]:
        payloads = []
        start = time.monotonic()
        for n in range(count):
            topic, payload = self.reading(VALID_DEVICES[n % len(VALID_DEVICES)])
            delay = start + n / RATE - time.monotonic()
            if delay > 0:
                time.sleep(delay)  # the load's own pace, not a wait for the service
            self.publish(topic, payload)
            payloads.append(payload)
        return payloads

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def test_a_message_that_breaks_evaluation_is_dead_lettered_and_the_rest_keep_their_pace(mosquitto, database_url,
                                                                                       tmp_path: Path):
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES, encoding="utf-8")
    site = tmp_path / "site.yaml"
    lines = SMALL_SITE.read_text(encoding="utf-8").splitlines()
    site.write_text("\n".join(BROKEN if "id: B-PRESS-1," in line else line for line in lines) + "\n", encoding="utf-8")
    settings = Settings(mqtt_url=mosquitto.url, database_url=database_url, site_file=site, rules_file=rules,
                        mqtt_client_id=f"t06-{time.monotonic_ns()}", tick_seconds=0.2)
    service = Service(settings, load_configuration(settings))
    acked: dict[bytes, float] = {}
    lock = threading.Lock()
    real_ack = service.ingest.ack

    def timed_ack(message) -> None:  # the real ack, timed
        with lock:
            acked[message.payload] = time.monotonic()
        real_ack(message)

    service.ingest.ack = timed_ack
    service.start(with_http=False)
    feed = Feed(mosquitto.host, mosquitto.port)
    try:
        def latencies(payloads: list[bytes]) -> list[float]:
            wait_for(lambda: all(p in acked for p in payloads), 30, "every reading acknowledged", poll=0.05)
            return [acked[p] - feed.sent[p] for p in payloads]

        baseline = latencies(feed.steady(COUNT))
        topic, bad = feed.reading("B-PRESS-1")
        feed.publish(topic, bad)
        after = latencies(feed.steady(COUNT))

        assert bad in acked, "the breaking message was never acknowledged: the broker would redeliver it forever"
        with service.sessions() as session:
            letters = session.execute(select(DeadLetterRow.topic, DeadLetterRow.reason, DeadLetterRow.payload)).all()
        assert [(t, r, bytes(p)) for t, r, p in letters] == [(topic, "internal_error", bad)]
        assert p99(after) <= 2 * p99(baseline), f"p99 {p99(after) * 1000:.1f} ms against {p99(baseline) * 1000:.1f} ms"
    finally:
        feed.close()
        service.stop()
