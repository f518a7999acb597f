"""T17: 100 messages of 1 MB, 100 of 66 KB and 100 of 20 KB, through the real service, Mosquitto (with the
production config's `max_packet_size 70000`) and SQLite.

Checks: the broker refuses every 1 MB message by its limit (it drops the sender's connection; the
service never receives one); the 66 KB ones, over our 64 KiB, are dead-lettered `too_large` without
being parsed (they are not UTF-8, and would be `not_utf8` had they been read), each keeping 4 KiB;
the 20 KB ones are processed; the process's RSS grows by less than 50 MB over the lot.
"""

from __future__ import annotations

import json
import re
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import func, select

from caretaker.ingest.payloads import MAX_PAYLOAD_BYTES
from caretaker.ingest.store import DEAD_LETTER_PAYLOAD_LIMIT
from caretaker.ingest.tables import DeadLetterRow, TelemetryRow
from tests.conftest import REPO
from tests.service.harness import now_iso, start_service, wait_until

pytestmark = [pytest.mark.faults, pytest.mark.mqtt, pytest.mark.slow]

TOPIC = "caretaker/test-estate/devices/A-LEAK-1/telemetry"
COUNT = 100
MB = b"\xff" * 1_000_000
OVER = b"\xff" * 66_000  # over 64 KiB, under the broker's 70,000


def rss_bytes() -> int:
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) * 1024


def broker_limit() -> int:
    conf = (REPO / "mosquitto" / "mosquitto.conf").read_text()
    return int(re.search(r"^max_packet_size\s+(\d+)", conf, re.MULTILINE).group(1))


def client(mosquitto, name: str) -> tuple[mqtt.Client, threading.Event]:
    gone = threading.Event()
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"t17-{name}-{time.monotonic_ns()}",
                    protocol=mqtt.MQTTv311)
    c.on_disconnect = lambda *_: gone.set()
    c.connect(mosquitto.host, mosquitto.port)
    c.loop_start()
    return c, gone


def publish_once(mosquitto, name: str, payload: bytes) -> bool:
    """Publish on a connection of its own, driven by hand; return whether the broker then dropped it."""
    gone = threading.Event()
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"t17-{name}-{time.monotonic_ns()}",
                    protocol=mqtt.MQTTv311)
    c.on_disconnect = lambda *_: gone.set()
    c.connect(mosquitto.host, mosquitto.port)
    c.loop(0.5)
    c.publish(TOPIC, payload, qos=1)
    deadline = time.monotonic() + 5
    while not gone.is_set() and time.monotonic() < deadline:
        c.loop(0.05)
    c.disconnect()
    return gone.is_set()


@pytest.fixture
def running(mosquitto, sqlite_url):
    service = start_service(mosquitto.url, sqlite_url)
    yield service
    service.stop()


def test_the_broker_refuses_megabytes_and_we_refuse_over_64_kib_unread(running, mosquitto) -> None:
    service = running
    assert broker_limit() == 70_000 and len(OVER) > MAX_PAYLOAD_BYTES
    rss_before = rss_bytes()

    refused = 0
    for n in range(COUNT):  # each 1 MB publish costs its sender the connection
        refused += publish_once(mosquitto, f"mb{n}", MB)
    assert refused == COUNT, f"the broker took {COUNT - refused} of the 1 MB messages"

    c, gone = client(mosquitto, "sizes")
    try:
        for n in range(COUNT):
            c.publish(TOPIC, OVER, qos=1).wait_for_publish(5)
            body = {"ts": now_iso(), "seq": n, "values": {"leak": False}, "note": "x" * 20_000}
            c.publish(TOPIC, json.dumps(body).encode(), qos=1).wait_for_publish(5)
        assert not gone.is_set()
        wait_until(lambda: service.ingest.received >= 2 * COUNT, 30, "the 66 KB and 20 KB messages received")

        def counts() -> tuple[int, int]:
            with service.sessions() as session:
                return (session.scalar(select(func.count()).select_from(DeadLetterRow)),
                        session.scalar(select(func.count()).select_from(TelemetryRow)))

        wait_until(lambda: counts() == (COUNT, COUNT), 30, "100 dead letters and 100 readings")
    finally:
        c.loop_stop()
        c.disconnect()

    assert service.ingest.received == 2 * COUNT  # not one of the 1 MB messages reached the service
    with service.sessions() as session:
        letters = list(session.scalars(select(DeadLetterRow)))
    assert {letter.reason for letter in letters} == {"too_large"}
    assert all(letter.detail == f"payload is {len(OVER)} bytes; the limit is {MAX_PAYLOAD_BYTES}" for letter in letters)
    assert all(bytes(letter.payload) == OVER[:DEAD_LETTER_PAYLOAD_LIMIT] for letter in letters)
    grown = rss_bytes() - rss_before
    print(f"T17: RSS grew {grown / 2**20:.1f} MB")
    assert grown < 50 * 1024 * 1024, f"RSS grew {grown / 2**20:.1f} MB"
