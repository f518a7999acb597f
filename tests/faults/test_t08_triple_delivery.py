"""T08: every message delivered 3 times → stored once, tickets unchanged, duplicates counted.

Written against the contract (docs/device-protocol.md): a true duplicate, the same message again, changes
nothing. Measured on SQLite and PostgreSQL: a feed of 160 messages (3 leak sensors raising and clearing, a
pressure sensor, 4 door-forced events) delivered three times in a row each (480 deliveries), then the
whole feed twice more (320) → the 156 readings stored once, the same alerts and tickets as a single
delivery (one alert per wet sensor, one leak ticket per building and the door's), every ticket row,
history entry, alert log entry and push unchanged by the later 320, and 640 duplicates counted in
`caretaker_messages_replayed_total`.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from caretaker.dispatch.tables import OutboxRow, TicketAlertRow, TicketHistoryRow, TicketRow
from caretaker.ingest.tables import TelemetryRow
from caretaker.rules.tables import AlertLogRow, AlertRow
from tests.service.harness import Watcher, start_service, wait_until

pytestmark = pytest.mark.faults

LEAKS = ("A-LEAK-1", "A-LEAK-2", "B-LEAK-1")
READINGS = 40  # per sensor


def iso(ts: datetime) -> str:
    return ts.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def feed() -> list[tuple[str, bytes]]:
    """Each leak sensor wet from reading 10 to 29, dry after; a pressure sensor steady; door events."""
    start = datetime.now(timezone.utc) - timedelta(minutes=2)
    messages = []
    for n in range(READINGS):
        ts = start + timedelta(seconds=n)
        for device in LEAKS:
            messages.append((f"test-estate/devices/{device}/telemetry",
                             {"ts": iso(ts), "seq": n, "values": {"leak": 10 <= n < 30}}))
        if n % 10 == 5:  # a forced door: a security alarm of its own
            messages.append(("test-estate/devices/A-DOOR-1/event",
                             {"ts": iso(ts), "seq": n, "type": "door_forced", "data": {}}))
        else:
            messages.append(("test-estate/devices/A-PRESS-1/telemetry",
                             {"ts": iso(ts), "seq": n, "values": {"pressure_kpa": 310.0}}))
    return [(topic, json.dumps(body).encode()) for topic, body in messages]


def publish_all(watcher: Watcher, messages: list[tuple[str, bytes]]) -> None:
    """Publish at QoS 1 without waiting for each PUBACK (one connection keeps the order), as a busy estate does."""
    infos = [watcher.client.publish(f"caretaker/{topic}", payload, qos=1) for topic, payload in messages]
    for info in infos:
        info.wait_for_publish(10)


def state(service) -> dict:
    """Everything a delivery could change, as comparable values."""
    with service.sessions() as session:
        tickets = session.execute(select(TicketRow.id, TicketRow.status, TicketRow.building, TicketRow.urgency,
                                         TicketRow.assignee, TicketRow.updated_at).order_by(TicketRow.id)).all()
        return {
            "telemetry": session.scalar(select(func.count()).select_from(TelemetryRow)),
            "alerts": sorted(session.execute(select(AlertRow.device_id, AlertRow.state)).all()),
            "alert_log": session.scalar(select(func.count()).select_from(AlertLogRow)),
            "tickets": tickets,
            "links": session.scalar(select(func.count()).select_from(TicketAlertRow)),
            "history": session.scalar(select(func.count()).select_from(TicketHistoryRow)),
            "outbox": session.scalar(select(func.count()).select_from(OutboxRow)),
        }


def test_every_message_three_times_is_stored_once_and_changes_no_ticket(mosquitto, database_url):
    # no timer sweep during the test (the site's accept window is 3 s): only deliveries may change the state
    service = start_service(mosquitto.url, database_url, tick_seconds=3600)
    watcher = Watcher(mosquitto.host, mosquitto.port, client_id=f"t08-{time.monotonic_ns()}")
    try:
        messages = feed()
        publish_all(watcher, [m for m in messages for _ in range(3)])
        wait_until(lambda: service.pipeline.counters["processed"] >= 3 * len(messages), timeout=20,
                   what="every delivery processed")
        once = state(service)
        assert service.pipeline.counters["replays"] == 2 * len(messages)
        assert not [k for k in service.pipeline.counters if k.startswith("rejected:")]
        # the effects of one delivery: every reading stored once, one alert per wet sensor, one ticket a building
        assert once["telemetry"] == READINGS * len(LEAKS) + READINGS * 9 // 10
        assert sorted({device for device, _ in once["alerts"]}) == sorted(("A-DOOR-1", *LEAKS))
        assert [d for d, _ in once["alerts"] if d != "A-DOOR-1"] == sorted(LEAKS)  # one alert per wet sensor
        # the leaks: one incident per building; the forced door: a security ticket in A
        assert sorted(building for _, _, building, *_ in once["tickets"]) == ["A", "A", "B"]

        publish_all(watcher, messages * 2)  # the whole feed again, as after a reconnect that redelivers it all
        wait_until(lambda: service.pipeline.counters["processed"] >= 5 * len(messages), timeout=20,
                   what="the redelivered feed processed")
        assert state(service) == once
        assert service.pipeline.counters["replays"] == 4 * len(messages)
        assert f"caretaker_messages_replayed_total {4 * len(messages)}" in service.metrics_text()
    finally:
        watcher.close()
        service.stop()
