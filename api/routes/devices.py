"""Devices with their last values and online state, and their telemetry history."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError
from sqlalchemy.orm import Session

from caretaker import i18n
from caretaker.api.deps import Ctx, DeviceReader
from caretaker.api.schemas import DeviceOut, TelemetryOut
from caretaker.estate.device_list import DeviceIndex, Listing, device_index
from caretaker.estate.model import DEVICE_METRICS, Device
from caretaker.ingest.device_reads import DeviceLast, last_of, offline_ids
from caretaker.ingest.store import telemetry_history
from caretaker.rules.device_alerts import fault_counts_of, open_alerts_of

router = APIRouter(prefix="/api/v1/devices", tags=["devices"])
DeviceId = Annotated[str, Path(max_length=64)]
MAX_POINTS = 10_000
MAX_PAGE = 1000  # devices in one page of the list (docs/api.md, "Limits")
# a list longer than this reads every state row in one query rather than its own by id (only an unpaged list)
READ_ALL_PAST = 2000
# online=true walks the list forward reading state rows by id, from a page and one more, doubling up to this
MAX_WALK = 2000


INSPECTION_WINDOW = timedelta(days=30)
INSPECTION_FAULTS = 3  # docs/operations.md: faults that repeat on a device (3 in 30 days) go on the inspection plan


def device_json(device: Device, last: DeviceLast | None, open_alerts: list[str], faults: int = 0) -> dict[str, Any]:
    place = device.place
    return {
        "id": device.id, "type": device.type, "family": device.family,
        "location": {"building": place.building, "floor": place.floor, "zone": place.zone},
        "online": last.online if last else None, "values": dict(last.values) if last else {},
        "last_seen": last.last_seen if last else None, "last_ts": last.last_ts if last else None,
        "gaps": last.gaps if last else 0, "open_alerts": open_alerts,
        "faults_30d": faults, "needs_inspection": faults >= INSPECTION_FAULTS,
    }


def _cursor(index: DeviceIndex, after: str | None) -> int | None:
    """The whole-list position of the device a page starts after; an id not in the site file is refused."""
    if after is None:
        return None
    if after not in index.position:
        raise RequestValidationError([{"type": "value_error", "loc": ("query", "after"), "input": after,
                                       "msg": i18n.said("error.device_unknown", device=after)}])
    return index.position[after]


def _page(session: Session, index: DeviceIndex, listing: Listing, start: int, limit: int | None,
          online: bool | None) -> tuple[list[Device], dict[str, DeviceLast] | None, bool]:
    """The page's devices from index `start` of the listing, the state rows already read for them (or None), and
    whether more follow. Only `online` needs the database to choose: offline ids come from their own index, and
    online devices are found by reading the state rows of the list ahead, a few at a time."""
    devices = listing.devices
    want = len(devices) if limit is None else limit
    if online is None:
        return list(devices[start:start + want]), None, start + want < len(devices)
    if online is False:
        found = index.in_order(offline_ids(session), listing, start)
        return found[:want], None, len(found) > want
    if limit is None:
        lasts = last_of(session, None)
        return [d for d in devices[start:] if (last := lasts.get(d.id)) and last.online is True], lasts, False
    page: list[Device] = []
    lasts: dict[str, DeviceLast] = {}
    at, step = start, min(want + 1, MAX_WALK)
    while at < len(devices) and len(page) <= want:
        ahead = devices[at:at + step]
        read = last_of(session, [d.id for d in ahead])
        for device in ahead:
            last = read.get(device.id)
            if last is not None and last.online is True:
                page.append(device)
                lasts[device.id] = last
                if len(page) > want:
                    break
        at, step = at + len(ahead), min(step * 2, MAX_WALK)
    return page[:want], lasts, len(page) > want


@router.get("", response_model=list[DeviceOut], responses={422: {"description": "a bad limit or cursor, named"}})
def get_devices(ctx: Ctx, _user: DeviceReader, request: Request, response: Response, building: str | None = None,
                type: str | None = None, online: bool | None = None,
                limit: Annotated[int | None, Query(ge=1, le=MAX_PAGE, description=(
                    "devices in the page; absent: every device that matches"))] = None,
                after: Annotated[str | None, Query(max_length=64, description=(
                    "the id the previous page's X-Next-After header gave: the page starts after it"))] = None,
                ) -> list[dict[str, Any]]:
    """The site's devices in building, floor and id order, with last values; filter by building, type, online.
    With `limit`, one page: the header X-Next-After (and Link rel=next) says where the next one starts."""
    index = device_index(ctx.site)
    listing = index.listing(building, type)
    start = listing.after(_cursor(index, after))
    with ctx.sessions() as session:
        page, lasts, more = _page(session, index, listing, start, limit, online)
        ids = None if len(page) > READ_ALL_PAST else [d.id for d in page]  # a long list: one query, not many
        if lasts is None:
            lasts = last_of(session, ids) if page else {}
        alerts = open_alerts_of(session, ids) if page else {}
        faults = fault_counts_of(session, ids, ctx.clock.now() - INSPECTION_WINDOW) if page else {}
    if more:
        response.headers["X-Next-After"] = page[-1].id
        following = request.url.include_query_params(after=page[-1].id)
        response.headers["Link"] = f'<{following.path}?{following.query}>; rel="next"'
    return [device_json(d, lasts.get(d.id), alerts.get(d.id, []), faults.get(d.id, 0)) for d in page]


@router.get("/{device_id}", response_model=DeviceOut, responses={404: {"description": "no such device"}})
def get_device(device_id: DeviceId, ctx: Ctx, _user: DeviceReader) -> dict[str, Any]:
    device = ctx.site.devices.get(device_id)
    if device is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, i18n.said("error.device_unknown", device=device_id))
    with ctx.sessions() as session:
        last = last_of(session, [device_id]).get(device_id)
        alerts = open_alerts_of(session, [device_id]).get(device_id, [])
        faults = fault_counts_of(session, [device_id], ctx.clock.now() - INSPECTION_WINDOW).get(device_id, 0)
    return device_json(device, last, alerts, faults)


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
        raise HTTPException(status.HTTP_404_NOT_FOUND, i18n.said("error.device_unknown", device=device_id))
    start, end = _aware("from", from_), _aware("to", to)
    with ctx.sessions() as session:
        rows = telemetry_history(session, device_id, metric, start, end, limit=limit)
    kinds = DEVICE_METRICS.get(ctx.site.devices[device_id].type, {})
    points = [{"ts": r.ts, "metric": r.metric, "value": _value(r.value_num, r.value_text, kinds.get(r.metric))}
              for r in rows]
    return {"device": device_id, "metric": metric, "points": points}
