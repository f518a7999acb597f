"""T21: 100 captured alarm messages replayed an hour later → 0 new tickets, counted as replays.

Measured on a real Mosquitto and the real service (SQLite and PostgreSQL): 20 leak sensors (10 with `seq`,
10 without) each raise 5 alarms, one every 75 minutes between 6 h and 1 h ago: 100 alarms, each cleared by
a dry reading a minute later. Each sensor then sends a live dry reading, the service is restarted, and the
100 alarm messages are published again byte for byte: 100 replays counted, 0 new alerts, 0 new tickets,
no ticket, history row or push changed, no reading stored twice.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from caretaker.dispatch.tables import OutboxRow, TicketHistoryRow, TicketRow
from tests.faults.device_order_feed import Publisher, leak_id, outcome, telemetry, wait_for, write_site
from tests.service.harness import start_service

pytestmark = pytest.mark.faults

SENSORS, SPELLS = 20, 5


def captured(now: datetime) -> tuple[list[tuple[str, bytes]], list[tuple[str, bytes]]]:
    """The alarm messages, and the whole past feed (alarms and the dry readings that cleared them)."""
    alarms, feed = [], []
    for k in range(SPELLS):
        at = now - timedelta(hours=6) + k * timedelta(minutes=75)
        for n in range(SENSORS):
            seq = (lambda s: s) if n % 2 == 0 else (lambda s: None)  # half the sensors send no seq
            wet = telemetry(leak_id(n), at + timedelta(milliseconds=n), seq(2 * k), {"leak": True})
            dry = telemetry(leak_id(n), at + timedelta(minutes=1, milliseconds=n), seq(2 * k + 1), {"leak": False})
            alarms.append(wet)
            feed += [wet, dry]
    return alarms, feed


def effects(service) -> dict:
    with service.sessions() as session:
        return {**outcome(service.sessions),
                "ticket_rows": session.execute(select(TicketRow.id, TicketRow.status, TicketRow.urgency,
                                                      TicketRow.updated_at).order_by(TicketRow.id)).all(),
                "history": session.scalar(select(func.count()).select_from(TicketHistoryRow)),
                "outbox": session.scalar(select(func.count()).select_from(OutboxRow))}


def quiet(service, processed: int) -> bool:
    return (service.pipeline.counters["processed"] >= processed
            and not any(s == "raised" for _, r, s in outcome(service.sessions)["alerts"] if r == "water-leak"))


def test_alarm_messages_replayed_an_hour_later_open_no_ticket(mosquitto, database_url, tmp_path):
    site = write_site(tmp_path / "site.yaml", leaks=SENSORS)
    now = datetime.now(timezone.utc)
    alarms, feed = captured(now)
    publisher = Publisher(mosquitto.host, mosquitto.port, f"t21-pub-{time.monotonic_ns()}")
    service = start_service(mosquitto.url, database_url, site_file=site)
    try:
        publisher.publish(feed)
        live = [telemetry(leak_id(n), now, 2 * SPELLS if n % 2 == 0 else None, {"leak": False})
                for n in range(SENSORS)]
        publisher.publish(live)
        wait_for(lambda: quiet(service, len(feed) + SENSORS), 30, "the past feed processed and cleared")
        before = effects(service)
        assert sum(before["alerts"].values()) == SENSORS * SPELLS == len(alarms)
        assert before["tickets"] and service.pipeline.counters["replays"] == 0
    finally:
        service.stop()

    service = start_service(mosquitto.url, database_url, site_file=site)  # the order is read back
    try:
        publisher.publish(alarms)  # captured on the wire, replayed an hour after the last of them
        wait_for(lambda: service.pipeline.counters["processed"] >= len(alarms), 30, "the replay processed")
        assert service.pipeline.counters["replays"] == len(alarms)
        assert service.pipeline.counters["alerts_raised"] == 0
        assert effects(service) == before
    finally:
        publisher.close()
        service.stop()
