"""T16: 1,200 malformed payloads in 12 kinds (100 each) among 1,000 valid readings, through the real service,
Mosquitto and each database.

Checks: no crash (a leak after the corpus still raises its alarm); the dead-letter count per reason is
exact (not_json 400, bad_payload 400, not_utf8 200, non_finite 100, unknown_metric 100); 1,000 of 1,000
valid readings stored; each dead letter keeps its topic, its reason, its stage (`validate`, through
the API) and the first 4 KiB of its bytes exactly (the 20 KB and 6 KB kinds are cut).

"Extra fields" are a value the device's type does not have (unknown_metric): unknown top-level
fields are ignored by the contract, so they are not malformed. A key twice in one object is refused
(bad_payload) rather than read as the parser happens to pick.
"""

from __future__ import annotations

import base64
import json
import random
import time
from collections import Counter
from datetime import datetime, timedelta, timezone

import paho.mqtt.client as mqtt
import pytest
from fastapi.testclient import TestClient
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import func, select

from caretaker.api.app import create_app
from caretaker.api.deps import ApiContext
from caretaker.ingest.store import DEAD_LETTER_PAYLOAD_LIMIT
from caretaker.ingest.tables import DeadLetterRow, TelemetryRow
from caretaker.rules.tables import AlertRow
from tests.service.harness import now_iso, start_service, wait_until

pytestmark = [pytest.mark.faults, pytest.mark.mqtt, pytest.mark.slow]

SITE = "caretaker/test-estate/devices"
VALID_DEVICES = {"A-LEAK-1": ("leak", False), "A-LEAK-2": ("leak", False), "B-LEAK-1": ("leak", False),
                 "A-PRESS-1": ("pressure_kpa", 310), "B-PRESS-1": ("pressure_kpa", 290)}
ADMIN_TOKEN = "t16-admin"


def iso(at: datetime) -> str:
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def malformed(i: int, ts: str) -> dict[str, tuple[str, bytes, str]]:
    """The twelve kinds, the i-th of each: topic, payload, the reason it must get."""
    leak, press = f"{SITE}/A-LEAK-1/telemetry", f"{SITE}/A-PRESS-1/telemetry"
    good = f'{{"ts": "{ts}", "seq": {i}, "values": {{"leak": false}}}}'
    return {
        "invalid-json": (leak, f'{{ts: "{ts}", values: {{leak: false}}}}'.encode(), "not_json"),
        "truncated-json": (leak, good[: 10 + i % 30].encode(), "not_json"),
        "wrong-type": (leak, f'{{"ts": "{ts}", "values": {{"leak": {i}}}}}'.encode(), "bad_payload"),
        "number-as-string": (press, f'{{"ts": "{ts}", "values": {{"pressure_kpa": "{200 + i}"}}}}'.encode(),
                             "bad_payload"),
        "nan-or-infinity": (press, f'{{"ts": "{ts}", "values": {{"pressure_kpa": {["NaN", "Infinity", "-Infinity"][i % 3]}}}}}'
                            .encode(), "non_finite"),
        "missing-field": (leak, f'{{"ts": "{ts}", "seq": {i}}}'.encode(), "bad_payload"),
        "extra-field": (leak, f'{{"ts": "{ts}", "values": {{"leak": false, "temp_c": {i}}}}}'.encode(),
                        "unknown_metric"),
        "nested-10000-deep": (leak, (f'{{"ts": "{ts}", "values": ' + "[" * 10_000 + "]" * 10_000 + "}").encode(),
                              "not_json"),
        "invalid-utf8": (leak, f'{{"ts": "{ts}", "values": {{"leak": "'.encode() + b"\xc3\x28" + b'"}}', "not_utf8"),
        "empty": (leak, b"", "not_json"),
        "binary": (leak, b"\x89PNG\r\n\x1a\n" + random.Random(i).randbytes(6000), "not_utf8"),
        "duplicate-keys": (leak, f'{{"ts": "{ts}", "values": {{"leak": true}}, "values": {{"leak": false}}}}'.encode(),
                           "bad_payload"),
    }


