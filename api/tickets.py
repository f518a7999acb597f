"""Tickets as the API shows them: reading with history and alerts, masking and auditing personal data."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Sequence

from sqlalchemy.orm import Session, object_session

from caretaker.api.deps import User
from caretaker.api.tables import AuditRow
from caretaker.dispatch import complaints, contractors, notices
from caretaker.dispatch import lookup, reads_tickets
from caretaker.dispatch.errors import TicketNotFound
from caretaker.dispatch.messages import assignment_ref
from caretaker.dispatch.lifecycle import ACTIVE
from caretaker.dispatch.privacy import has_phone, mask_phone, mask_text
from caretaker.dispatch.lookup import Assignment, Location
from caretaker.dispatch.reads_tickets import HistoryLine, Reporter, Ticket
from caretaker.estate.model import Place, Site
from caretaker.estate.travel import travel_seconds
from caretaker.ingest import device_reads

# a technician needs the resident's number, name and unit only while working the ticket (docs/api.md, "Personal data")
WORKING = ACTIVE
MAX_LIST = reads_tickets.MAX_PAGE

# what a reader is shown of a ticket's personal data (docs/api.md, "Personal data"):
# full: reporters as stored and free text as written (staff; the technician working the ticket)
# masked: reporters' numbers masked, no names or units, numbers and names masked in free text
# none: no reporters at all, free text masked (personal=false: a wall screen; nothing to audit)
View = Literal["full", "masked", "none"]


def _holds(user: User, ticket: Ticket) -> bool:
    """Whether the technician holds one of the ticket's assignments now (a support's too), read through
    dispatch (dispatch/lookup.py)."""
    session = object_session(ticket)
    return session is not None and lookup.holds(session, ticket.id, user.subject)


def is_working(user: User, ticket: Ticket) -> bool:
    """Return whether `user` is a technician holding an assignment of the ticket now (owner or support)."""
    if not user.is_technician:
        return False
    if ticket.assignee == user.subject and ticket.status in WORKING:
        return True
    return _holds(user, ticket)


def view_for(user: User | None, ticket: Ticket) -> View:
    """Return how much of the ticket's personal data `user` sees (None: a read without personal data)."""
    if user is None:
        return "none"
    if not user.is_technician or is_working(user, ticket):
        return "full"
    return "masked"


def may_read(user: User, ticket: Ticket) -> bool:
    """Return whether `user` may read the ticket at all: staff always, a technician while it is assigned
    to them (the REST read and the stream ask the same question)."""
    return not user.is_technician or ticket.assignee == user.subject or _holds(user, ticket)


def _reporters(ticket: Ticket, more: Sequence[Reporter]) -> list[dict[str, Any]]:
    """Every resident who reported the ticket's problem, the first one (on the ticket row) first."""
    result = []
    if ticket.reporter_name or ticket.reporter_phone:
        result.append({"name": ticket.reporter_name, "phone": ticket.reporter_phone, "unit": ticket.unit_id,
                       "source": ticket.source, "at": ticket.created_at})
    result += [{"name": r.name, "phone": r.phone, "unit": r.unit_id, "source": r.source, "at": r.at} for r in more]
    return result


def _shown(reporter: dict[str, Any], view: View) -> dict[str, Any]:
    if view == "full":
        return dict(reporter)
    return {**reporter, "name": None, "unit": None, "phone": mask_phone(reporter["phone"])}


def assignment_json(row: Assignment) -> dict[str, Any]:
    """One assignment as CONTRACT §7 shows it (docs/api.md, "Assignments"); no personal data."""
    return {"id": assignment_ref(row.id), "technician": row.technician, "trade": row.trade, "role": row.role,
            "status": row.status, "cycle": row.cycle, "offered_at": row.offered_at, "accept_by": row.accept_by,
            "accepted_at": row.accepted_at, "arrived_at": row.arrived_at, "done_at": row.done_at,
            "ended_at": row.ended_at, "travel_s": row.travel_s, "reason": row.reason}


