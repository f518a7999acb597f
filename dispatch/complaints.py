"""Complaints and suggestions (docs/operations.md, "Complaints and suggestions"): a report's kind stored with
its ticket, a service complaint's answer clock (warning at 80%, breach at 12 h, as timer rows that survive a
restart), the answer step that stops it, and the rule that a complaint is not closed unanswered.

A safety complaint (高空抛物, a blocked fire exit) is a level-1 security ticket dispatched like any other (the
API sets its level); it needs an answer before it closes but has no answer clock of its own: its level-1
deadlines are its clock. A service complaint about something to fix (保洁服务差: cleaning) is dispatched to
that trade as well; one about people's conduct only (态度差) goes to no technician: the control room answers
it, the answer resolves it and the call-back (回访) closes it. A suggestion (建议) goes to no technician
either: it waits for the owners' committee and is closed by its answer. Every write happens inside the
caller's transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Sequence

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from caretaker import i18n
from caretaker.dispatch import assigning, incidents, lookup, notices, timers
from caretaker.dispatch.complaint_tables import TicketKindRow
from caretaker.dispatch.desk import Desk, history_line
from caretaker.dispatch.errors import StepNotAllowed
from caretaker.dispatch.incidents import Report
from caretaker.dispatch.lifecycle import FINAL, Role, TicketStatus as T
from caretaker.dispatch.outbox import iso
from caretaker.dispatch.sla import raised_urgency, warning_time
from caretaker.dispatch.steps import locked
from caretaker.dispatch.tables import AssignmentRow, TicketRow
from caretaker.estate.model import Place

KINDS = ("repair", "complaint", "suggestion", "enquiry")
COMPLAINT_TYPES = ("service", "safety")
# DOMAIN default: a service-quality complaint is answered, with a rectification plan, within 12 hours
ANSWER_WINDOW = timedelta(hours=12)
TIMER_PREFIX = "answer:"  # "answer:warn" at 80% of the window, "answer:breach" at its end
WARN, BREACH = f"{TIMER_PREFIX}warn", f"{TIMER_PREFIX}breach"
# a suggestion has no technician: the technician deadlines' timers of its ticket are retired at once
_TECHNICIAN_TIMERS = ("accept:", "arrive:", "resolve:")


@dataclass(frozen=True, slots=True)
class Kind:
    kind: str = "repair"
    complaint_type: str | None = None


class AnswerMissing(StepNotAllowed):
    """A complaint may not close before it is answered (409)."""

    def __init__(self, ticket_id: str, status: str) -> None:
        Exception.__init__(self, f"cannot close complaint {ticket_id!r}: the answer is missing "
                                 f"(POST /api/v1/tickets/{ticket_id}/answer first)")
        self.status = status


class AnswerRefused(StepNotAllowed):
    """An answer the ticket does not take now: a repair, already answered, or closed (409)."""

    def __init__(self, message: str, status: str) -> None:
        Exception.__init__(self, message)
        self.status = status


# --- pure ------------------------------------------------------------------------------------------------

def has_clock(kind: Kind) -> bool:
    """A service complaint is answered within the window; a safety complaint's level-1 deadlines are its clock."""
    return kind.kind == "complaint" and kind.complaint_type == "service"


def needs_answer(kind: str) -> bool:
    """Whether the ticket's loop closes only with an answer (事事有回音): complaints and suggestions."""
    return kind in ("complaint", "suggestion")


def answer_deadline(start: datetime, window: timedelta = ANSWER_WINDOW) -> datetime:
    return start + window


def is_timer(kind: str) -> bool:
    return kind.startswith(TIMER_PREFIX)


# --- writes ----------------------------------------------------------------------------------------------

def kind_of(session: Session, ticket_id: str) -> TicketKindRow | None:
    return session.get(TicketKindRow, ticket_id)


def record(session: Session, ticket: TicketRow, kind: Kind, now: datetime, by: str) -> TicketKindRow:
    """Store the report's kind with its ticket. A repeat report that joins an earlier ticket makes it a
    complaint when it complains (its clock counted from now); a ticket already a complaint or a suggestion
    keeps its kind and its clock."""
    row = kind_of(session, ticket.id)
    if row is not None and row.kind in ("complaint", "suggestion"):
        return row
    if row is None:
        row = TicketKindRow(ticket_id=ticket.id, kind=kind.kind, complaint_type=kind.complaint_type)
        session.add(row)
    else:
        row.kind, row.complaint_type = kind.kind, kind.complaint_type
    if kind.kind != "repair":
        what = kind.kind if kind.complaint_type is None else f"{kind.kind}_{kind.complaint_type}"
        _history(session, ticket, now, by, i18n.said("note.filed_as", kind=i18n.named("note.kind", what)))
    if has_clock(kind) and row.answer_by is None:
        row.answer_by = answer_deadline(now)
        timers.schedule(session, ticket.id, WARN, warning_time(now, row.answer_by), deadline_at=row.answer_by)
        timers.schedule(session, ticket.id, BREACH, row.answer_by, deadline_at=row.answer_by)
        _history(session, ticket, now, "system", i18n.said("note.answer_due", at=iso(row.answer_by)))
    return row


