"""What a due timer does: an assignment not accepted in time goes to the next nearest, a waiting one is
tried again, a deadline warns at 80% and escalates when breached, escalation levels climb, a contractor's
`arrive` is checked."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from caretaker import i18n
from caretaker.dispatch import assigning, complaints, contractors, notices, timers
from caretaker.dispatch.desk import Desk
from caretaker.dispatch.lifecycle import FINAL, AssignmentStatus as A, Role
from caretaker.dispatch.outbox import iso
from caretaker.dispatch.tables import AssignmentRow, TicketRow


def on_timer(desk: Desk, session: Session, timer: timers.Due, now: datetime) -> None:
    ticket = session.scalars(select(TicketRow).where(TicketRow.id == timer.ticket_id).with_for_update()).first()
    if ticket is None or ticket.status in FINAL:
        return
    kind = timer.kind
    if kind == assigning.ACCEPT_TIMEOUT:
        _accept_timeout(desk, session, ticket, timer, now)
    elif kind == assigning.RETRY_ASSIGN:
        _retry(desk, session, ticket, timer, now)
    elif notices.is_timer(kind):  # "escalate:<level>": nobody acted, tell the next level
        notices.on_timer(session, desk.site, desk.prefix, ticket, timer, now)
    elif contractors.is_timer(kind):  # the contractor's `arrive` has passed
        contractors.on_timer(session, desk.site, ticket, now, desk.notify_supervisors)
    elif complaints.is_timer(kind):  # "answer:warn|breach": a service complaint's answer clock
        complaints.on_timer(desk, session, ticket, timer, now)
    else:
        _deadline(desk, session, ticket, timer, now)


def _accept_timeout(desk: Desk, session: Session, ticket: TicketRow, timer: timers.Due, now: datetime) -> None:
    """Only that assignment is reassigned: the ticket's other trades go on as they are."""
    row = session.get(AssignmentRow, timer.assignment_id) if timer.assignment_id is not None else None
    if row is None or row.status != A.OFFERED.value or row.accept_by is None or abs(
            (row.accept_by - timer.due_at).total_seconds()) >= 1:
        return  # accepted, ended, or its window moved (a raised level): this timer is stale
    tech = row.technician or ""
    assigning.end(session, ticket, row, A.TIMED_OUT, now)
    desk.push(session, ticket, row, "withdrawn", tech, now, reason=i18n.said("notice.not_accepted"))
    desk.history(session, ticket, now, "assigned", "system", i18n.said("note.not_accepted_by", tech=tech)
                 if row.role == Role.OWNER.value else
                 i18n.said("note.support_not_accepted_by", tech=tech, trade=i18n.named("category", row.trade)))
    assigning.replace(desk, session, ticket, row, now)
    if ticket.urgency in contractors.CONTRACTOR_LEVELS and desk.site.contractors:
        # the second time a level 1 or 2 assignment is let pass, a contractor of its trade is offered it
        timeouts = assigning.timeouts_of(session, ticket.id, row.trade)
        assigning.to_contractor(desk, session, ticket, row,
                                contractors.needs_contractor(ticket.urgency, False, timeouts), now)


def _retry(desk: Desk, session: Session, ticket: TicketRow, timer: timers.Due, now: datetime) -> None:
    if timer.assignment_id is not None:
        rows = [session.get(AssignmentRow, timer.assignment_id)]
    else:  # a timer from before assignments had their own
        rows = [r for r in assigning.live(session, ticket.id) if r.role == Role.OWNER.value]
    for row in rows:
        if row is not None and row.status == A.WAITING.value:
            assigning.fill(desk, session, ticket, row, now)


def _deadline(desk: Desk, session: Session, ticket: TicketRow, timer: timers.Due, now: datetime) -> None:
    step, _, phase = timer.kind.partition(":")  # "accept:warn", "arrive:breach", ...
    if timers.step_done(ticket, step) or not timers.is_current(ticket, step, timer):
        return
    if phase == "warn":
        text = i18n.said("notice.deadline_near", step=i18n.named("step", step),
                         at=iso(getattr(ticket, step + '_by')))
        owner = assigning.owner_of(session, ticket.id)
        if ticket.assignee and owner is not None and owner.technician == ticket.assignee:
            desk.push(session, ticket, owner, "reminder", ticket.assignee, now, reason=text)
        desk.notify_supervisors(session, ticket, "warning", text, now)
    else:
        ticket.breached, ticket.updated_at = True, now
        text = i18n.said("notice.deadline_breached", step=i18n.named("step", step),
                         at=iso(getattr(ticket, step + '_by')))
        desk.history(session, ticket, now, ticket.status, "system", text)
        desk.notify_supervisors(session, ticket, "breach", text, now)
