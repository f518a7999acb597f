"""Incidents: an alarm opens a ticket or joins the one it belongs to (its device's open ticket, the open
incident of its trade in its building, the same problem within 7 days), a person's report opens one, a
more urgent alarm raises the level, and each alarm's playbook adds the trades the incident needs."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from caretaker import i18n
from caretaker.dispatch import assigning, lookup, residents, steps, timers
from caretaker.dispatch.desk import Desk
from caretaker.dispatch.lifecycle import FIXED, HELD, AssignmentStatus as A, Role, TicketStatus
from caretaker.dispatch.privacy import mask_text
from caretaker.dispatch.sla import deadlines_from, raised_urgency, sla_for
from caretaker.dispatch.tables import TicketAlertRow, TicketReporterRow, TicketRow
from caretaker.estate.model import Place
from caretaker.rules.playbooks import matching, missing_trades

REPEAT_WINDOW = timedelta(days=7)  # docs/operations.md: the same problem again within 7 days is no new ticket
# an outage, a water cut or a stopped lift is raised one level where a vulnerable resident lives
RAISED_FOR_VULNERABLE = frozenset({*residents.SUPPLY_RULES, "elevator-stopped"})


@dataclass(frozen=True, slots=True)
class AlertFacts:
    """What dispatch needs of a raised alert to open or extend a ticket."""

    alert_id: str
    rule_id: str
    device_id: str
    urgency: int
    category: str
    title: str
    at: datetime
    place: Place | None = None  # where the alarm is, when not the device's install place (a lift car's floor)


@dataclass(frozen=True, slots=True)
class Report:
    """A problem reported by a person (phone, app, WeChat, front desk)."""

    source: str
    reporter_name: str
    reporter_phone: str
    building: str
    floor: int
    description: str
    category: str
    urgency: int
    title: str
    unit_id: str | None = None
    zone: str | None = None


def new_ticket_id(now: datetime) -> str:
    return f"T-{now:%y%m%d}-{secrets.token_hex(3).upper()}"


def sensor_urgency(desk: Desk, alert: AlertFacts, building: str) -> int:
    """The level a sensor alarm opens at: one higher for a supply cut (outage, water, lift) in a building
    where a vulnerable resident lives (docs/residents.md)."""
    vulnerable = alert.rule_id in RAISED_FOR_VULNERABLE and bool(residents.check_on(desk.site, building))
    return raised_urgency(alert.urgency, vulnerable)


def open_for_alert(desk: Desk, session: Session, alert: AlertFacts, now: datetime, _retries: int = 2) -> str:
    """Return the ticket the alert belongs to: the open one for its device and rule, else the open incident
    of the same trade in the same building that had an alert within the incident window, else a new one.
    A burst pipe that wets six sensors is one ticket."""
    key = f"{alert.device_id}|{alert.rule_id}"
    device = desk.site.devices[alert.device_id]
    urgency = sensor_urgency(desk, alert, device.place.building)
    ticket = session.scalars(select(TicketRow).where(TicketRow.open_key == key).with_for_update()).first()
    if ticket is None and desk.incident_window:
        ticket = lookup.open_incident(session, device.place.building, alert.category, now - desk.incident_window)
    if ticket is None:
        # the same fault on the same device within 7 days of a fix: the fix did not hold
        recent = lookup.same_problem(session, alert.category, now - REPEAT_WINDOW, device_id=alert.device_id)
        if recent is not None and recent.status in FIXED:
            repeat(desk, session, recent, now, "system", _on_device(alert))
            ticket = recent
    if ticket is not None:
        attach(desk, session, ticket, alert.alert_id, now, _on_device(alert))
        if urgency < ticket.urgency:
            raise_level(desk, session, ticket, urgency, now, f"{alert.title}: {alert.device_id}")
        grow(desk, session, ticket, alert.rule_id, alert.category, urgency, now)
        return ticket.id
    try:
        with session.begin_nested():
            ticket = create(desk, session, now, urgency=urgency, category=alert.category,
                            title=f"{alert.title}: {device.id}", source="sensor", place=alert.place or device.place,
                            device_id=device.id, rule_id=alert.rule_id, open_key=key)
            session.flush()  # a second worker opening the same condition meets the unique open_key here
    except IntegrityError:
        # it committed first (its insert held ours until then): its ticket is the one, join it
        ticket = session.scalars(select(TicketRow).where(TicketRow.open_key == key).with_for_update()).first()
        if ticket is None:
            # the row that stopped ours is not the open one (yet): decide again from the start, once more
            if _retries <= 0:
                raise
            return open_for_alert(desk, session, alert, now, _retries=_retries - 1)
        attach(desk, session, ticket, alert.alert_id, now, _on_device(alert))
        return ticket.id
    if urgency != alert.urgency:
        desk.history(session, ticket, now, "open", "system",
                     i18n.said("note.urgency_raised_building", was=alert.urgency, now=urgency,
                               building=device.place.building))
    attach(desk, session, ticket, alert.alert_id, now)
    assigning.open_assignment(desk, session, ticket, ticket.category, Role.OWNER, now)
    grow(desk, session, ticket, alert.rule_id, alert.category, urgency, now)
    return ticket.id


def _on_device(alert: AlertFacts) -> i18n.Said:
    """The alarm as a history line names it: its title (already in the estate's language) on its device."""
    return i18n.said("note.on_device", title=alert.title, device=alert.device_id)


def grow(desk: Desk, session: Session, ticket: TicketRow, rule_id: str, trade: str, urgency: int,
         now: datetime) -> None:
    """Give the ticket the support assignments the alarm's playbooks ask for at once, never a trade twice
    unless a playbook names it twice; an alarm of another trade joining the incident brings its own trade."""
    books = matching(desk.playbooks, rule_id, urgency)
    if books:
        ticket.playbooks = sorted({*(ticket.playbooks or []), *(b.id for b in books)})
    wanted = [t for b in books for t in b.now]
    if trade != ticket.category and trade not in wanted:
        wanted.append(trade)
    if not wanted or ticket.status in FIXED + (TicketStatus.CANCELLED.value,):
        return
    present = [r.trade for r in assigning.live(session, ticket.id)]
    for missing in missing_trades(wanted, ticket.category, present):
        assigning.open_assignment(desk, session, ticket, missing, Role.SUPPORT, now)


def report(desk: Desk, session: Session, report_: Report, now: datetime, by: str) -> str:
    """Open a ticket for a person's report, raising its level for a vulnerable resident; return its id."""
    previous = lookup.same_problem(session, report_.category, now - REPEAT_WINDOW, unit_id=report_.unit_id)
    if previous is not None:
        return repeat_report(desk, session, previous, report_, now, by)
    vulnerable = False
    if report_.unit_id and report_.unit_id in desk.site.units:
        vulnerable = any(r.vulnerable for r in desk.site.units[report_.unit_id].residents)
    urgency = raised_urgency(report_.urgency, vulnerable)
    ticket = create(desk, session, now, urgency=urgency, category=report_.category, title=report_.title,
                    source=report_.source, place=Place(report_.building, report_.floor, report_.zone),
                    description=report_.description, unit_id=report_.unit_id,
                    reporter_name=report_.reporter_name, reporter_phone=report_.reporter_phone, by=by)
    if urgency != report_.urgency:
        desk.history(session, ticket, now, "open", "system",
                     i18n.said("note.urgency_raised", was=report_.urgency, now=urgency))
    assigning.open_assignment(desk, session, ticket, ticket.category, Role.OWNER, now)
    return ticket.id


def create(desk: Desk, session: Session, now: datetime, *, urgency: int, category: str, title: str, source: str,
           place: Place, by: str = "system", **extra: Any) -> TicketRow:
    due = deadlines_from(now, sla_for(urgency, desk.site.sla))
    ticket = TicketRow(
        id=new_ticket_id(now), status=TicketStatus.OPEN.value, urgency=urgency, category=category, title=title[:200],
        source=source, building=place.building, floor=place.floor, zone=place.zone,
        created_at=now, updated_at=now, accept_by=due.accept_by, arrive_by=due.arrive_by,
        resolve_by=due.resolve_by, breached=False, photos=[], cycle=1, **extra,
    )
    session.add(ticket)
    session.flush()
    desk.history(session, ticket, now, "open", by,
                 i18n.said("note.opened", level=urgency, category=i18n.named("category", category)))
    timers.schedule_deadlines(session, ticket.id, now, due)
    return ticket


def attach(desk: Desk, session: Session, ticket: TicketRow, alert_id: str, now: datetime,
           what: str | i18n.Said = "") -> None:
    """Link an alarm to its ticket in ticket_alerts, the one record of the link (the alerts' reads find
    their ticket there: dispatch/lookup.py `alert_tickets`). An alarm joining a ticket says `what` it is, in a
    history line; the one a ticket is opened for says nothing (it is the reason the ticket exists)."""
    if session.get(TicketAlertRow, (ticket.id, alert_id)) is not None:
        return
    session.add(TicketAlertRow(ticket_id=ticket.id, alert_id=alert_id, attached_at=now))
    if what:
        ticket.updated_at = now
        desk.history(session, ticket, now, ticket.status, "system",
                     i18n.said("note.alert_attached_what", alert=alert_id, what=what))


def raise_level(desk: Desk, session: Session, ticket: TicketRow, urgency: int, now: datetime, why: str) -> None:
    """Make the ticket more urgent: deadlines from its creation at the new level, new timers (the old ones
    find their deadline moved and stay quiet); each assignment's technician is told, an offered one gets
    the new accept window from now, a waiting one is tried again (a level 1 may take someone off a job)."""
    old = ticket.urgency
    due = deadlines_from(ticket.created_at, sla_for(urgency, desk.site.sla))
    ticket.urgency, ticket.updated_at = urgency, now
    ticket.title = why[:200]  # the most urgent alarm leads the incident's title
    ticket.accept_by, ticket.arrive_by, ticket.resolve_by = due.accept_by, due.arrive_by, due.resolve_by
    timers.schedule_deadlines(session, ticket.id, ticket.created_at, due)
    desk.history(session, ticket, now, ticket.status, "system", i18n.said("note.level_raised", was=old, now=urgency,
                                                                        why=why))
    window = sla_for(urgency, desk.site.sla).accept
    for row in assigning.live(session, ticket.id):
        if row.status == A.OFFERED.value:
            row.accept_by = now + window
            timers.schedule(session, ticket.id, assigning.ACCEPT_TIMEOUT, row.accept_by, row.id)
        if row.status in HELD and row.technician:
            desk.push(session, ticket, row, "assigned", row.technician, now, reason=f"now level {urgency}: {why}")
        elif row.status == A.WAITING.value:
            assigning.fill(desk, session, ticket, row, now)


def repeat(desk: Desk, session: Session, ticket: TicketRow, now: datetime, by: str, what: str | i18n.Said,
           notice: str | i18n.Said | None = None) -> str:
    """The same problem again within 7 days: no new ticket; note it, reopen a fixed one, tell the
    supervisors (`notice`: what they are told, when it must differ from the history's line)."""
    reason = i18n.said("note.repeated", what=what)
    if ticket.status in FIXED:
        steps.reopen(desk, session, ticket, by, now, i18n.said("note.reopened_with", note=reason))  # not fixed
    else:
        ticket.updated_at = now
        desk.history(session, ticket, now, ticket.status, by, reason)
    desk.notify_supervisors(session, ticket, "escalation", i18n.said("note.repeated", what=notice or what), now)
    return ticket.id


def repeat_report(desk: Desk, session: Session, ticket: TicketRow, report_: Report, now: datetime, by: str) -> str:
    """A second resident reports the ticket's problem: they become a reporter of the ticket (shown, masked
    and audited like the first, docs/api.md "Personal data"); their name never goes into the history, and
    the supervisors' notice carries their words with numbers and names masked."""
    session.add(TicketReporterRow(ticket_id=ticket.id, at=now, source=report_.source,
                                  name=report_.reporter_name or None, phone=report_.reporter_phone or None,
                                  unit_id=report_.unit_id))
    names = [n for n in (report_.reporter_name, ticket.reporter_name) if n]
    units = [u for u in (report_.unit_id, ticket.unit_id) if u]
    words = mask_text(report_.description, names, units)
    source = i18n.named("note.source", report_.source)
    return repeat(desk, session, ticket, now, by,  # the resident's words as they said them, a parameter
                  i18n.said("note.from_source", source=source, words=report_.description),
                  notice=i18n.said("note.from_source", source=source, words=words))
