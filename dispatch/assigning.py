"""Choosing and assigning: each assignment of a ticket (the owner's, each support trade's) is chosen, offered,
ended and replaced on its own, by dispatch/choose.py's rules; a level 1 may take someone off a level-3 or
level-4 job (preemption), and the job they leave goes to the next nearest at once."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Collection

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from caretaker import i18n
from caretaker.dispatch import contractors, lookup, timers
from caretaker.dispatch.choose import choose_technician, explain_no_choice
from caretaker.dispatch.desk import Desk
from caretaker.dispatch.lifecycle import HELD, LIVE, AssignmentStatus as A, Role, Step, support_end, ticket_status
from caretaker.dispatch.sla import sla_for
from caretaker.dispatch.tables import AssignmentRow, TicketRow
from caretaker.estate.model import Place

RETRY_UNASSIGNED = timedelta(seconds=30)
# a technician who declined or let an assignment time out is skipped this long, then asked again (a level 1
# asks one who missed a single push again at once: there may be nobody else)
ASK_AGAIN_AFTER = timedelta(minutes=10)
TIMEOUTS_BEFORE_SKIPPED_AT_LEVEL_1 = 2
ACCEPT_TIMEOUT = "accept_timeout"
RETRY_ASSIGN = "retry_assign"
# what each ending was called before assignments had a status (dispatch/contractors.py counts "timeout")
_OUTCOME = {A.TIMED_OUT: "timeout"}


def live(session: Session, ticket_id: str) -> list[AssignmentRow]:
    """The ticket's assignments still in play, oldest first."""
    return list(session.scalars(select(AssignmentRow).where(
        AssignmentRow.ticket_id == ticket_id, AssignmentRow.status.in_(LIVE)).order_by(AssignmentRow.id)))


def of_ticket(session: Session, ticket_id: str) -> list[AssignmentRow]:
    """Every assignment the ticket has had, oldest first (ticket JSON's `assignments`)."""
    return list(session.scalars(select(AssignmentRow).where(AssignmentRow.ticket_id == ticket_id)
                                .order_by(AssignmentRow.id)))


def owner_of(session: Session, ticket_id: str) -> AssignmentRow | None:
    """The ticket's newest owner assignment, whatever its status."""
    return session.scalars(select(AssignmentRow).where(
        AssignmentRow.ticket_id == ticket_id, AssignmentRow.role == Role.OWNER.value)
        .order_by(AssignmentRow.id.desc()).limit(1)).first()


def held_by(session: Session, ticket_id: str, tech: str) -> AssignmentRow | None:
    """The assignment `tech` holds on the ticket now (offered, accepted or on site), if any."""
    return session.scalars(select(AssignmentRow).where(
        AssignmentRow.ticket_id == ticket_id, AssignmentRow.technician == tech, AssignmentRow.status.in_(HELD))
        .order_by(AssignmentRow.id.desc()).limit(1)).first()


def sync_status(session: Session, ticket: TicketRow, newest_owner: AssignmentRow | None = None) -> None:
    """Set the ticket's status from its owner's assignment (dispatch/lifecycle.py `ticket_status`);
    `newest_owner`: the caller knows it (an owner assignment it has just added), so it is not read."""
    owner = newest_owner if newest_owner is not None else owner_of(session, ticket.id)
    ticket.status = ticket_status(ticket.status, owner.status if owner is not None else None).value
    if owner is not None and owner.status in HELD:
        ticket.assignee = owner.technician  # the ticket's `assignee` is its owner's technician
    elif owner is not None and owner.status == A.WAITING.value:
        ticket.assignee = None


def open_assignment(desk: Desk, session: Session, ticket: TicketRow, trade: str, role: Role, now: datetime
                    ) -> AssignmentRow:
    """Add an assignment of `trade` to the ticket and offer it to the nearest qualified technician."""
    row = AssignmentRow(ticket_id=ticket.id, technician=None, assigned_at=now, travel_s=0, reason="", trade=trade,
                        role=role.value, status=A.WAITING.value, cycle=ticket.cycle or 1)
    session.add(row)
    session.flush()
    fill(desk, session, ticket, row, now, fresh=True)
    return row


