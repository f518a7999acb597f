"""Devices with their last values and online state, and their telemetry history."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, status
from fastapi.exceptions import RequestValidationError
from sqlalchemy import select

from api.deps import Ctx, DeviceReader
from api.schemas import DeviceOut, TelemetryOut
from estate.model import DEVICE_METRICS, Device
from ingest.store import DeviceSnapshot, load_snapshots, telemetry_history
from rules.store import fault_counts
from rules.tables import AlertRow

router = APIRouter(prefix="/api/v1/devices", tags=["devices"])
DeviceId = Annotated[str, Path(max_length=64)]
MAX_POINTS = 10_000


INSPECTION_WINDOW = timedelta(days=30)
INSPECTION_FAULTS = 3  # docs/operations.md: faults that repeat on a device (3 in 30 days) go on the inspection plan


def device_json(device: Device, snap: DeviceSnapshot | None, open_alerts: list[str], faults: int = 0) -> dict[str, Any]:
    place = device.place
    return {
        "id": device.id, "type": device.type, "family": device.family,
        "location": {"building": place.building, "floor": place.floor, "zone": place.zone},
        "online": snap.online if snap else None, "values": dict(snap.values) if snap else {},
        "last_seen": snap.last_seen if snap else None, "last_ts": snap.last_ts if snap else None,
        "gaps": snap.gaps if snap else 0, "open_alerts": open_alerts,
        "faults_30d": faults, "needs_inspection": faults >= INSPECTION_FAULTS,
    }


def _open_alerts(session) -> dict[str, list[str]]:
    result: dict[str, list[str]] = {}
    for alert_id, device_id in session.execute(select(AlertRow.id, AlertRow.device_id)
                                               .where(AlertRow.state == "raised")):
        result.setdefault(device_id, []).append(alert_id)
    return result


@router.get("", response_model=list[DeviceOut])
def get_devices(ctx: Ctx, _user: DeviceReader, building: str | None = None,
                type: str | None = None, online: bool | None = None) -> list[dict[str, Any]]:
    """The site's devices in building and floor order, with last values; filter by building, type, online."""
    with ctx.sessions() as session:
        snaps, alerts = load_snapshots(session), _open_alerts(session)
        faults = fault_counts(session, ctx.clock.now() - INSPECTION_WINDOW)
    devices = sorted(ctx.site.devices.values(), key=lambda d: (d.place.building, d.place.floor, d.id))
    result = []
    for device in devices:
        if (building and device.place.building != building) or (type and device.type != type):
            continue
        row = device_json(device, snaps.get(device.id), alerts.get(device.id, []), faults.get(device.id, 0))
        if online is not None and row["online"] is not online:
            continue
        result.append(row)
    return result


@router.get("/{device_id}", response_model=DeviceOut, responses={404: {"description": "no such device"}})
def get_device(device_id: DeviceId, ctx: Ctx, _user: DeviceReader) -> dict[str, Any]:
    device = ctx.site.devices.get(device_id)
    if device is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"device {device_id!r} is not in the site file")
    with ctx.sessions() as session:
        snaps, alerts = load_snapshots(session), _open_alerts(session)
        faults = fault_counts(session, ctx.clock.now() - INSPECTION_WINDOW)
    return device_json(device, snaps.get(device_id), alerts.get(device_id, []), faults.get(device_id, 0))


def _value(number: float | None, text: str | None, kind: object) -> bool | int | float | str | None:
    if text is not None:
        return text
    if number is None:
        return None
    # booleans and integers are stored as floats; give them back as the device sent them
    if kind == "bool":
        return bool(number)
    if kind == "int":
        return int(number)
    return number


def _aware(name: str, value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        # a time without a zone would be read in the server's zone: refuse rather than guess
        raise RequestValidationError([{"type": "timezone_aware", "loc": ("query", name), "input": str(value),
                                       "msg": "an RFC 3339 time with a zone, e.g. 2026-11-23T02:00:00Z"}])
    return value


@router.get("/{device_id}/telemetry", response_model=TelemetryOut, responses={404: {"description": "no such device"}})
def get_telemetry(device_id: DeviceId, ctx: Ctx, _user: DeviceReader, metric: str | None = None,
                  from_: Annotated[datetime | None, Query(alias="from", description="RFC 3339")] = None,
                  to: Annotated[datetime | None, Query(description="RFC 3339")] = None,
                  limit: Annotated[int, Query(ge=1, le=MAX_POINTS)] = 5000) -> dict[str, Any]:
    """A device's stored values, oldest first, optionally one metric and a time range."""
    if device_id not in ctx.site.devices:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"device {device_id!r} is not in the site file")
    start, end = _aware("from", from_), _aware("to", to)
    with ctx.sessions() as session:
        rows = telemetry_history(session, device_id, metric, start, end, limit=limit)
    kinds = DEVICE_METRICS.get(ctx.site.devices[device_id].type, {})
    points = [{"ts": r.ts, "metric": r.metric, "value": _value(r.value_num, r.value_text, kinds.get(r.metric))}
              for r in rows]
    return {"device": device_id, "metric": metric, "points": points}
