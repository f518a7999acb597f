"""Ingest's storage: device snapshots (last values, online, newest applied message), telemetry rows, dead letters."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Iterable, Mapping, Sequence

from sqlalchemy import delete, insert, select, update
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
    # events have a mark of their own: an alarm button pressed in the same millisecond as a telemetry
    # report, or sent from a backlog after fresher telemetry, is news, not a replay
    event_ts: datetime | None = None
    event_seq: int | None = None
    event_type: str | None = None

    def copy(self) -> "DeviceSnapshot":
        return replace(self, values=dict(self.values))

    def is_replay(self, ts: datetime, seq: int | None, values: Mapping[str, object] | None = None) -> bool:
        """Return whether telemetry at (ts, seq) is one already applied or older than it (broker redelivery,
        replay after a crash): it must change nothing. Without a seq, a message with the newest ts is a
        replay only if it says nothing new."""
        if self.last_ts is None:
            return False
        if ts != self.last_ts:
            return ts < self.last_ts
        if seq is not None and self.last_seq is not None:
            return seq <= self.last_seq
        return values is None or all(self.values.get(k) == v for k, v in values.items())

    def is_event_replay(self, ts: datetime, seq: int | None, event_type: str) -> bool:
        """Return whether an event is one already applied (same or older mark, or the same event again)."""
        if self.event_ts is None:
            return False
        if ts != self.event_ts:
            return ts < self.event_ts
        if seq is not None and self.event_seq is not None:
            return seq <= self.event_seq
        return event_type == self.event_type

    def missed(self, seq: int | None) -> int:
        """Return how many messages the device's counter says were skipped before this one."""
        seen = max((s for s in (self.last_seq, self.event_seq) if s is not None), default=None)
        if seq is None or seen is None or seq <= seen:
            return 0  # a counter that went back means the device restarted (or a late message)
        return seq - seen - 1


def load_snapshots(session: Session) -> dict[str, DeviceSnapshot]:
    return {
        row.device_id: DeviceSnapshot(row.device_id, dict(row.values or {}), row.online, row.last_ts, row.last_seq,
                                      row.last_seen, row.status_at, row.gaps or 0, row.event_ts, row.event_seq,
                                      row.event_type)
        for row in session.scalars(select(DeviceStateRow))
    }


def save_snapshots(session: Session, changed: Iterable[DeviceSnapshot], existing: set[str]) -> None:
    """Write changed snapshots: update the rows that exist, insert the rest; `existing` is updated."""
    updates, inserts = [], []
    for snap in changed:
        row = {"device_id": snap.device_id, "online": snap.online, "values": snap.values, "last_ts": snap.last_ts,
               "last_seq": snap.last_seq, "last_seen": snap.last_seen, "status_at": snap.status_at, "gaps": snap.gaps,
               "event_ts": snap.event_ts, "event_seq": snap.event_seq, "event_type": snap.event_type}
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


def purge_older(session: Session, dead_letters_before: datetime, telemetry_before: datetime,
                limit: int = 5000) -> None:
    """Delete up to `limit` dead letters and telemetry rows past their retention."""
    letters = select(DeadLetterRow.id).where(DeadLetterRow.received_at < dead_letters_before).limit(limit)
    session.execute(delete(DeadLetterRow).where(DeadLetterRow.id.in_(letters)))
    rows = select(TelemetryRow.id).where(TelemetryRow.ts < telemetry_before).limit(limit)
    session.execute(delete(TelemetryRow).where(TelemetryRow.id.in_(rows)))
