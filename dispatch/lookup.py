"""Dispatch's reads: technicians as choosing needs them, the open incident, the same problem seen lately."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch.choose import Candidate
from dispatch.tables import AssignmentRow, TechnicianLocationRow, TicketAlertRow, TicketRow
from estate.model import Place, Site

ACTIVE = ("assigned", "accepted", "on_site")
OPEN = ("open", "assigned", "accepted", "on_site")
FINAL = ("closed", "cancelled")
FIXED = ("resolved", "verified", "closed")


def candidates(session: Session, site: Site) -> list[Candidate]:
    """Return every technician of the site with their last location and current work."""
    locations = {row.technician: row for row in session.scalars(select(TechnicianLocationRow))}
    work = {
        tech: (level, count)
        for tech, level, count in session.execute(
            select(TicketRow.assignee, func.min(TicketRow.urgency), func.count())
            .where(TicketRow.status.in_(ACTIVE), TicketRow.assignee.is_not(None))
            .group_by(TicketRow.assignee)
        )
    }
    result = []
    for tech in site.technicians.values():
        loc = locations.get(tech.id)
        level, count = work.get(tech.id, (None, 0))
        result.append(Candidate(
            technician=tech,
            place=Place(loc.building, loc.floor, loc.zone) if loc else None,
            located_at=loc.ts if loc else None,
            busy_urgency=level, open_work=count,
        ))
    return result


def recently_refused(session: Session, ticket_id: str, since: datetime) -> set[str]:
    """Return the technicians who declined the ticket or let it time out since a time."""
    return set(session.scalars(
        select(AssignmentRow.technician).where(
            AssignmentRow.ticket_id == ticket_id, AssignmentRow.outcome.in_(("declined", "timeout")),
            AssignmentRow.ended_at >= since,
        )
    ))


def current_assignment(session: Session, ticket_id: str) -> AssignmentRow | None:
    """Return the offer of the ticket that has not ended yet, if any."""
    return session.scalars(
        select(AssignmentRow).where(AssignmentRow.ticket_id == ticket_id, AssignmentRow.ended_at.is_(None))
        .order_by(AssignmentRow.id.desc())
    ).first()


def open_incident(session: Session, building: str, category: str, since: datetime) -> TicketRow | None:
    """Return (locked) the open sensor ticket of a trade in a building that had an alert since a time."""
    recent = select(TicketAlertRow.ticket_id).where(TicketAlertRow.attached_at >= since)
    return session.scalars(
        select(TicketRow).where(
            TicketRow.status.in_(OPEN), TicketRow.source == "sensor", TicketRow.building == building,
            TicketRow.category == category, TicketRow.id.in_(recent),
        ).order_by(TicketRow.created_at.desc()).limit(1).with_for_update()
    ).first()


def same_problem(session: Session, category: str, since: datetime, *, unit_id: str | None = None,
                 device_id: str | None = None) -> TicketRow | None:
    """Return (locked) the ticket of the same unit or device and trade created since a time: an open one
    first, else the newest; None without a unit or device to compare."""
    if unit_id is None and device_id is None:
        return None
    query = select(TicketRow).where(TicketRow.category == category, TicketRow.status != "cancelled",
                                    TicketRow.created_at >= since)
    query = query.where(TicketRow.unit_id == unit_id) if unit_id else query.where(TicketRow.device_id == device_id)
    return session.scalars(query.order_by(TicketRow.status.in_(FIXED), TicketRow.created_at.desc())
                           .limit(1).with_for_update()).first()
