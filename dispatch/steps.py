"""The steps people take: a technician on their own assignment (accept, decline, arrive, done, the owner's
resolve), an operator on the ticket (verify, reopen, assign, cancel, confirm an arrival). Which step is
allowed when is dispatch/lifecycle.py's table; this module records what each does."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from caretaker import i18n
from caretaker.dispatch import arrival, assigning, notices, timers
from caretaker.dispatch.desk import Desk
from caretaker.dispatch.errors import (
    AssignmentNotFound,
    AssignmentStepNotAllowed,
    BadRequest,
    NotYourAssignment,
    NotYourTicket,
    StepNotAllowed,
    TicketNotFound,
)
from caretaker.dispatch.lifecycle import AssignmentStatus as A, Refusal, Role, Step, TicketStatus as T, assignment_step, ticket_step_refusal
from caretaker.dispatch.messages import assignment_ref, assignment_row_id
from caretaker.dispatch.sla import deadlines_from, sla_for
from caretaker.dispatch.tables import AssignmentRow, TechnicianLocationRow, TicketCycleRow, TicketRow
from caretaker.rules.playbooks import missing_trades


def locked(session: Session, ticket_id: str) -> TicketRow:
    ticket = session.scalars(select(TicketRow).where(TicketRow.id == ticket_id).with_for_update()).first()
    if ticket is None:
        raise TicketNotFound(ticket_id)
    return ticket


def own_on_ticket(session: Session, ticket_id: str, tech: str, step: Step) -> tuple[TicketRow, AssignmentRow]:
    """The ticket (locked) and the caller's own assignment on it."""
    ticket = locked(session, ticket_id)
    row = assigning.held_by(session, ticket_id, tech)
    if row is None:
        if ticket.assignee == tech:  # their work on it has ended: the step is late, not someone else's
            raise StepNotAllowed(ticket_id, step.value, ticket.status)
        raise NotYourTicket(ticket_id, tech)
    return ticket, row


def own_assignment(session: Session, ref: str, tech: str | None) -> tuple[TicketRow, AssignmentRow]:
    """The assignment `ref` (`AS-…`) and its ticket (locked); `tech` None: an operator acting on it."""
    row_id = assignment_row_id(ref)
    row = session.get(AssignmentRow, row_id) if row_id is not None else None
    if row is None:
        raise AssignmentNotFound(ref)
    ticket = locked(session, row.ticket_id)
    session.refresh(row)
    if tech is not None and row.technician != tech:
        raise NotYourAssignment(ref, tech)
    return ticket, row


def _next(ticket: TicketRow, row: AssignmentRow, step: Step) -> A:
    result = assignment_step(row.status, step)
    if isinstance(result, Refusal):
        if row.role == Role.OWNER.value and row.status in (A.OFFERED, A.ACCEPTED, A.ON_SITE):
            raise StepNotAllowed(ticket.id, step.value, ticket.status)  # the ticket's words, as before assignments
        raise AssignmentStepNotAllowed(i18n.said("error.assignment_step_not_allowed", step=i18n.named("step", step),
                                                 assignment=assignment_ref(row.id),
                                                 status=i18n.named("status", row.status)), row.status)
    return result


def accept(desk: Desk, session: Session, ticket: TicketRow, row: AssignmentRow, now: datetime) -> None:
    row.status, row.accepted_at = _next(ticket, row, Step.ACCEPT).value, now
    ticket.updated_at = now
    tech = row.technician or ""
    if row.role == Role.OWNER.value:
        ticket.accepted_at = now
        assigning.sync_status(session, ticket)
        desk.history(session, ticket, now, ticket.status, tech, None)
        desk.residents.step(session, ticket, "accepted", now)
    else:
        desk.history(session, ticket, now, ticket.status, tech,
                     i18n.said("note.support_accepted", trade=i18n.named("category", row.trade)))
    notices.stop(session, ticket, now, tech, "accept")  # someone acted: the escalation stops climbing


def decline(desk: Desk, session: Session, ticket: TicketRow, row: AssignmentRow, now: datetime,
            note: str | None) -> None:
    assigning.end(session, ticket, _refuse_or(ticket, row, Step.DECLINE), A.DECLINED, now)
    row.note = note
    ticket.updated_at = now
    trade = i18n.named("category", row.trade)
    if row.role == Role.OWNER.value:  # the technician's words a parameter, as they wrote them
        what = i18n.said("note.declined_with", note=note) if note else i18n.said("note.declined")
    else:
        what = (i18n.said("note.support_declined_with", trade=trade, note=note) if note
                else i18n.said("note.support_declined", trade=trade))
    desk.history(session, ticket, now, T.ASSIGNED, row.technician or "", what)
    assigning.replace(desk, session, ticket, row, now)


def _refuse_or(ticket: TicketRow, row: AssignmentRow, step: Step) -> AssignmentRow:
    _next(ticket, row, step)
    return row


