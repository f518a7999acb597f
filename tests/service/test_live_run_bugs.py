"""Bugs found in a live run, each shown on the real service (real Mosquitto, SQLite and PostgreSQL)."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from caretaker.ingest.tables import DeviceStateRow
from caretaker.rules.tables import AlertRow
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
    from caretaker.dispatch.tables import TicketRow

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
    from caretaker.dispatch.alarms import alarm_place
    from caretaker.estate.model import Building, Device, Place

    device = Device("D-1", device_type, Place("A", 1, "lobby"))
    assert alarm_place(device, values, Building("A", -2, 30)) == Place("A", floor, "lobby")


def test_a_scenario_run_leaves_its_devices_online(mosquitto, database_url, watcher, tmp_path):
    """`caretaker simulate --scenario door-forced` against a running service, one MQTT client per device
    as the command makes them (42 devices of the example estate): when it ends, 0 devices are offline and
    no device-offline alarm is raised or pending (before: all 42, then 42 alarms and their tickets)."""
    import threading

    from caretaker.simulators.broker import BrokerAddress
    from caretaker.simulators.runner import run_simulation
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


OUTAGE_RULES = """
version: 1
rules:
  - id: mains-power-lost
    title: Mains power lost
    device_types: [power_meter]
    when: {metric: mains_ok, op: "==", value: false}
    for: 1s
    urgency: 2
    category: electrical
  - id: pump-fault
    title: Water pump fault
    device_types: [water_pump]
    when: {metric: fault, op: "==", value: true}
    urgency: 3
    category: plumbing
    suppressed_by: [mains-power-lost]
  - id: low-water-pressure
    title: Low water pressure
    device_types: [water_pressure]
    when: {metric: pressure_kpa, op: "<", value: 150}
    urgency: 2
    category: plumbing
    suppressed_by: [mains-power-lost]
  - id: pressure-falling-fast
    title: Water pressure falling fast
    device_types: [water_pressure]
    when: {metric: pressure_kpa, drop: 50, within: 60s}
    urgency: 2
    category: plumbing
    suppressed_by: [mains-power-lost]
  - id: water-leak
    title: Water leak
    device_types: [water_leak]
    when: {metric: leak, op: "==", value: true}
    urgency: 1
    category: plumbing
"""


def telemetry(watcher: Watcher, device: str, **values) -> None:
    watcher.publish(f"test-estate/devices/{device}/telemetry",
                    {"ts": iso(datetime.now(timezone.utc)), "values": values})


def alerts_by_rule(service) -> dict[str, AlertRow]:
    """Each rule's alert, with `ticket_id` read from its one link (dispatch/lookup.py `alert_tickets`)."""
    from caretaker.dispatch import lookup

    with service.sessions() as session:
        found = list(session.scalars(select(AlertRow)))
        tickets = lookup.alert_tickets(session, [a.id for a in found])
    for alert in found:
        alert.ticket_id = tickets.get(alert.id)
    return {a.rule_id: a for a in found}


def test_a_plant_building_s_outage_explains_the_alarms_of_the_towers_it_supplies(mosquitto, database_url,
                                                                                 watcher, tmp_path):
    """Plant building P `supplies: [A]`: P's mains lost explains A's pump fault (on P's outage ticket, no
    ticket of its own), while B, which P does not feed, gets its own ticket for its low pressure."""
    from tests.service.harness import SMALL_SITE

    text = SMALL_SITE.read_text()
    text = text.replace("  - {id: A, floors: [-1, 10]}\n",
                        "  - {id: A, floors: [-1, 10]}\n  - {id: P, floors: [-1, 1], supplies: [A]}\n")
    text = text.replace("devices:\n", "devices:\n  - {id: P-METER-1, type: power_meter, building: P, floor: -1}\n", 1)
    site = tmp_path / "site.yaml"
    site.write_text(text)
    service = start_service(mosquitto.url, database_url, site_file=site, rules_file=rules_file(tmp_path, OUTAGE_RULES))
    try:
        telemetry(watcher, "P-METER-1", mains_ok=False, voltage_v=0.0)
        outage = wait_until(lambda: alerts_by_rule(service).get("mains-power-lost"), timeout=15, what="P's outage")
        wait_until(lambda: outage.ticket_id or alerts_by_rule(service)["mains-power-lost"].ticket_id, what="its ticket")
        outage = alerts_by_rule(service)["mains-power-lost"]
        telemetry(watcher, "A-PUMP-1", running=False, fault=True)
        telemetry(watcher, "B-PRESS-1", pressure_kpa=90.0)
        found = wait_until(lambda: (a := alerts_by_rule(service)).keys() >= {"pump-fault", "low-water-pressure"}
                           and a["low-water-pressure"].ticket_id and a, what="A's pump and B's pressure alarms")
        pump, pressure = found["pump-fault"], found["low-water-pressure"]
        assert pump.suppressed_by == outage.id and pump.ticket_id == outage.ticket_id
        assert pressure.suppressed_by is None and pressure.ticket_id != outage.ticket_id
    finally:
        service.stop()


