"""T07: PostgreSQL unreachable while 600 messages arrive → 0 acks for uncommitted messages; 600/600 after
recovery; `/healthz` degraded within 10 s and healthy within 10 s after.

Scaled: the outage lasts 15 s instead of 60 s (the service's behaviour does not change with the length:
it retries the same batch every second and acknowledges nothing until it commits; the estate's lease is set
longer than the outage, as the default 15 s lease is longer than a short outage: past its lease the instance
lets the estate go and its messages wait at the broker for the next holder, T11). The test runs its
own PostgreSQL cluster (tests/faults/own_postgres.py), stopped with `pg_ctl stop -m immediate` and
started again. Measured: 600 readings (a leak among them) received during the outage, 0 acknowledged
while the database was down, 600/600 stored and acknowledged after it came back, the leak's ticket
opened; `/healthz` answered 503 naming the database about 0.1 s after the stop and 200 again about
0.1 s after the start (limits 10 s).
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from caretaker.service import Service, load_configuration
from caretaker.settings import Settings
from caretaker.dispatch.tables import TicketRow
from caretaker.ingest.tables import TelemetryRow
from tests.conftest import free_port
from tests.faults.own_postgres import own_postgres  # noqa: F401 - the fixture
from tests.faults.service_process import Publishers, count_rows, engine_for, wait_for
from tests.service.harness import SMALL_SITE

pytestmark = pytest.mark.faults

OUTAGE_S = 15
MESSAGES = 600
DEVICES = ("A-LEAK-1", "A-LEAK-2", "B-LEAK-1", "A-PRESS-1", "B-PRESS-1")


def readings() -> list[tuple[str, bytes]]:
    """600 readings, 120 per device; A-LEAK-1 turns wet half-way."""
    start = datetime.now(timezone.utc) - timedelta(minutes=1)
    messages = []
    for seq in range(MESSAGES // len(DEVICES)):
        ts = (start + timedelta(milliseconds=100 * seq)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        for device in DEVICES:
            values = {"pressure_kpa": 300.0} if "PRESS" in device else {"leak": device == "A-LEAK-1" and seq >= 60}
            body = {"ts": ts, "seq": seq, "values": values}
            messages.append((f"caretaker/test-estate/devices/{device}/telemetry", json.dumps(body).encode()))
    return messages


def health(port: int) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_a_database_outage_acknowledges_nothing_uncommitted_and_loses_nothing(mosquitto, own_postgres):  # noqa: F811
    port = free_port()
    settings = Settings(mqtt_url=mosquitto.url, database_url=own_postgres.url, site_file=SMALL_SITE,
                        mqtt_client_id=f"t07-{time.monotonic_ns()}", http_port=port, tick_seconds=0.5,
                        lease_seconds=4 * OUTAGE_S)  # an outage shorter than the lease keeps the estate here
    service = Service(settings, load_configuration(settings))
    acks: list[str] = []
    lock = threading.Lock()
    real_ack = service.ingest.ack

    def counted_ack(message) -> None:  # the real ack, recorded: what the broker is told is done
        with lock:
            acks.append(message.topic)
        real_ack(message)

    service.ingest.ack = counted_ack
    service.start(with_http=True)
    engine = engine_for(own_postgres.url)
    publishers = Publishers(mosquitto.host, mosquitto.port, connections=5, prefix="t07")
    try:
        assert health(port)[0] == 200

        stopped = time.monotonic()
        own_postgres.stop_immediately()
        wait_for(lambda: health(port)[0] == 503, 10, "/healthz degraded after the stop", poll=0.05)
        degraded_after = time.monotonic() - stopped
        assert health(port)[1]["down"] == ["database"]

        publishers.publish_all(readings())
        wait_for(lambda: service.ingest.received >= MESSAGES, 10, "600 messages received during the outage")
        time.sleep(max(0.0, stopped + OUTAGE_S - time.monotonic()))  # the outage lasts its length, then ends
        with lock:
            acked_in_outage = len(acks)
        assert acked_in_outage == 0, f"{acked_in_outage} messages acknowledged while nothing could be committed"

        restarted = time.monotonic()
        own_postgres.start()
        wait_for(lambda: health(port)[0] == 200, 10, "/healthz healthy after the start", poll=0.05)
        healthy_after = time.monotonic() - restarted
        wait_for(lambda: count_rows(engine, TelemetryRow) >= MESSAGES, 30, "600/600 stored after recovery", poll=0.1)
        wait_for(lambda: len(acks) >= MESSAGES, 10, "600 acknowledged after their commit")
        assert count_rows(engine, TelemetryRow) == MESSAGES
        assert len(acks) == MESSAGES
        with engine.connect() as connection:
            assert connection.execute(select(TicketRow.device_id)).scalars().all() == ["A-LEAK-1"]
        assert degraded_after <= 10 and healthy_after <= 10, (degraded_after, healthy_after)
    finally:
        publishers.close()
        service.stop()
        engine.dispose()
