"""Ingest's tables: device state, telemetry history and dead letters."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, Float, Index, Integer, LargeBinary, String, Text, func
from caretaker.estate.clock import UtcDateTime
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class IngestBase(DeclarativeBase):
    pass


class DeviceStateRow(IngestBase):
    """A device's last known values and online state, and the newest message already applied."""

    __tablename__ = "device_states"
    device_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    online: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    values: Mapped[dict] = mapped_column(JSON, default=dict)
    last_ts: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    last_seq: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    last_seen: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    status_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    gaps: Mapped[int] = mapped_column(Integer, default=0)
    event_ts: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    event_seq: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    event_type: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # the device's order (ingest/order.py): seq runs and recent readings, to place late and repeated messages
    order_marks: Mapped[str | None] = mapped_column(Text, nullable=True)


class TelemetryRow(IngestBase):
    """One metric value at one time; a repeated message hits the unique key and changes nothing. The key
    holds `seq`, so two readings within one millisecond are both kept (no seq counts as -1). The key is the
    table's only index: it leads with device, metric and time, so it serves the history's reads too."""

    __tablename__ = "telemetry"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    device_id: Mapped[str] = mapped_column(String(64))
    metric: Mapped[str] = mapped_column(String(64))
    ts: Mapped[datetime] = mapped_column(UtcDateTime())
    seq: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    value_num: Mapped[float | None] = mapped_column(Float, nullable=True)
    value_text: Mapped[str | None] = mapped_column(String(64), nullable=True)


Index("uq_telemetry_device_metric_ts_seq", TelemetryRow.device_id, TelemetryRow.metric, TelemetryRow.ts,
      func.coalesce(TelemetryRow.seq, -1), unique=True)


class DeadLetterRow(IngestBase):
    __tablename__ = "dead_letters"
    __table_args__ = (Index("ix_dead_letters_received_at", "received_at"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    topic: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text)
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime())