def test_with_mains_lost_falling_pressure_stays_with_the_leak_s_plumbing_ticket(mosquitto, database_url, watcher,
                                                                                tmp_path):
    """Mains lost in A, then a leak in A, then the pressure falls fast: the pressure alarm is evidence of the
    burst pipe and joins the plumbing ticket, not the electrician's outage ticket."""
    from caretaker.dispatch.tables import TicketRow

    service = start_service(mosquitto.url, database_url, rules_file=rules_file(tmp_path, OUTAGE_RULES))
    try:
        telemetry(watcher, "A-PRESS-1", pressure_kpa=310.0)
        telemetry(watcher, "A-METER-1", mains_ok=False, voltage_v=0.0)
        wait_until(lambda: (a := alerts_by_rule(service).get("mains-power-lost")) and a.ticket_id, timeout=15,
                   what="the outage and its ticket")
        telemetry(watcher, "A-LEAK-1", leak=True)
        wait_until(lambda: (a := alerts_by_rule(service).get("water-leak")) and a.ticket_id, what="the leak's ticket")
        telemetry(watcher, "A-PRESS-1", pressure_kpa=200.0)  # a 110 kPa fall within a minute
        found = wait_until(lambda: (a := alerts_by_rule(service)).get("pressure-falling-fast") and a,
                           what="the pressure alarm")
        outage, leak, falling = found["mains-power-lost"], found["water-leak"], found["pressure-falling-fast"]
        assert falling.suppressed_by is None
        assert falling.ticket_id == leak.ticket_id != outage.ticket_id
        with service.sessions() as session:
            assert session.get(TicketRow, falling.ticket_id).category == "plumbing"
    finally:
        service.stop()


def test_with_mains_lost_falling_pressure_joins_a_leak_s_open_ticket_after_the_sensor_dried(
        mosquitto, database_url, watcher, tmp_path):
    """The leak's alarm has cleared but its plumbing ticket is open: the pressure alarm still joins it."""
    service = start_service(mosquitto.url, database_url, rules_file=rules_file(tmp_path, OUTAGE_RULES))
    try:
        telemetry(watcher, "A-PRESS-1", pressure_kpa=310.0)
        telemetry(watcher, "A-LEAK-1", leak=True)
        telemetry(watcher, "A-LEAK-1", leak=False)
        wait_until(lambda: (a := alerts_by_rule(service).get("water-leak")) and a.state == "cleared" and a.ticket_id,
                   what="the leak raised and cleared, its ticket open")
        telemetry(watcher, "A-METER-1", mains_ok=False, voltage_v=0.0)
        wait_until(lambda: (a := alerts_by_rule(service).get("mains-power-lost")) and a.ticket_id, timeout=15,
                   what="the outage and its ticket")
        telemetry(watcher, "A-PRESS-1", pressure_kpa=200.0)
        found = wait_until(lambda: (a := alerts_by_rule(service)).get("pressure-falling-fast") and a,
                           what="the pressure alarm")
        assert found["pressure-falling-fast"].suppressed_by is None
        assert found["pressure-falling-fast"].ticket_id == found["water-leak"].ticket_id
    finally:
        service.stop()