def fill(desk: Desk, session: Session, ticket: TicketRow, row: AssignmentRow, now: datetime,
         fresh: bool = False) -> bool:
    """Offer a waiting assignment to the nearest qualified technician; return whether someone was found."""
    candidates = lookup.candidates(session, desk.site)
    place = Place(ticket.building, ticket.floor, ticket.zone)
    on_ticket = {r.technician for r in live(session, ticket.id) if r.technician and r.id != row.id}
    refused = lookup.refusals(session, ticket.id, row.trade, now - ASK_AGAIN_AFTER)
    excluded = on_ticket | {tech for tech, _ in refused}

    def choose(skip: set[str]):
        return choose_technician(desk.site, category=row.trade, urgency=ticket.urgency, place=place,
                                 candidates=candidates, now=now, excluded=skip)

    choice = choose(excluded)
    if choice is None and ticket.urgency == 1:
        # nobody else: the one who missed a single push is asked again at once, not in 10 minutes
        timeouts = Counter(tech for tech, status in refused if status == A.TIMED_OUT.value)
        skip = on_ticket | {t for t, s in refused if s != A.TIMED_OUT.value} | {
            t for t, n in timeouts.items() if n >= TIMEOUTS_BEFORE_SKIPPED_AT_LEVEL_1}
        if skip != excluded:
            choice = choose(skip)
    if choice is None:
        why = explain_no_choice(desk.site, category=row.trade, urgency=ticket.urgency, place=place,
                                candidates=candidates, now=now, excluded=excluded)
        wait(desk, session, ticket, row, now, why, fresh, candidates)
        return False
    give(desk, session, ticket, row, choice.technician, choice.travel_s, choice.reason, now, "system", fresh)
    if choice.preempts:
        preempt(desk, session, ticket, choice.technician, now)
    return True


def give(desk: Desk, session: Session, ticket: TicketRow, row: AssignmentRow, tech: str, travel_s: int,
         reason: str | i18n.Said, now: datetime, by: str, fresh: bool = False) -> None:
    """Offer the assignment to `tech`: its own accept window and timer, and a push. `fresh`: the assignment
    was added just now (so it is the ticket's newest)."""
    window = sla_for(ticket.urgency, desk.site.sla).accept
    row.technician, row.status, row.offered_at, row.accept_by = tech, A.OFFERED.value, now, now + window
    row.travel_s, row.reason = travel_s, reason
    ticket.updated_at = now
    if row.role == Role.OWNER.value:
        sync_status(session, ticket, row if fresh else None)
        desk.history(session, ticket, now, ticket.status, by, i18n.said("note.assigned", tech=tech, reason=reason))
    else:
        desk.history(session, ticket, now, ticket.status, by, i18n.said(
            "note.support_assigned", trade=i18n.named("category", row.trade), tech=tech, reason=reason))
    timers.schedule(session, ticket.id, ACCEPT_TIMEOUT, row.accept_by, row.id)
    desk.push(session, ticket, row, "assigned", tech, now, travel_s=travel_s, reason=reason)


def wait(desk: Desk, session: Session, ticket: TicketRow, row: AssignmentRow, now: datetime, why: str,
         first_time: bool, candidates) -> None:
    """Nobody can take the assignment now: it waits, is tried again, and the supervisors hear of it once."""
    row.status, row.technician = A.WAITING.value, None
    if row.role == Role.OWNER.value:
        sync_status(session, ticket, row if first_time else None)
        ticket.updated_at = now
    # a new assignment has no timers yet; one tried again may have its retry pending already
    if first_time or not timers.has_pending(session, ticket.id, RETRY_ASSIGN, row.id):
        timers.schedule(session, ticket.id, RETRY_ASSIGN, now + RETRY_UNASSIGNED, row.id)
    if not first_time:
        return
    if row.role != Role.OWNER.value:
        # the control room sees it waiting on the ticket; the supervisors' notice is for work nobody owns
        desk.history(session, ticket, now, ticket.status, "system", i18n.said(
            "note.support_unassigned", trade=i18n.named("category", row.trade), why=why))
    else:
        desk.history(session, ticket, now, ticket.status, "system", i18n.said("note.unassigned", why=why))
        desk.notify_supervisors(session, ticket, "unassigned", why, now)
    if ticket.urgency in contractors.CONTRACTOR_LEVELS and desk.site.contractors:
        # a level 1 or 2 with nobody qualified on site goes to a contractor of its trade too
        nobody = contractors.nobody_qualified_on_site(desk.site, row.trade, candidates, now)
        to_contractor(desk, session, ticket, row, contractors.needs_contractor(ticket.urgency, nobody, 0), now)


def to_contractor(desk: Desk, session: Session, ticket: TicketRow, row: AssignmentRow, why: str | None,
                  now: datetime) -> None:
    """Offer the assignment's trade on the ticket to a contractor (dispatch/contractors.py), when `why`."""
    if why is not None:
        contractors.offer_to_contractor(session, desk.site, desk.prefix, ticket, row.trade, why, now,
                                        desk.notify_supervisors)


