"""Escalation's tables: every notice a supervisor was sent (so it can be acknowledged), each ticket's climb
(the level reached, whether someone stopped it), and contractors' offers (so the control room and the KPIs
see who was called)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from caretaker.dispatch.tables import DispatchBase
from caretaker.estate.clock import UtcDateTime

_BigId = BigInteger().with_variant(Integer, "sqlite")


class NoticeRow(DispatchBase):
    """One Notice pushed to one supervisor; its id is the message `id` of the push (docs/api.md, "Notices")."""

    __tablename__ = "notices"
    __table_args__ = (Index("ix_notices_ticket", "ticket_id", "at"),)
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    ticket_id: Mapped[str] = mapped_column(String(32))
    supervisor: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(16))
    level: Mapped[int | None] = mapped_column(Integer, nullable=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    acked_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    acked_by: Mapped[str | None] = mapped_column(String(64), nullable=True)


class EscalationRow(DispatchBase):
    """A ticket's climb: started by a breach or an unassigned ticket, the level reached, stopped when someone
    acted. One row per ticket: a new breach after a stop starts the climb again from level 0."""

    __tablename__ = "escalations"
    ticket_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    level: Mapped[int] = mapped_column(Integer)
    stopped_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    stopped_by: Mapped[str | None] = mapped_column(String(64), nullable=True)


class ContractorOfferRow(DispatchBase):
    """A ticket offered to an outside contractor, held to their `arrive` (docs/operations.md, "Contractors")."""

    __tablename__ = "contractor_offers"
    __table_args__ = (Index("ix_contractor_offers_ticket", "ticket_id"),)
    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    ticket_id: Mapped[str] = mapped_column(String(32))
    contractor: Mapped[str] = mapped_column(String(64))
    trade: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(200))
    offered_at: Mapped[datetime] = mapped_column(UtcDateTime())
    arrive_by: Mapped[datetime] = mapped_column(UtcDateTime())
    late_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)  # told: not on site in time
