"""Notices to supervisors, level by level: sent through the outbox, recorded so they can be acknowledged,
the next level's timer set, and the climb stopped when someone acts (docs/operations.md, "Escalation
levels"). The decisions are dispatch/escalation.py's; this module writes, inside the caller's transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Sequence

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from caretaker import i18n
from caretaker.dispatch import escalation, timers
from caretaker.dispatch.escalation import TIMER_PREFIX, Told
from caretaker.dispatch.escalation_tables import EscalationRow, NoticeRow
from caretaker.dispatch.lifecycle import FINAL, FIXED
from caretaker.dispatch.errors import BadRequest
from caretaker.dispatch.outbox import enqueue, iso, message_id, notify_topic
from caretaker.dispatch.desk import history_line
from caretaker.dispatch.tables import TicketRow
from caretaker.estate.durations import format_duration
from caretaker.estate.model import Site

# a ticket in these states needs nobody any more: a level timer that fires then stays quiet
_DONE = (*FIXED, *FINAL)  # dispatch/lifecycle.py


class NoticeNotFound(LookupError):
    def __init__(self, notice_id: str) -> None:
        super().__init__(i18n.said("error.notice_unknown", notice=notice_id))
        self.notice_id = notice_id


class NotYourNotice(PermissionError):
    def __init__(self, notice_id: str, supervisor: str) -> None:
        super().__init__(i18n.said("error.notice_not_yours", notice=notice_id, supervisor=supervisor))


@dataclass(frozen=True, slots=True)
class Ack:
    """A notice as acknowledged: by whom and when (the first acknowledgement counts), and whether a climb
    stopped."""

    notice: str
    ticket: str
    acked_by: str
    acked_at: datetime
    stopped: bool


def tell(session: Session, site: Site, prefix: str, ticket: TicketRow, kind: str, reason: str,
         now: datetime) -> Told:
    """Tell the supervisors of a notice: the level a climb under way has reached, else level 0; a breach or
    an unassigned level-1 or level-2 ticket starts a climb (its next level's timer)."""
    climb = _climb(session, ticket.id)
    if climb is not None and climb.stopped_at is None:
        told = escalation.during(site, climb.level, now)
    else:
        climbs = escalation.climbs(kind, ticket.urgency)
        told = escalation.begin(site, now, climbs=climbs)
        if told.level is not None and climbs:
            if climb is None:
                climb = EscalationRow(ticket_id=ticket.id, started_at=now, level=told.level)
                session.add(climb)
            climb.started_at, climb.level, climb.stopped_at, climb.stopped_by = now, told.level, None, None
            _next_timer(session, ticket, told)
            _history(session, ticket, now, _line(told))
    _send(session, site, prefix, ticket, kind, reason, told, now)
    return told


def is_timer(kind: str) -> bool:
    return escalation.level_of(kind) is not None


def on_timer(session: Session, site: Site, prefix: str, ticket: TicketRow, timer: timers.Due,
             now: datetime) -> None:
    """A level's time has come and nobody acted: tell that level, set the next one's timer."""
    level = escalation.level_of(timer.kind)
    climb = _climb(session, ticket.id)
    if level is None or ticket.status in _DONE or level >= len(site.escalation) or climb is None:
        return  # done, or the site file has fewer levels since the timer was set
    if not escalation.timer_acts(climb.level, climb.stopped_at is not None, level):
        return
    told = escalation.climb(site, level, timer.due_at, now)
    climb.level = told.level if told.level is not None else level
    waited = format_duration(site.escalation[level].after)
    reason = i18n.said("notice.escalated_waited", waited=waited)
    _send(session, site, prefix, ticket, "escalation", reason, told, now)
    _next_timer(session, ticket, told)
    _history(session, ticket, now, _line(told))


def stop(session: Session, ticket: TicketRow, now: datetime, by: str, step: str) -> bool:
    """Stop the ticket's climb because someone acted (`step`: accept, arrive, resolve, assign, ack, ...);
    return whether one was under way."""
    climb = _climb(session, ticket.id)
    if not escalation.stops(step) or climb is None or climb.stopped_at is not None:
        return False
    climb.stopped_at, climb.stopped_by = now, by
    timers.retire(session, ticket.id, TIMER_PREFIX)
    _history(session, ticket, now, i18n.said("note.escalation_stopped", level=climb.level,
                                             step=i18n.named("note.step", step), by=by))
    return True


def ack(session: Session, notice_id: str, by: str, now: datetime, sent_to: str | None = None) -> Ack:
    """Acknowledge a notice (POST /api/v1/notices/{id}/ack): the ticket's climb stops. Acknowledging again
    changes nothing and answers the first acknowledgement. `sent_to`: a supervisor acknowledging for
    themselves may acknowledge only the notices sent to them."""
    notice = session.scalars(select(NoticeRow).where(NoticeRow.id == notice_id).with_for_update()).first()
    if notice is None:
        raise NoticeNotFound(notice_id)
    if sent_to is not None and notice.supervisor != sent_to:
        raise NotYourNotice(notice_id, sent_to)
    ticket = session.scalars(select(TicketRow).where(TicketRow.id == notice.ticket_id).with_for_update()).first()
    if ticket is None:
        raise BadRequest(f"the ticket of notice {notice_id} no longer exists")
    if notice.acked_at is not None:
        return Ack(notice.id, notice.ticket_id, notice.acked_by or "", notice.acked_at, False)
    notice.acked_at, notice.acked_by = now, by
    _history(session, ticket, now, i18n.said("note.notice_acked", kind=i18n.named("note.notice", notice.type),
                                             supervisor=notice.supervisor, by=by))
    stopped = stop(session, ticket, now, by, "ack")
    return Ack(notice.id, notice.ticket_id, by, now, stopped)


def find(session: Session, *, ticket_id: str | None = None, supervisor: str | None = None,
         unacked: bool = False, limit: int = 100) -> list[NoticeRow]:
    """Return notices matching every given filter, newest first (GET /api/v1/notices)."""
    query = select(NoticeRow)
    if ticket_id is not None:
        query = query.where(NoticeRow.ticket_id == ticket_id)
    if supervisor is not None:
        query = query.where(NoticeRow.supervisor == supervisor)
    if unacked:
        query = query.where(NoticeRow.acked_at.is_(None))
    return list(session.scalars(query.order_by(NoticeRow.at.desc(), NoticeRow.id.desc()).limit(limit)))


def climbs_of(session: Session, ticket_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Return, per ticket that climbed, its escalation as ticket JSON shows it (docs/api.md, "The ticket
    object"): `{level, started_at, stopped_at, stopped_by}`."""
    if not ticket_ids:
        return {}
    rows = session.scalars(select(EscalationRow).where(EscalationRow.ticket_id.in_(list(ticket_ids))))
    return {r.ticket_id: {"level": r.level, "started_at": r.started_at, "stopped_at": r.stopped_at,
                          "stopped_by": r.stopped_by} for r in rows}


def _climb(session: Session, ticket_id: str) -> EscalationRow | None:
    return session.get(EscalationRow, ticket_id)


def _next_timer(session: Session, ticket: TicketRow, told: Told) -> None:
    if told.next_level is not None and told.next_at is not None:
        timers.schedule(session, ticket.id, escalation.timer_kind(told.next_level), told.next_at)


def _line(told: Told) -> i18n.Said:
    people = ", ".join(told.people)  # supervisor ids, the same in every language
    if told.note:
        return i18n.said("note.escalation_told_with", level=told.level, people=people, note=told.note)
    return i18n.said("note.escalation_told", level=told.level, people=people)


def _send(session: Session, site: Site, prefix: str, ticket: TicketRow, kind: str, reason: str, told: Told,
          now: datetime) -> None:
    # said in the site's locale: a notice has no request to ask (docs/device-protocol.md, "Dispatches")
    text = i18n.render(i18n.said("notice.with_note", reason=reason, note=told.note) if told.note else reason,
                       site.locale)
    for person in told.people:
        notice_id = message_id()  # the push's `id` is the notice's id: what an acknowledgement names
        payload = {"id": notice_id, "type": kind, "ticket": ticket.id, "urgency": ticket.urgency,
                   "title": ticket.title, "reason": text, "ts": iso(now), "level": told.level,
                   "escalation": i18n.render(escalation.describe(told), site.locale)}
        enqueue(session, notify_topic(prefix, site.id, person), payload, now)
        session.add(NoticeRow(id=notice_id, ticket_id=ticket.id, supervisor=person, type=kind, level=told.level,
                              at=now))


def _history(session: Session, ticket: TicketRow, now: datetime, note: str | i18n.Said) -> None:
    session.add(history_line(ticket.id, now, ticket.status, "system", note))


def purge(session: Session, before: datetime, limit: int = 5000) -> int:
    """Delete up to `limit` notices sent before a time; return how many (they only grow otherwise; the
    ticket's history keeps what was told and who acknowledged)."""
    ids = select(NoticeRow.id).where(NoticeRow.at < before).limit(limit)
    return session.execute(delete(NoticeRow).where(NoticeRow.id.in_(ids))).rowcount or 0