def file_for_desk(desk: Desk, session: Session, report: Report, kind: Kind, now: datetime, by: str) -> str:
    """Open a ticket the control room answers itself (a suggestion, a complaint about conduct): no technician
    is asked and no technician deadline is watched; it waits for its answer. Never merged into a repair of
    the same unit."""
    ticket = incidents.create(desk, session, now, urgency=report.urgency, category=report.category,
                              title=report.title, source=report.source,
                              place=Place(report.building, report.floor, report.zone),
                              description=report.description, unit_id=report.unit_id,
                              reporter_name=report.reporter_name, reporter_phone=report.reporter_phone, by=by)
    for prefix in _TECHNICIAN_TIMERS:
        timers.retire(session, ticket.id, prefix)
    record(session, ticket, kind, now, by)
    _history(session, ticket, now, "system", i18n.said("note.desk_answers"))
    return ticket.id


def desk_ticket_in_the_way(session: Session, report: Report, now: datetime) -> bool:
    """Whether a report for a technician would join, as a repeat of the same unit and trade, a ticket the
    control room answers itself (a suggestion, a conduct complaint): that ticket has nobody to send, so the
    report must get a ticket of its own (`file_apart`)."""
    previous = lookup.same_problem(session, report.category, now - incidents.REPEAT_WINDOW, unit_id=report.unit_id)
    if previous is None:
        return False
    row = kind_of(session, previous.id)
    return row is not None and needs_answer(row.kind) and not _dispatched(session, previous.id)


def file_apart(desk: Desk, session: Session, report: Report, now: datetime, by: str) -> str:
    """Open a ticket for a person's report without looking for a repeat, dispatched as a report is
    (dispatch/incidents.py `report`: a vulnerable resident's level raised one step)."""
    unit = desk.site.units.get(report.unit_id) if report.unit_id else None
    urgency = raised_urgency(report.urgency, unit is not None and any(r.vulnerable for r in unit.residents))
    ticket = incidents.create(desk, session, now, urgency=urgency, category=report.category, title=report.title,
                              source=report.source, place=Place(report.building, report.floor, report.zone),
                              description=report.description, unit_id=report.unit_id,
                              reporter_name=report.reporter_name, reporter_phone=report.reporter_phone, by=by)
    if urgency != report.urgency:
        _history(session, ticket, now, "system", i18n.said("note.urgency_raised", was=report.urgency, now=urgency))
    assigning.open_assignment(desk, session, ticket, ticket.category, Role.OWNER, now)
    return ticket.id


def answer(session: Session, ticket_id: str, by: str, now: datetime, text: str) -> TicketRow:
    """Record the answer (a complaint's rectification plan, 整改措施) in the ticket's history and stop its
    clock and any escalation; a suggestion's answer closes it."""
    ticket = locked(session, ticket_id)
    row = kind_of(session, ticket_id)
    kind = row.kind if row is not None else "repair"
    if not needs_answer(kind):
        raise AnswerRefused(f"ticket {ticket_id!r} is a {kind}: only a complaint or a suggestion is answered",
                            ticket.status)
    if row.answered_at is not None:
        raise AnswerRefused(f"ticket {ticket_id!r} was answered at {iso(row.answered_at)} by {row.answered_by}",
                            ticket.status)
    if ticket.status in FINAL:
        raise AnswerRefused(f"cannot answer ticket {ticket_id!r} while it is {ticket.status}", ticket.status)
    row.answered_at, row.answered_by, row.answer = now, by, text
    ticket.updated_at = now
    late = row.answer_by is not None and now > row.answer_by
    timers.retire(session, ticket_id, TIMER_PREFIX)
    _history(session, ticket, now, by, i18n.said("note.answered_late" if late else "note.answered", text=text))
    notices.stop(session, ticket, now, by, "answer")
    if kind == "suggestion":  # its loop is the answer: no technician, no call-back
        ticket.status, ticket.closed_at = T.CLOSED.value, now
        _history(session, ticket, now, by, i18n.said("note.suggestion_closed"))
        timers.cancel_all(session, ticket_id)
    elif not _dispatched(session, ticket_id) and ticket.status == T.OPEN.value:
        # a complaint the control room handles: the rectification plan resolves it, the call-back closes it
        ticket.status, ticket.resolved_at = T.RESOLVED.value, now
        _history(session, ticket, now, by, i18n.said("note.desk_resolved"))
    return ticket


