"""Incidents: an alarm opens a ticket or joins the one it belongs to (its device's open ticket, the open
incident of its trade in its building, the same problem within 7 days), a person's report opens one, a
more urgent alarm raises the level, and each alarm's playbook adds the trades the incident needs."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Iterable

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from caretaker import i18n
from caretaker.dispatch import assigning, lookup, residents, steps, timers
from caretaker.dispatch.desk import Desk
from caretaker.dispatch.lifecycle import FIXED, HELD, OPEN, AssignmentStatus as A, Role, TicketStatus
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


@dataclass(slots=True)
class Memo:
    """What one batch's alarms have learnt of their tickets, so that only the first alarm of an incident asks
    the database (the device's open ticket, the building's open incident, the ticket's live trades) and a
    storm costs a read per incident, not per alarm (docs/benchmarks.md, "What an alarm costs"). Each answer is
    the one a read would give now: a ticket an alarm of the batch opens, joins or attaches to is counted in as
    it happens. It lives for one `dispatch/alarms.py` `apply_all`, inside its transaction, while only alarms
    change tickets; anything else starts without one (`Memo.of`, which then reads as before)."""

    since: datetime  # the incident window's start: the batch's `now` less the window
    by_key: dict[str, TicketRow | None] = field(default_factory=dict)  # open_key -> its open ticket (None: none)
    incidents: dict[tuple[str, str], TicketRow | None] = field(default_factory=dict)  # (building, trade) -> newest
    trades: dict[str, list[str]] = field(default_factory=dict)  # ticket -> the trades of its live assignments
    fresh: set[str] = field(default_factory=set)  # alerts first raised in this batch: linked only by it
    links: set[tuple[str, str]] = field(default_factory=set)  # (ticket, alert) linked by this batch
    causes: dict[str, tuple[str | None, str]] = field(default_factory=dict)  # an outage: its trade and ticket

    @classmethod
    def of(cls, desk: Desk, now: datetime) -> "Memo":
        return cls(now - desk.incident_window)

    def read_keys(self, session: Session, keys: Iterable[str]) -> None:
        """Learn (locked) the open tickets of these open keys in one read a chunk of keys."""
        wanted = [k for k in dict.fromkeys(keys) if k not in self.by_key]
        for start in range(0, len(wanted), _KEYS_PER_READ):
            chunk = wanted[start:start + _KEYS_PER_READ]
            self.by_key.update(dict.fromkeys(chunk))
            for ticket in session.scalars(select(TicketRow).where(TicketRow.open_key.in_(chunk)).with_for_update()):
                self.by_key[ticket.open_key] = ticket

    def open_ticket(self, session: Session, key: str) -> TicketRow | None:
        """The open ticket of a device's condition (`open_key`), locked, or None."""
        if key not in self.by_key:
            self.by_key[key] = session.scalars(select(TicketRow).where(TicketRow.open_key == key)
                                               .with_for_update()).first()
        return self.by_key[key]

    def open_incident(self, session: Session, building: str, trade: str) -> TicketRow | None:
        """The building's open sensor ticket of a trade with an alert in the window, as dispatch/lookup.py
        `open_incident` answers; read again only if the one it knew is no longer open."""
        key = (building, trade)
        if key in self.incidents:
            known = self.incidents[key]
            if known is None or known.status in OPEN:
                return known
        self.incidents[key] = lookup.open_incident(session, building, trade, self.since)
        return self.incidents[key]

    def is_linked(self, session: Session, ticket_id: str, alert_id: str) -> bool:
        if (ticket_id, alert_id) in self.links:
            return True
        if alert_id in self.fresh:
            return False  # an alert this batch raised has no link but the ones it wrote
        return session.get(TicketAlertRow, (ticket_id, alert_id)) is not None

    def linked(self, ticket: TicketRow, alert_id: str) -> None:
        """An alert was linked to the ticket now: it is an incident of its building from now on, if open, and
        the newest of its trade there if it is younger than the one known."""
        self.links.add((ticket.id, alert_id))
        key = (ticket.building, ticket.category)
        if key in self.incidents and ticket.source == "sensor" and ticket.status in OPEN:
            known = self.incidents[key]
            if known is None or (known is not ticket and ticket.created_at > known.created_at):
                self.incidents[key] = ticket

    def reopened(self, ticket: TicketRow) -> None:
        """A fixed ticket was reopened (dispatch/steps.py `reopen`): it holds its device's condition again and
        has a new owner's assignment."""
        if ticket.open_key is not None:
            self.by_key[ticket.open_key] = ticket
        self.trades.pop(ticket.id, None)

    def live_trades(self, session: Session, ticket_id: str) -> list[str]:
        """The trades of the ticket's live assignments (an alarm's steps end none of them: a preempted
        technician's work is offered again in the same trade, dispatch/assigning.py `preempt`)."""
        if ticket_id not in self.trades:
            self.trades[ticket_id] = [r.trade for r in assigning.live(session, ticket_id)]
        return self.trades[ticket_id]

    def opened(self, ticket_id: str, trade: str) -> None:
        """An assignment of a trade was added to the ticket."""
        self.trades.setdefault(ticket_id, []).append(trade)


_KEYS_PER_READ = 900  # open keys per IN list (SQLite allows a few thousand bound values a statement)


def new_ticket_id(now: datetime) -> str:
    return f"T-{now:%y%m%d}-{secrets.token_hex(3).upper()}"


def sensor_urgency(desk: Desk, alert: AlertFacts, building: str) -> int:
    """The level a sensor alarm opens at: one higher for a supply cut (outage, water, lift) in a building
    where a vulnerable resident lives (docs/residents.md)."""
    vulnerable = alert.rule_id in RAISED_FOR_VULNERABLE and bool(residents.check_on(desk.site, building))
    return raised_urgency(alert.urgency, vulnerable)


def open_for_alert(desk: Desk, session: Session, alert: AlertFacts, now: datetime, _retries: int = 2,
                   memo: Memo | None = None) -> str:
    """Return the ticket the alert belongs to: the open one for its device and rule, else the open incident
    of the same trade in the same building that had an alert within the incident window, else a new one.
    A burst pipe that wets six sensors is one ticket. `memo`: what the batch learnt so far (`Memo`)."""
    memo = memo if memo is not None else Memo.of(desk, now)
    key = f"{alert.device_id}|{alert.rule_id}"
    device = desk.site.devices[alert.device_id]
    urgency = sensor_urgency(desk, alert, device.place.building)
    ticket = memo.open_ticket(session, key)
    if ticket is None and desk.incident_window:
        ticket = memo.open_incident(session, device.place.building, alert.category)
    if ticket is None:
        # the same fault on the same device within 7 days of a fix: the fix did not hold
        recent = lookup.same_problem(session, alert.category, now - REPEAT_WINDOW, device_id=alert.device_id)
        if recent is not None and recent.status in FIXED:
            repeat(desk, session, recent, now, "system", _on_device(alert))
            ticket = recent
            memo.reopened(ticket)
    if ticket is not None:
        attach(desk, session, ticket, alert.alert_id, now, _on_device(alert), memo=memo)
        if urgency < ticket.urgency:
            raise_level(desk, session, ticket, urgency, now, f"{alert.title}: {alert.device_id}")
        grow(desk, session, ticket, alert.rule_id, alert.category, urgency, now, memo=memo)
        return ticket.id
    try:
        with session.begin_nested():
            ticket = create(desk, session, now, urgency=urgency, category=alert.category,
                            title=f"{alert.title}: {device.id}", source="sensor", place=alert.place or device.place,
                            device_id=device.id, rule_id=alert.rule_id, open_key=key)
            session.flush()  # a second worker opening the same condition meets the unique open_key here
    except IntegrityError:
        # it committed first (its insert held ours until then): its ticket is the one, join it
        memo.by_key.pop(key, None)
        ticket = memo.open_ticket(session, key)
        if ticket is None:
            # the row that stopped ours is not the open one (yet): decide again from the start, once more
            if _retries <= 0:
                raise
            return open_for_alert(desk, session, alert, now, _retries=_retries - 1, memo=memo)
        attach(desk, session, ticket, alert.alert_id, now, _on_device(alert), memo=memo)
        return ticket.id
    memo.by_key[key] = ticket
    if urgency != alert.urgency:
        desk.history(session, ticket, now, "open", "system",
                     i18n.said("note.urgency_raised_building", was=alert.urgency, now=urgency,
                               building=device.place.building))
    attach(desk, session, ticket, alert.alert_id, now, memo=memo)
    assigning.open_assignment(desk, session, ticket, ticket.category, Role.OWNER, now)
    memo.trades[ticket.id] = [ticket.category]  # its one assignment, the owner's (live: offered or waiting)
    grow(desk, session, ticket, alert.rule_id, alert.category, urgency, now, memo=memo)
    return ticket.id


def _on_device(alert: AlertFacts) -> i18n.Said:
    """The alarm as a history line names it: its title (already in the estate's language) on its device."""
    return i18n.said("note.on_device", title=alert.title, device=alert.device_id)


def grow(desk: Desk, session: Session, ticket: TicketRow, rule_id: str, trade: str, urgency: int,
         now: datetime, memo: Memo | None = None) -> None:
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
    memo = memo if memo is not None else Memo.of(desk, now)
    for missing in missing_trades(wanted, ticket.category, memo.live_trades(session, ticket.id)):
        assigning.open_assignment(desk, session, ticket, missing, Role.SUPPORT, now)
        memo.opened(ticket.id, missing)


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
           what: str | i18n.Said = "", memo: Memo | None = None) -> None:
    """Link an alarm to its ticket in ticket_alerts, the one record of the link (the alerts' reads find
    their ticket there: dispatch/lookup.py `alert_tickets`). An alarm joining a ticket says `what` it is, in a
    history line; the one a ticket is opened for says nothing (it is the reason the ticket exists)."""
    if memo is not None and memo.is_linked(session, ticket.id, alert_id) or \
            memo is None and session.get(TicketAlertRow, (ticket.id, alert_id)) is not None:
        return
    session.add(TicketAlertRow(ticket_id=ticket.id, alert_id=alert_id, attached_at=now))
    if memo is not None:
        memo.linked(ticket, alert_id)
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
