"""Ticket lifecycle: open or attach, assign the nearest, technician and operator steps; all inside the caller's transaction."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Iterable

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dispatch import contractors, lookup, notices, timers
from dispatch.lookup import ACTIVE, FINAL, FIXED, OPEN
from dispatch.choose import Candidate, choose_technician, explain_no_choice
from dispatch.errors import BadRequest, NotYourTicket, StepNotAllowed, TicketNotFound
from dispatch.outbox import dispatch_topic, enqueue, iso
from dispatch.privacy import mask_text
from dispatch.resident_store import ResidentDesk
from dispatch.sla import deadlines_from, raised_urgency, sla_for
from dispatch.tables import (
    AssignmentRow,
    TechnicianLocationRow,
    TicketAlertRow,
    TicketHistoryRow,
    TicketReporterRow,
    TicketRow,
)
from estate.model import Place, Site

RETRY_UNASSIGNED = timedelta(seconds=30)
# alerts of one trade in one building within this window are one incident (DOMAIN.md §3, issue: alarm model)
INCIDENT_WINDOW = timedelta(minutes=10)
REPEAT_WINDOW = timedelta(days=7)  # DOMAIN.md §4: the same problem again within 7 days is no new ticket
# a technician who declined or let the ticket time out is skipped this long, then asked again: otherwise a
# ticket whose only qualified technician missed one push would wait forever
ASK_AGAIN_AFTER = timedelta(minutes=10)


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


class Dispatcher:
    """Decides and records what happens to tickets; every method works inside the session it is given."""

    def __init__(self, site: Site, prefix: str, incident_window: timedelta = INCIDENT_WINDOW) -> None:
        self.site = site
        self.prefix = prefix
        self.incident_window = incident_window
        self.residents = ResidentDesk(site, prefix)  # residents hear of a report's progress (docs/residents.md)

    # --- opening -----------------------------------------------------------------------------

    def open_for_alert(self, session: Session, alert: AlertFacts, now: datetime) -> str:
        """Return the ticket the alert belongs to: the open one for its device and rule, else the open
        incident of the same trade in the same building that had an alert within the incident window,
        else a new one. A burst pipe that wets six sensors is one ticket."""
        key = f"{alert.device_id}|{alert.rule_id}"
        device = self.site.devices[alert.device_id]
        ticket = session.scalars(select(TicketRow).where(TicketRow.open_key == key).with_for_update()).first()
        if ticket is None and self.incident_window:
            ticket = lookup.open_incident(session, device.place.building, alert.category, now - self.incident_window)
        if ticket is None:
            # the same fault on the same device within 7 days of a fix: the fix did not hold
            recent = lookup.same_problem(session, alert.category, now - REPEAT_WINDOW, device_id=alert.device_id)
            if recent is not None and recent.status in FIXED:
                self._repeat(session, recent, now, "system", f"{alert.title} on {alert.device_id}")
                ticket = recent
        if ticket is not None:
            self._attach(session, ticket, alert.alert_id, now, f"{alert.title} on {alert.device_id}")
            if alert.urgency < ticket.urgency:
                self._raise_level(session, ticket, alert.urgency, now, f"{alert.title}: {alert.device_id}")
            return ticket.id
        try:
            with session.begin_nested():
                ticket = self._create(
                    session, now, urgency=alert.urgency, category=alert.category,
                    title=f"{alert.title}: {device.id}", source="sensor", place=alert.place or device.place,
                    device_id=device.id, rule_id=alert.rule_id, open_key=key,
                )
                session.flush()  # a second worker opening the same condition meets the unique open_key here
        except IntegrityError:
            # it committed first (its insert held ours until then): its ticket is the one, join it
            ticket = session.scalars(select(TicketRow).where(TicketRow.open_key == key).with_for_update()).one()
            self._attach(session, ticket, alert.alert_id, now, f"{alert.title} on {alert.device_id}")
            return ticket.id
        self._attach(session, ticket, alert.alert_id, now)
        self._assign_nearest(session, ticket, now)
        return ticket.id

    def report(self, session: Session, report: Report, now: datetime, by: str) -> str:
        """Open a ticket for a person's report, raising its level for a vulnerable resident; return its id."""
        previous = lookup.same_problem(session, report.category, now - REPEAT_WINDOW, unit_id=report.unit_id)
        if previous is not None:
            return self._repeat_report(session, previous, report, now, by)
        vulnerable = False
        if report.unit_id and report.unit_id in self.site.units:
            vulnerable = any(r.vulnerable for r in self.site.units[report.unit_id].residents)
        urgency = raised_urgency(report.urgency, vulnerable)
        ticket = self._create(
            session, now, urgency=urgency, category=report.category, title=report.title,
            source=report.source, place=Place(report.building, report.floor, report.zone),
            description=report.description, unit_id=report.unit_id,
            reporter_name=report.reporter_name, reporter_phone=report.reporter_phone, by=by,
        )
        if urgency != report.urgency:
            self._history(session, ticket, now, "open", "system",
                          f"urgency raised from {report.urgency} to {urgency}: vulnerable resident")
        self._assign_nearest(session, ticket, now)
        return ticket.id

    def _create(self, session: Session, now: datetime, *, urgency: int, category: str, title: str,
                source: str, place: Place, by: str = "system", **extra: Any) -> TicketRow:
        due = deadlines_from(now, sla_for(urgency, self.site.sla))
        ticket = TicketRow(
            id=new_ticket_id(now), status="open", urgency=urgency, category=category, title=title[:200],
            source=source, building=place.building, floor=place.floor, zone=place.zone,
            created_at=now, updated_at=now, accept_by=due.accept_by, arrive_by=due.arrive_by,
            resolve_by=due.resolve_by, breached=False, photos=[], **extra,
        )
        session.add(ticket)
        session.flush()
        self._history(session, ticket, now, "open", by, f"level {urgency} {category}")
        timers.schedule_deadlines(session, ticket.id, now, due)
        return ticket

    def _attach(self, session: Session, ticket: TicketRow, alert_id: str, now: datetime, what: str = "") -> None:
        if session.get(TicketAlertRow, (ticket.id, alert_id)) is not None:
            return
        session.add(TicketAlertRow(ticket_id=ticket.id, alert_id=alert_id, attached_at=now))
        count = session.scalar(select(func.count()).where(TicketAlertRow.ticket_id == ticket.id)) or 0
        if count > 1:  # the first alert is the reason the ticket exists
            ticket.updated_at = now
            self._history(session, ticket, now, ticket.status, "system",
                          f"alert {alert_id} attached{': ' + what if what else ''}")

    def attach_alert(self, session: Session, ticket_id: str, alert_id: str, now: datetime, what: str) -> None:
        """Attach an alert to a ticket it belongs to without opening one (an alarm the outage explains)."""
        ticket = session.get(TicketRow, ticket_id)
        if ticket is not None:
            self._attach(session, ticket, alert_id, now, what)

    def note(self, session: Session, ticket_id: str, now: datetime, text: str) -> None:
        """Write a line in the ticket's history."""
        ticket = session.get(TicketRow, ticket_id)
        if ticket is not None:
            ticket.updated_at = now
            self._history(session, ticket, now, ticket.status, "system", text)

    def _raise_level(self, session: Session, ticket: TicketRow, urgency: int, now: datetime, why: str) -> None:
        """Make the ticket more urgent: deadlines from its creation at the new level, new timers; the old
        timers find their deadline moved and stay quiet."""
        old = ticket.urgency
        due = deadlines_from(ticket.created_at, sla_for(urgency, self.site.sla))
        ticket.urgency, ticket.updated_at = urgency, now
        ticket.title = why[:200]  # the most urgent alarm leads the incident's title
        ticket.accept_by, ticket.arrive_by, ticket.resolve_by = due.accept_by, due.arrive_by, due.resolve_by
        timers.schedule_deadlines(session, ticket.id, ticket.created_at, due)
        self._history(session, ticket, now, ticket.status, "system", f"level {old} → {urgency}: {why}")
        if ticket.assignee and ticket.status in ACTIVE:
            self._push(session, ticket, "assigned", ticket.assignee, now, reason=f"now level {urgency}: {why}")
        if ticket.status == "assigned":
            # the new level's accept window applies from now to the technician who has not accepted yet
            current = lookup.current_assignment(session, ticket.id)
            if current is not None:
                window = sla_for(urgency, self.site.sla).accept
                timers.schedule(session, ticket.id, "accept_timeout", now + window, current.id)
        elif ticket.status == "open":
            self._assign_nearest(session, ticket, now)  # a level 1 may take someone off a level-3 job

    def alert_cleared(self, session: Session, ticket_id: str, alert_id: str, now: datetime) -> None:
        """Note on the ticket that one of its alarms cleared (evidence for the call-back)."""
        ticket = session.get(TicketRow, ticket_id)
        if ticket is not None:
            self._history(session, ticket, now, ticket.status, "system", f"alert {alert_id} cleared")

    # --- choosing ----------------------------------------------------------------------------

    def candidates(self, session: Session) -> list[Candidate]:
        """Return every technician of the site with location and current work, as choosing needs them."""
        return lookup.candidates(session, self.site)

    def _assign_nearest(self, session: Session, ticket: TicketRow, now: datetime) -> bool:
        candidates = self.candidates(session)
        place = Place(ticket.building, ticket.floor, ticket.zone)
        excluded = lookup.recently_refused(session, ticket.id, now - ASK_AGAIN_AFTER)
        choice = choose_technician(self.site, category=ticket.category, urgency=ticket.urgency,
                                   place=place, candidates=candidates, now=now, excluded=excluded)
        if choice is None:
            why = explain_no_choice(self.site, category=ticket.category, urgency=ticket.urgency, place=place,
                                    candidates=candidates, now=now, excluded=excluded)
            self._mark_unassigned(session, ticket, now, why)
            return False
        self._give(session, ticket, choice.technician, choice.travel_s, choice.reason, now, "system")
        return True

    def _give(self, session: Session, ticket: TicketRow, tech: str, travel_s: int, reason: str,
              now: datetime, by: str) -> None:
        assignment = AssignmentRow(ticket_id=ticket.id, technician=tech, assigned_at=now,
                                   travel_s=travel_s, reason=reason)
        session.add(assignment)
        session.flush()
        ticket.assignee = tech
        ticket.status = "assigned"
        ticket.updated_at = now
        self._history(session, ticket, now, "assigned", by, f"to {tech}: {reason}")
        window = sla_for(ticket.urgency, self.site.sla).accept
        timers.schedule(session, ticket.id, "accept_timeout", now + window, assignment.id)
        self._push(session, ticket, "assigned", tech, now, travel_s=travel_s, reason=reason)

    def _mark_unassigned(self, session: Session, ticket: TicketRow, now: datetime, why: str) -> None:
        first_time = ticket.status != "open" or not session.scalar(
            select(func.count()).where(TicketHistoryRow.ticket_id == ticket.id,
                                       TicketHistoryRow.note.like("unassigned:%"))
        )
        if first_time or ticket.status != "open" or ticket.assignee is not None:
            ticket.status, ticket.assignee, ticket.updated_at = "open", None, now
        if not timers.has_pending(session, ticket.id, "retry_assign"):
            timers.schedule(session, ticket.id, "retry_assign", now + RETRY_UNASSIGNED)
        if first_time:
            self._history(session, ticket, now, "open", "system", f"unassigned: {why}")
            self.notify_supervisors(session, ticket, "unassigned", why, now)
        self._contractor_if_nobody(session, ticket, now)

    # --- technician steps --------------------------------------------------------------------

    def _locked(self, session: Session, ticket_id: str) -> TicketRow:
        ticket = session.scalars(select(TicketRow).where(TicketRow.id == ticket_id).with_for_update()).first()
        if ticket is None:
            raise TicketNotFound(ticket_id)
        return ticket

    def _own(self, session: Session, ticket_id: str, tech: str, step: str, allowed: Iterable[str]) -> TicketRow:
        ticket = self._locked(session, ticket_id)
        if ticket.assignee != tech:
            raise NotYourTicket(ticket_id, tech)
        if ticket.status not in allowed:
            raise StepNotAllowed(ticket_id, step, ticket.status)
        return ticket

    def accept(self, session: Session, ticket_id: str, tech: str, now: datetime) -> None:
        ticket = self._own(session, ticket_id, tech, "accept", ("assigned",))
        ticket.status, ticket.accepted_at, ticket.updated_at = "accepted", now, now
        self._history(session, ticket, now, "accepted", tech, None)
        notices.stop(session, ticket, now, tech, "accept")  # someone acted: the escalation stops climbing
        self.residents.step(session, ticket, "accepted", now)

    def decline(self, session: Session, ticket_id: str, tech: str, now: datetime, note: str | None = None) -> None:
        ticket = self._own(session, ticket_id, tech, "decline", ("assigned",))
        self._end_assignment(session, ticket, now, "declined")
        self._history(session, ticket, now, "assigned", tech, f"declined{': ' + note if note else ''}")
        self._assign_nearest(session, ticket, now)

    def arrive(self, session: Session, ticket_id: str, tech: str, now: datetime) -> None:
        ticket = self._own(session, ticket_id, tech, "arrive", ("accepted",))
        ticket.status, ticket.arrived_at, ticket.updated_at = "on_site", now, now
        self._history(session, ticket, now, "on_site", tech, None)
        notices.stop(session, ticket, now, tech, "arrive")
        self.residents.step(session, ticket, "on_site", now)
        # arriving places them at the ticket's location
        self.record_location(session, tech, Place(ticket.building, ticket.floor, ticket.zone), now, "arrive")

    def resolve(self, session: Session, ticket_id: str, tech: str, now: datetime, note: str, photos: list[str]) -> None:
        if not note.strip() or not photos:
            raise BadRequest("resolving needs a note on what was done and at least one photo")
        ticket = self._own(session, ticket_id, tech, "resolve", ("accepted", "on_site"))
        ticket.status, ticket.resolved_at, ticket.updated_at = "resolved", now, now
        ticket.resolution_note, ticket.photos = note, list(photos)
        if ticket.open_key is not None:
            ticket.open_key = None  # a new alarm on this device after the fix opens a new ticket
        self._end_assignment(session, ticket, now, "resolved")
        self._history(session, ticket, now, "resolved", tech, note)
        notices.stop(session, ticket, now, tech, "resolve")
        self.residents.step(session, ticket, "resolved", now)

    # --- operator steps ----------------------------------------------------------------------

    def verify(self, session: Session, ticket_id: str, by: str, now: datetime, satisfaction: int | None,
               note: str | None) -> None:
        """Record the call-back; with a satisfaction score the ticket closes."""
        ticket = self._locked(session, ticket_id)
        if ticket.status not in ("resolved", "verified"):
            raise StepNotAllowed(ticket_id, "verify", ticket.status)
        ticket.status, ticket.updated_at = "verified", now
        self._history(session, ticket, now, "verified", by, note)
        if satisfaction is not None:
            ticket.satisfaction, ticket.status, ticket.closed_at = satisfaction, "closed", now
            self._history(session, ticket, now, "closed", by, f"satisfaction {satisfaction}/5")
            timers.cancel_all(session, ticket.id)

    def reopen(self, session: Session, ticket_id: str, by: str, now: datetime, note: str | None) -> None:
        """Not fixed: the same ticket goes back to the technician who owns it (首问负责制)."""
        ticket = self._locked(session, ticket_id)
        if ticket.status not in FIXED:
            raise StepNotAllowed(ticket_id, "reopen", ticket.status)
        self._reopen(session, ticket, now, by, f"reopened{': ' + note if note else ''}")

    def _reopen(self, session: Session, ticket: TicketRow, now: datetime, by: str, note: str) -> None:
        """Put a resolved or closed ticket back to work with fresh deadlines, with the technician who owns it."""
        owner = ticket.assignee
        due = deadlines_from(now, sla_for(ticket.urgency, self.site.sla))
        ticket.accept_by, ticket.arrive_by, ticket.resolve_by = due.accept_by, due.arrive_by, due.resolve_by
        ticket.accepted_at = ticket.arrived_at = ticket.resolved_at = ticket.closed_at = None
        ticket.satisfaction, ticket.updated_at = None, now
        if ticket.device_id and ticket.rule_id and ticket.source == "sensor":
            key = f"{ticket.device_id}|{ticket.rule_id}"
            if session.scalar(select(TicketRow.id).where(TicketRow.open_key == key)) is None:
                ticket.open_key = key
        timers.schedule_deadlines(session, ticket.id, now, due)
        self._history(session, ticket, now, "open", by, note)
        if owner is not None:
            self._give(session, ticket, owner, 0, "reopened: you own this ticket", now, by)
        else:
            ticket.status = "open"
            self._assign_nearest(session, ticket, now)

    def _repeat(self, session: Session, ticket: TicketRow, now: datetime, by: str, what: str,
                notice: str | None = None) -> str:
        """The same problem again within 7 days: no new ticket; note it, reopen a fixed one, tell the
        supervisors (`notice`: what they are told, when it must differ from the history's line)."""
        reason = f"reported again within 7 days: {what}"
        if ticket.status in FIXED:
            self._reopen(session, ticket, now, by, f"reopened: {reason}")  # not fixed the first time
        else:
            ticket.updated_at = now
            self._history(session, ticket, now, ticket.status, by, reason)
        self.notify_supervisors(session, ticket, "escalation", f"reported again within 7 days: {notice or what}", now)
        return ticket.id

    def _repeat_report(self, session: Session, ticket: TicketRow, report: Report, now: datetime, by: str) -> str:
        """A second resident reports the ticket's problem: they become a reporter of the ticket (shown,
        masked and audited like the first, docs/api.md "Personal data"); their name never goes into the
        history, and the supervisors' notice carries their words with numbers and names masked."""
        session.add(TicketReporterRow(ticket_id=ticket.id, at=now, source=report.source,
                                      name=report.reporter_name or None, phone=report.reporter_phone or None,
                                      unit_id=report.unit_id))
        names = [n for n in (report.reporter_name, ticket.reporter_name) if n]
        units = [u for u in (report.unit_id, ticket.unit_id) if u]
        words = mask_text(report.description, names, units)
        return self._repeat(session, ticket, now, by, f"({report.source}) {report.description}",
                            notice=f"({report.source}) {words}")

    def assign(self, session: Session, ticket_id: str, tech: str, by: str, now: datetime) -> None:
        """An operator hands the ticket to a named technician, overriding the choice."""
        if tech not in self.site.technicians:
            raise BadRequest(f"technician {tech!r} is not in the site file")
        ticket = self._locked(session, ticket_id)
        if ticket.status not in OPEN:
            raise StepNotAllowed(ticket_id, "assign", ticket.status)
        self._withdraw(session, ticket, now, "reassigned by the control room")
        self._give(session, ticket, tech, 0, f"assigned by {by}", now, by)
        notices.stop(session, ticket, now, by, "assign")

    def cancel(self, session: Session, ticket_id: str, by: str, now: datetime, note: str | None) -> None:
        ticket = self._locked(session, ticket_id)
        if ticket.status in FINAL:
            raise StepNotAllowed(ticket_id, "cancel", ticket.status)
        self._withdraw(session, ticket, now, "cancelled")
        ticket.status, ticket.open_key, ticket.updated_at = "cancelled", None, now
        self._history(session, ticket, now, "cancelled", by, note)
        timers.cancel_all(session, ticket.id)

    # --- timers ------------------------------------------------------------------------------

    def on_timer(self, session: Session, timer: timers.Due, now: datetime) -> None:
        """Act on a due timer: reassign after an accept timeout, warn at 80%, escalate a breach, retry."""
        ticket = session.scalars(select(TicketRow).where(TicketRow.id == timer.ticket_id).with_for_update()).first()
        if ticket is None or ticket.status in FINAL:
            return
        kind = timer.kind
        if kind == "accept_timeout":
            current = lookup.current_assignment(session, ticket.id)
            if ticket.status == "assigned" and current is not None and current.id == timer.assignment_id:
                tech = current.technician
                self._end_assignment(session, ticket, now, "timeout")
                self._push(session, ticket, "withdrawn", tech, now, reason="not accepted in time")
                self._history(session, ticket, now, "assigned", "system", f"{tech} did not accept in time")
                self._assign_nearest(session, ticket, now)
                contractors.after_timeout(session, self.site, self.prefix, ticket, now, self.notify_supervisors)
        elif kind == "retry_assign":
            if ticket.status == "open":
                self._assign_nearest(session, ticket, now)
        elif notices.is_timer(kind):  # "escalate:<level>": nobody acted, tell the next level
            notices.on_timer(session, self.site, self.prefix, ticket, timer, now)
        elif contractors.is_timer(kind):  # the contractor's `arrive` has passed
            contractors.on_timer(session, self.site, ticket, now, self.notify_supervisors)
        else:
            step, _, phase = kind.partition(":")  # "accept:warn", "arrive:breach", ...
            if timers.step_done(ticket, step) or not timers.is_current(ticket, step, timer):
                return
            if phase == "warn":
                text = f"{step} deadline {iso(getattr(ticket, step + '_by'))} is near"
                if ticket.assignee:
                    self._push(session, ticket, "reminder", ticket.assignee, now, reason=text)
                self.notify_supervisors(session, ticket, "warning", text, now)
            else:
                ticket.breached, ticket.updated_at = True, now
                text = f"{step} deadline breached (was due {iso(getattr(ticket, step + '_by'))})"
                self._history(session, ticket, now, ticket.status, "system", text)
                self.notify_supervisors(session, ticket, "breach", text, now)

    def assign_waiting(self, session: Session, now: datetime, trades: Iterable[str] | None = None) -> int:
        """Try again to assign the open tickets (of these trades) now that someone came on site; return how
        many found someone."""
        query = select(TicketRow).where(TicketRow.status == "open")
        if trades is not None:
            query = query.where(TicketRow.category.in_(list(trades)))
        waiting = session.scalars(query.order_by(TicketRow.urgency, TicketRow.created_at).with_for_update()).all()
        return sum(1 for ticket in waiting if self._assign_nearest(session, ticket, now))

    # --- locations ---------------------------------------------------------------------------

    def record_location(self, session: Session, tech: str, place: Place, ts: datetime, source: str) -> bool:
        """Remember where a technician is, keeping the newest report; return True when they have just come
        on site or moved to another building (waiting tickets may now have someone)."""
        row = session.get(TechnicianLocationRow, tech)
        if row is None:
            session.add(TechnicianLocationRow(technician=tech, building=place.building, floor=place.floor,
                                              zone=place.zone, ts=ts, source=source))
            return True
        if ts < row.ts:
            return False
        arrived = ts - row.ts >= self.site.travel.location_ttl or row.building != place.building
        row.building, row.floor, row.zone, row.ts, row.source = place.building, place.floor, place.zone, ts, source
        return arrived

    # --- helpers -----------------------------------------------------------------------------

    def _end_assignment(self, session: Session, ticket: TicketRow, now: datetime, outcome: str) -> None:
        current = lookup.current_assignment(session, ticket.id)
        if current is not None:
            current.ended_at, current.outcome = now, outcome

    def _withdraw(self, session: Session, ticket: TicketRow, now: datetime, why: str) -> None:
        if ticket.assignee and ticket.status in ACTIVE:
            self._push(session, ticket, "withdrawn", ticket.assignee, now, reason=why)
            self._end_assignment(session, ticket, now, "withdrawn")

    def _history(self, session: Session, ticket: TicketRow, now: datetime, status: str, by: str,
                 note: str | None) -> None:
        session.add(TicketHistoryRow(ticket_id=ticket.id, at=now, status=status, by=by, note=note))

    def _push(self, session: Session, ticket: TicketRow, kind: str, tech: str, now: datetime, *,
              travel_s: int = 0, reason: str = "") -> None:
        # a withdrawn technician is no longer on the ticket: the title (a resident's first line) is masked,
        # as the API masks it for them (docs/api.md, "Personal data")
        title = mask_text(ticket.title, [ticket.reporter_name or ""], [ticket.unit_id or ""]) \
            if kind == "withdrawn" else ticket.title
        payload = {
            "type": kind, "ticket": ticket.id, "urgency": ticket.urgency, "category": ticket.category,
            "title": title, "device": ticket.device_id,
            "location": {"building": ticket.building, "floor": ticket.floor, "zone": ticket.zone},
            "accept_by": iso(ticket.accept_by), "arrive_by": iso(ticket.arrive_by),
            "resolve_by": iso(ticket.resolve_by), "travel_s": travel_s, "reason": reason, "ts": iso(now),
        }
        enqueue(session, dispatch_topic(self.prefix, self.site.id, tech), payload, now)

    def notify_supervisors(self, session: Session, ticket: TicketRow, kind: str, reason: str, now: datetime) -> None:
        # level by level when the site file has `escalation`, else every supervisor (dispatch/notices.py)
        notices.tell(session, self.site, self.prefix, ticket, kind, reason, now)

    def _contractor_if_nobody(self, session: Session, ticket: TicketRow, now: datetime) -> None:
        # a level 1 or 2 with nobody qualified on site goes to a contractor too (dispatch/contractors.py)
        if ticket.urgency in contractors.CONTRACTOR_LEVELS and self.site.contractors:
            contractors.after_unassigned(session, self.site, self.prefix, ticket, self.candidates(session), now,
                                         self.notify_supervisors)
