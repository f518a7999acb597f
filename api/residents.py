"""Residents as the API shows them (docs/residents.md): the vulnerable residents an outage ticket lists for
the control room to call, masked and audited like a reporter, and the progress page's view of a ticket."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from caretaker.api.deps import User
from caretaker.api.tables import AuditRow, PhotoRow
from caretaker.api.tickets import view_for
from caretaker.dispatch import lookup, residents
from caretaker.dispatch.privacy import mask_phone, mask_text
from caretaker.dispatch.incidents import RAISED_FOR_VULNERABLE
from caretaker.dispatch.lifecycle import ACTIVE, FIXED, TicketStatus
from caretaker.dispatch.resident_store import eta_seconds
from caretaker.dispatch.resident_texts import building_name, floor_name, words
from caretaker.dispatch.reads_tickets import Ticket
from caretaker.estate.model import Site

CHECK_ON_ACTION = "ticket.check_on"


def check_on_json(people: Sequence[residents.CheckOn], view: str) -> list[dict[str, Any]]:
    """Return the people to call as `view` shows them: in full to staff, only masked numbers and floors to
    a technician not working the ticket (docs/api.md, "Personal data")."""
    if view == "full":
        return [{"unit": c.unit, "floor": c.floor, "name": c.name, "phone": c.phone} for c in people]
    return [{"unit": None, "floor": c.floor, "name": None, "phone": mask_phone(c.phone)} for c in people]


def with_check_on(session: Session, site: Site, user: User, rows: Sequence[Ticket],
                  shown: list[dict[str, Any]], now: datetime) -> list[dict[str, Any]]:
    """Add `check_on` to each supply-cut ticket shown (an audit row for each that lists someone)."""
    by_id = {row.id: row for row in rows}
    for ticket in shown:
        row = by_id.get(ticket["id"])
        # a supply cut's ticket, and a stopped lift's: the alarms a vulnerable resident raises a level
        if row is None or not (residents.is_supply_ticket(row.rule_id) or row.rule_id in RAISED_FOR_VULNERABLE):
            continue
        people = residents.check_on(site, row.building)
        view = view_for(user, row)
        ticket["check_on"] = check_on_json(people, view)
        if people:
            what = f"check_on={len(people)}" if view == "full" else f"check_on(masked)={len(people)}"
            session.add(AuditRow(at=now, actor=user.subject, role=user.role, action=CHECK_ON_ACTION, what=what,
                                 ticket_id=row.id))
    return shown


# --- the progress page -----------------------------------------------------------------------------------

def page_photo_urls(session: Session, ticket: Ticket, token: str) -> list[str]:
    """The ticket's uploaded photos under the page's own token (`/r/{token}/photos/{id}`): the resident has
    no API token. Photos given as outside URLs are not shown (they may need a login the resident lacks)."""
    from caretaker.api.photos import own_photo_id

    ids = [photo_id for url in ticket.photos or [] if (photo_id := own_photo_id(url))]
    if not ids:
        return []
    stored = set(session.scalars(select(PhotoRow.id).where(PhotoRow.id.in_(ids), PhotoRow.ticket_id == ticket.id)))
    return [f"/r/{token}/photos/{photo_id}" for photo_id in ids if photo_id in stored]


def progress_json(session: Session, site: Site, ticket: Ticket, token: str, locale: str,
                  now: datetime) -> dict[str, Any]:
    """What the resident's page shows: the status in words, the technician's expected arrival and last place,
    the note and photos once resolved, and whether a rating may be given. Nothing of another resident and
    no technician's number: only the technician's name as the site file gives it."""
    w = words(locale)
    tech = site.technicians.get(ticket.assignee or "") if ticket.status in (*ACTIVE, *FIXED) else None
    origin = lookup.location_of(session, tech.id) if tech is not None else None
    travel = eta_seconds(site, ticket, origin, now)
    building = site.buildings.get(ticket.building)
    where = w["place"].format(building=building_name(w, ticket.building, building.name if building else ""),
                              floor=floor_name(w, ticket.floor))
    last_seen = None
    if ticket.status == TicketStatus.ACCEPTED and origin is not None and now - origin.ts <= site.travel.location_ttl:
        b = site.buildings.get(origin.building)
        last_seen = {"place": w["place"].format(building=building_name(w, origin.building, b.name if b else ""),
                                                floor=floor_name(w, origin.floor)), "at": origin.ts}
    fixed = ticket.status in FIXED
    return {
        "ticket": ticket.id, "status": ticket.status, "locale": locale,
        "words": residents.status_words(locale, ticket.status, tech.name if tech else None, travel),
        "technician": tech.name if tech else None,
        "eta_minutes": None if travel is None else max(0, -(-travel // 60)), "eta_s": travel,
        "where": where, "reported_at": ticket.created_at, "last_seen": last_seen,
        "resolution_note": mask_text(ticket.resolution_note) if fixed else None,
        "photos": page_photo_urls(session, ticket, token) if fixed else [],
        "rating": {"open": fixed and ticket.satisfaction is None, "score": ticket.satisfaction},
        "labels": {key[len("page."):]: w[key] for key in w if key.startswith("page.")},
        "timezone": site.timezone,
    }