def ticket_json(ticket: Ticket, history: Sequence[HistoryLine], alerts: Sequence[str],
                user: User | None, more_reporters: Sequence[Reporter] = (),
                assignments: Sequence[Assignment] = (), lang: str | None = None) -> dict[str, Any]:
    """Return the ticket as docs/api.md shows it to `user`, masked by `view_for`; `user` None leaves
    out the reporters and masks the free text (a read that shows nothing personal). The history's system
    lines are said in `lang` (the request's language), a person's words as typed; `lang` None: as stored."""
    view = view_for(user, ticket)
    everyone = _reporters(ticket, more_reporters)
    reporters = [] if view == "none" else [_shown(r, view) for r in everyone]
    names = [r["name"] for r in everyone if r["name"]]
    units = [u for u in {ticket.unit_id, *(r["unit"] for r in everyone)} if u]

    def text(value: str | None) -> str | None:
        return value if view == "full" else mask_text(value, names, units)

    first = reporters[0] if reporters and (ticket.reporter_name or ticket.reporter_phone) else None
    return {
        "id": ticket.id, "status": ticket.status, "urgency": ticket.urgency, "category": ticket.category,
        "title": text(ticket.title), "device": ticket.device_id,
        "location": {"building": ticket.building, "floor": ticket.floor, "zone": ticket.zone},
        "assignee": ticket.assignee, "alerts": list(alerts),
        "created_at": ticket.created_at, "updated_at": ticket.updated_at,
        "accept_by": ticket.accept_by, "arrive_by": ticket.arrive_by, "resolve_by": ticket.resolve_by,
        "accepted_at": ticket.accepted_at, "arrived_at": ticket.arrived_at,
        "resolved_at": ticket.resolved_at, "closed_at": ticket.closed_at,
        "breached": bool(ticket.breached), "source": ticket.source, "description": text(ticket.description),
        "reporter": {k: first[k] for k in ("name", "phone", "unit")} if first else None,
        "reporters": reporters,
        "resolution_note": text(ticket.resolution_note), "photos": list(ticket.photos or []),
        "satisfaction": ticket.satisfaction,
        "history": [{"at": h.at, "status": h.status, "by": h.by, "note": text(said_note(h, lang))} for h in history],
        "assignments": [assignment_json(a) for a in assignments],
    }


@dataclass(frozen=True, slots=True)
class Loaded:
    """What showing tickets needs besides their rows, loaded in four queries for any number of tickets, through
    dispatch's reads (dispatch/reads_tickets.py, dispatch/lookup.py)."""

    histories: dict[str, list[HistoryLine]]
    alerts: dict[str, list[str]]
    reporters: dict[str, list[Reporter]]
    assignments: dict[str, list[Assignment]] = field(default_factory=dict)

    @classmethod
    def of(cls, session: Session, tickets: Sequence[Ticket]) -> "Loaded":
        ids = [t.id for t in tickets]
        return cls(reads_tickets.histories_of(session, ids), reads_tickets.alerts_of(session, ids),
                   reads_tickets.reporters_of(session, ids), lookup.assignments_of(session, ids))


def said_note(line: HistoryLine, lang: str | None) -> str | None:
    """Return a history line's note in `lang`: the system's wording said again (dispatch/reads_tickets.py
    `note_of`), a person's words and older lines as stored; `lang` None: the stored (English) text."""
    return line.note if lang is None else reads_tickets.note_in(line, lang)


def render(session: Session, tickets: Sequence[Ticket], user: User | None,
           loaded: Loaded | None = None, *, lang: str | None = None) -> list[dict[str, Any]]:
    """Return the tickets as `user` sees them, with their history (said in `lang`), alerts and reporters."""
    loaded = loaded or Loaded.of(session, tickets)
    shown = [ticket_json(t, loaded.histories.get(t.id, []), loaded.alerts.get(t.id, []), user,
                         loaded.reporters.get(t.id, []), loaded.assignments.get(t.id, []), lang) for t in tickets]
    offers = contractors.current_contractors(session, [t.id for t in tickets])  # docs/operations.md, "Contractors"
    climbs = notices.climbs_of(session, [t.id for t in tickets])  # docs/operations.md, "Escalation levels"
    kinds = complaints.kinds_of(session, [t.id for t in tickets])  # docs/api.md, "Kinds of report"
    for ticket, row in zip(shown, tickets):
        ticket["contractor"] = offers.get(ticket["id"])
        ticket["escalation"] = climbs.get(ticket["id"])
        ticket.update(kinds[row.id])
        if view_for(user, row) != "full":
            ticket["answer"] = mask_text(ticket["answer"], [], [])
    return shown


