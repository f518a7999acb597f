"""What a raised alarm does to the tickets: silenced (recorded, no ticket), explained by an outage (the
outage's ticket carries it), or a ticket of its own (opened or joined, dispatch/incidents.py). The choice
is pure (`route`); `decide` reads what it needs and `act` carries it out, in the caller's transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy.orm import Session

from caretaker.dispatch import incidents, lookup
from caretaker.dispatch.desk import Desk
from caretaker.dispatch.incidents import AlertFacts


class Route(StrEnum):
    SILENCED = "silenced"  # a planned shutdown: recorded, not lost, no ticket
    EXPLAINED = "explained"  # an outage explains it: one incident, no ticket of its own
    TICKET = "ticket"  # its own ticket, opened or joined


@dataclass(frozen=True, slots=True)
class Routed:
    route: Route
    cause: str | None  # the explaining alarm (recorded on a silenced alarm too), or None


def route(silenced: bool, cause: str | None, own_trade_incident_open: bool) -> Routed:
    """Decide what a raised alarm does: a silence wins; an outage explains it unless a real incident of the
    alarm's own trade is open in its building (then the alarm is that incident's evidence)."""
    explained = cause if cause is not None and not own_trade_incident_open else None
    if silenced:
        return Routed(Route.SILENCED, explained)
    if explained is not None:
        return Routed(Route.EXPLAINED, explained)
    return Routed(Route.TICKET, None)


def decide(desk: Desk, session: Session, *, category: str, building: str, silenced: bool, cause: str | None,
           cause_category: str | None, cause_ticket: str | None, now: datetime) -> Routed:
    """Read whether another trade's incident is open in the building (a leak's ticket after the leak sensor
    dried: suppression must not move its evidence), then route."""
    own_open = False
    if cause is not None and desk.incident_window and cause_category != category:
        ticket = lookup.open_incident(session, building, category, now - desk.incident_window)
        own_open = ticket is not None and ticket.id != cause_ticket
    return route(silenced, cause, own_open)


def act(desk: Desk, session: Session, routed: Routed, alert: AlertFacts, cause_ticket: str | None,
        now: datetime) -> str | None:
    """Carry out the route; return the ticket the alarm now belongs to, if any."""
    if routed.route == Route.SILENCED:
        return None
    if routed.route == Route.EXPLAINED:
        if cause_ticket is not None:
            ticket = session.get(incidents.TicketRow, cause_ticket)
            if ticket is not None:
                incidents.attach(desk, session, ticket, alert.alert_id, now,
                                 f"explained by {routed.cause}: {alert.title} on {alert.device_id}")
                # its playbook still counts (a stopped lift in the outage: the lift engineer), not its own
                # trade: the outage explains the fault
                incidents.grow(desk, session, ticket, alert.rule_id, ticket.category, alert.urgency, now)
        return cause_ticket
    return incidents.open_for_alert(desk, session, alert, now)
