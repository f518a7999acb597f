"""Fixtures for the simulator tests: a small estate, a recording publisher, a real Mosquitto."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from estate.model import DEFAULT_SLA, Building, Device, Place, Site, Supervisor, Technician, TravelRules

MOSQUITTO_BINARY = os.environ.get("MOSQUITTO_BINARY") or shutil.which("mosquitto") or "/usr/sbin/mosquitto"


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


# --- a real Mosquitto (move to tests/conftest.py when other rooms need it) --------------------------

@dataclass(frozen=True, slots=True)
class MosquittoBroker:
    host: str
    port: int


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_port(host: str, port: int, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.2):
                return True
        except OSError:
            time.sleep(0.05)
    return False


@pytest.fixture(scope="session")
def mosquitto_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MosquittoBroker]:
    """A Mosquitto of its own on a free loopback port for the whole session; skips without the binary
    (fails instead under CI=true, where a skipped broker test would hide a broken build)."""
    if not Path(MOSQUITTO_BINARY).exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"no mosquitto binary at {MOSQUITTO_BINARY}, and CI=true")
        pytest.skip(f"no mosquitto binary at {MOSQUITTO_BINARY}")
    port = _free_port()
    workdir = tmp_path_factory.mktemp("mosquitto")
    conf = workdir / "mosquitto.conf"
    # no log file of its own: run as root, mosquitto drops to its own user, who cannot write here
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
    log_path = workdir / "mosquitto.log"
    with log_path.open("wb") as log_file:  # a file, not a pipe nobody reads, which would fill and block it
        proc = subprocess.Popen([MOSQUITTO_BINARY, "-c", str(conf)], stdout=log_file, stderr=subprocess.STDOUT)
    try:
        if not _wait_for_port("127.0.0.1", port, 5.0):
            proc.kill()
            proc.wait(timeout=5)
            pytest.fail(f"mosquitto did not start on port {port}: {log_path.read_text(errors='replace')}")
        yield MosquittoBroker("127.0.0.1", port)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