def get_ticket_or_raise(session: Session, ticket_id: str) -> Ticket:
    """Return the ticket; raises TicketNotFound."""
    ticket = reads_tickets.ticket(session, ticket_id)
    if ticket is None:
        raise TicketNotFound(ticket_id)
    return ticket


def list_tickets(session: Session, *, statuses: Sequence[str] = (), urgency: int | None = None,
                 building: str | None = None, assignee: str | None = None, limit: int = 100) -> list[Ticket]:
    """Return tickets matching every given filter, newest first (dispatch/reads_tickets.py)."""
    return reads_tickets.latest(session, statuses=statuses, urgency=urgency, building=building, assignee=assignee,
                                limit=limit)


def audit_rows(user: User, tickets: Sequence[Ticket], loaded: Loaded, action: str,
               now: datetime) -> list[AuditRow]:
    """Return one audit row per ticket that shows `user` personal data (a reporter, even masked, or a
    number in its free text shown as written), naming what was shown."""
    rows = []
    for ticket in tickets:
        view = view_for(user, ticket)
        reporters = _reporters(ticket, loaded.reporters.get(ticket.id, []))
        fields = []
        if view == "full":
            fields += [label for label, key in (("reporter_name", "name"), ("reporter_phone", "phone"),
                                                ("unit", "unit")) if any(r[key] for r in reporters)]
            texts = [ticket.title, ticket.description, ticket.resolution_note,
                     *(h.note for h in loaded.histories.get(ticket.id, []))]
            if any(has_phone(t) for t in texts):
                fields.append("text_phone")
        elif view == "masked" and any(r["phone"] for r in reporters):
            fields.append("reporter_phone(masked)")
        if len(reporters) > 1 and fields:
            fields.append(f"reporters={len(reporters)}")
        if fields:
            rows.append(AuditRow(at=now, actor=user.subject, role=user.role, action=action,
                                 what=",".join(fields), ticket_id=ticket.id))
    return rows


def show(session: Session, user: User, tickets: Sequence[Ticket], action: str, now: datetime, *,
         lang: str | None = None) -> list[dict[str, Any]]:
    """Return the tickets for `user` (their history said in `lang`) and audit the personal data shown, in the
    caller's transaction."""
    loaded = Loaded.of(session, tickets)
    session.add_all(audit_rows(user, tickets, loaded, action, now))
    return render(session, tickets, user, loaded, lang=lang)


# --- what a technician's app adds (docs/api.md, "What a technician's ticket adds") ------------------

def technician_route(site: Site, location: dict[str, Any], origin: Location | None) -> dict[str, Any]:
    """Return where the ticket is, with the building's name, and the travel seconds from `origin` (the
    technician's last known location; None: not known, no travel time); pure."""
    building = site.buildings.get(location["building"])
    route: dict[str, Any] = {**location, "building_name": (building.name if building and building.name
                                                           else location["building"]),
                             "origin": None, "travel_s": None}
    if origin is not None:
        route["origin"] = {"building": origin.building, "floor": origin.floor, "zone": origin.zone, "at": origin.ts}
        route["travel_s"] = travel_seconds(site, Place(origin.building, origin.floor, origin.zone),
                                           Place(location["building"], location["floor"], location["zone"]))
    return route


def for_technician(session: Session, site: Site, user: User, shown: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add `route` and `device_values` to each ticket shown to a technician; staff's JSON is left as it is."""
    if not user.is_technician or not shown:
        return shown
    origin = lookup.location_of(session, user.subject)
    devices = sorted({t["device"] for t in shown if t["device"]})
    states = device_reads.last_of(session, devices) if devices else {}  # ingest's read (ingest/device_reads.py)
    for ticket in shown:
        ticket["route"] = technician_route(site, ticket["location"], origin)
        state = states.get(ticket["device"]) if ticket["device"] else None
        ticket["device_values"] = None if ticket["device"] is None else {
            "values": dict(state.values) if state else {}, "online": state.online if state else None,
            "last_seen": state.last_seen if state else None}
    return shown
