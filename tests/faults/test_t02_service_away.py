"""T02: the service is down while 2,000 messages arrive (RELIABILITY T02, scaled from 10 minutes to the
seconds 2,000 messages take here; 20 devices × 100).

With its persistent session the broker keeps them: `session_present` on reconnect and 2,000/2,000
processed, no loss alarm. Negative control: the session is gone when the service comes back (a clean
session); the loss is detected and reported: a SESSION_LOST alarm at reconnect, and once the devices report
again a MESSAGES_LOST alarm naming the 20 devices and their buildings, 2,000 of 2,000 lost messages counted.
On SQLite and PostgreSQL.
"""

from __future__ import annotations

import pytest

from caretaker.rules.system import SystemAlarm
from tests.faults.own_broker import (Devices, ShiftedClock, alarms, iso_ms, own_broker, settle_gaps,  # noqa: F401
                                     start_service_at, stored_telemetry, total_gaps, wipe_session, write_site)
from tests.service.harness import Watcher, start_service, wait_until

pytestmark = pytest.mark.faults

PER_DEVICE = 100
CLIENT_ID = "caretaker-t02"


@pytest.fixture
def site(tmp_path):
    path = tmp_path / "site.yaml"
    return path, write_site(path, devices=20, locale="en")  # an English estate: the alarms read in English


def run_until_away(own_broker, database_url, site_file, devices, fleet, protocol):
    """Start the service, let every device report once (so the database has a past), then stop it."""
    service = start_service(own_broker.url, database_url, site_file, mqtt_client_id=CLIENT_ID, mqtt_protocol=protocol)
    try:
        for device in devices:
            fleet.send(device, {"leak": False}, iso_ms())
        wait_until(lambda: stored_telemetry(service) == len(devices), timeout=20, what="the first reports")
    finally:
        service.stop()


def send_while_away(fleet, devices) -> int:
    infos = [fleet.send(device, {"leak": False}, iso_ms(i), wait=False)
             for i in range(PER_DEVICE) for device in devices]
    for info in infos:
        info.wait_for_publish(30)
    assert all(info.is_published() for info in infos)
    return len(infos)


@pytest.mark.parametrize("protocol", [5, 4])
def test_the_broker_keeps_the_session_and_every_message_while_the_service_is_away(own_broker, database_url, site,
                                                                                   protocol):
    site_file, devices = site
    fleet = Devices(own_broker.port)
    try:
        run_until_away(own_broker, database_url, site_file, devices, fleet, protocol)
        sent = send_while_away(fleet, devices)
        assert sent == 2000
        service = start_service(own_broker.url, database_url, site_file, mqtt_client_id=CLIENT_ID,
                                mqtt_protocol=protocol)
        try:
            assert service.ingest.session_present is True
            wait_until(lambda: stored_telemetry(service) == len(devices) + sent, timeout=60,
                       what="2,000 queued messages processed")
            service.watch_losses()
            assert total_gaps(service) == 0
            assert alarms(service, SystemAlarm.SESSION_LOST, None) == []
            assert alarms(service, SystemAlarm.MESSAGES_LOST, None) == []
        finally:
            service.stop()
    finally:
        fleet.close()


def test_a_lost_session_is_raised_at_reconnect_and_every_lost_message_counted(own_broker, database_url, site):
    site_file, devices = site
    fleet = Devices(own_broker.port)
    watcher = Watcher("127.0.0.1", own_broker.port, client_id="t02-control-room")
    try:
        run_until_away(own_broker, database_url, site_file, devices, fleet, 5)
        # the negative control: the service comes back to a clean session (the estate's, caretaker-{site})
        wipe_session(own_broker.port, f"{CLIENT_ID}-test-estate")
        sent = send_while_away(fleet, devices)
        clock = ShiftedClock()
        service = start_service_at(clock, own_broker.url, database_url, site_file, mqtt_client_id=CLIENT_ID)
        try:
            assert service.ingest.session_present is False
            wait_until(lambda: alarms(service, SystemAlarm.SESSION_LOST), timeout=10,
                       what="a SESSION_LOST alarm at reconnect")
            assert stored_telemetry(service) == len(devices)  # the 2,000 are gone, as the alarm says
            # the devices report again: their seq counters show what never arrived
            for device in devices:
                fleet.send(device, {"leak": False}, iso_ms(PER_DEVICE + 1))
            wait_until(lambda: stored_telemetry(service) == 2 * len(devices), timeout=20, what="the new reports")
            settle_gaps(clock)  # a hole becomes a loss once no late message can fill it
            lost = wait_until(lambda: alarms(service, SystemAlarm.MESSAGES_LOST), timeout=20,
                              what="a MESSAGES_LOST alarm")
            assert total_gaps(service) == sent == 2000  # 100% of the loss counted
            assert lost[0].title == "messages lost from 20 devices in buildings A (10), B (10) (2000 messages)"
            # the control room and integrations get both on the alerts topic
            watcher.wait_for("/alerts", lambda p: p["rule"] == SystemAlarm.SESSION_LOST.value, timeout=10)
            event = watcher.wait_for("/alerts", lambda p: p["rule"] == SystemAlarm.MESSAGES_LOST.value, timeout=10)
            assert event.json()["state"] == "raised" and event.json()["device"] is None
        finally:
            service.stop()
    finally:
        watcher.close()
        fleet.close()
