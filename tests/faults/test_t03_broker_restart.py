"""T03: a clean broker restart (SIGTERM, persistence on) with 1,000 messages queued for the service
(RELIABILITY T03): 1,000/1,000 processed, no duplicate effect.

20 leak sensors × 50 messages, 10 of them turning wet half-way: after the restart every message is stored
once, each wet sensor has exactly one alert and one ticket link, no gap and no loss alarm; a second clean
restart with the service connected changes none of it.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from caretaker.dispatch.tables import TicketAlertRow
from caretaker.rules.system import SystemAlarm
from caretaker.rules.tables import AlertRow
from tests.faults.own_broker import (Devices, alarms, iso_ms, own_broker, stored_telemetry, total_gaps,  # noqa: F401
                                     write_site)
from tests.service.harness import start_service, wait_until

pytestmark = pytest.mark.faults

PER_DEVICE = 50
WET = 10
CLIENT_ID = "caretaker-t03"


def effects(service) -> tuple[int, int]:
    """Leak alerts raised and alerts attached to tickets."""
    with service.sessions() as session:
        leaks = session.scalar(select(func.count()).select_from(AlertRow).where(AlertRow.rule_id == "water-leak"))
        links = session.scalar(select(func.count()).select_from(TicketAlertRow))
    return leaks, links


def test_a_clean_broker_restart_keeps_the_queue_and_nothing_is_applied_twice(own_broker, sqlite_url, tmp_path):
    site_file = tmp_path / "site.yaml"
    devices = write_site(site_file, devices=20)
    fleet = Devices(own_broker.port)
    try:
        service = start_service(own_broker.url, sqlite_url, site_file, mqtt_client_id=CLIENT_ID)
        service.stop()  # the broker now holds the service's session and queues for it
        infos = []
        for seq in range(PER_DEVICE):
            for i, device in enumerate(devices):
                wet = i < WET and seq >= PER_DEVICE // 2
                infos.append(fleet.send(device, {"leak": wet}, iso_ms(seq), wait=False))
        for info in infos:
            info.wait_for_publish(30)
        assert len(infos) == 1000 and all(info.is_published() for info in infos)

        own_broker.restart()  # SIGTERM: Mosquitto writes its database, then starts from it
        service = start_service(own_broker.url, sqlite_url, site_file, mqtt_client_id=CLIENT_ID)
        try:
            assert service.ingest.session_present is True
            wait_until(lambda: stored_telemetry(service) == 1000, timeout=60, what="1,000 queued messages stored")
            wait_until(lambda: service.pipeline.counters["processed"] >= 1000, timeout=10, what="all processed")
            assert effects(service) == (WET, WET)

            # and once more with the service connected: what the broker redelivers changes nothing
            own_broker.restart()
            wait_until(lambda: not service.ingest.connected, timeout=10, what="the service to see the restart")
            wait_until(lambda: service.ingest.connected, timeout=40, what="the service to reconnect")
            assert service.ingest.session_present is True
            for i, device in enumerate(devices):  # after anything redelivered, in the session's order
                fleet.send(device, {"leak": i < WET}, iso_ms(PER_DEVICE))
            wait_until(lambda: stored_telemetry(service) == 1020, timeout=30, what="the next reports")
            assert effects(service) == (WET, WET)
            service.watch_losses()
            assert total_gaps(service) == 0
            assert alarms(service, SystemAlarm.SESSION_LOST, None) == []
            assert alarms(service, SystemAlarm.MESSAGES_LOST, None) == []
        finally:
            service.stop()
    finally:
        fleet.close()
