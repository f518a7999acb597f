"""Where the loss alarm's accounting is kept: per device, how much of its gap count was already alarmed
(ingest/loss.py), so that a restart neither repeats an old alarm nor forgets a loss it had not reported."""

from __future__ import annotations

from typing import Mapping

from sqlalchemy import Integer, String, insert, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from caretaker.ingest.loss import Mark
from caretaker.ingest.tables import IngestBase


class LossMarkRow(IngestBase):
    """A device's gap count already alarmed about, and how much of it is in the loss alarm still raised."""

    __tablename__ = "loss_marks"
    device_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    reported: Mapped[int] = mapped_column(Integer, default=0)
    open: Mapped[int] = mapped_column(Integer, default=0)


def load_marks(session: Session) -> dict[str, Mark]:
    return {row.device_id: Mark(row.reported, row.open) for row in session.scalars(select(LossMarkRow))}


def save_marks(session: Session, changed: Mapping[str, Mark], existing: set[str]) -> None:
    """Write changed marks: update the rows that exist, insert the rest; `existing` is updated."""
    rows = [{"device_id": d, "reported": m.reported, "open": m.open} for d, m in changed.items()]
    updates = [r for r in rows if r["device_id"] in existing]
    inserts = [r for r in rows if r["device_id"] not in existing]
    if updates:
        session.execute(update(LossMarkRow), updates)
    if inserts:
        session.execute(insert(LossMarkRow), inserts)
        existing.update(r["device_id"] for r in inserts)
