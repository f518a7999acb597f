"""SIGKILL the service in the middle of a QoS 1 burst and restart it: every alarm has exactly one ticket."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
import yaml
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import create_engine, func, select

from dispatch.tables import TicketAlertRow, TicketRow
from ingest.tables import TelemetryRow
from rules.tables import AlertRow
from tests.conftest import free_port

DEVICES = 100
MESSAGES_PER_DEVICE = 20  # 2,000 in all
WET_DEVICES = 50


def write_site(path: Path) -> None:
    site = {
        "site": "crash", "name": "Crash Test Estate", "timezone": "UTC",
        "travel": {"floor_s": 10, "buildings": [["A", "B", 60]]},
        "buildings": [{"id": "A", "floors": [-1, 20]}, {"id": "B", "floors": [1, 20]}],
        "devices": [
            {"id": f"LEAK-{i:03d}", "type": "water_leak", "building": "AB"[i % 2], "floor": 1 + i % 20}
            for i in range(DEVICES)
        ],
        "technicians": [{"id": "t-1", "name": "One", "phone": "13800000001", "skills": ["plumbing"]}],
        "supervisors": [{"id": "s-1", "name": "Sup", "phone": "13900000001"}],
    }
    path.write_text(yaml.safe_dump(site), encoding="utf-8")


def burst() -> list[tuple[str, bytes]]:
    """2,000 messages; the first 50 devices turn wet part-way and stay wet, the rest stay dry."""
    rng = random.Random(7)
    start = datetime.now(timezone.utc) - timedelta(minutes=1)
    per_device = []
    for i in range(DEVICES):
        turns_wet = rng.randrange(MESSAGES_PER_DEVICE) if i < WET_DEVICES else None
        messages = []
        for seq in range(MESSAGES_PER_DEVICE):
            ts = start + timedelta(milliseconds=seq * 10 + i)
            wet = turns_wet is not None and seq >= turns_wet
            body = {"ts": ts.isoformat(timespec="milliseconds").replace("+00:00", "Z"), "seq": seq,
                    "values": {"leak": wet}}
            messages.append((f"caretaker/crash/devices/LEAK-{i:03d}/telemetry", json.dumps(body).encode()))
        per_device.append(messages)
    # interleave devices as a real estate would
    return [per_device[i][seq] for seq in range(MESSAGES_PER_DEVICE) for i in range(DEVICES)]


def start_service(env: dict[str, str], log: Path) -> subprocess.Popen:
    handle = log.open("ab")
    return subprocess.Popen([sys.executable, "-m", "caretaker.cli", "run"], env=env, stdout=handle, stderr=subprocess.STDOUT)


def wait_for_log(log: Path, text: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in log.read_text(errors="replace"):
            return
        time.sleep(0.05)
    raise AssertionError(f"service did not say {text!r}:\n{log.read_text(errors='replace')[-3000:]}")


@pytest.mark.slow
def test_sigkill_mid_burst_loses_nothing_and_doubles_nothing(mosquitto, database_url, tmp_path):
    site_file = tmp_path / "site.yaml"
    write_site(site_file)
    env = {**os.environ, "CARETAKER_SITE_FILE": str(site_file), "CARETAKER_DATABASE_URL": database_url,
           "CARETAKER_MQTT_URL": mosquitto.url, "CARETAKER_HTTP_PORT": str(free_port()),
           "CARETAKER_MQTT_CLIENT_ID": f"crash-{time.monotonic_ns()}", "CARETAKER_BATCH_MAX": "50", "CARETAKER_HTTP_ENABLED": "false"}
    log = tmp_path / "service.log"
    service = start_service(env, log)
    try:
        wait_for_log(log, "caretaker: site crash", 30)
        messages = burst()
        publishers = []
        for n in range(10):  # ten connections carry the hundred devices
            client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"crash-pub-{n}", protocol=mqtt.MQTTv311)
            client.max_inflight_messages_set(100)
            client.connect(mosquitto.host, mosquitto.port)
            client.loop_start()
            publishers.append(client)
        killed = threading.Event()

        def kill_mid_burst() -> None:
            # wait until the service has stored part of the burst, then pull the plug
            engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                with engine.connect() as connection:
                    stored = connection.execute(select(func.count()).select_from(TelemetryRow)).scalar()
                if stored >= 300:
                    break
                time.sleep(0.01)
            service.send_signal(signal.SIGKILL)
            killed.set()
            engine.dispose()

        killer = threading.Thread(target=kill_mid_burst)
        killer.start()
        infos = []
        for index, (topic, payload) in enumerate(messages):
            infos.append(publishers[index % 10].publish(topic, payload, qos=1))
            if index % 200 == 0:
                time.sleep(0.02)  # a burst, not a single write: let the service get through part of it
        for info in infos:
            info.wait_for_publish(10)
        killer.join()
        assert killed.is_set()
        service.wait(timeout=10)
        for client in publishers:
            client.disconnect()
            client.loop_stop()

        engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
        with engine.connect() as connection:
            stored_at_kill = connection.execute(select(func.count()).select_from(TelemetryRow)).scalar()
        assert stored_at_kill < len(messages), "the kill came after the burst was fully stored; it proves nothing"

        service = start_service(env, log)  # same client id: the broker kept our session and its queue
        deadline = time.monotonic() + 60
        stored = 0
        while time.monotonic() < deadline:
            with engine.connect() as connection:
                stored = connection.execute(select(func.count()).select_from(TelemetryRow)).scalar()
            if stored >= len(messages):
                break
            time.sleep(0.2)
        assert stored == len(messages), f"{len(messages) - stored} messages lost"
        time.sleep(0.5)
        with engine.connect() as connection:
            alerts = connection.execute(select(AlertRow.device_id, func.count()).group_by(AlertRow.device_id)).all()
            links = connection.execute(select(TicketAlertRow.alert_id, func.count()).group_by(TicketAlertRow.alert_id)).all()
            tickets = connection.execute(select(TicketRow.building, func.count()).group_by(TicketRow.building)).all()
        engine.dispose()
        expected = {f"LEAK-{i:03d}" for i in range(WET_DEVICES)}
        assert {device for device, _ in alerts} == expected, "an alarm was lost"
        assert all(count == 1 for _, count in alerts), "an alarm was doubled"
        assert len(links) == WET_DEVICES and all(count == 1 for _, count in links), "an alarm is on no or two tickets"
        # the leaks of each building within the incident window are one incident: one ticket per building
        assert sorted(tickets) == [("A", 1), ("B", 1)]
    finally:
        if service.poll() is None:
            service.send_signal(signal.SIGTERM)
            try:
                service.wait(timeout=15)
            except subprocess.TimeoutExpired:
                service.kill()
