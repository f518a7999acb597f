"""A Mosquitto of a fault test's own, with persistence in a temp dir, that the test may stop cleanly, kill -9
and start again on the same port; never the machine's shared broker.

By default it runs with the production file's queue, session and persistence settings
(mosquitto/mosquitto.conf), so what a test measures (what a kill -9 loses, when a queue overflows) is
what production would do; a test may override any of them.
"""

from __future__ import annotations

import getpass
import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Iterator

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from tests.conftest import MOSQUITTO_BINARY, REPO, free_port, missing, wait_for_port

PRODUCTION_CONF = REPO / "mosquitto" / "mosquitto.conf"
# the production settings a test broker copies: queues, sessions, persistence (not listeners, auth, TLS)
COPIED = ("max_queued_messages", "max_inflight_messages", "persistent_client_expiration", "max_packet_size",
          "autosave_interval", "autosave_on_changes", "persistence", "queue_qos0_messages", "max_queued_bytes",
          "set_tcp_nodelay")


def production_settings(conf: Path = PRODUCTION_CONF) -> dict[str, str]:
    """Return the settings of `COPIED` as the production file sets them (the last one wins, as in Mosquitto)."""
    found: dict[str, str] = {}
    for line in conf.read_text(encoding="utf-8").splitlines():
        parts = line.split(None, 1)
        if len(parts) == 2 and parts[0] in COPIED:
            found[parts[0]] = parts[1].strip()
    return found


class OwnBroker:
    """Start, stop (SIGTERM: Mosquitto saves its database), kill -9 (no save) and restart one Mosquitto."""

    def __init__(self, workdir: Path, **overrides: object) -> None:
        if not Path(MOSQUITTO_BINARY).exists():
            missing(f"no mosquitto binary at {MOSQUITTO_BINARY}")
        self.workdir = workdir
        self.data = workdir / "data"
        self.data.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.settings = {**production_settings(), **{k: str(v) for k, v in overrides.items()}}
        self.settings["persistence"] = "true"
        self.conf = workdir / "mosquitto.conf"
        lines = [f"listener {self.port} 127.0.0.1", "allow_anonymous true",
                 f"persistence_location {self.data}/", f"user {getpass.getuser()}",
                 f"log_dest file {workdir / 'mosquitto.log'}", "log_type all"]
        lines += [f"{key} {value}" for key, value in self.settings.items()]
        self.conf.write_text("\n".join(lines) + "\n", encoding="utf-8")
        self.log = workdir / "mosquitto.log"
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> None:
        assert self.proc is None, "the broker is already running"
        with self.log.open("ab") as handle:
            self.proc = subprocess.Popen([MOSQUITTO_BINARY, "-c", str(self.conf)], stdout=handle,
                                         stderr=subprocess.STDOUT)
        self.starts += 1
        if not wait_for_port("127.0.0.1", self.port, 10):
            raise AssertionError(f"mosquitto did not start on {self.port}:\n{self.log.read_text(errors='replace')[-2000:]}")

    def stop(self) -> None:
        """A clean stop: Mosquitto writes its in-memory database (sessions, queues, retained) to disk."""
        if self.proc is not None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=20)
            self.proc = None

    def kill(self) -> None:
        """kill -9: whatever the broker had not saved yet is gone."""
        if self.proc is not None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
            self.proc = None

    def saves(self) -> int:
        """How many times the broker has written its database so far (its log says so each time)."""
        return self.log.read_text(errors="replace").count("Saving in-memory database")

    def restart(self, kill: bool = False) -> None:
        self.kill() if kill else self.stop()
        self.start()


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[OwnBroker]:
    broker = OwnBroker(tmp_path / "broker")
    broker.start()
    try:
        yield broker
    finally:
        broker.kill()


