"""A badge swipe as an arrival: a technician who swipes their badge at a door of the building of an
assignment they have accepted is on site there, at the swipe's time, as if they had pressed `arrive`
(docs/technicians.md, "Arriving"). A swipe anywhere only moves their last location (dispatch/locations.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from caretaker import i18n
from caretaker.dispatch import arrival, steps
from caretaker.dispatch.desk import Desk
from caretaker.dispatch.lifecycle import AssignmentStatus as A
from caretaker.dispatch.tables import AssignmentRow, TicketRow


def arrive(desk: Desk, session: Session, tech: str, building: str, at: datetime) -> list[str]:
    """Mark on site each assignment `tech` has accepted in `building` (the swipe at `at`); return the
    tickets they arrived at."""
    ids = session.scalars(select(AssignmentRow.id).join(TicketRow, TicketRow.id == AssignmentRow.ticket_id).where(
        AssignmentRow.technician == tech, AssignmentRow.status == A.ACCEPTED.value,
        TicketRow.building == building).order_by(AssignmentRow.id)).all()
    arrived: list[str] = []
    for row_id in ids:
        row = session.get(AssignmentRow, row_id)
        ticket = steps.locked(session, row.ticket_id)
        session.refresh(row)  # another step may have moved it before the ticket's lock was taken
        when = arrival.by_badge(ticket.building, building, at, row.offered_at, row.accepted_at)
        if row.status != A.ACCEPTED.value or when is None:
            continue
        steps.on_site(desk, session, ticket, row, when, tech, i18n.said("note.arrived_by_badge", building=building))
        arrived.append(ticket.id)
    return arrived
