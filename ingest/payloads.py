"""Validate inbound MQTT messages against docs/device-protocol.md; pure: bytes, topic, site and `now` in, a verdict out."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Literal, Mapping

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, ValidationError

from caretaker.estate.model import DEVICE_EVENTS, DEVICE_METRICS, Place, Site
from caretaker.ingest.topics import parse_inbound_topic

MAX_PAYLOAD_BYTES = 64 * 1024
MAX_FUTURE = timedelta(minutes=5)
MAX_AGE = timedelta(hours=24)
MAX_SEQ = 2**63 - 1  # it is stored in a 64-bit column
MAX_NUMBER = 1e15  # no sensor reads beyond this; larger integers would not even convert to a float

Value = bool | float | int | str


@dataclass(frozen=True, slots=True)
class Telemetry:
    device: str
    ts: datetime
    seq: int | None
    values: Mapping[str, Value]


@dataclass(frozen=True, slots=True)
class DeviceEvent:
    device: str
    ts: datetime
    seq: int | None
    type: str
    data: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class DeviceStatus:
    device: str
    ts: datetime
    online: bool


@dataclass(frozen=True, slots=True)
class TechnicianLocation:
    technician: str
    ts: datetime
    place: Place


@dataclass(frozen=True, slots=True)
class TechnicianReply:
    technician: str
    ts: datetime
    ticket: str
    action: Literal["accept", "decline", "arrive"]


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why a message was refused; `reason` is a short machine-readable code (docs/device-protocol.md)."""

    topic: str
    reason: str
    detail: str
    payload: bytes


Accepted = Telemetry | DeviceEvent | DeviceStatus | TechnicianLocation | TechnicianReply

# where in the service each dead-letter reason is decided: checking the message itself, applying a
# well-formed one (a technician's step the ticket does not allow), or processing it (a fault of ours)
APPLY_REASONS = frozenset({"bad_step"})
PROCESS_REASONS = frozenset({"internal_error"})


def stage_of(reason: str) -> str:
    """Return the stage that refused a message with this reason: validate, apply or process."""
    if reason in APPLY_REASONS:
        return "apply"
    if reason in PROCESS_REASONS:
        return "process"
    return "validate"
Verdict = Accepted | Rejection


class _Body(BaseModel):
    # devices may send fields we do not know yet; they are kept out, not refused
    model_config = ConfigDict(extra="ignore")
    ts: StrictInt | str


class _TelemetryBody(_Body):
    seq: StrictInt | None = Field(default=None, ge=0, le=MAX_SEQ)
    values: dict[str, StrictBool | StrictInt | float | str]


class _EventBody(_Body):
    seq: StrictInt | None = Field(default=None, ge=0, le=MAX_SEQ)
    type: str = Field(min_length=1, max_length=64)
    data: dict[str, Any] = Field(default_factory=dict)


class _StatusBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    # a will is set when the device connects, so its ts may be old by the time it fires: optional
    ts: StrictInt | str | None = None
    state: Literal["online", "offline"]


class _LocationBody(_Body):
    building: str = Field(min_length=1, max_length=64)
    floor: StrictInt
    zone: str | None = Field(default=None, max_length=64)


class _ReplyBody(_Body):
    ticket: str = Field(min_length=1, max_length=64)
    action: Literal["accept", "decline", "arrive"]


_BODIES: dict[str, type[BaseModel]] = {
    "telemetry": _TelemetryBody,
    "event": _EventBody,
    "status": _StatusBody,
    "location": _LocationBody,
    "reply": _ReplyBody,
}


class _Refused(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def _no_constants(name: str) -> Any:
    raise _Refused("non_finite", f"{name} is not a number JSON allows")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999 reads as inf
        raise _Refused("non_finite", "payload holds a number too large to represent")
    return value


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # {"leak": false, "leak": true} means what the parser picks; a device and we must not read it differently
    document = dict(pairs)
    if len(document) != len(pairs):
        seen: set[str] = set()
        twice = next(key for key, _ in pairs if key in seen or seen.add(key))
        raise _Refused("bad_payload", f"{twice}: the key appears more than once")
    return document


# made once: json.loads with hooks builds a decoder for every call
_DECODER = json.JSONDecoder(parse_float=_finite, parse_constant=_no_constants, object_pairs_hook=_no_duplicates)


def parse_time(raw: int | str, field: str = "ts") -> datetime:
    """Return the UTC time of an RFC 3339 string with a zone or of epoch milliseconds."""
    if isinstance(raw, int):
        try:
            return datetime.fromtimestamp(raw / 1000, tz=timezone.utc)
        except (OverflowError, OSError, ValueError) as exc:
            raise _Refused("bad_payload", f"{field}: {raw} is not a valid epoch-milliseconds time") from exc
    try:
        parsed = datetime.fromisoformat(raw.upper())  # RFC 3339 allows "t" and "z"
    except ValueError as exc:
        raise _Refused("bad_payload", f"{field}: {raw!r} is not an RFC 3339 time") from exc
    if parsed.tzinfo is None:
        raise _Refused("bad_payload", f"{field}: {raw!r} has no time zone (add Z or an offset)")
    return parsed.astimezone(timezone.utc)


def _check_window(ts: datetime, now: datetime) -> None:
    if ts > now + MAX_FUTURE:
        raise _Refused("ts_future", f"ts {ts.isoformat()} is more than 5 minutes ahead of the service clock")
    if ts < now - MAX_AGE:
        raise _Refused("ts_stale", f"ts {ts.isoformat()} is more than 24 hours old")


def _describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err["loc"]) or "payload"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


