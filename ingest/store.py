"""Ingest's storage: device snapshots (last values, online, newest applied message), telemetry rows, dead letters."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterable, Sequence

from sqlalchemy import insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ingest.payloads import Rejection, Telemetry
from ingest.tables import DeadLetterRow, DeviceStateRow, TelemetryRow


@dataclass(slots=True)
class DeviceSnapshot:
    """A device as last heard: merged values, online state and the newest (ts, seq) already applied."""

    device_id: str
    values: dict = field(default_factory=dict)
    online: bool | None = None
    last_ts: datetime | None = None
    last_seq: int | None = None
    last_seen: datetime | None = None
    status_at: datetime | None = None
    gaps: int = 0

    def copy(self) -> "DeviceSnapshot":
        return DeviceSnapshot(self.device_id, dict(self.values), self.online, self.last_ts, self.last_seq,
                              self.last_seen, self.status_at, self.gaps)

    def is_replay(self, ts: datetime, seq: int | None) -> bool:
        """Return whether a message at (ts, seq) is one already applied or older than it (broker redelivery,
        replay after a crash): it must change nothing."""
        if self.last_ts is None:
            return False
        if ts != self.last_ts:
            return ts < self.last_ts
        return seq is None or self.last_seq is None or seq <= self.last_seq

    def missed(self, seq: int | None) -> int:
        """Return how many messages the device's counter says were skipped before this one."""
        if seq is None or self.last_seq is None or seq <= self.last_seq:
            return 0  # a counter that went back means the device restarted
        return seq - self.last_seq - 1


def load_snapshots(session: Session) -> dict[str, DeviceSnapshot]:
    return {
        row.device_id: DeviceSnapshot(row.device_id, dict(row.values or {}), row.online, row.last_ts, row.last_seq,
                                      row.last_seen, row.status_at, row.gaps or 0)
        for row in session.scalars(select(DeviceStateRow))
    }


def save_snapshots(session: Session, changed: Iterable[DeviceSnapshot], existing: set[str]) -> None:
    """Write changed snapshots: update the rows that exist, insert the rest; `existing` is updated."""
    updates, inserts = [], []
    for snap in changed:
        row = {"device_id": snap.device_id, "online": snap.online, "values": snap.values, "last_ts": snap.last_ts,
               "last_seq": snap.last_seq, "last_seen": snap.last_seen, "status_at": snap.status_at, "gaps": snap.gaps}
        (updates if snap.device_id in existing else inserts).append(row)
    if updates:
        session.execute(update(DeviceStateRow), updates)
    if inserts:
        session.execute(insert(DeviceStateRow), inserts)
        existing.update(r["device_id"] for r in inserts)


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
    """Insert telemetry rows; rows already stored (same device, metric and ts) are left as they are."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        statement = postgresql.insert(TelemetryRow).on_conflict_do_nothing()
    elif dialect == "sqlite":
        statement = sqlite.insert(TelemetryRow).on_conflict_do_nothing()
    else:  # pragma: no cover - the project runs on SQLite and PostgreSQL only
        statement = insert(TelemetryRow)
    session.execute(statement, list(rows))


def insert_dead_letters(session: Session, rejections: Sequence[Rejection], now: datetime) -> None:
    if rejections:
        session.execute(insert(DeadLetterRow), [
            {"topic": r.topic, "reason": r.reason, "detail": r.detail, "payload": r.payload, "received_at": now}
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
    return list(session.scalars(query.order_by(TelemetryRow.ts, TelemetryRow.metric).limit(limit)))


def recent_dead_letters(session: Session, limit: int = 100) -> list[DeadLetterRow]:
    return list(session.scalars(select(DeadLetterRow).order_by(DeadLetterRow.id.desc()).limit(limit)))