@pytest.fixture
def running(mosquitto, database_url):
    service = start_service(mosquitto.url, database_url)
    yield service
    service.stop()


def test_a_malformed_corpus_is_dead_lettered_exactly_and_every_valid_reading_is_stored(running, mosquitto) -> None:
    service = running
    rng = random.Random(16)
    base = datetime.now(timezone.utc) - timedelta(minutes=2)
    valid = []
    for n in range(1000):
        device = list(VALID_DEVICES)[n % len(VALID_DEVICES)]
        metric, value = VALID_DEVICES[device]
        seq = n // len(VALID_DEVICES)
        payload = json.dumps({"ts": iso(base + timedelta(milliseconds=100 * n)), "seq": seq, "values": {metric: value}})
        valid.append((f"{SITE}/{device}/telemetry", payload.encode(), None))
    bad = [entry for i in range(100) for entry in malformed(i, iso(base + timedelta(seconds=i))).values()]
    assert len(bad) == 1200 and len({reason for *_, reason in bad}) == 5
    feed = list(valid)
    for entry in bad:  # anywhere among the valid ones, which keep their own order
        feed.insert(rng.randrange(len(feed) + 1), entry)

    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"t16-{time.monotonic_ns()}")
    client.max_inflight_messages_set(1000)
    client.connect(mosquitto.host, mosquitto.port)
    client.loop_start()
    try:
        infos = [client.publish(topic, payload, qos=1) for topic, payload, _ in feed]
        for info in infos:
            info.wait_for_publish(10)
        wait_until(lambda: service.ingest.received >= len(feed), 30, "the corpus received")

        def dead_letters() -> int:
            with service.sessions() as session:
                return session.scalar(select(func.count()).select_from(DeadLetterRow))

        wait_until(lambda: dead_letters() >= len(bad), 30, "every malformed message dead-lettered")
        # no crash: the service still turns a leak into an alarm
        client.publish(f"{SITE}/B-LEAK-1/telemetry", json.dumps({"ts": now_iso(), "values": {"leak": True}}),
                       qos=1).wait_for_publish(5)

        def leak_alarm() -> bool:
            with service.sessions() as session:
                return session.scalar(select(func.count()).select_from(AlertRow)
                                      .where(AlertRow.device_id == "B-LEAK-1", AlertRow.state == "raised")) == 1

        wait_until(leak_alarm, 15, "the alarm after the corpus")
    finally:
        client.loop_stop()
        client.disconnect()

    with service.sessions() as session:
        rows = list(session.scalars(select(DeadLetterRow).order_by(DeadLetterRow.id)))
        stored = session.scalar(select(func.count()).select_from(TelemetryRow))
    assert stored == 1000 + 1  # every valid reading, and the leak after the corpus
    assert Counter(r.reason for r in rows) == Counter(reason for *_, reason in bad)
    expected = Counter((topic, payload[:DEAD_LETTER_PAYLOAD_LIMIT], reason) for topic, payload, reason in bad)
    assert Counter((r.topic, bytes(r.payload), r.reason) for r in rows) == expected
    assert max(len(r.payload) for r in rows) == DEAD_LETTER_PAYLOAD_LIMIT  # the long kinds are cut, not dropped

    ctx = ApiContext(sessions=service.sessions, site=service.site, dispatcher=service.dispatcher, clock=service.clock,
                     admin_token=ADMIN_TOKEN, health=lambda: {}, metrics=lambda: "", wake_outbox=lambda: None)
    with TestClient(create_app(ctx)) as api:
        shown = api.get("/api/v1/deadletters", params={"limit": 1000},
                        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}).json()
    assert len(shown) == 1000
    assert {d["stage"] for d in shown} == {"validate"}
    by_id = {r.id: r for r in rows}
    for letter in shown:
        row = by_id[letter["id"]]
        assert (letter["topic"], letter["reason"]) == (row.topic, row.reason)
        assert base64.b64decode(letter["payload_b64"]) == bytes(row.payload)
