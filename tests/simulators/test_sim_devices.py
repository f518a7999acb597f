"""Device simulators: payload shapes per docs/device-protocol.md, seq, status, forced state."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest

from caretaker.estate.model import DEVICE_METRICS, DEVICE_TYPES, Building, Device, Place, Site, TravelRules

from caretaker.simulators.clock import VirtualScheduler
from caretaker.simulators.devices import DeviceFleet, device_will
from caretaker.simulators.payloads import format_ts

TS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def _one_of_each() -> Site:
    devices = {f"D-{t}": Device(f"D-{t}", t, Place("A", 1, "lobby")) for t in DEVICE_TYPES}
    return Site("s1", "One of each", "UTC", TravelRules(15), {"A": Building("A", -2, 20)}, devices, {}, {}, {}, {})


def _matches(kind: object, value: object) -> bool:
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(kind, tuple) and value in kind


def _run_fleet(site: Site, recorder, seconds: float = 300.0, prefix: str = "caretaker") -> DeviceFleet:
    scheduler = VirtualScheduler()
    fleet = DeviceFleet(site, lambda d: recorder, scheduler, seed=7, prefix=prefix)
    fleet.start()
    scheduler.run_for(seconds)
    return fleet


def test_format_ts_is_rfc3339_utc_with_milliseconds():
    from datetime import datetime, timezone
    assert format_ts(datetime(2026, 11, 23, 2, 0, 0, 250999, tzinfo=timezone.utc)) == "2026-11-23T02:00:00.250Z"
    shanghai = timezone(timedelta(hours=8))
    assert format_ts(datetime(2026, 11, 23, 10, 0, tzinfo=shanghai)) == "2026-11-23T02:00:00.000Z"


@pytest.mark.parametrize("device_type", DEVICE_TYPES)
def test_every_device_type_sends_contract_telemetry(device_type, recorder):
    _run_fleet(_one_of_each(), recorder)
    telemetry = recorder.on(f"/devices/D-{device_type}/telemetry")
    assert len(telemetry) >= 5  # first message at start, then every period
    for message in telemetry:
        assert message.topic == f"caretaker/s1/devices/D-{device_type}/telemetry"
        assert message.qos in (0, 1) and not message.retain
        body = json.loads(message.payload)
        assert set(body) == {"ts", "seq", "values"}
        assert TS.match(body["ts"])
        assert set(body["values"]) == set(DEVICE_METRICS[device_type])
        for metric, value in body["values"].items():
            assert _matches(DEVICE_METRICS[device_type][metric], value), (metric, value)
    assert [m.body["seq"] for m in telemetry] == list(range(len(telemetry)))


def test_numbers_stay_in_realistic_ranges(recorder):
    _run_fleet(_one_of_each(), recorder, seconds=3600)
    ranges = {"water_pressure": ("pressure_kpa", 290, 310), "water_tank": ("level_pct", 60, 90),
              "transformer": ("temp_c", 45, 65), "power_meter": ("voltage_v", 214, 226)}
    for device_type, (metric, low, high) in ranges.items():
        values = [m.body["values"][metric] for m in recorder.on(f"/D-{device_type}/telemetry")]
        assert all(low <= v <= high for v in values), (device_type, min(values), max(values))
        assert len(set(values)) > 5, f"{device_type} has no noise"


def test_start_announces_online_retained_first(recorder):
    _run_fleet(_one_of_each(), recorder, seconds=0)
    first = recorder.messages[0]
    assert first.topic.endswith("/status") and first.qos == 1 and first.retain
    assert first.body["state"] == "online" and TS.match(first.body["ts"])


def test_will_marks_the_device_offline():
    will = device_will("acme", "s1", "D-1")
    assert will.topic == "acme/s1/devices/D-1/status"
    assert json.loads(will.payload) == {"state": "offline"}
    assert will.qos == 1 and will.retain


def test_stop_stops_telemetry_and_leaves_the_devices_online(recorder):
    scheduler = VirtualScheduler()
    fleet = DeviceFleet(_one_of_each(), lambda d: recorder, scheduler)
    fleet.start()
    fleet.stop()
    count = len(recorder.messages)
    scheduler.run_for(600)
    assert len(recorder.messages) == count
    assert [m for m in recorder.on("/status") if m.body["state"] == "offline"] == []


def test_stop_when_asked_publishes_offline(recorder):
    scheduler = VirtualScheduler()
    fleet = DeviceFleet(_one_of_each(), lambda d: recorder, scheduler)
    fleet.start()
    fleet.stop(publish_offline=True)
    assert recorder.messages[-1].body["state"] == "offline" and recorder.messages[-1].retain


def test_forced_values_publish_at_once_and_stay_until_released(recorder):
    scheduler = VirtualScheduler()
    fleet = DeviceFleet(_one_of_each(), lambda d: recorder, scheduler, prefix="acme")
    fleet.start()
    leak = fleet["D-water_leak"]
    before = len(recorder.messages)
    leak.force(leak=True)
    assert recorder.messages[before].topic == "acme/s1/devices/D-water_leak/telemetry"
    assert recorder.messages[before].body["values"] == {"leak": True}
    scheduler.run_for(120)
    assert all(m.body["values"]["leak"] for m in recorder.on("D-water_leak/telemetry")[-3:])
    leak.release()
    assert recorder.messages[-1].body["values"] == {"leak": False}


def test_seq_is_shared_by_telemetry_and_events(recorder):
    scheduler = VirtualScheduler()
    fleet = DeviceFleet(_one_of_each(), lambda d: recorder, scheduler)
    fleet.start()
    door = fleet["D-access_door"]
    door.emit_event("door_forced")
    door.emit_event("badge_denied", {"badge": "B-9"})
    scheduler.run_for(100)
    mine = [m for m in recorder.messages if "/D-access_door/" in m.topic and not m.topic.endswith("/status")]
    assert [m.body["seq"] for m in mine] == list(range(len(mine)))
    events = recorder.on("D-access_door/event")
    assert [e.body["type"] for e in events] == ["door_forced", "badge_denied"]
    assert events[1].body["data"] == {"badge": "B-9"} and events[1].qos == 1
    assert "data" not in events[0].body


def test_device_interval_from_the_site_sets_the_period(recorder):
    device = Device("D-1", "water_leak", Place("A", 1), interval_s=5)
    site = Site("s1", "x", "UTC", TravelRules(15), {"A": Building("A", 1, 3)}, {"D-1": device}, {}, {}, {}, {})
    _run_fleet(site, recorder, seconds=60)
    assert 12 <= len(recorder.on("/telemetry")) <= 14


def test_nearest_door_counts_no_floor_0(recorder):
    """Basement 1 is one floor from floor 1 (there is no floor 0), so it is nearer than floor 3."""
    doors = {"A-L3-DOOR-1": Device("A-L3-DOOR-1", "access_door", Place("A", 3)),
             "Z-B1-DOOR-1": Device("Z-B1-DOOR-1", "access_door", Place("A", -1))}
    site = Site("s1", "Doors", "UTC", TravelRules(15), {"A": Building("A", -2, 20)}, doors, {}, {}, {}, {})
    fleet = DeviceFleet(site, lambda d: recorder, VirtualScheduler())
    assert fleet.door_in("A", 1).id == "Z-B1-DOOR-1"
