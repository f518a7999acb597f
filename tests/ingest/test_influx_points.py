"""Telemetry becomes InfluxDB line protocol at the device's own timestamp."""

from datetime import datetime, timezone

from caretaker.ingest.influx import to_points
from caretaker.ingest.payloads import Telemetry


def test_a_reading_becomes_one_point_with_its_metrics_as_fields():
    ts = datetime(2026, 11, 23, 2, 0, 0, 250000, tzinfo=timezone.utc)
    [point] = to_points([Telemetry("A-EL-1", ts, 41, {"state": "stopped", "floor": 7, "occupied": True})], "harbor")
    line = point.to_line_protocol()
    assert line.startswith("telemetry,device=A-EL-1,site=harbor ")
    assert 'state="stopped"' in line and "floor=7" in line and "occupied=true" in line and "seq=41i" in line
    assert line.endswith(" 1795399200250")


def test_heartbeats_write_nothing():
    ts = datetime(2026, 11, 23, tzinfo=timezone.utc)
    assert to_points([Telemetry("A-EL-1", ts, None, {})], "harbor") == []
