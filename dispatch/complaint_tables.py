"""What kind of report a ticket is, and its answer (docs/operations.md, "Complaints and suggestions"): one row
per ticket a person reported; a ticket without a row (a sensor's) is a repair."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from caretaker.dispatch.tables import DispatchBase
from caretaker.estate.clock import UtcDateTime


class TicketKindRow(DispatchBase):
    __tablename__ = "ticket_kinds"
    __table_args__ = (Index("ix_ticket_kinds_kind", "kind"),)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # repair | complaint | suggestion | enquiry
    complaint_type: Mapped[str | None] = mapped_column(String(16), nullable=True)  # service | safety
    # a service complaint's answer deadline (12 h after it was filed); null: no clock
    answer_by: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    answered_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    answer: Mapped[str | None] = mapped_column(Text, nullable=True)  # the answer or rectification plan (整改措施)
