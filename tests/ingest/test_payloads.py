"""Inbound MQTT messages (docs/device-protocol.md): what is accepted, what is refused and why."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from caretaker.estate.model import Place
from caretaker.estate.site import load_site
from caretaker.ingest.payloads import (
    MAX_PAYLOAD_BYTES,
    DeviceEvent,
    DeviceStatus,
    Rejection,
    TechnicianLocation,
    TechnicianReply,
    Telemetry,
    validate_message,
)
from caretaker.ingest.store import DeviceSnapshot

SITE = load_site(Path(__file__).resolve().parents[1] / "fixtures" / "small-site.yaml")
PREFIX = "caretaker"
NOW = datetime(2026, 11, 23, 2, 0, 0, tzinfo=timezone.utc)  # a Monday, 10:00 in Asia/Shanghai
NOW_Z = "2026-11-23T02:00:00Z"
NOW_MS = int(NOW.timestamp() * 1000)

LEAK = f"{PREFIX}/test-estate/devices/A-LEAK-1"
ELEVATOR = f"{PREFIX}/test-estate/devices/A-EL-1"
DOOR = f"{PREFIX}/test-estate/devices/A-DOOR-1"
PRESSURE = f"{PREFIX}/test-estate/devices/A-PRESS-1"
METER = f"{PREFIX}/test-estate/devices/A-METER-1"
TECH = f"{PREFIX}/test-estate/technicians/t-near"


def body(**fields: Any) -> bytes:
    return json.dumps(fields).encode()


def check(topic: str, payload: bytes, now: datetime = NOW):
    return validate_message(topic, payload, SITE, PREFIX, now)


# -- refused -------------------------------------------------------------------------------------

REFUSED = [
    # (id, topic, payload, reason, words the detail must contain)
    ("wrong-prefix", "other/test-estate/devices/A-LEAK-1/telemetry", body(ts=NOW_Z, values={"leak": True}),
     "bad_topic", ["other/test-estate"]),
    ("too-few-levels", f"{PREFIX}/test-estate/devices/A-LEAK-1", body(ts=NOW_Z, values={"leak": True}),
     "bad_topic", ["A-LEAK-1"]),
    ("too-many-levels", f"{LEAK}/telemetry/extra", body(ts=NOW_Z, values={"leak": True}), "bad_topic", ["extra"]),
    ("device-kind-under-technicians", f"{PREFIX}/test-estate/technicians/t-near/telemetry",
     body(ts=NOW_Z, values={"leak": True}), "bad_topic", ["t-near"]),
    ("technician-kind-under-devices", f"{LEAK}/location", body(ts=NOW_Z, building="A", floor=1),
     "bad_topic", ["location"]),
    ("outbound-topic", f"{PREFIX}/test-estate/technicians/t-near/dispatch", body(ts=NOW_Z), "bad_topic", ["dispatch"]),
    ("id-with-bad-character", f"{PREFIX}/test-estate/devices/A LEAK/telemetry", body(ts=NOW_Z, values={}),
     "bad_topic", ["A LEAK"]),
    ("id-longer-than-64", f"{PREFIX}/test-estate/devices/{'x' * 65}/telemetry", body(ts=NOW_Z, values={}),
     "bad_topic", ["xxxx"]),
    ("empty-id", f"{PREFIX}/test-estate/devices//telemetry", body(ts=NOW_Z, values={}), "bad_topic", []),
    ("one-byte-over-64KiB", f"{LEAK}/telemetry", b" " * (MAX_PAYLOAD_BYTES + 1), "too_large", ["65537", "65536"]),
    ("not-utf8", f"{LEAK}/telemetry", b'{"ts": "\xff\xfe"}', "not_utf8", ["UTF-8"]),
    ("not-json", f"{LEAK}/telemetry", b"{ts: 1}", "not_json", ["not JSON"]),
    ("empty-payload", f"{LEAK}/telemetry", b"", "not_json", ["not JSON"]),
    ("json-array", f"{LEAK}/telemetry", b'[{"ts": 1}]', "not_object", ["list"]),
    ("json-string", f"{LEAK}/telemetry", b'"hello"', "not_object", ["str"]),
    ("json-null", f"{LEAK}/telemetry", b"null", "not_object", ["NoneType"]),
    ("nan", f"{PRESSURE}/telemetry", f'{{"ts": "{NOW_Z}", "values": {{"pressure_kpa": NaN}}}}'.encode(),
     "non_finite", ["NaN"]),
    ("infinity", f"{PRESSURE}/telemetry", f'{{"ts": "{NOW_Z}", "values": {{"pressure_kpa": Infinity}}}}'.encode(),
     "non_finite", ["Infinity"]),
    ("minus-infinity", f"{PRESSURE}/telemetry", f'{{"ts": "{NOW_Z}", "values": {{"pressure_kpa": -Infinity}}}}'.encode(),
     "non_finite", ["Infinity"]),
    ("overflowing-float", f"{PRESSURE}/telemetry", f'{{"ts": "{NOW_Z}", "values": {{"pressure_kpa": 1e999}}}}'.encode(),
     "non_finite", ["too large"]),
    ("overflowing-float-nested-in-event-data", f"{ELEVATOR}/event",
     f'{{"ts": "{NOW_Z}", "type": "fault", "data": {{"x": [1, {{"y": -1e999}}]}}}}'.encode(), "non_finite", []),
    # bad_payload: the body's shape
    ("telemetry-without-values", f"{LEAK}/telemetry", body(ts=NOW_Z), "bad_payload", ["values"]),
    ("telemetry-without-ts", f"{LEAK}/telemetry", body(values={"leak": True}), "bad_payload", ["ts"]),
    ("values-not-an-object", f"{LEAK}/telemetry", body(ts=NOW_Z, values=[True]), "bad_payload", ["values"]),
    ("value-is-null", f"{LEAK}/telemetry", body(ts=NOW_Z, values={"leak": None}), "bad_payload", ["leak"]),
    ("value-is-a-list", f"{LEAK}/telemetry", body(ts=NOW_Z, values={"leak": [True]}), "bad_payload", ["leak"]),
    ("bool-metric-sent-a-number", f"{LEAK}/telemetry", body(ts=NOW_Z, values={"leak": 1}), "bad_payload",
     ["values.leak", "boolean"]),
    ("bool-metric-sent-a-string", f"{LEAK}/telemetry", body(ts=NOW_Z, values={"leak": "true"}), "bad_payload",
     ["values.leak", "boolean"]),
    ("number-metric-sent-a-bool", f"{PRESSURE}/telemetry", body(ts=NOW_Z, values={"pressure_kpa": True}),
     "bad_payload", ["values.pressure_kpa", "number"]),
    ("number-metric-sent-a-string", f"{PRESSURE}/telemetry", body(ts=NOW_Z, values={"pressure_kpa": "210"}),
     "bad_payload", ["values.pressure_kpa", "number"]),
    ("int-metric-sent-a-fraction", f"{ELEVATOR}/telemetry", body(ts=NOW_Z, values={"floor": 3.5}), "bad_payload",
     ["values.floor", "integer"]),
    ("bad-elevator-state", f"{ELEVATOR}/telemetry", body(ts=NOW_Z, values={"state": "stuck"}), "bad_payload",
     ["values.state", "stuck", "normal", "out_of_service"]),
    ("elevator-state-wrong-case", f"{ELEVATOR}/telemetry", body(ts=NOW_Z, values={"state": "Stopped"}),
     "bad_payload", ["values.state", "Stopped"]),
    ("second-value-bad", f"{METER}/telemetry", body(ts=NOW_Z, values={"mains_ok": True, "voltage_v": "220V"}),
     "bad_payload", ["voltage_v"]),
    ("ts-without-zone", f"{LEAK}/telemetry", body(ts="2026-11-23T02:00:00", values={"leak": True}),
     "bad_payload", ["ts", "zone"]),
    ("ts-date-only", f"{LEAK}/telemetry", body(ts="2026-11-23", values={"leak": True}), "bad_payload", ["ts"]),
    ("ts-not-a-time", f"{LEAK}/telemetry", body(ts="yesterday", values={"leak": True}), "bad_payload",
     ["ts", "yesterday", "RFC 3339"]),
    ("ts-a-float", f"{LEAK}/telemetry", body(ts=NOW_MS + 0.5, values={"leak": True}), "bad_payload", ["ts"]),
    ("ts-a-bool", f"{LEAK}/telemetry", body(ts=True, values={"leak": True}), "bad_payload", ["ts"]),
    ("ts-epoch-out-of-range", f"{LEAK}/telemetry", body(ts=10**20, values={"leak": True}), "bad_payload",
     ["ts", "epoch"]),
    ("negative-seq", f"{LEAK}/telemetry", body(ts=NOW_Z, seq=-1, values={"leak": True}), "bad_payload", ["seq"]),
    ("seq-a-string", f"{LEAK}/telemetry", body(ts=NOW_Z, seq="41", values={"leak": True}), "bad_payload", ["seq"]),
    ("seq-a-fraction", f"{LEAK}/telemetry", body(ts=NOW_Z, seq=4.5, values={"leak": True}), "bad_payload", ["seq"]),
    ("event-negative-seq", f"{ELEVATOR}/event", body(ts=NOW_Z, seq=-3, type="fault"), "bad_payload", ["seq"]),
    ("event-without-type", f"{ELEVATOR}/event", body(ts=NOW_Z), "bad_payload", ["type"]),
    ("event-empty-type", f"{ELEVATOR}/event", body(ts=NOW_Z, type=""), "bad_payload", ["type"]),
    ("event-data-not-an-object", f"{ELEVATOR}/event", body(ts=NOW_Z, type="fault", data=[1]), "bad_payload",
     ["data"]),
    ("status-bad-state", f"{LEAK}/status", body(ts=NOW_Z, state="sleeping"), "bad_payload", ["state"]),
    ("status-without-state", f"{LEAK}/status", body(ts=NOW_Z), "bad_payload", ["state"]),
    ("status-ts-without-zone", f"{LEAK}/status", body(ts="2026-11-23T02:00:00", state="online"), "bad_payload",
     ["ts", "zone"]),
    ("location-floor-above-building", f"{TECH}/location", body(ts=NOW_Z, building="B", floor=7), "bad_payload",
     ["floor", "7", "1..6"]),
    ("location-floor-below-building", f"{TECH}/location", body(ts=NOW_Z, building="A", floor=-2), "bad_payload",
     ["floor", "-2", "-1..10"]),
    ("location-unknown-building", f"{TECH}/location", body(ts=NOW_Z, building="Z", floor=1), "bad_payload",
     ["building", "'Z'"]),
    ("location-floor-a-string", f"{TECH}/location", body(ts=NOW_Z, building="A", floor="3"), "bad_payload",
     ["floor"]),
    ("location-without-building", f"{TECH}/location", body(ts=NOW_Z, floor=3), "bad_payload", ["building"]),
    ("reply-bad-action", f"{TECH}/reply", body(ts=NOW_Z, ticket="TK-1", action="refuse"), "bad_payload",
     ["action"]),
    ("reply-without-ticket", f"{TECH}/reply", body(ts=NOW_Z, action="accept"), "bad_payload", ["ticket"]),
    ("reply-empty-ticket", f"{TECH}/reply", body(ts=NOW_Z, ticket="", action="accept"), "bad_payload", ["ticket"]),
    # who and where
    ("unknown-device", f"{PREFIX}/test-estate/devices/NOPE-1/telemetry", body(ts=NOW_Z, values={"leak": True}),
     "unknown_device", ["NOPE-1"]),
    ("unknown-device-status", f"{PREFIX}/test-estate/devices/NOPE-1/status", body(state="offline"),
     "unknown_device", ["NOPE-1"]),
    ("device-of-another-site", f"{PREFIX}/other-estate/devices/A-LEAK-1/telemetry",
     body(ts=NOW_Z, values={"leak": True}), "wrong_site", ["other-estate", "test-estate"]),
    ("technician-of-another-site", f"{PREFIX}/other-estate/technicians/t-near/location",
     body(ts=NOW_Z, building="A", floor=1), "wrong_site", ["other-estate"]),
    ("unknown-technician-location", f"{PREFIX}/test-estate/technicians/t-nobody/location",
     body(ts=NOW_Z, building="A", floor=1), "unknown_technician", ["t-nobody"]),
    ("unknown-technician-reply", f"{PREFIX}/test-estate/technicians/t-nobody/reply",
     body(ts=NOW_Z, ticket="TK-1", action="accept"), "unknown_technician", ["t-nobody"]),
    ("metric-of-another-type", f"{LEAK}/telemetry", body(ts=NOW_Z, values={"pressure_kpa": 100}),
     "unknown_metric", ["water_leak", "pressure_kpa", "leak"]),
    ("misspelt-metric", f"{PRESSURE}/telemetry", body(ts=NOW_Z, values={"pressure": 100}),
     "unknown_metric", ["'pressure'"]),
    ("event-of-another-type", f"{ELEVATOR}/event", body(ts=NOW_Z, type="door_forced"), "unknown_event",
     ["elevator", "door_forced", "alarm_button"]),
    ("event-from-a-type-with-none", f"{LEAK}/event", body(ts=NOW_Z, type="fault"), "unknown_event",
     ["water_leak", "no events", "fault"]),
    # the time window
    ("ts-6-minutes-ahead", f"{LEAK}/telemetry", body(ts="2026-11-23T02:06:00Z", values={"leak": True}),
     "ts_future", ["5 minutes"]),
    ("ts-25-hours-old", f"{LEAK}/telemetry", body(ts="2026-11-22T01:00:00Z", values={"leak": True}),
     "ts_stale", ["24 hours"]),
    ("event-ts-ahead", f"{ELEVATOR}/event", body(ts=NOW_MS + 600_000, type="fault"), "ts_future", []),
    # a status that carries a ts is held to the window like any message; a will should carry none
    ("status-with-old-ts", f"{LEAK}/status", body(ts="2026-11-20T00:00:00Z", state="offline"), "ts_stale", []),
    ("status-ts-far-ahead", f"{LEAK}/status", body(ts="2026-11-23T05:00:00Z", state="online"), "ts_future", []),
    ("location-ts-stale", f"{TECH}/location", body(ts="2026-11-01T00:00:00Z", building="A", floor=1),
     "ts_stale", []),
    ("reply-ts-ahead", f"{TECH}/reply", body(ts="2026-11-23T03:00:00Z", ticket="TK-1", action="accept"),
     "ts_future", []),
]


@pytest.mark.parametrize(("topic", "payload", "reason", "words"), [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED])
def test_refused_message_names_reason_and_problem(topic: str, payload: bytes, reason: str, words: list[str]) -> None:
    verdict = check(topic, payload)
    assert isinstance(verdict, Rejection), verdict
    assert verdict.reason == reason, verdict.detail
    assert verdict.topic == topic
    assert verdict.payload == payload  # the raw bytes are kept for the dead-letter store
    for word in words:
        assert word in verdict.detail, f"{word!r} not in {verdict.detail!r}"


def test_every_rejection_reason_is_covered() -> None:
    reasons = {r[3] for r in REFUSED}
    assert reasons == {
        "bad_topic", "too_large", "not_utf8", "not_json", "not_object", "non_finite", "bad_payload",
        "unknown_device", "wrong_site", "unknown_metric", "unknown_event", "ts_future", "ts_stale",
        "unknown_technician",
    }


# Payloads small enough for the limit that the JSON parser itself cannot take: the service must
# refuse them, never raise (docs/device-protocol.md: a bad message "never stops the service").
HOSTILE = [
    ("integer-with-5000-digits", f"{PRESSURE}/telemetry",
     f'{{"ts": "{NOW_Z}", "values": {{"pressure_kpa": {"9" * 5000}}}}}'.encode()),
    ("arrays-nested-30000-deep", f"{ELEVATOR}/event",
     (f'{{"ts": "{NOW_Z}", "type": "fault", "data": {{"x": ' + "[" * 30000 + "]" * 30000 + "}}").encode()),
    ("objects-nested-10000-deep", f"{ELEVATOR}/event",
     (f'{{"ts": "{NOW_Z}", "type": "fault", "data": ' + '{"a":' * 10000 + "1" + "}" * 10000 + "}").encode()),
]


@pytest.mark.parametrize(("topic", "payload"), [h[1:] for h in HOSTILE], ids=[h[0] for h in HOSTILE])
def test_hostile_payload_is_refused_not_raised(topic: str, payload: bytes) -> None:
    assert len(payload) <= MAX_PAYLOAD_BYTES
    verdict = check(topic, payload)  # must not raise
    assert isinstance(verdict, Rejection)
    assert verdict.reason in {"not_json", "bad_payload", "non_finite"}


# -- accepted ------------------------------------------------------------------------------------

ACCEPTED = [
    ("telemetry-rfc3339-z", f"{LEAK}/telemetry", body(ts="2026-11-23T02:00:00.250Z", seq=41, values={"leak": True}),
     Telemetry("A-LEAK-1", NOW + timedelta(milliseconds=250), 41, {"leak": True})),
    ("telemetry-rfc3339-offset", f"{LEAK}/telemetry", body(ts="2026-11-23T10:00:00+08:00", values={"leak": False}),
     Telemetry("A-LEAK-1", NOW, None, {"leak": False})),
    ("telemetry-rfc3339-negative-offset", f"{LEAK}/telemetry",
     body(ts="2026-11-22T21:30:00-04:30", values={"leak": False}), Telemetry("A-LEAK-1", NOW, None, {"leak": False})),
    ("telemetry-rfc3339-lowercase-t-and-z", f"{LEAK}/telemetry", body(ts="2026-11-23t02:00:00z", values={"leak": True}),
     Telemetry("A-LEAK-1", NOW, None, {"leak": True})),
    ("telemetry-epoch-ms", f"{LEAK}/telemetry", body(ts=NOW_MS - 1500, seq=0, values={"leak": True}),
     Telemetry("A-LEAK-1", NOW - timedelta(milliseconds=1500), 0, {"leak": True})),
    ("heartbeat-empty-values", f"{LEAK}/telemetry", body(ts=NOW_Z, seq=7, values={}),
     Telemetry("A-LEAK-1", NOW, 7, {})),
    ("several-values-of-each-kind", f"{ELEVATOR}/telemetry",
     body(ts=NOW_Z, values={"state": "stopped", "floor": -1, "door_open": False, "occupied": True}),
     Telemetry("A-EL-1", NOW, None, {"state": "stopped", "floor": -1, "door_open": False, "occupied": True})),
    ("number-metric-int-and-float", f"{METER}/telemetry", body(ts=NOW_Z, values={"voltage_v": 220, "current_a": 1.5}),
     Telemetry("A-METER-1", NOW, None, {"voltage_v": 220, "current_a": 1.5})),
    ("unknown-extra-field-ignored", f"{LEAK}/telemetry", body(ts=NOW_Z, values={"leak": True}, rssi=-70),
     Telemetry("A-LEAK-1", NOW, None, {"leak": True})),
    ("event-with-data", f"{ELEVATOR}/event", body(ts=NOW_Z, seq=42, type="fault", data={"code": "E21"}),
     DeviceEvent("A-EL-1", NOW, 42, "fault", {"code": "E21"})),
    ("event-without-data", f"{ELEVATOR}/event", body(ts=NOW_Z, type="alarm_button"),
     DeviceEvent("A-EL-1", NOW, None, "alarm_button", {})),
    ("badge-event", f"{DOOR}/event", body(ts=NOW_MS, type="badge_granted", data={"badge": "BADGE-NEAR"}),
     DeviceEvent("A-DOOR-1", NOW, None, "badge_granted", {"badge": "BADGE-NEAR"})),
    ("status-online-with-ts", f"{LEAK}/status", body(ts="2026-11-23T01:59:00Z", state="online"),
     DeviceStatus("A-LEAK-1", NOW - timedelta(minutes=1), True)),
    ("status-will-without-ts-is-now", f"{LEAK}/status", body(state="offline"), DeviceStatus("A-LEAK-1", NOW, False)),
    ("location-with-zone", f"{TECH}/location", body(ts=NOW_Z, building="A", floor=-1, zone="pump-room"),
     TechnicianLocation("t-near", NOW, Place("A", -1, "pump-room"))),
    ("location-without-zone", f"{TECH}/location", body(ts=NOW_MS, building="B", floor=6),
     TechnicianLocation("t-near", NOW, Place("B", 6, None))),
    ("reply-accept", f"{TECH}/reply", body(ts=NOW_Z, ticket="TK-1", action="accept"),
     TechnicianReply("t-near", NOW, "TK-1", "accept")),
    ("reply-decline", f"{TECH}/reply", body(ts=NOW_Z, ticket="TK-1", action="decline"),
     TechnicianReply("t-near", NOW, "TK-1", "decline")),
    ("reply-arrive", f"{TECH}/reply", body(ts=NOW_Z, ticket="TK-1", action="arrive"),
     TechnicianReply("t-near", NOW, "TK-1", "arrive")),
]


@pytest.mark.parametrize(("topic", "payload", "expected"), [a[1:] for a in ACCEPTED], ids=[a[0] for a in ACCEPTED])
def test_accepted_message(topic: str, payload: bytes, expected: object) -> None:
    verdict = check(topic, payload)
    assert verdict == expected
    assert verdict.ts.tzinfo is not None and verdict.ts.utcoffset() == timedelta(0)  # always UTC


# -- the ts window -------------------------------------------------------------------------------

WINDOW = [
    ("4m59.999s-ahead", timedelta(minutes=5) - timedelta(milliseconds=1), None),
    ("exactly-5m-ahead", timedelta(minutes=5), None),
    ("5m0.001s-ahead", timedelta(minutes=5, milliseconds=1), "ts_future"),
    ("now", timedelta(0), None),
    ("23h59m59.999s-old", -(timedelta(hours=24) - timedelta(milliseconds=1)), None),
    ("exactly-24h-old", -timedelta(hours=24), None),
    ("24h0.001s-old", -timedelta(hours=24, milliseconds=1), "ts_stale"),
]


@pytest.mark.parametrize("form", ["epoch-ms", "rfc3339"])
@pytest.mark.parametrize(("offset", "reason"), [w[1:] for w in WINDOW], ids=[w[0] for w in WINDOW])
def test_ts_window_edges(offset: timedelta, reason: str | None, form: str) -> None:
    ts = NOW + offset
    raw: int | str = int(ts.timestamp() * 1000) if form == "epoch-ms" else ts.isoformat(timespec="milliseconds")
    for topic, payload in [
        (f"{LEAK}/telemetry", body(ts=raw, values={"leak": True})),
        (f"{ELEVATOR}/event", body(ts=raw, type="alarm_button")),
        (f"{TECH}/location", body(ts=raw, building="A", floor=1)),
        (f"{TECH}/reply", body(ts=raw, ticket="TK-1", action="accept")),
    ]:
        verdict = check(topic, payload)
        if reason is None:
            assert not isinstance(verdict, Rejection), (topic, verdict)
            assert verdict.ts == ts
        else:
            assert isinstance(verdict, Rejection) and verdict.reason == reason, (topic, verdict)


# -- the 64 KiB limit ----------------------------------------------------------------------------

def _event_of_size(size: int) -> bytes:
    """A valid elevator event padded to exactly `size` bytes."""
    skeleton = body(ts=NOW_Z, type="fault", data={"pad": ""})
    payload = body(ts=NOW_Z, type="fault", data={"pad": "x" * (size - len(skeleton))})
    assert len(payload) == size
    return payload


@pytest.mark.parametrize(
    ("size", "reason"),
    [(MAX_PAYLOAD_BYTES - 1, None), (MAX_PAYLOAD_BYTES, None), (MAX_PAYLOAD_BYTES + 1, "too_large")],
    ids=["64KiB-minus-1", "exactly-64KiB", "64KiB-plus-1"],
)
def test_size_limit_at_the_boundary(size: int, reason: str | None) -> None:
    assert MAX_PAYLOAD_BYTES == 65536
    verdict = check(f"{ELEVATOR}/event", _event_of_size(size))
    if reason is None:
        assert isinstance(verdict, DeviceEvent)
    else:
        assert isinstance(verdict, Rejection) and verdict.reason == reason
        assert str(size) in verdict.detail


def test_size_counts_bytes_not_characters() -> None:
    # 3-byte UTF-8 characters: fewer than 64 Ki characters, more than 64 KiB
    skeleton = body(ts=NOW_Z, type="fault", data={"pad": ""})
    pad = "水" * ((MAX_PAYLOAD_BYTES - len(skeleton)) // 3 + 1)
    payload = json.dumps({"ts": NOW_Z, "type": "fault", "data": {"pad": pad}}, ensure_ascii=False).encode()
    assert len(payload.decode()) < MAX_PAYLOAD_BYTES < len(payload)
    verdict = check(f"{ELEVATOR}/event", payload)
    assert isinstance(verdict, Rejection) and verdict.reason == "too_large"


def test_validate_message_uses_the_given_prefix() -> None:
    payload = body(ts=NOW_Z, values={"leak": True})
    assert isinstance(validate_message("ct/test-estate/devices/A-LEAK-1/telemetry", payload, SITE, "ct", NOW), Telemetry)
    verdict = validate_message(f"{LEAK}/telemetry", payload, SITE, "ct", NOW)
    assert isinstance(verdict, Rejection) and verdict.reason == "bad_topic"


# -- the device snapshot (replays and gaps: tests/ingest/test_order.py) ----------------------------

T0 = NOW


def test_snapshot_copy_is_independent() -> None:
    snapshot = DeviceSnapshot("A-LEAK-1", values={"leak": True}, online=True, last_ts=T0, last_seq=3)
    clone = snapshot.copy()
    clone.values["leak"] = False
    assert snapshot.values == {"leak": True}
    assert clone.last_ts == T0 and clone.last_seq == 3 and clone.online is True
