"""Helpers for the device-order fault tests (T19, T20, T21): a site of leak sensors and elevators, feeds in
device time, publishing, and what a feed left behind (alerts and tickets) as comparable values."""

from __future__ import annotations

import json
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import paho.mqtt.client as mqtt
import yaml
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import func, select

from caretaker.dispatch.tables import TicketAlertRow, TicketRow
from caretaker.ingest.tables import TelemetryRow
from caretaker.rules.tables import AlertRow

SITE_ID = "order"
BUILDINGS = ("A", "B", "C")


def iso(ts: datetime) -> str:
    return ts.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def leak_id(n: int) -> str:
    return f"{BUILDINGS[n % len(BUILDINGS)]}-LEAK-{n:03d}"


def lift_id(n: int) -> str:
    return f"{BUILDINGS[n % len(BUILDINGS)]}-LIFT-{n:02d}"


def write_site(path: Path, leaks: int, lifts: int = 0) -> Path:
    site = {
        "site": SITE_ID, "name": "Device Order Estate", "timezone": "UTC",
        "travel": {"floor_s": 10, "buildings": [["A", "B", 60], ["A", "C", 90], ["B", "C", 60]]},
        "buildings": [{"id": b, "floors": [-1, 20]} for b in BUILDINGS],
        "devices": [{"id": leak_id(i), "type": "water_leak", "building": BUILDINGS[i % 3], "floor": 1 + i % 20,
                     "interval": "1h"} for i in range(leaks)]
        + [{"id": lift_id(i), "type": "elevator", "building": BUILDINGS[i % 3], "floor": 1, "interval": "1h"}
           for i in range(lifts)],
        "technicians": [{"id": "t-1", "name": "One", "phone": "13800000001", "skills": ["plumbing", "elevator"]}],
        "supervisors": [{"id": "s-1", "name": "Sup", "phone": "13900000001"}],
    }
    path.write_text(yaml.safe_dump(site), encoding="utf-8")
    return path


def telemetry(device: str, ts: datetime, seq: int | None, values: dict) -> tuple[str, bytes]:
    body: dict = {"ts": iso(ts), "values": values}
    if seq is not None:
        body["seq"] = seq
    return f"{SITE_ID}/devices/{device}/telemetry", json.dumps(body).encode()


def event(device: str, ts: datetime, seq: int | None, type_: str) -> tuple[str, bytes]:
    body: dict = {"ts": iso(ts), "type": type_}
    if seq is not None:
        body["seq"] = seq
    return f"{SITE_ID}/devices/{device}/event", json.dumps(body).encode()


class Publisher:
    """One paho connection publishing QoS 1 like a gateway carrying many devices."""

    def __init__(self, host: str, port: int, client_id: str) -> None:
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv311)
        self.client.max_inflight_messages_set(200)
        self.client.connect(host, port)
        self.client.loop_start()

    def publish(self, messages: list[tuple[str, bytes]], prefix: str = "caretaker") -> None:
        infos = [self.client.publish(f"{prefix}/{topic}", payload, qos=1) for topic, payload in messages]
        for info in infos:
            info.wait_for_publish(30)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def outcome(sessions) -> dict:
    """What a feed left: alerts per (device, rule) and their states, tickets by building and trade with the
    number of alerts each carries, and the telemetry rows stored."""
    with sessions() as session:
        alerts = Counter((d, r, s) for d, r, s in session.execute(
            select(AlertRow.device_id, AlertRow.rule_id, AlertRow.state)))
        links = dict(session.execute(select(TicketAlertRow.ticket_id, func.count()).group_by(TicketAlertRow.ticket_id)).all())
        tickets = sorted((b, c, links.get(t, 0)) for t, b, c in session.execute(
            select(TicketRow.id, TicketRow.building, TicketRow.category)))
        stored = session.scalar(select(func.count()).select_from(TelemetryRow))
    return {"alerts": dict(sorted(alerts.items())), "tickets": tickets, "telemetry": stored}


def wait_for(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError(f"{what} not met within {timeout} s")
