"""Bugs found in a live run, each shown on the real service (real Mosquitto, SQLite and PostgreSQL)."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from ingest.tables import DeviceStateRow
from rules.tables import AlertRow
from tests.service.harness import Watcher, start_service, wait_until

RULES = """
version: 1
rules:
  - id: device-offline
    title: Device offline
    device_types: ["*"]
    when: {status: offline}
    for: 1s
    urgency: 3
    category: general
"""


def iso(at: datetime) -> str:
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@pytest.fixture
def watcher(mosquitto):
    watcher = Watcher(mosquitto.host, mosquitto.port, client_id=f"watcher-{time.monotonic_ns()}")
    yield watcher
    watcher.close()


def rules_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(text)
    return path


def rows(service, table):
    with service.sessions() as session:
        return list(session.scalars(select(table)))


def device_online(service, device: str) -> bool | None:
    with service.sessions() as session:
        row = session.get(DeviceStateRow, device)
        return row.online if row is not None else None


def test_a_device_that_said_offline_and_sends_data_is_online_again(mosquitto, database_url, watcher, tmp_path):
    """An `offline` status raises device-offline; a late reading from before it changes nothing; a reading
    sent after it shows the device online and clears the alarm, as a status `online` would."""
    service = start_service(mosquitto.url, database_url, rules_file=rules_file(tmp_path, RULES))
    try:
        now = datetime.now(timezone.utc)
        topic = "test-estate/devices/A-PRESS-1"
        watcher.publish(f"{topic}/telemetry", {"ts": iso(now - timedelta(seconds=5)), "seq": 10,
                                               "values": {"pressure_kpa": 300.0}})
        watcher.publish(f"{topic}/status", {"ts": iso(now), "state": "offline"})
        offline = wait_until(lambda: [a for a in rows(service, AlertRow) if a.rule_id == "device-offline"],
                             timeout=15, what="a device-offline alarm")[0]
        # a reading from before the status, delivered late (a buffered backlog): still offline
        late_before = service.pipeline.counters["late_readings"]
        watcher.publish(f"{topic}/telemetry", {"ts": iso(now - timedelta(seconds=8)), "seq": 9,
                                               "values": {"pressure_kpa": 301.0}})
        wait_until(lambda: service.pipeline.counters["late_readings"] > late_before, what="the late reading applied")
        assert device_online(service, "A-PRESS-1") is False
        assert rows(service, AlertRow)[0].state == "raised"
        # a reading sent after the status: the device is back
        watcher.publish(f"{topic}/telemetry", {"ts": iso(datetime.now(timezone.utc)), "seq": 11,
                                               "values": {"pressure_kpa": 302.0}})
        wait_until(lambda: device_online(service, "A-PRESS-1") is True, what="the device online again")
        cleared = wait_until(lambda: [a for a in rows(service, AlertRow) if a.id == offline.id and a.state == "cleared"],
                             what="the device-offline alarm cleared")
        assert cleared[0].cleared_at is not None
        watcher.wait_for("alerts", lambda body: body["alert"] == offline.id and body["state"] == "cleared")
    finally:
        service.stop()


@pytest.mark.parametrize(("online", "status_at", "at", "back"), [
    (None, None, datetime(2026, 1, 1, 8, tzinfo=timezone.utc), True),  # never said anything: it talks
    (True, None, datetime(2026, 1, 1, 8, tzinfo=timezone.utc), False),  # already online: nothing changes
    (False, datetime(2026, 1, 1, 8, tzinfo=timezone.utc), datetime(2026, 1, 1, 8, 0, 1, tzinfo=timezone.utc), True),
    (False, datetime(2026, 1, 1, 8, tzinfo=timezone.utc), datetime(2026, 1, 1, 7, 59, tzinfo=timezone.utc), False),
    (False, datetime(2026, 1, 1, 8, tzinfo=timezone.utc), datetime(2026, 1, 1, 8, tzinfo=timezone.utc), False),
])
def test_which_readings_bring_a_device_back_online(online, status_at, at, back):
    from caretaker.pipeline import comes_back_online
    assert comes_back_online(online, status_at, at) is back


STUCK_RULES = """
version: 1
rules:
  - id: elevator-stopped-occupied
    title: Elevator stopped with people inside
    device_types: [elevator]
    when:
      all:
        - {metric: state, op: "==", value: stopped}
        - {metric: occupied, op: "==", value: true}
    for: 1s
    urgency: 1
    category: elevator
