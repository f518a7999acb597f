"""Finding tickets for the control room: every filter of GET /api/v1/tickets (status, level, trade, building,
technician, words, a date range of creation), newest first, a page at a time with the total."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Sequence

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from dispatch import lookup
from dispatch.tables import TicketRow

MAX_PAGE = 500


@dataclass(frozen=True, slots=True)
class TicketFilter:
    statuses: Sequence[str] = ()
    urgency: int | None = None
    category: str | None = None
    building: str | None = None
    assignee: str | None = None
    text: str | None = None  # in the id, title or description, any case
    created_from: datetime | None = None  # inclusive
    created_to: datetime | None = None  # exclusive
    limit: int = 100
    offset: int = 0


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _where(f: TicketFilter) -> list:
    clauses = []
    if f.statuses:
        clauses.append(TicketRow.status.in_(list(f.statuses)))
    if f.urgency is not None:
        clauses.append(TicketRow.urgency == f.urgency)
    if f.category:
        clauses.append(TicketRow.category == f.category)
    if f.building:
        clauses.append(TicketRow.building == f.building)
    if f.assignee:
        # the tickets the technician owns or holds a support assignment of (dispatch/lookup.py)
        clauses.append(or_(TicketRow.assignee == f.assignee, TicketRow.id.in_(lookup.held_tickets(f.assignee))))
    if f.created_from is not None:
        clauses.append(TicketRow.created_at >= f.created_from)
    if f.created_to is not None:
        clauses.append(TicketRow.created_at < f.created_to)
    if f.text and f.text.strip():
        pattern = f"%{_escape_like(f.text.strip().lower())}%"
        clauses.append(or_(func.lower(TicketRow.id).like(pattern, escape="\\"),
                           func.lower(TicketRow.title).like(pattern, escape="\\"),
                           func.lower(func.coalesce(TicketRow.description, "")).like(pattern, escape="\\")))
    return clauses


def search_tickets(session: Session, f: TicketFilter) -> tuple[list[TicketRow], int]:
    """Return one page of the tickets matching every filter, newest first, and how many match in all."""
    clauses = _where(f)
    total = session.scalar(select(func.count()).select_from(TicketRow).where(*clauses)) or 0
    rows = session.scalars(select(TicketRow).where(*clauses)
                           .order_by(TicketRow.created_at.desc(), TicketRow.id.desc())
                           .offset(max(0, f.offset)).limit(min(max(1, f.limit), MAX_PAGE)))
    return list(rows), total
