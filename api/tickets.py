"""Tickets as the API shows them: reading with history and alerts, masking and auditing personal data."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.deps import User
from api.tables import AuditRow
from dispatch.errors import TicketNotFound
from dispatch.tables import TicketAlertRow, TicketHistoryRow, TicketRow

# a technician needs the resident's number only while working the ticket (DOMAIN.md §7)
WORKING = ("assigned", "accepted", "on_site")
MAX_LIST = 500


def mask_phone(phone: str | None) -> str | None:
    """Return the number with its middle hidden, 13800138000 -> 138****8000."""
    if not phone:
        return phone
    if len(phone) >= 8:
        return phone[:3] + "****" + phone[-4:]
    return "*" * max(len(phone) - 2, 0) + phone[-2:]


def sees_full_phone(user: User, ticket: TicketRow) -> bool:
    """Return whether `user` may see the reporter's number unmasked: staff always, a technician only
    while the ticket is theirs and open."""
    if not user.is_technician:
        return True
    return ticket.assignee == user.subject and ticket.status in WORKING


def ticket_json(ticket: TicketRow, history: Sequence[TicketHistoryRow], alerts: Sequence[str],
                user: User | None) -> dict[str, Any]:
    """Return the ticket as CONTRACT.md §3 shows it; `user` None leaves out personal data (the stream)."""
    reporter = None
    if user is not None and (ticket.reporter_name or ticket.reporter_phone):
        phone = ticket.reporter_phone if sees_full_phone(user, ticket) else mask_phone(ticket.reporter_phone)
        reporter = {"name": ticket.reporter_name, "phone": phone, "unit": ticket.unit_id}
    return {
        "id": ticket.id, "status": ticket.status, "urgency": ticket.urgency, "category": ticket.category,
        "title": ticket.title, "device": ticket.device_id,
        "location": {"building": ticket.building, "floor": ticket.floor, "zone": ticket.zone},
        "assignee": ticket.assignee, "alerts": list(alerts),
        "created_at": ticket.created_at, "updated_at": ticket.updated_at,
        "accept_by": ticket.accept_by, "arrive_by": ticket.arrive_by, "resolve_by": ticket.resolve_by,
        "accepted_at": ticket.accepted_at, "arrived_at": ticket.arrived_at,
        "resolved_at": ticket.resolved_at, "closed_at": ticket.closed_at,
        "breached": bool(ticket.breached), "source": ticket.source, "description": ticket.description,
        "reporter": reporter, "resolution_note": ticket.resolution_note, "photos": list(ticket.photos or []),
        "satisfaction": ticket.satisfaction,
        "history": [{"at": h.at, "status": h.status, "by": h.by, "note": h.note} for h in history],
    }


def _histories(session: Session, ids: Sequence[str]) -> dict[str, list[TicketHistoryRow]]:
    result: dict[str, list[TicketHistoryRow]] = defaultdict(list)
    if ids:
        query = select(TicketHistoryRow).where(TicketHistoryRow.ticket_id.in_(ids)).order_by(TicketHistoryRow.id)
        for row in session.scalars(query):
            result[row.ticket_id].append(row)
    return result


def _alerts(session: Session, ids: Sequence[str]) -> dict[str, list[str]]:
    result: dict[str, list[str]] = defaultdict(list)
    if ids:
        query = (select(TicketAlertRow.ticket_id, TicketAlertRow.alert_id)
                 .where(TicketAlertRow.ticket_id.in_(ids)).order_by(TicketAlertRow.attached_at))
        for ticket_id, alert_id in session.execute(query):
            result[ticket_id].append(alert_id)
    return result


def render(session: Session, tickets: Sequence[TicketRow], user: User | None) -> list[dict[str, Any]]:
    """Return the tickets as JSON dicts with their history and alerts, loaded in two queries."""
    ids = [t.id for t in tickets]
    histories, alerts = _histories(session, ids), _alerts(session, ids)
    return [ticket_json(t, histories.get(t.id, []), alerts.get(t.id, []), user) for t in tickets]


def get_ticket_or_raise(session: Session, ticket_id: str) -> TicketRow:
    """Return the ticket; raises TicketNotFound."""
    ticket = session.get(TicketRow, ticket_id)
    if ticket is None:
        raise TicketNotFound(ticket_id)
    return ticket


def list_tickets(session: Session, *, statuses: Sequence[str] = (), urgency: int | None = None,
                 building: str | None = None, assignee: str | None = None, limit: int = 100) -> list[TicketRow]:
    """Return tickets matching every given filter, newest first."""
    query = select(TicketRow)
    if statuses:
        query = query.where(TicketRow.status.in_(statuses))
    if urgency is not None:
        query = query.where(TicketRow.urgency == urgency)
    if building:
        query = query.where(TicketRow.building == building)
    if assignee:
        query = query.where(TicketRow.assignee == assignee)
    query = query.order_by(TicketRow.created_at.desc(), TicketRow.id.desc()).limit(min(limit, MAX_LIST))
    return list(session.scalars(query))


def audit_personal_reads(session: Session, user: User, tickets: Sequence[TicketRow], action: str,
                         now: datetime) -> int:
    """Write one audit row per ticket shown with a reporter's name or number; return how many."""
    written = 0
    for ticket in tickets:
        fields = []
        if ticket.reporter_name:
            fields.append("reporter_name")
        if ticket.reporter_phone:
            fields.append("reporter_phone" if sees_full_phone(user, ticket) else "reporter_phone(masked)")
        if fields:
            session.add(AuditRow(at=now, actor=user.subject, role=user.role, action=action,
                                 what=",".join(fields), ticket_id=ticket.id))
            written += 1
    return written


def show(session: Session, user: User, tickets: Sequence[TicketRow], action: str, now: datetime
         ) -> list[dict[str, Any]]:
    """Return the tickets for `user` and audit the personal data shown, in the caller's transaction."""
    audit_personal_reads(session, user, tickets, action, now)
    return render(session, tickets, user)