def timeouts_of(session: Session, ticket_id: str, trade: str) -> int:
    """How many assignments of a trade on the ticket were let pass unaccepted."""
    return session.scalar(select(func.count()).where(
        AssignmentRow.ticket_id == ticket_id, AssignmentRow.trade == trade,
        AssignmentRow.status == A.TIMED_OUT.value)) or 0


def end(session: Session, ticket: TicketRow, row: AssignmentRow, status: A, now: datetime) -> None:
    """End an assignment in `status` (done, declined, timed out, withdrawn)."""
    row.status, row.ended_at = status.value, now
    row.outcome = "resolved" if status == A.DONE and row.role == Role.OWNER.value else _OUTCOME.get(status, status.value)
    if status == A.DONE:
        row.done_at = now
    if row.role == Role.OWNER.value:
        sync_status(session, ticket)


def withdraw(desk: Desk, session: Session, ticket: TicketRow, row: AssignmentRow, now: datetime, why: str) -> None:
    """Take an assignment back; its technician is told."""
    tech = row.technician
    end(session, ticket, row, A.WITHDRAWN, now)
    if tech is not None:
        desk.push(session, ticket, row, "withdrawn", tech, now, reason=why)


def stop_supports(desk: Desk, session: Session, ticket: TicketRow, step: Step, now: datetime, why: str,
                  keep: Collection[str] = ()) -> None:
    """The ticket's work stopped by `step` (the owner resolved it, it closed): each support assignment still
    in play, except of the trades in `keep` (the playbook's later trades), ends as dispatch/lifecycle.py
    `support_end` says (done on site, else withdrawn and its technician told), with its timers, so nobody
    is offered it again."""
    for row in live(session, ticket.id):
        ends = support_end(row.status, step) if row.role == Role.SUPPORT.value and row.trade not in keep else None
        if ends is None:
            continue
        tech = row.technician
        if ends == A.WITHDRAWN:
            withdraw(desk, session, ticket, row, now, why)
        else:
            end(session, ticket, row, ends, now)
        timers.retire_assignment(session, row.id)
        trade, ended = i18n.named("category", row.trade), i18n.named("status", ends.value)
        desk.history(session, ticket, now, ticket.status, "system",
                     i18n.said("note.support_ended_by", trade=trade, status=ended, tech=tech, why=why) if tech
                     else i18n.said("note.support_ended", trade=trade, status=ended, why=why))


def replace(desk: Desk, session: Session, ticket: TicketRow, row: AssignmentRow, now: datetime) -> AssignmentRow:
    """The assignment ended without its work done: the same trade and role go to the next nearest."""
    return open_assignment(desk, session, ticket, row.trade, Role(row.role), now)


def preempt(desk: Desk, session: Session, urgent: TicketRow, tech: str, now: datetime) -> None:
    """`tech` was taken for a level-1 ticket while holding level-3 or level-4 work: that work is withdrawn
    (they are told) and offered to the next nearest at once (its technician told `assigned`)."""
    rows = session.scalars(select(AssignmentRow).join(TicketRow, TicketRow.id == AssignmentRow.ticket_id).where(
        AssignmentRow.technician == tech, AssignmentRow.status.in_(HELD), AssignmentRow.ticket_id != urgent.id,
        TicketRow.urgency >= 3).order_by(AssignmentRow.id)).all()
    for row in rows:
        left = session.scalars(select(TicketRow).where(TicketRow.id == row.ticket_id).with_for_update()).one()
        withdraw(desk, session, left, row, now, i18n.said("note.taken_off", ticket=urgent.id))
        desk.history(session, left, now, left.status, "system",
                     i18n.said("note.preempted", tech=tech, ticket=urgent.id))
        replace(desk, session, left, row, now)


def fill_waiting(desk: Desk, session: Session, now: datetime, trades=None) -> int:
    """Try again the waiting assignments (of these trades) now that someone came on site; return how many
    found someone. The most urgent and oldest tickets first."""
    query = (select(AssignmentRow, TicketRow).join(TicketRow, TicketRow.id == AssignmentRow.ticket_id)
             .where(AssignmentRow.status == A.WAITING.value))
    if trades is not None:
        query = query.where(AssignmentRow.trade.in_(list(trades)))
    pairs = session.execute(query.order_by(TicketRow.urgency, TicketRow.created_at, AssignmentRow.id)
                            .with_for_update()).all()
    return sum(1 for row, ticket in pairs if row.status == A.WAITING.value and fill(desk, session, ticket, row, now))
