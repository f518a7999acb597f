"""Ingest's storage: device snapshots (last values, online, the device's order), telemetry rows, dead letters."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Iterable, Mapping, Sequence

from sqlalchemy import delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from caretaker.ingest.bulk import BulkStatement
from caretaker.ingest.order import DeviceOrder
from caretaker.ingest.payloads import Rejection, Telemetry
from caretaker.ingest.tables import DeadLetterRow, DeviceStateRow, TelemetryRow

# a dead letter keeps at most this much of the bytes received, in the store and on the dead-letter topic
DEAD_LETTER_PAYLOAD_LIMIT = 4 * 1024


@dataclass(slots=True)
class DeviceSnapshot:
    """A device as last heard: merged values, online state, the newest telemetry applied (`last_ts`, `last_seq`)
    and its order (ingest/order.py): the seq runs and recent readings that place a late message, and
    `gaps`, the messages its counter says were sent and have not arrived."""

    device_id: str
    values: dict = field(default_factory=dict)
    online: bool | None = None
    last_ts: datetime | None = None
    last_seq: int | None = None
    last_seen: datetime | None = None
    status_at: datetime | None = None
    gaps: int = 0
    event_ts: datetime | None = None  # the newest event applied
    event_seq: int | None = None
    event_type: str | None = None
    order: DeviceOrder = field(default_factory=DeviceOrder)
    # how far the device's clock runs behind the service's (arrival minus ts of its newest reading), so
    # time alone moves its rules on in its own time; not stored: after a restart it is 0 until it talks
    lag: timedelta = timedelta(0)

    def copy(self) -> "DeviceSnapshot":
        # by hand: dataclasses.replace reads the fields anew each call, and this runs for every message
        return DeviceSnapshot(self.device_id, dict(self.values), self.online, self.last_ts, self.last_seq,
                              self.last_seen, self.status_at, self.gaps, self.event_ts, self.event_seq,
                              self.event_type, self.order, self.lag)


def load_snapshots(session: Session) -> dict[str, DeviceSnapshot]:
    return {
        row.device_id: DeviceSnapshot(row.device_id, dict(row.values or {}), row.online, row.last_ts, row.last_seq,
                                      row.last_seen, row.status_at, row.gaps or 0, row.event_ts, row.event_seq,
                                      row.event_type, _order(row))
        for row in session.scalars(select(DeviceStateRow))
    }


def _order(row: DeviceStateRow) -> DeviceOrder:
    if row.order_marks is None:
        # a device last heard before device order was kept: the gaps it had counted stay counted as lost
        return DeviceOrder(lost=row.gaps or 0)
    return DeviceOrder.from_text(row.order_marks)


_SNAPSHOT_COLUMNS = ("online", "values", "last_ts", "last_seq", "last_seen", "status_at", "gaps", "event_ts",
                     "event_seq", "event_type", "order_marks")
_UPDATE_SNAPSHOTS = BulkStatement(DeviceStateRow.__table__, _SNAPSHOT_COLUMNS, key="device_id")
_INSERT_SNAPSHOTS = BulkStatement(DeviceStateRow.__table__, ("device_id",) + _SNAPSHOT_COLUMNS)
_TELEMETRY_COLUMNS = ("device_id", "metric", "ts", "seq", "value_num", "value_text")
_INSERT_TELEMETRY = BulkStatement(TelemetryRow.__table__, _TELEMETRY_COLUMNS, ignore_conflicts=True)


def save_snapshots(session: Session, changed: Iterable[DeviceSnapshot], existing: set[str]) -> None:
    """Write changed snapshots: update the rows that exist, insert the rest; `existing` is updated. One driver
    call each (ingest/bulk.py): this runs with every batch, for every device the batch heard from."""
    updates, inserts = [], []
    for snap in changed:
        values = (snap.online, snap.values, snap.last_ts, snap.last_seq, snap.last_seen, snap.status_at, snap.gaps,
                  snap.event_ts, snap.event_seq, snap.event_type, snap.order.to_text())
        if snap.device_id in existing:
            updates.append(values + (snap.device_id,))
        else:
            inserts.append((snap.device_id,) + values)
    connection = session.connection()
    _UPDATE_SNAPSHOTS.execute(connection, updates)
    if inserts:
        _INSERT_SNAPSHOTS.execute(connection, inserts)
        existing.update(row[0] for row in inserts)


def telemetry_rows(message: Telemetry) -> list[dict]:
    rows = []
    for metric, value in message.values.items():
        is_text = isinstance(value, str)
        rows.append({
            "device_id": message.device, "metric": metric, "ts": message.ts, "seq": message.seq,
            "value_num": None if is_text else float(value), "value_text": value if is_text else None,
        })
    return rows


def insert_telemetry(session: Session, rows: Sequence[dict]) -> None:
    """Insert telemetry rows; rows already stored (same device, metric, ts and seq) are left as they are."""
    if rows:
        _INSERT_TELEMETRY.execute(session.connection(), [tuple(row[c] for c in _TELEMETRY_COLUMNS) for row in rows])


def insert_dead_letters(session: Session, rejections: Sequence[Rejection], now: datetime) -> None:
    if rejections:
        session.execute(insert(DeadLetterRow), [
            {"topic": r.topic, "reason": r.reason, "detail": r.detail,
             "payload": r.payload[:DEAD_LETTER_PAYLOAD_LIMIT], "received_at": now}
            for r in rejections
        ])


def telemetry_history(session: Session, device_id: str, metric: str | None, start: datetime | None,
                      end: datetime | None, limit: int = 5000) -> list[TelemetryRow]:
    """Return a device's stored values, oldest first, optionally one metric and a time range."""
    query = select(TelemetryRow).where(TelemetryRow.device_id == device_id)
    if metric:
        query = query.where(TelemetryRow.metric == metric)
    if start:
        query = query.where(TelemetryRow.ts >= start)
    if end:
        query = query.where(TelemetryRow.ts <= end)
    return list(session.scalars(query.order_by(TelemetryRow.ts, TelemetryRow.seq, TelemetryRow.metric).limit(limit)))


def recent_dead_letters(session: Session, limit: int = 100) -> list[DeadLetterRow]:
    return list(session.scalars(select(DeadLetterRow).order_by(DeadLetterRow.id.desc()).limit(limit)))


def purge_older(session: Session, dead_letters_before: datetime, telemetry_before: datetime,
                limit: int = 5000) -> None:
    """Delete up to `limit` dead letters and telemetry rows past their retention."""
    letters = select(DeadLetterRow.id).where(DeadLetterRow.received_at < dead_letters_before).limit(limit)
    session.execute(delete(DeadLetterRow).where(DeadLetterRow.id.in_(letters)))
    rows = select(TelemetryRow.id).where(TelemetryRow.ts < telemetry_before).limit(limit)
    session.execute(delete(TelemetryRow).where(TelemetryRow.id.in_(rows)))
