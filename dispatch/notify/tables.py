"""The channels' durable queues: one delivery row per message and channel that takes it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from caretaker.dispatch.tables import DispatchBase
from caretaker.estate.clock import UtcDateTime

_BigId = BigInteger().with_variant(Integer, "sqlite")


class DeliveryRow(DispatchBase):
    """One outbox message on its way to one channel: pending (with its next try), delivered or given up."""

    __tablename__ = "channel_deliveries"
    __table_args__ = (
        UniqueConstraint("site", "channel", "outbox_id", name="uq_channel_deliveries_message"),
        Index("ix_channel_deliveries_queue", "site", "channel", "status", "id"),
        Index("ix_channel_deliveries_outbox", "outbox_id", "status"),
    )
    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    site: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(64))
    outbox_id: Mapped[int] = mapped_column(BigInteger)  # no foreign key: the outbox purge checks this table
    status: Mapped[str] = mapped_column(String(12))  # pending | delivered | given_up
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    done_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(80), nullable=True)  # a code, never a url or a name
