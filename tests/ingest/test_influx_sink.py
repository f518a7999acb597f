"""Telemetry goes to a real server speaking InfluxDB's v2 write API, at the devices' timestamps, and is never
acknowledged to the broker before that server has it (docs/deploy.md, "Telemetry in InfluxDB")."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tests.service.harness import Watcher, start_service, wait_until
from tests.timeseries import timeseries  # noqa: F401 - the fixture

pytestmark = pytest.mark.mqtt

T0 = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(minutes=2)


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _influx(server) -> dict:
    return {"influx_url": server.url, "influx_token": "test-token", "influx_org": "caretaker",
            "influx_bucket": "telemetry"}


def test_every_device_type_s_values_land_at_the_device_s_own_timestamps(mosquitto, sqlite_url, timeseries):
    service = start_service(mosquitto.url, sqlite_url, **_influx(timeseries))
    watcher = Watcher(mosquitto.host, mosquitto.port, "influx-watcher")
    try:
        readings = {
            "A-PRESS-1": {"pressure_kpa": 301.5},
            "A-METER-1": {"mains_ok": True, "voltage_v": 221.4, "current_a": 88.0},
            "A-EL-1": {"state": "normal", "floor": 7, "door_open": False, "occupied": True},
            "A-UPS-1": {"on_battery": False, "battery_pct": 99.5},
        }
        for n, (device, values) in enumerate(readings.items()):
            watcher.publish(f"test-estate/devices/{device}/telemetry",
                            {"ts": _iso(T0 + timedelta(milliseconds=250 * n)), "seq": n, "values": values})
        stored = wait_until(lambda: (lambda s: s if ("telemetry_battery_pct", "A-UPS-1") in s else None)(
            timeseries.export()), timeout=20, what="the UPS reading in the store")
        assert stored[("telemetry_pressure_kpa", "A-PRESS-1")] == {_ms(T0): 301.5}
        assert stored[("telemetry_voltage_v", "A-METER-1")] == {_ms(T0 + timedelta(milliseconds=250)): 221.4}
        assert stored[("telemetry_mains_ok", "A-METER-1")] == {_ms(T0 + timedelta(milliseconds=250)): 1.0}
        assert stored[("telemetry_floor", "A-EL-1")] == {_ms(T0 + timedelta(milliseconds=500)): 7.0}
        assert stored[("telemetry_occupied", "A-EL-1")] == {_ms(T0 + timedelta(milliseconds=500)): 1.0}
        assert stored[("telemetry_battery_pct", "A-UPS-1")] == {_ms(T0 + timedelta(milliseconds=750)): 99.5}
    finally:
        watcher.close()
        service.stop()


def test_a_store_that_is_down_holds_the_readings_unacknowledged_and_gets_each_once_when_back(
        mosquitto, sqlite_url, timeseries):
    service = start_service(mosquitto.url, sqlite_url, **_influx(timeseries))
    watcher = Watcher(mosquitto.host, mosquitto.port, "influx-outage-watcher")
    try:
        timeseries.kill()
        for n in range(50):
            watcher.publish("test-estate/devices/A-PRESS-1/telemetry",
                            {"ts": _iso(T0 + timedelta(seconds=n)), "seq": 100 + n, "values": {"pressure_kpa": 250.0 + n}})
        wait_until(lambda: service.pipeline.counters["batch_failures"] > 0, timeout=20,
                   what="a batch that met the store away")
        assert service.pipeline.counters["processed"] == 0  # nothing committed, nothing acknowledged
        timeseries.start()
        stored = wait_until(lambda: (lambda s: s if len(s.get(("telemetry_pressure_kpa", "A-PRESS-1"), {})) >= 50
                                     else None)(timeseries.export()), timeout=30, what="all 50 readings in the store")
        points = stored[("telemetry_pressure_kpa", "A-PRESS-1")]
        assert points == {_ms(T0 + timedelta(seconds=n)): 250.0 + n for n in range(50)}
        wait_until(lambda: service.pipeline.counters["processed"] >= 50, timeout=10, what="the batch committed")
        assert service.pipeline.counters["processed"] == 50  # each once: the retried batch was not doubled
        assert not any(r.startswith("rejected:") for r in service.pipeline.counters)
    finally:
        watcher.close()
        service.stop()
