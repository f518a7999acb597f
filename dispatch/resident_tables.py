"""Residents' tables: the supply cuts residents were told of, and the progress links handed to them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from caretaker.dispatch.tables import DispatchBase
from caretaker.estate.clock import UtcDateTime

_BigId = BigInteger().with_variant(Integer, "sqlite")


class SupplyCutRow(DispatchBase):
    """A building's mains or water supply lost, as its residents were told: one row per cut, open while any
    of its alarms is active, so a restart neither repeats the `outage` notice nor forgets the `restored` one
    (docs/residents.md)."""

    __tablename__ = "resident_supply_cuts"
    __table_args__ = (Index("ix_resident_supply_cuts_open", "site", "building", "supply", "ended_at"),)
    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    site: Mapped[str] = mapped_column(String(64))
    building: Mapped[str] = mapped_column(String(64))
    supply: Mapped[str] = mapped_column(String(16))  # power | water
    since: Mapped[datetime] = mapped_column(UtcDateTime())
    alerts: Mapped[list] = mapped_column(JSON, default=list)  # the alarms of the cut still active
    ticket_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    units: Mapped[int] = mapped_column(Integer, default=0)  # how many units were told
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class ProgressLinkRow(DispatchBase):
    """One progress link of a ticket handed to a resident (`/r/{token}`): only the token's SHA-256 is kept;
    it works until a while after the ticket closes (docs/residents.md)."""

    __tablename__ = "resident_links"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    site: Mapped[str] = mapped_column(String(64))
    ticket_id: Mapped[str] = mapped_column(String(32), index=True)
    unit_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
