"""Dispatch's reads: technicians as choosing needs them, the open incident, the same problem seen lately, the
ticket an alert belongs to; assignments, technicians' locations and supply cuts as the API reads them (tickets
themselves: dispatch/reads_tickets.py; the figures: dispatch/reads_figures.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from caretaker.dispatch.choose import Candidate
from caretaker.dispatch.resident_tables import SupplyCutRow
from caretaker.dispatch.tables import AssignmentRow, TechnicianLocationRow, TicketAlertRow, TicketCycleRow, TicketRow
from caretaker.estate.model import Place, Site

from caretaker.dispatch.lifecycle import ACTIVE, FINAL, FIXED, HELD, OPEN, AssignmentStatus, TicketStatus  # noqa: F401

# the row types these reads return, by the names the API uses
Assignment = AssignmentRow
Location = TechnicianLocationRow
SupplyCut = SupplyCutRow


def candidates(session: Session, site: Site) -> list[Candidate]:
    """Return every technician of the site with their last location and current work."""
    # columns, not rows: the locations are only read here, and building each row object cost more than the read
    locations = {tech: (Place(building, floor, zone), ts) for tech, building, floor, zone, ts in session.execute(
        select(TechnicianLocationRow.technician, TechnicianLocationRow.building, TechnicianLocationRow.floor,
               TechnicianLocationRow.zone, TechnicianLocationRow.ts))}
    # every assignment a technician holds counts, the owner's and a support's
    work = {
        tech: (level, count)
        for tech, level, count in session.execute(
            select(AssignmentRow.technician, func.min(TicketRow.urgency), func.count())
            .join(TicketRow, TicketRow.id == AssignmentRow.ticket_id)
            .where(AssignmentRow.status.in_(HELD), AssignmentRow.technician.is_not(None))
            .group_by(AssignmentRow.technician)
        )
    }
    result = []
    for tech in site.technicians.values():
        place, located_at = locations.get(tech.id, (None, None))
        level, count = work.get(tech.id, (None, 0))
        result.append(Candidate(technician=tech, place=place, located_at=located_at, busy_urgency=level,
                                open_work=count))
    return result


def refusals(session: Session, ticket_id: str, trade: str, since: datetime) -> list[tuple[str, str]]:
    """Return (technician, status) for each assignment of a trade on the ticket that its technician declined
    or let time out since a time."""
    return [(tech, status) for tech, status in session.execute(
        select(AssignmentRow.technician, AssignmentRow.status).where(
            AssignmentRow.ticket_id == ticket_id, AssignmentRow.trade == trade,
            AssignmentRow.status.in_((AssignmentStatus.DECLINED.value, AssignmentStatus.TIMED_OUT.value)),
            AssignmentRow.ended_at >= since, AssignmentRow.technician.is_not(None),
        )
    )]


_IN_CHUNK = 900  # ids per IN list (SQLite allows a few thousand bound values a statement)


def alert_tickets(session: Session, alert_ids: Iterable[str]) -> dict[str, str]:
    """Return the ticket each of these alerts belongs to (alerts with none are left out). The link is stored
    once, in ticket_alerts, written when dispatch opens, joins or attaches (dispatch/incidents.py `attach`);
    an alert attached to more than one ticket belongs to the first."""
    ids = list(dict.fromkeys(alert_ids))
    found: dict[str, str] = {}
    for start in range(0, len(ids), _IN_CHUNK):
        rows = session.execute(select(TicketAlertRow.alert_id, TicketAlertRow.ticket_id)
                               .where(TicketAlertRow.alert_id.in_(ids[start:start + _IN_CHUNK]))
                               .order_by(TicketAlertRow.attached_at, TicketAlertRow.ticket_id))
        for alert_id, ticket_id in rows:
            found.setdefault(alert_id, ticket_id)
    return found


def alert_ticket(session: Session, alert_id: str) -> str | None:
    """Return the ticket an alert belongs to, or None (`alert_tickets` for one)."""
    return alert_tickets(session, [alert_id]).get(alert_id)


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
    query = select(TicketRow).where(TicketRow.category == category, TicketRow.status != TicketStatus.CANCELLED.value,
                                    TicketRow.created_at >= since)
    query = query.where(TicketRow.unit_id == unit_id) if unit_id else query.where(TicketRow.device_id == device_id)
    return session.scalars(query.order_by(TicketRow.status.in_(FIXED), TicketRow.created_at.desc())
                           .limit(1).with_for_update()).first()


# --- assignments, as the API reads them ----------------------------------------------------------------

def holds(session: Session, ticket_id: str, tech: str) -> bool:
    """Return whether `tech` holds an assignment of the ticket now (offered, accepted or on site)."""
    return session.scalar(select(AssignmentRow.id).where(
        AssignmentRow.ticket_id == ticket_id, AssignmentRow.technician == tech,
        AssignmentRow.status.in_(HELD)).limit(1)) is not None


def held_tickets(tech: str):
    """A subquery of the ids of the tickets `tech` holds an assignment of now."""
    return select(AssignmentRow.ticket_id).where(AssignmentRow.technician == tech, AssignmentRow.status.in_(HELD))


def assignments_of(session: Session, ticket_ids) -> dict[str, list[AssignmentRow]]:
    """Every assignment of each ticket, oldest first."""
    result: dict[str, list[AssignmentRow]] = {}
    if ticket_ids:
        for row in session.scalars(select(AssignmentRow).where(AssignmentRow.ticket_id.in_(list(ticket_ids)))
                                   .order_by(AssignmentRow.id)):
            result.setdefault(row.ticket_id, []).append(row)
    return result


def cycles_of(session: Session, ticket_ids) -> dict[str, list[TicketCycleRow]]:
    """The cycles each reopened ticket had before its current one, oldest first (the KPIs count them)."""
    result: dict[str, list[TicketCycleRow]] = {}
    if ticket_ids:
        for row in session.scalars(select(TicketCycleRow).where(TicketCycleRow.ticket_id.in_(list(ticket_ids)))
                                   .order_by(TicketCycleRow.id)):
            result.setdefault(row.ticket_id, []).append(row)
    return result


def held_work(session: Session) -> list[tuple[str, TicketRow, str, str]]:
    """(technician, ticket, role, trade) for every assignment held now, the most urgent and oldest first."""
    return [(row.technician, ticket, row.role, row.trade) for row, ticket in session.execute(
        select(AssignmentRow, TicketRow).join(TicketRow, TicketRow.id == AssignmentRow.ticket_id)
        .where(AssignmentRow.status.in_(HELD), AssignmentRow.technician.is_not(None))
        .order_by(TicketRow.urgency, TicketRow.created_at, AssignmentRow.id))]


# --- technicians' locations and supply cuts, as the API reads them ---------------------------------------

def location_of(session: Session, tech: str) -> TechnicianLocationRow | None:
    """The technician's last known location, or None."""
    return session.get(TechnicianLocationRow, tech)


def locations(session: Session) -> dict[str, TechnicianLocationRow]:
    """Every technician's last known location, by technician."""
    return {row.technician: row for row in session.scalars(select(TechnicianLocationRow))}


def open_cuts(session: Session, site: str, building: str) -> list[SupplyCutRow]:
    """The building's supply cuts in progress, oldest first (dispatch/resident_store.py records them)."""
    return list(session.scalars(select(SupplyCutRow).where(
        SupplyCutRow.site == site, SupplyCutRow.building == building,
        SupplyCutRow.ended_at.is_(None)).order_by(SupplyCutRow.id)))
