"""Deadlines as rows: schedule, cancel, and claim the due ones so that no timer fires twice or gets lost;
the database's clock says when they are due, and which are overdue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.orm import Session

from caretaker.dispatch.lifecycle import FINAL, FIXED
from caretaker.dispatch.sla import Deadlines, warning_time
from caretaker.dispatch.tables import TicketRow, TimerRow

# the step a deadline belongs to -> the ticket column that says it is done
_DONE_AT = {"accept": "accepted_at", "arrive": "arrived_at", "resolve": "resolved_at"}


@dataclass(frozen=True, slots=True)
class Due:
    id: int
    ticket_id: str
    kind: str
    due_at: datetime
    assignment_id: int | None
    deadline_at: datetime | None = None


def schedule(session: Session, ticket_id: str, kind: str, due_at: datetime, assignment_id: int | None = None,
             deadline_at: datetime | None = None) -> None:
    """Add a timer in the caller's transaction."""
    session.add(TimerRow(ticket_id=ticket_id, kind=kind, due_at=due_at, assignment_id=assignment_id,
                         deadline_at=deadline_at, fired=False))


def schedule_deadlines(session: Session, ticket_id: str, start: datetime, due: Deadlines) -> None:
    """Add the 80% warning and the breach timer of each deadline the ticket has, counted from `start`."""
    for step, deadline in (("accept", due.accept_by), ("arrive", due.arrive_by), ("resolve", due.resolve_by)):
        if deadline is None:
            continue
        schedule(session, ticket_id, f"{step}:warn", warning_time(start, deadline), deadline_at=deadline)
        schedule(session, ticket_id, f"{step}:breach", deadline, deadline_at=deadline)


def has_pending(session: Session, ticket_id: str, kind: str, assignment_id: int | None = None) -> bool:
    """Return whether the ticket (or one of its assignments) has a timer of this kind that has not fired yet."""
    query = select(TimerRow.id).where(TimerRow.ticket_id == ticket_id, TimerRow.kind == kind, TimerRow.fired.is_(False))
    if assignment_id is not None:
        query = query.where(TimerRow.assignment_id == assignment_id)
    return session.scalar(query.limit(1)) is not None


def cancel_all(session: Session, ticket_id: str) -> None:
    """Retire every pending timer of a ticket (it closed or was cancelled)."""
    session.execute(update(TimerRow).where(TimerRow.ticket_id == ticket_id, TimerRow.fired.is_(False)).values(fired=True))


def retire_assignment(session: Session, assignment_id: int) -> int:
    """Retire the pending timers of one assignment (its accept timeout, its retry); return how many."""
    return session.execute(update(TimerRow).where(TimerRow.assignment_id == assignment_id,
                                                  TimerRow.fired.is_(False)).values(fired=True)).rowcount or 0


def shared_now(session: Session, instance_now: datetime) -> datetime:
    """Return the time due timers (and periodic jobs) are compared with: on PostgreSQL the database's own
    clock, which every instance shares (an instance whose clock runs 5 minutes fast must not escalate 5 minutes
    early); on SQLite, which one instance uses, that instance's clock."""
    if session.get_bind().dialect.name != "postgresql":
        return instance_now
    return session.scalar(text("SELECT clock_timestamp()")).astimezone(timezone.utc)


@dataclass(frozen=True, slots=True)
class Overdue:
    count: int
    oldest_due_at: datetime | None


def overdue(session: Session, before: datetime) -> Overdue:
    """Return how many timers due before a time have not fired, and the oldest one's due time (a sweep that
    has stopped or is stuck leaves them so)."""
    count, oldest = session.execute(
        select(func.count(), func.min(TimerRow.due_at)).where(TimerRow.fired.is_(False), TimerRow.due_at < before)
    ).one()
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=timezone.utc)  # SQLite drops the zone from an aggregate
    return Overdue(count or 0, oldest)


def claim_due(session: Session, now: datetime, limit: int = 200) -> list[Due]:
    """Mark up to `limit` due timers fired and return them, oldest first; on PostgreSQL rows another
    instance holds are skipped, so each timer is claimed by exactly one sweep."""
    rows = session.scalars(
        select(TimerRow)
        .where(TimerRow.fired.is_(False), TimerRow.due_at <= now)
        .order_by(TimerRow.due_at, TimerRow.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    for row in rows:
        row.fired = True
    return [Due(r.id, r.ticket_id, r.kind, r.due_at, r.assignment_id, r.deadline_at) for r in rows]


def is_current(ticket: TicketRow, step: str, timer: Due) -> bool:
    """Return whether a warning or breach timer still watches the ticket's deadline (a raised level or a
    reopening moves it, and the old timers stay quiet)."""
    deadline = getattr(ticket, f"{step}_by", None)
    if deadline is None:
        return False
    if timer.deadline_at is None:
        return True  # a timer from before timers remembered their deadline
    return abs((deadline - timer.deadline_at).total_seconds()) < 1


def rearm(session: Session, timer_id: int, due_at: datetime) -> None:
    """Put a claimed timer back to fire again later (its action met a passing database error)."""
    session.execute(update(TimerRow).where(TimerRow.id == timer_id).values(fired=False, due_at=due_at))


def purge_fired(session: Session, before: datetime, limit: int = 5000) -> int:
    """Delete up to `limit` timers that fired before a time; return how many (they only grow otherwise)."""
    ids = select(TimerRow.id).where(TimerRow.fired.is_(True), TimerRow.due_at < before).limit(limit)
    return session.execute(delete(TimerRow).where(TimerRow.id.in_(ids))).rowcount or 0


def step_done(ticket: TicketRow, step: str) -> bool:
    """Return whether the ticket has done the step a deadline watches (or no longer needs to)."""
    if ticket.status in (*FIXED, *FINAL):
        return True
    column = _DONE_AT.get(step)
    return column is not None and getattr(ticket, column) is not None


def pending_kinds(session: Session, ticket_id: str, prefix: str) -> list[str]:
    """Return the kinds of the ticket's timers that start with `prefix` and have not fired (escalation's
    level timers: dispatch/escalation.py)."""
    return list(session.scalars(
        select(TimerRow.kind).where(TimerRow.ticket_id == ticket_id, TimerRow.kind.startswith(prefix),
                                    TimerRow.fired.is_(False))
    ))


def retire(session: Session, ticket_id: str, prefix: str) -> int:
    """Retire the ticket's pending timers whose kind starts with `prefix`; return how many (a climb stopped)."""
    return session.execute(
        update(TimerRow).where(TimerRow.ticket_id == ticket_id, TimerRow.kind.startswith(prefix),
                               TimerRow.fired.is_(False)).values(fired=True)
    ).rowcount or 0
