"""Dispatch's reads for the figures: what the KPIs need of tickets' histories, and the counts /metrics shows.

Reads only, each the query the API ran itself before (docs/code-map.md, "How the API reads the rooms"): one
query per read for any number of tickets. What a history line means (a reopening, a repeat report) is
dispatch's to know, so it is read here, not matched by the API."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from caretaker.dispatch.lifecycle import FINAL
from caretaker.dispatch.tables import OutboxRow, TicketHistoryRow, TicketRow

# the history lines the KPIs read: a step's status (a call-back's verify or reopen, the first resolution)
STEP_STATUSES = ("resolved", "verified", "assigned", "open")


def reopened(session: Session, ids: Sequence[str]) -> set[str]:
    """Which of these tickets were ever reopened (an operator's note is no step)."""
    if not ids:
        return set()
    return set(session.scalars(
        select(TicketHistoryRow.ticket_id).where(TicketHistoryRow.ticket_id.in_(ids),
                                                 TicketHistoryRow.note.like("reopened%"),
                                                 TicketHistoryRow.status != "note")))


def reported_again(session: Session, ids: Sequence[str], start: datetime, end: datetime) -> set[str]:
    """Which of these tickets the same problem was reported again for within 7 days, in [start, end)
    (dispatch/incidents.py writes the line)."""
    if not ids:
        return set()
    return set(session.scalars(
        select(TicketHistoryRow.ticket_id).where(TicketHistoryRow.ticket_id.in_(ids),
                                                 TicketHistoryRow.note.like("%reported again within 7 days%"),
                                                 TicketHistoryRow.at >= start, TicketHistoryRow.at < end)))


def steps_of(session: Session, ids: Sequence[str]) -> list[tuple[str, datetime, str, str, str | None]]:
    """(ticket, at, status, by, note) of these tickets' resolve, verify, assign and reopen lines, oldest first."""
    if not ids:
        return []
    return [tuple(row) for row in session.execute(
        select(TicketHistoryRow.ticket_id, TicketHistoryRow.at, TicketHistoryRow.status, TicketHistoryRow.by,
               TicketHistoryRow.note)
        .where(TicketHistoryRow.ticket_id.in_(ids), TicketHistoryRow.status.in_(STEP_STATUSES))
        .order_by(TicketHistoryRow.at, TicketHistoryRow.id))]


# --- /metrics ------------------------------------------------------------------------------------------

def tickets_by_status(session: Session) -> dict[str, int]:
    """How many tickets each status has (a status with none is left out)."""
    return dict(session.execute(select(TicketRow.status, func.count()).group_by(TicketRow.status)).all())


def open_breached(session: Session) -> int:
    """How many tickets not yet final breached a deadline."""
    return session.scalar(select(func.count()).where(
        TicketRow.breached.is_(True), TicketRow.status.not_in(FINAL))) or 0


def outbox_backlog(session: Session) -> int:
    """How many pushes are written but not yet published."""
    return session.scalar(select(func.count()).where(OutboxRow.sent_at.is_(None))) or 0
