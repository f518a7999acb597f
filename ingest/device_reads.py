"""What the devices API reads of device state: the last values of given devices, the ids of offline ones.

Reads only: ingest writes these rows (ingest/store.py). A page of the device list reads its own rows by id, never
the estate's (docs/api.md, "Devices and telemetry"); the order marks ingest keeps are not read at all."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import false, func, select
from sqlalchemy.orm import Session

from caretaker.ingest.tables import DeviceStateRow

IDS_PER_QUERY = 500  # ids bound in one IN (...): well inside SQLite's and PostgreSQL's parameter limits


@dataclass(frozen=True, slots=True)
class DeviceLast:
    """A device as last heard, as the API shows it."""

    online: bool | None = None
    values: dict = field(default_factory=dict)
    last_seen: datetime | None = None
    last_ts: datetime | None = None
    gaps: int = 0


_COLUMNS = (DeviceStateRow.device_id, DeviceStateRow.online, DeviceStateRow.values, DeviceStateRow.last_seen,
            DeviceStateRow.last_ts, DeviceStateRow.gaps)


def chunks(ids: Sequence[str], size: int = IDS_PER_QUERY) -> Iterator[Sequence[str]]:
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


def last_of(session: Session, device_ids: Sequence[str] | None) -> dict[str, DeviceLast]:
    """The last values of these devices (None: of every device heard from), by id; a device never heard from has
    no entry."""
    queries = [select(*_COLUMNS)] if device_ids is None else \
        [select(*_COLUMNS).where(DeviceStateRow.device_id.in_(part)) for part in chunks(device_ids)]
    return {row.device_id: DeviceLast(row.online, dict(row.values or {}), row.last_seen, row.last_ts, row.gaps or 0)
            for query in queries for row in session.execute(query)}


def offline_ids(session: Session) -> list[str]:
    """Ids of the devices whose last status said offline (a partial index holds just these: migration 0010)."""
    # `online = false` as a literal: SQLite uses a partial index only for the very term of its WHERE
    return list(session.scalars(select(DeviceStateRow.device_id).where(DeviceStateRow.online == false())))


def offline_count(session: Session) -> int:
    """How many devices' last status said offline (/metrics)."""
    return session.scalar(select(func.count()).where(DeviceStateRow.online.is_(False))) or 0