def refuse_unanswered_close(session: Session, ticket_id: str, closing: bool) -> None:
    """Raise AnswerMissing when a call-back would close an unanswered complaint (`closing`: a verify with a
    rating), or finds one the control room has still to answer (nothing else resolves it)."""
    row = kind_of(session, ticket_id)
    if row is None or row.kind != "complaint" or row.answered_at is not None:
        return
    ticket = session.get(TicketRow, ticket_id)
    status = ticket.status if ticket is not None else "unknown"
    if closing or not _dispatched(session, ticket_id):
        raise AnswerMissing(ticket_id, status)


def on_timer(desk: Desk, session: Session, ticket: TicketRow, timer: timers.Due, now: datetime) -> None:
    """The answer clock: at 80% the supervisors are warned, at the deadline the complaint is marked breached
    and the breach escalates (dispatch/notices.py); an answered complaint or a moved deadline stays quiet."""
    row = kind_of(session, ticket.id)
    if row is None or row.answer_by is None or row.answered_at is not None or ticket.status in FINAL:
        return
    if timer.deadline_at is not None and abs((row.answer_by - timer.deadline_at).total_seconds()) >= 1:
        return
    if timer.kind == WARN:
        desk.notify_supervisors(session, ticket, "warning", i18n.said("note.answer_near", at=iso(row.answer_by)), now)
    elif timer.kind == BREACH:
        ticket.breached, ticket.updated_at = True, now
        text = i18n.said("note.answer_breached", at=iso(row.answer_by))
        _history(session, ticket, now, "system", text)
        desk.notify_supervisors(session, ticket, "breach", text, now)


# --- reads -----------------------------------------------------------------------------------------------

def kinds_of(session: Session, ticket_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Return, per ticket, what ticket JSON shows of its kind (docs/api.md, "The ticket object"); a ticket
    without a row is a repair with no answer."""
    rows = {r.ticket_id: r for r in session.scalars(
        select(TicketKindRow).where(TicketKindRow.ticket_id.in_(list(ticket_ids))))} if ticket_ids else {}
    return {i: shown(rows.get(i)) for i in ticket_ids}


def shown(row: TicketKindRow | None) -> dict[str, Any]:
    if row is None:
        return {"kind": "repair", "complaint_type": None, "answer_by": None, "answered_at": None,
                "answered_by": None, "answer": None}
    return {"kind": row.kind, "complaint_type": row.complaint_type, "answer_by": row.answer_by,
            "answered_at": row.answered_at, "answered_by": row.answered_by, "answer": row.answer}


def kind_clause(kind: str):
    """A WHERE clause on TicketRow for tickets of this kind (a repair: no row, or a row that says so)."""
    of_kind = select(TicketKindRow.ticket_id).where(TicketKindRow.kind == kind)
    if kind != "repair":
        return TicketRow.id.in_(of_kind)
    return or_(TicketRow.id.in_(of_kind), TicketRow.id.not_in(select(TicketKindRow.ticket_id)))


@dataclass(frozen=True, slots=True)
class Answered:
    """What the KPIs read of a ticket with a kind row."""

    kind: str
    answer_by: datetime | None
    answered_at: datetime | None
    dispatched: bool  # a technician was asked: its technician deadlines count


def answers_of(session: Session, ticket_ids: Sequence[str]) -> dict[str, Answered]:
    """Return what the KPIs need of the tickets that have a kind row."""
    if not ticket_ids:
        return {}
    rows = list(session.scalars(select(TicketKindRow).where(TicketKindRow.ticket_id.in_(list(ticket_ids)))))
    ids = [r.ticket_id for r in rows]
    dispatched = set(session.scalars(select(AssignmentRow.ticket_id).where(AssignmentRow.ticket_id.in_(ids))
                                     .group_by(AssignmentRow.ticket_id))) if ids else set()
    return {r.ticket_id: Answered(r.kind, r.answer_by, r.answered_at, r.ticket_id in dispatched) for r in rows}


def _dispatched(session: Session, ticket_id: str) -> bool:
    """Whether a technician was ever asked to work the ticket."""
    return (session.scalar(select(func.count()).where(AssignmentRow.ticket_id == ticket_id)) or 0) > 0


def _history(session: Session, ticket: TicketRow, now: datetime, by: str, note: str | i18n.Said) -> None:
    session.add(history_line(ticket.id, now, ticket.status, by, note))
