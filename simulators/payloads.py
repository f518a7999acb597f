"""Topics and JSON payloads of docs/device-protocol.md, built as bytes (pure)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

DEFAULT_PREFIX = "caretaker"


def format_ts(moment: datetime) -> str:
    """Return `moment` as RFC 3339 UTC with milliseconds, e.g. "2026-11-23T02:00:00.250Z"."""
    utc = moment.astimezone(timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def device_topic(prefix: str, site: str, device: str, kind: str) -> str:
    """Return the topic of one device's `telemetry`, `event` or `status`."""
    return f"{prefix}/{site}/devices/{device}/{kind}"


def technician_topic(prefix: str, site: str, tech: str, kind: str) -> str:
    """Return the topic of one technician's `location`, `reply` or `dispatch`."""
    return f"{prefix}/{site}/technicians/{tech}/{kind}"


def _dump(obj: dict[str, Any]) -> bytes:
    # allow_nan=False: the service dead-letters NaN, so a simulator must never produce it
    return json.dumps(obj, separators=(",", ":"), allow_nan=False).encode()


def telemetry_payload(ts: str, seq: int, values: dict[str, Any]) -> bytes:
    return _dump({"ts": ts, "seq": seq, "values": values})


def event_payload(ts: str, seq: int, type_: str, data: dict[str, Any] | None = None) -> bytes:
    body: dict[str, Any] = {"ts": ts, "seq": seq, "type": type_}
    if data is not None:
        body["data"] = data
    return _dump(body)


def status_payload(ts: str | None, online: bool) -> bytes:
    """Return a Status; the MQTT will is built long before it fires, so it may go without `ts`."""
    body: dict[str, Any] = {"state": "online" if online else "offline"}
    if ts is not None:
        body = {"ts": ts, **body}
    return _dump(body)


def location_payload(ts: str, building: str, floor: int, zone: str | None) -> bytes:
    body: dict[str, Any] = {"ts": ts, "building": building, "floor": floor}
    if zone is not None:
        body["zone"] = zone
    return _dump(body)


def reply_payload(ts: str, ticket: str, action: str) -> bytes:
    return _dump({"ts": ts, "ticket": ticket, "action": action})