class Devices:
    """Publishes device telemetry with per-device `seq` counters (QoS 1, waiting for each PUBACK window), like a
    fleet of devices would; `seq` lets the service count what never arrived."""

    def __init__(self, port: int, prefix: str = "caretaker", site: str = "test-estate") -> None:
        self.topic = f"{prefix}/{site}/devices/{{device}}/telemetry"
        self.seq: dict[str, int] = {}
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"devices-{time.monotonic_ns()}",
                                  protocol=mqtt.MQTTv311)
        self.client.max_inflight_messages_set(200)
        self.client.max_queued_messages_set(0)
        connected = threading.Event()
        self.client.on_connect = lambda *_: connected.set()
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        assert connected.wait(10), "the device fleet could not connect"

    def payload(self, device: str, values: dict, ts: str) -> bytes:
        seq = self.seq.get(device, -1) + 1
        self.seq[device] = seq
        return json.dumps({"ts": ts, "seq": seq, "values": values}).encode()

    def send(self, device: str, values: dict, ts: str, wait: bool = True) -> mqtt.MQTTMessageInfo:
        info = self.client.publish(self.topic.format(device=device), self.payload(device, values, ts), qos=1)
        if wait:
            info.wait_for_publish(10)
            assert info.is_published(), "the broker did not acknowledge a device's message"
        return info

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def write_site(path: Path, devices: int = 20, site: str = "test-estate", locale: str | None = None) -> list[str]:
    """A site of `devices` leak sensors, half in building A and half in B; return their ids. `locale`: the
    estate's language (None: the site file's default, zh-CN)."""
    import yaml

    ids = [f"{'AB'[i % 2]}-LEAK-{i:03d}" for i in range(devices)]
    path.write_text(yaml.safe_dump({
        "site": site, "name": "Broker Fault Estate", "timezone": "UTC",
        "travel": {"floor_s": 10, "buildings": [["A", "B", 60]]},
        "buildings": [{"id": "A", "floors": [1, 20]}, {"id": "B", "floors": [1, 20]}],
        "devices": [{"id": d, "type": "water_leak", "building": d[0], "floor": 1 + i % 20} for i, d in enumerate(ids)],
        "technicians": [{"id": "t-1", "name": "One", "phone": "13800000001", "skills": ["plumbing"]}],
        "supervisors": [{"id": "s-1", "name": "Sup", "phone": "13900000001"}],
        **({"locale": locale} if locale else {}),
    }), encoding="utf-8")
    return ids


def iso_ms(offset_ms: int = 0) -> str:
    """Now (plus an offset) as the contract's ts: UTC, milliseconds, Z."""
    from datetime import datetime, timedelta, timezone

    at = datetime.now(timezone.utc) + timedelta(milliseconds=offset_ms)
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def wipe_session(port: int, client_id: str) -> None:
    """Connect once with the service's client id and a clean start, as a broker that lost its state would
    leave things: the session and everything queued in it are gone."""
    from paho.mqtt.properties import Properties
    from paho.mqtt.packettypes import PacketTypes

    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    connected = threading.Event()
    client.on_connect = lambda *_: connected.set()
    properties = Properties(PacketTypes.CONNECT)
    properties.SessionExpiryInterval = 0
    client.connect("127.0.0.1", port, clean_start=True, properties=properties)
    client.loop_start()
    assert connected.wait(10), "could not connect to wipe the session"
    client.disconnect()
    client.loop_stop()


def stored_telemetry(service) -> int:
    """Telemetry rows the service has committed."""
    from sqlalchemy import func, select

    from caretaker.ingest.tables import TelemetryRow

    with service.sessions() as session:
        return session.scalar(select(func.count()).select_from(TelemetryRow))


def alarms(service, kind, state: str | None = "raised") -> list:
    """The service's own alarms of one kind (rules/system.py), oldest first."""
    from sqlalchemy import select

    from caretaker.rules.tables import AlertRow

    with service.sessions() as session:
        query = select(AlertRow).where(AlertRow.rule_id == kind.value)
        if state is not None:
            query = query.where(AlertRow.state == state)
        return list(session.scalars(query.order_by(AlertRow.raised_at)))


def total_gaps(service) -> int:
    """Messages the devices' seq counters say never arrived, as the service has committed them."""
    return sum(snap.gaps for snap in service.pipeline.snapshots.values())


class ShiftedClock:
    """The real clock, moved forward when a test says time has passed (the service's clock port)."""

    def __init__(self) -> None:
        from datetime import timedelta

        self.offset = timedelta(0)

    def now(self):
        from datetime import datetime, timezone

        return datetime.now(timezone.utc) + self.offset

    def advance(self, delta) -> None:
        self.offset += delta


def start_service_at(clock, broker_url: str, database_url: str, site_file: Path, **overrides):
    """tests/service/harness.py start_service, on a clock the test moves."""
    from caretaker.service import Service, load_configuration
    from caretaker.settings import Settings

    overrides.setdefault("mqtt_client_id", f"caretaker-test-{time.monotonic_ns()}")
    settings = Settings(mqtt_url=broker_url, database_url=database_url, site_file=site_file, tick_seconds=0.2,
                        **overrides)
    service = Service(settings, load_configuration(settings), clock=clock)
    service.start(with_http=False)
    return service


def settle_gaps(clock) -> None:
    """Let the time pass after which the service counts a hole in a device's seq as lost, not late
    (ingest/order.py GAP_SETTLE: a reordered feed fills its holes within it); its next tick counts them."""
    from datetime import timedelta

    from caretaker.ingest.order import GAP_SETTLE

    clock.advance(GAP_SETTLE + timedelta(seconds=1))