def _kind_matches(kind: object, value: Value) -> bool:
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool) and abs(value) <= MAX_NUMBER
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool) and abs(value) <= MAX_NUMBER
    if isinstance(kind, tuple):
        return value in kind
    return False


def _kind_text(kind: object) -> str:
    if isinstance(kind, tuple):
        return "one of " + ", ".join(kind)
    return {"bool": "a boolean", "number": "a number within ±1e15",
            "int": "an integer within ±1e15"}.get(str(kind), str(kind))


def validate_message(topic: str, payload: bytes, site: Site, prefix: str, now: datetime) -> Verdict:
    """Return the accepted message, or a Rejection naming the first problem; never raises."""
    try:
        return _validate(topic, payload, site, prefix, now)
    except _Refused as refused:
        return Rejection(topic, refused.reason, refused.detail, payload)


def _validate(topic: str, payload: bytes, site: Site, prefix: str, now: datetime) -> Accepted:
    parsed_topic = parse_inbound_topic(topic, prefix)
    if parsed_topic is None:
        raise _Refused("bad_topic", f"{topic!r} is not a topic the service accepts")
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise _Refused("too_large", f"payload is {len(payload)} bytes; the limit is {MAX_PAYLOAD_BYTES}")
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _Refused("not_utf8", f"payload is not UTF-8 (byte {exc.start})") from exc
    try:
        document = _DECODER.decode(text)
    except json.JSONDecodeError as exc:
        raise _Refused("not_json", f"payload is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from exc
    except ValueError as exc:  # an integer of thousands of digits: Python refuses to convert it
        raise _Refused("bad_payload", f"payload holds a number too long to read: {exc}") from exc
    except RecursionError as exc:
        raise _Refused("not_json", "payload is nested too deeply to read") from exc
    if not isinstance(document, dict):
        raise _Refused("not_object", f"payload is a JSON {type(document).__name__}, not an object")
    kind = parsed_topic.kind
    try:
        body = _BODIES[kind].model_validate(document)
    except ValidationError as exc:
        raise _Refused("bad_payload", _describe(exc)) from exc

    subject = parsed_topic.subject
    if kind in ("telemetry", "event", "status"):
        if parsed_topic.site != site.id:
            raise _Refused("wrong_site", f"site {parsed_topic.site!r} is not this service's site {site.id!r}")
        device = site.devices.get(subject)
        if device is None:
            raise _Refused("unknown_device", f"device {subject!r} is not in site {site.id!r}")
        if isinstance(body, _StatusBody):
            if body.ts is None:
                return DeviceStatus(subject, now, body.state == "online")  # a will set long ago carries no ts
            ts = parse_time(body.ts)
            _check_window(ts, now)
            return DeviceStatus(subject, ts, body.state == "online")
        ts = parse_time(body.ts)  # type: ignore[attr-defined]
        _check_window(ts, now)
        if isinstance(body, _TelemetryBody):
            metrics = DEVICE_METRICS[device.type]
            for name, value in body.values.items():
                if name not in metrics:
                    raise _Refused("unknown_metric", f"{device.type} has no metric {name!r} (it has {', '.join(metrics)})")
                if not _kind_matches(metrics[name], value):
                    raise _Refused("bad_payload", f"values.{name}: {value!r} is not {_kind_text(metrics[name])}")
            return Telemetry(subject, ts, body.seq, body.values)
        assert isinstance(body, _EventBody)
        allowed = DEVICE_EVENTS.get(device.type, ())
        if body.type not in allowed:
            known = ", ".join(allowed) if allowed else "no events"
            raise _Refused("unknown_event", f"{device.type} sends {known}, not {body.type!r}")
        return DeviceEvent(subject, ts, body.seq, body.type, body.data)

    if parsed_topic.site != site.id:
        raise _Refused("wrong_site", f"site {parsed_topic.site!r} is not this service's site {site.id!r}")
    if subject not in site.technicians:
        raise _Refused("unknown_technician", f"technician {subject!r} is not in site {site.id!r}")
    ts = parse_time(body.ts)  # type: ignore[attr-defined]
    _check_window(ts, now)
    if isinstance(body, _LocationBody):
        building = site.buildings.get(body.building)
        if building is None:
            raise _Refused("bad_payload", f"building: {body.building!r} is not a building of site {site.id!r}")
        if not building.lowest_floor <= body.floor <= building.highest_floor:
            raise _Refused(
                "bad_payload",
                f"floor: {body.floor} is outside building {building.id}'s floors "
                f"{building.lowest_floor}..{building.highest_floor}",
            )
        return TechnicianLocation(subject, ts, Place(body.building, body.floor, body.zone))
    assert isinstance(body, _ReplyBody)
    return TechnicianReply(subject, ts, body.ticket, body.action)