"""


def test_a_stuck_lift_s_ticket_and_push_show_the_floor_the_car_is_at(mosquitto, database_url, watcher, tmp_path):
    """The lift is installed at its lobby (floor 1); stuck at floor 7, its ticket and the technician's
    push say floor 7."""
    from dispatch.tables import TicketRow

    service = start_service(mosquitto.url, database_url, rules_file=rules_file(tmp_path, STUCK_RULES))
    try:
        now = iso(datetime.now(timezone.utc))
        watcher.publish("test-estate/technicians/t-sec/location", {"ts": now, "building": "A", "floor": 1})
        watcher.publish("test-estate/devices/A-EL-1/telemetry", {"ts": now, "values": {
            "state": "stopped", "occupied": True, "floor": 7, "door_open": False}})
        [ticket] = wait_until(lambda: rows(service, TicketRow), timeout=15, what="a ticket for the stuck car")
        assert (ticket.building, ticket.floor) == ("A", 7)
        push = watcher.wait_for("technicians/t-sec/dispatch", lambda body: body.get("type") == "assigned")
        assert push.json()["location"]["floor"] == 7
    finally:
        service.stop()


@pytest.mark.parametrize(("device_type", "values", "floor"), [
    ("elevator", {"floor": 7}, 7),
    ("elevator", {"floor": -1}, -1),
    ("elevator", {}, 1),  # no floor reported yet: where it is installed
    ("elevator", {"floor": 0}, 1),  # there is no floor 0
    ("elevator", {"floor": 40}, 1),  # not a floor of the building
    ("water_leak", {"floor": 7}, 1),  # only a device that reports its floor moves
])
def test_where_an_alarm_is(device_type, values, floor):
    from caretaker.pipeline import alarm_place
    from estate.model import Building, Device, Place

    device = Device("D-1", device_type, Place("A", 1, "lobby"))
    assert alarm_place(device, values, Building("A", -2, 30)) == Place("A", floor, "lobby")


def test_a_scenario_run_leaves_its_devices_online(mosquitto, database_url, watcher, tmp_path):
    """`caretaker simulate --scenario door-forced` against a running service, one MQTT client per device
    as the command makes them (42 devices of the example estate): when it ends, 0 devices are offline and
    no device-offline alarm is raised or pending (before: all 42, then 42 alarms and their tickets)."""
    import threading

    from simulators.broker import BrokerAddress
    from simulators.runner import run_simulation
    from tests.conftest import EXAMPLE_SITE

    service = start_service(mosquitto.url, database_url, site_file=EXAMPLE_SITE,
                            rules_file=rules_file(tmp_path, RULES))
    try:
        site = service.site
        run_simulation(site, BrokerAddress(mosquitto.host, mosquitto.port), scenario="door-forced", seed=4,
                       speed=50.0, technicians=False, log=lambda _text: None, stop=threading.Event())
        # a reading sent after the run is processed after everything the run sent
        marker = sorted(site.devices)[0]
        sent = iso(datetime.now(timezone.utc))
        watcher.publish(f"{site.id}/devices/{marker}/status", {"ts": sent, "state": "online"})
        wait_until(lambda: (r := _state(service, marker)) is not None and r.status_at is not None
                   and iso(r.status_at) == sent, timeout=15, what="the marker processed")
        states = rows(service, DeviceStateRow)
        assert len(states) == len(site.devices) == 42
        assert [s.device_id for s in states if s.online is not True] == []
        assert [k for k in service.pipeline.states if k[1] == "device-offline"] == []
        assert [a for a in rows(service, AlertRow) if a.rule_id == "device-offline"] == []
    finally:
        service.stop()


def _state(service, device: str) -> DeviceStateRow | None:
    with service.sessions() as session:
        return session.get(DeviceStateRow, device)
