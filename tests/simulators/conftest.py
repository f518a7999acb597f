"""Fixtures for the simulator tests: a small estate and a recording publisher (Mosquitto: tests/conftest.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest

from caretaker.estate.model import DEFAULT_SLA, Building, Device, Place, Site, Supervisor, Technician, TravelRules


@dataclass(frozen=True, slots=True)
class Published:
    topic: str
    payload: bytes
    qos: int
    retain: bool

    @property
    def body(self) -> Any:
        return json.loads(self.payload)


@dataclass
class RecordingPublisher:
    """A Publisher that keeps every message in order, for assertions instead of a broker."""

    messages: list[Published] = field(default_factory=list)

    def publish(self, topic: str, payload: bytes, qos: int = 0, retain: bool = False) -> None:
        assert isinstance(payload, bytes)
        self.messages.append(Published(topic, payload, qos, retain))

    def on(self, suffix: str) -> list[Published]:
        """Return the messages whose topic ends with `suffix`."""
        return [m for m in self.messages if m.topic.endswith(suffix)]


@pytest.fixture
def recorder() -> RecordingPublisher:
    return RecordingPublisher()


@pytest.fixture
def new_recorder() -> type[RecordingPublisher]:
    """For tests that need several recorders: call it for each one."""
    return RecordingPublisher


def _device(device_id: str, device_type: str, building: str, floor: int, zone: str | None = None) -> Device:
    return Device(device_id, device_type, Place(building, floor, zone))


@pytest.fixture
def small_site() -> Site:
    """Two towers with every device type, enough leak sensors for a burst pipe, three technicians."""
    devices = [
        _device("A-B1-LEAK-1", "water_leak", "A", -1, "pump-room"),
        _device("A-L3-LEAK-1", "water_leak", "A", 3, "riser"),
        _device("A-L6-LEAK-1", "water_leak", "A", 6, "riser"),
        _device("A-L9-LEAK-1", "water_leak", "A", 9, "riser"),
        _device("A-B1-PRES-1", "water_pressure", "A", -1, "pump-room"),
        _device("A-B1-PUMP-1", "water_pump", "A", -1, "pump-room"),
        _device("A-L10-TANK-1", "water_tank", "A", 10, "roof"),
        _device("A-B1-PWR-1", "power_meter", "A", -1, "switch-room"),
        _device("A-B1-UPS-1", "ups", "A", -1, "switch-room"),
        _device("A-B1-GEN-1", "generator", "A", -1, "generator-room"),
        _device("A-B1-TX-1", "transformer", "A", -1, "substation"),
        _device("A-EL-1", "elevator", "A", 1, "lobby"),
        _device("A-L1-DOOR-1", "access_door", "A", 1, "lobby"),
        _device("B-L1-LEAK-1", "water_leak", "B", 1, "pump-room"),
        _device("B-L1-PWR-1", "power_meter", "B", 1, "switch-room"),
        _device("B-EL-1", "elevator", "B", 1, "lobby"),
        _device("B-L1-DOOR-1", "access_door", "B", 1, "lobby"),
    ]
    techs = [
        Technician("t-wang", "Wang Jun", "13800138001", frozenset({"plumbing", "electrical"}), badge="B-1001"),
        Technician("t-liu", "Liu Yang", "13800138003", frozenset({"plumbing", "electrical"}), badge="B-1003"),
        Technician("t-zhou", "Zhou Qiang", "13800138004", frozenset({"plumbing", "electrical"}), badge="B-1004"),
    ]
    return Site(
        id="test-site", name="Test Estate", timezone="Asia/Shanghai",
        travel=TravelRules(floor_s=15, walks={frozenset({"A", "B"}): 120}, location_ttl=timedelta(minutes=30)),
        buildings={"A": Building("A", -1, 10), "B": Building("B", 1, 6)},
        devices={d.id: d for d in devices},
        technicians={t.id: t for t in techs},
        supervisors={"s-li": Supervisor("s-li", "Li Na", "13900139000")},
        units={}, sla=dict(DEFAULT_SLA),
    )