def arrive(desk: Desk, session: Session, ticket: TicketRow, row: AssignmentRow, now: datetime,
           confirmed_by: str | None = None) -> None:
    """On site: counted when the technician's last location (app or badge) is in the ticket's building,
    or when an operator confirms it (`confirmed_by`); the stored location is never moved."""
    status = _next(ticket, row, Step.ARRIVE)
    if confirmed_by is None:
        location = session.get(TechnicianLocationRow, row.technician) if row.technician else None
        refusal = arrival.refusal(ticket.building, location.building if location else None,
                                  location.ts if location else None, now, desk.site.travel.location_ttl)
        if refusal is not None:
            raise AssignmentStepNotAllowed(i18n.said("error.arrival_refused", ticket=ticket.id, why=refusal),
                                           row.status)
    if confirmed_by is not None:
        row.note = f"arrival confirmed by {confirmed_by}"
    on_site(desk, session, ticket, row, now, confirmed_by or row.technician or "",
            i18n.said("note.arrival_confirmed", by=confirmed_by) if confirmed_by else None, status)


def on_site(desk: Desk, session: Session, ticket: TicketRow, row: AssignmentRow, at: datetime, by: str,
            extra: str | i18n.Said | None, status: A | None = None) -> None:
    """Record the assignment on site at `at`: an `arrive`, an operator's confirmation, or a badge swipe in
    the ticket's building (dispatch/badges.py, with the swipe's time); the owner's arrival moves the ticket."""
    row.status, row.arrived_at = (status or _next(ticket, row, Step.ARRIVE)).value, at
    ticket.updated_at = at
    tech = row.technician or ""
    if row.role == Role.OWNER.value:
        ticket.arrived_at = at
        assigning.sync_status(session, ticket)
        desk.history(session, ticket, at, ticket.status, by, extra)
        desk.residents.step(session, ticket, "on_site", at)
    else:
        trade = i18n.named("category", row.trade)
        desk.history(session, ticket, at, ticket.status, by,
                     i18n.said("note.support_on_site_with", trade=trade, extra=extra) if extra
                     else i18n.said("note.support_on_site", trade=trade))
    notices.stop(session, ticket, at, tech, "arrive")


def done(desk: Desk, session: Session, ticket: TicketRow, row: AssignmentRow, now: datetime,
         note: str | None = None) -> None:
    """A support assignment's work is finished (the owner resolves the ticket instead, with evidence)."""
    if row.role == Role.OWNER.value:
        raise AssignmentStepNotAllowed(i18n.said("error.owner_resolves", ticket=ticket.id), row.status)
    assigning.end(session, ticket, _refuse_or(ticket, row, Step.DONE), A.DONE, now)
    row.note = note or row.note
    ticket.updated_at = now
    trade = i18n.named("category", row.trade)
    desk.history(session, ticket, now, ticket.status, row.technician or "",
                 i18n.said("note.support_done_with", trade=trade, note=note) if note
                 else i18n.said("note.support_done", trade=trade))


def resolve(desk: Desk, session: Session, ticket: TicketRow, row: AssignmentRow, now: datetime, note: str,
            photos: list[str]) -> None:
    if not note.strip() or not photos:
        raise BadRequest(i18n.said("error.resolve_needs_evidence"))
    if row.role != Role.OWNER.value:
        raise AssignmentStepNotAllowed(i18n.said("error.support_done", trade=row.trade, ticket=ticket.id), row.status)
    _next(ticket, row, Step.RESOLVE)
    ticket.status, ticket.resolved_at, ticket.updated_at = T.RESOLVED.value, now, now
    ticket.resolution_note, ticket.photos = note, list(photos)
    if ticket.open_key is not None:
        ticket.open_key = None  # a new alarm on this device after the fix opens a new ticket
    assigning.end(session, ticket, row, A.DONE, now)
    desk.history(session, ticket, now, T.RESOLVED, row.technician or "", note)
    notices.stop(session, ticket, now, row.technician or "", "resolve")
    desk.residents.step(session, ticket, "resolved", now)
    wanted = [trade for book in desk.playbooks if book.id in (ticket.playbooks or []) for trade in book.on_resolve]
    # the support work of the fix stops with it (nobody is offered it again); the later trades go on
    assigning.stop_supports(desk, session, ticket, Step.RESOLVE, now, i18n.said("note.owner_resolved"), keep=wanted)
    _later(desk, session, ticket, wanted, now)


def _later(desk: Desk, session: Session, ticket: TicketRow, wanted: list[str], now: datetime) -> None:
    """The owner resolved: the playbooks' later trades (cleaning after a burst pipe) are dispatched now."""
    if not wanted:
        return
    present = [r.trade for r in assigning.live(session, ticket.id)]
    for trade in missing_trades(wanted, ticket.category, present):
        assigning.open_assignment(desk, session, ticket, trade, Role.SUPPORT, now)


# --- the control room --------------------------------------------------------------------------------

def _allowed(ticket: TicketRow, step: Step) -> None:
    refusal = ticket_step_refusal(ticket.status, step)
    if refusal is not None:
        raise StepNotAllowed(ticket.id, step.value, ticket.status)


