"""What an alert does, once the rules have raised, cleared or flagged it (docs/code-map.md, "What an alert
does"). A raised alarm is silenced (recorded, no ticket), explained by an outage (the outage's ticket
carries it) or a ticket of its own (opened or joined, dispatch/incidents.py); a cleared one is noted on its
ticket; each is recorded in the alert store, published as an AlertEvent and told to the building's residents
when it starts or ends a supply cut. The choice is pure (`route`); `decide` reads what it needs, `act`
carries it out and `apply_all` runs the whole of it for a batch's rule decisions, in the caller's transaction."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Callable, Container, Mapping, Sequence

from sqlalchemy.orm import Session

from caretaker import i18n
from caretaker.dispatch import incidents, lookup, messages
from caretaker.dispatch.desk import Desk
from caretaker.dispatch.incidents import AlertFacts, Memo
from caretaker.dispatch.outbox import iso
from caretaker.dispatch.tables import TicketRow
from caretaker.estate.model import DEVICE_METRICS, Building, Device, Place
from caretaker.rules import alert_reads
from caretaker.rules import store as alert_store
from caretaker.rules.model import Chattering, Decision, Raise
from caretaker.rules.silence import Silence, silencing
from caretaker.rules.topology import ActiveAlerts, explaining_alert


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
           cause_category: str | None, cause_ticket: str | None, now: datetime, memo: Memo | None = None) -> Routed:
    """Read whether another trade's incident is open in the building (a leak's ticket after the leak sensor
    dried: suppression must not move its evidence), then route."""
    own_open = False
    if cause is not None and desk.incident_window and cause_category != category:
        ticket = (memo if memo is not None else Memo.of(desk, now)).open_incident(session, building, category)
        own_open = ticket is not None and ticket.id != cause_ticket
    return route(silenced, cause, own_open)


def act(desk: Desk, session: Session, routed: Routed, alert: AlertFacts, cause_ticket: str | None,
        now: datetime, memo: Memo | None = None) -> str | None:
    """Carry out the route; return the ticket the alarm now belongs to, if any (`memo`: what the batch has
    learnt of its tickets so far, dispatch/incidents.py `Memo`)."""
    memo = memo if memo is not None else Memo.of(desk, now)
    if routed.route == Route.SILENCED:
        return None
    if routed.route == Route.EXPLAINED:
        if cause_ticket is not None:
            ticket = session.get(TicketRow, cause_ticket)
            if ticket is not None:
                incidents.attach(desk, session, ticket, alert.alert_id, now,
                                 i18n.said("note.explained_by", cause=routed.cause, title=alert.title,
                                           device=alert.device_id), memo=memo)
                # its playbook still counts (a stopped lift in the outage: the lift engineer), not its own
                # trade: the outage explains the fault
                incidents.grow(desk, session, ticket, alert.rule_id, ticket.category, alert.urgency, now, memo=memo)
        return cause_ticket
    return incidents.open_for_alert(desk, session, alert, now, memo=memo)


class Outcome(StrEnum):
    """What one rule decision came to (the pipeline counts them: caretaker/metrics.py)."""
    REPLAYED = "replayed"  # raised before by the same reading: nothing is raised twice
    RAISED = "raised"  # its own ticket, opened or joined
    SILENCED = "silenced"
    SUPPRESSED = "suppressed"  # explained by an outage
    CHATTERING = "chattering"
    CLEARED = "cleared"


def alarm_place(device: Device, values: Mapping[str, object], building: Building | None) -> Place:
    """Where a device's alarm is: a lift car at the floor it reports (the site file places it at its lobby),
    anything else where it is installed. A floor the building does not have is not believed."""
    floor = values.get("floor")
    if "floor" not in DEVICE_METRICS.get(device.type, {}) or not isinstance(floor, int) or isinstance(floor, bool):
        return device.place
    if floor == 0 or (building is not None and not building.lowest_floor <= floor <= building.highest_floor):
        return device.place
    return replace(device.place, floor=floor)


def apply_all(desk: Desk, session: Session, decisions: Sequence[Decision], values_of: Callable[[str], Mapping],
              active: ActiveAlerts, silences: Sequence[Silence], causes: Container[str],
              now: datetime) -> list[Outcome]:
    """Carry out a batch's rule decisions, each as `apply` does, and return what each came to. An outage (a
    rule other rules name in `suppressed_by`: `causes`) goes first, so that the alarms it explains in the same
    batch find its ticket; the batch's raises are checked for replays in one read, and their devices' open
    tickets found in another. What the first alarm of an incident learns, the others are told (dispatch/
    incidents.py `Memo`): a storm reads once per incident, not once per alarm (docs/benchmarks.md, "What an
    alarm costs")."""
    raises = [d for d in decisions if isinstance(d, Raise)]
    known = alert_reads.known_ids(session, [d.alert for d in raises])
    memo = Memo.of(desk, now)
    memo.fresh.update(d.alert for d in raises if d.alert not in known)
    memo.read_keys(session, (f"{d.device}|{d.rule.id}" for d in raises if d.alert not in known))
    ordered = sorted(range(len(decisions)), key=lambda i: decisions[i].rule.id not in causes)
    outcomes: list[Outcome] = [Outcome.REPLAYED] * len(decisions)
    for i in ordered:
        decision = decisions[i]
        if isinstance(decision, Raise) and decision.alert in known:
            # the same reading raised this alert before (a replay from beyond what the device's order
            # remembers): the alert and its ticket exist, nothing is raised twice
            continue
        device = desk.site.devices[decision.device]
        outcomes[i] = _apply(desk, session, decision, device, values_of(device.id), active, silences, now, memo)
    return outcomes


def _outage(session: Session, memo: Memo, cause: str) -> tuple[str | None, str | None]:
    """The trade and ticket of the alarm that explains another (an outage), each None when not known; kept
    once it has its ticket (the alarms it explains follow it, dispatch/alarms.py `apply_all`)."""
    if cause in memo.causes:
        return memo.causes[cause]
    outage = alert_reads.alert(session, cause)
    category, ticket = outage.category if outage is not None else None, lookup.alert_ticket(session, cause)
    if ticket is not None:
        memo.causes[cause] = (category, ticket)
    return category, ticket


def _apply(desk: Desk, session: Session, decision: Decision, device: Device, values: Mapping[str, object],
           active: ActiveAlerts, silences: Sequence[Silence], now: datetime, memo: Memo) -> Outcome:
    """Carry out one rule decision about `device` (whose last values are `values`), with the alerts active
    after its batch and the silences in force: record it, route it to a ticket, publish its AlertEvent and
    tell the residents."""
    rule = decision.rule
    optional: dict = {}
    if isinstance(decision, Raise):
        silence = silencing(silences, rule.id, device, now)
        cause = explaining_alert(rule, device, active)
        cause_category, cause_ticket = _outage(session, memo, cause) if cause is not None else (None, None)
        routed = decide(desk, session, category=rule.category, building=device.place.building,
                        silenced=silence is not None, cause=cause, cause_category=cause_category,
                        cause_ticket=cause_ticket, now=now, memo=memo)
        alert_store.record_raise(session, decision, device.place.building, suppressed_by=routed.cause,
                                 silence_id=silence.id if silence else None)
        place = alarm_place(device, values, desk.site.buildings.get(device.place.building))
        ticket = act(desk, session, routed, AlertFacts(decision.alert, rule.id, decision.device, decision.level,
                                                       rule.category, rule.title, decision.at, place=place),
                     cause_ticket, now, memo)
        if silence is not None:
            optional["silence"], outcome = silence.id, Outcome.SILENCED
        elif routed.cause is not None:
            optional["suppressed_by"], outcome = routed.cause, Outcome.SUPPRESSED
        else:
            outcome = Outcome.RAISED
        state, urgency = "raised", decision.level
    elif isinstance(decision, Chattering):
        alert_store.mark_chattering(session, decision.alert, now)
        ticket = lookup.alert_ticket(session, decision.alert)
        if ticket is not None:
            _note(desk, session, ticket, now, i18n.said("note.chattering", title=rule.title, device=device.id),
                  touch=True)
        outcome, state, urgency = Outcome.CHATTERING, "chattering", rule.urgency
    else:
        cleared = alert_store.record_clear(session, decision)
        ticket = lookup.alert_ticket(session, decision.alert) if cleared is not None else None
        if ticket is not None:
            _note(desk, session, ticket, now, i18n.said("note.alert_cleared", alert=decision.alert), touch=False)
        # the level it was raised at (a door alarm raised at night clears at its night level)
        outcome, state, urgency = Outcome.CLEARED, "cleared", cleared.urgency if cleared is not None else rule.urgency
    messages.publish_alert(session, desk.prefix, desk.site.id, messages.AlertEvent(
        alert=decision.alert, state=state, rule=rule.id, device=decision.device, urgency=urgency, ticket=ticket,
        ts=iso(decision.at) or "", **optional), now)
    # a building's supply cut is told to its residents once, and its end (docs/residents.md)
    desk.residents.on_alert(session, state, rule.id, decision.alert, device.place.building, ticket, now,
                            silenced=outcome == Outcome.SILENCED)
    return outcome


def _note(desk: Desk, session: Session, ticket_id: str, now: datetime, text: str, *, touch: bool) -> None:
    """A line in the ticket's history; `touch`: the ticket changed with it (a chattering sensor needs a look),
    where an alarm that cleared is evidence only."""
    ticket = session.get(TicketRow, ticket_id)
    if ticket is not None:
        if touch:
            ticket.updated_at = now
        desk.history(session, ticket, now, ticket.status, "system", text)
