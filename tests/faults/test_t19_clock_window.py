"""T19: a `ts` 10 min ahead, 7 days old, epoch 0, in the year 2100, or in seconds where milliseconds are due
is refused with its code; a `ts` within the window but ahead of the clock never becomes the device's latest.

Measured on a real Mosquitto and the real service (SQLite and PostgreSQL): the five bad times give 2
`ts_future` and 3 `ts_stale` dead letters, in the store and on the dead-letter topic, none stored as a
reading. Five sensors each first send `{"ts": now + 4m50s, "values": {"leak": false}}` (a fast clock, or a
stolen login), then ten real readings, the last five wet: 5 `clock_skew` counted, 5 of 5 leaks raised (the
defect this guards against raised 0 of 5 and dropped 50 readings), 55 of 55 readings stored, and no
device's latest time ahead of the service's clock.
"""

from __future__ import annotations

import base64
import json
import time
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from caretaker.ingest.tables import DeadLetterRow
from tests.faults.device_order_feed import Publisher, leak_id, outcome, telemetry, wait_for, write_site
from tests.service.harness import Watcher, start_service

pytestmark = pytest.mark.faults

SENSORS = 5


def test_times_outside_the_window_are_refused_and_a_fast_clock_hides_no_leak(mosquitto, database_url, tmp_path):
    site = write_site(tmp_path / "site.yaml", leaks=SENSORS)
    service = start_service(mosquitto.url, database_url, site_file=site)
    watcher = Watcher(mosquitto.host, mosquitto.port, client_id=f"t19-watch-{time.monotonic_ns()}")
    publisher = Publisher(mosquitto.host, mosquitto.port, f"t19-pub-{time.monotonic_ns()}")
    try:
        now = datetime.now(timezone.utc)
        topic = f"order/devices/{leak_id(0)}/telemetry"
        bad = {
            "plus-10-min": ((now + timedelta(minutes=10)).isoformat(), "ts_future"),
            "minus-7-days": ((now - timedelta(days=7)).isoformat(), "ts_stale"),
            "epoch-0": (0, "ts_stale"),
            "year-2100": ("2100-01-01T00:00:00Z", "ts_future"),
            "seconds-for-ms": (int(now.timestamp()), "ts_stale"),  # read as ms: January 1970
        }
        payloads = {name: json.dumps({"ts": ts, "seq": 1, "values": {"leak": True}}).encode()
                    for name, (ts, _) in bad.items()}
        publisher.publish([(topic, p) for p in payloads.values()])
        wait_for(lambda: sum(v for k, v in service.pipeline.counters.items() if k.startswith("rejected:")) >= 5,
                 10, "the bad times refused")
        with service.sessions() as session:
            stored = {bytes(p): r for p, r in session.execute(select(DeadLetterRow.payload, DeadLetterRow.reason))}
        assert {name: stored.get(payloads[name]) for name in bad} == {name: code for name, (_, code) in bad.items()}
        letters = [seen.json() for seen in watcher.on("/deadletter")]
        on_topic = {base64.b64decode(letter["payload_b64"]): letter["reason"] for letter in letters}
        assert {name: on_topic.get(payloads[name]) for name in bad} == {name: code for name, (_, code) in bad.items()}
        assert outcome(service.sessions)["telemetry"] == 0

        # a clock 4 min 50 s fast on every sensor: accepted, counted, applied at the time it arrived
        fast = now + timedelta(minutes=4, seconds=50)
        publisher.publish([telemetry(leak_id(n), fast, 0, {"leak": False}) for n in range(SENSORS)])
        wait_for(lambda: service.pipeline.counters["clock_skew"] >= SENSORS, 10, "the fast clocks counted")
        later = datetime.now(timezone.utc)
        for n in range(SENSORS):
            assert service.pipeline.snapshots[leak_id(n)].last_ts <= later
        # then the real readings, at the real time: five dry, then five wet
        start = max(later, now) + timedelta(milliseconds=50)
        while datetime.now(timezone.utc) < start + timedelta(milliseconds=500):
            time.sleep(0.05)  # every real reading must be in the past when it arrives
        real = [telemetry(leak_id(n), start + timedelta(milliseconds=40 * k), 1 + k, {"leak": k >= 5})
                for k in range(10) for n in range(SENSORS)]
        publisher.publish(real)
        wait_for(lambda: outcome(service.sessions)["telemetry"] >= SENSORS * 11, 15, "every reading stored")
        def leaking() -> list[str]:
            return sorted(d for d, r, _ in outcome(service.sessions)["alerts"] if r == "water-leak")

        wait_for(lambda: len(leaking()) >= SENSORS, 10, "5 leaks raised")
        assert leaking() == sorted(leak_id(n) for n in range(SENSORS))
        assert service.pipeline.counters["replays"] == 0
        assert service.pipeline.counters["clock_skew"] == SENSORS
        assert outcome(service.sessions)["telemetry"] == SENSORS * 11
        assert all(service.pipeline.snapshots[leak_id(n)].last_ts <= datetime.now(timezone.utc) for n in range(SENSORS))
        assert f"caretaker_clock_skew_total {SENSORS}" in service.metrics_text()
    finally:
        publisher.close()
        watcher.close()
        service.stop()