def verify(desk: Desk, session: Session, ticket: TicketRow, by: str, now: datetime, satisfaction: int | None,
           note: str | None) -> None:
    """Record the call-back; with a satisfaction score the ticket closes."""
    _allowed(ticket, Step.VERIFY)
    ticket.status, ticket.updated_at = T.VERIFIED.value, now
    desk.history(session, ticket, now, T.VERIFIED, by, note)
    if satisfaction is not None:
        ticket.satisfaction, ticket.status, ticket.closed_at = satisfaction, T.CLOSED.value, now
        desk.history(session, ticket, now, T.CLOSED, by, i18n.said("note.satisfaction", score=satisfaction))
        assigning.stop_supports(desk, session, ticket, Step.VERIFY, now, i18n.said("note.ticket_closed"))
        timers.cancel_all(session, ticket.id)


def reopen(desk: Desk, session: Session, ticket: TicketRow, by: str, now: datetime, note: i18n.Said) -> None:
    """Put a fixed ticket back to work with fresh deadlines, with the technician who owns it (首问负责制);
    the cycle that ended is kept, with its times and rating (the KPIs count it)."""
    _allowed(ticket, Step.REOPEN)
    session.add(TicketCycleRow(
        ticket_id=ticket.id, cycle=ticket.cycle or 1, started_at=_cycle_start(session, ticket),
        assignee=ticket.assignee, accept_by=ticket.accept_by, arrive_by=ticket.arrive_by,
        resolve_by=ticket.resolve_by, accepted_at=ticket.accepted_at, arrived_at=ticket.arrived_at,
        resolved_at=ticket.resolved_at, closed_at=ticket.closed_at, satisfaction=ticket.satisfaction,
        breached=bool(ticket.breached), reopened_at=now))
    ticket.cycle = (ticket.cycle or 1) + 1
    owner = ticket.assignee
    due = deadlines_from(now, sla_for(ticket.urgency, desk.site.sla))
    ticket.accept_by, ticket.arrive_by, ticket.resolve_by = due.accept_by, due.arrive_by, due.resolve_by
    ticket.accepted_at = ticket.arrived_at = ticket.resolved_at = ticket.closed_at = None
    ticket.satisfaction, ticket.updated_at, ticket.status = None, now, T.OPEN.value
    if ticket.device_id and ticket.rule_id and ticket.source == "sensor":
        key = f"{ticket.device_id}|{ticket.rule_id}"
        if session.scalar(select(TicketRow.id).where(TicketRow.open_key == key)) is None:
            ticket.open_key = key
    timers.schedule_deadlines(session, ticket.id, now, due)
    desk.history(session, ticket, now, T.OPEN, by, note)
    if owner is not None:
        row = AssignmentRow(ticket_id=ticket.id, technician=None, assigned_at=now, travel_s=0, reason="",
                            trade=ticket.category, role=Role.OWNER.value, status=A.WAITING.value, cycle=ticket.cycle)
        session.add(row)
        session.flush()
        assigning.give(desk, session, ticket, row, owner, 0, i18n.said("note.reopened_owner"), now, by)
    else:
        _reopen_owner(desk, session, ticket, now)


def _reopen_owner(desk: Desk, session: Session, ticket: TicketRow, now: datetime) -> None:
    waiting = [r for r in assigning.live(session, ticket.id) if r.role == Role.OWNER.value]
    if waiting:
        assigning.fill(desk, session, ticket, waiting[-1], now)
    else:
        assigning.open_assignment(desk, session, ticket, ticket.category, Role.OWNER, now)


def _cycle_start(session: Session, ticket: TicketRow) -> datetime:
    last = session.scalars(select(TicketCycleRow.reopened_at).where(TicketCycleRow.ticket_id == ticket.id)
                           .order_by(TicketCycleRow.id.desc()).limit(1)).first()
    return last or ticket.created_at


def assign(desk: Desk, session: Session, ticket: TicketRow, tech: str, by: str, now: datetime) -> None:
    """An operator hands the owner's work to a named technician, overriding the choice."""
    if tech not in desk.site.technicians:
        raise BadRequest(i18n.said("error.technician_not_in_site", technician=tech))
    _allowed(ticket, Step.ASSIGN)
    for row in assigning.live(session, ticket.id):
        if row.role == Role.OWNER.value:
            assigning.withdraw(desk, session, ticket, row, now, i18n.said("note.reassigned"))
    row = AssignmentRow(ticket_id=ticket.id, technician=None, assigned_at=now, travel_s=0, reason="",
                        trade=ticket.category, role=Role.OWNER.value, status=A.WAITING.value, cycle=ticket.cycle or 1)
    session.add(row)
    session.flush()
    assigning.give(desk, session, ticket, row, tech, 0, i18n.said("note.assigned_by", by=by), now, by)
    notices.stop(session, ticket, now, by, "assign")


def cancel(desk: Desk, session: Session, ticket: TicketRow, by: str, now: datetime, note: str | None) -> None:
    _allowed(ticket, Step.CANCEL)
    ticket.status = T.CANCELLED.value
    for row in assigning.live(session, ticket.id):
        assigning.withdraw(desk, session, ticket, row, now, i18n.named("status", T.CANCELLED.value))
    ticket.open_key, ticket.updated_at = None, now
    desk.history(session, ticket, now, T.CANCELLED, by, note)
    timers.cancel_all(session, ticket.id)
