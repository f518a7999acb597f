"""Outside contractors (docs/operations.md, "Contractors"): when a level-1 or level-2 piece of work finds
nobody qualified on site, or is left unaccepted past its accept window twice, the first contractor of its
trade in the site file is offered it (once per trade of a ticket), held to their `arrive`, and the
operators are told.

`needs_contractor`, `nobody_qualified_on_site` and `choose_contractor` are pure; `offer_to_contractor` writes
the offer inside the caller's transaction, for the ticket today and for one assignment when a ticket has
several (its caller says which trade and why)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Iterable, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from caretaker import i18n
from caretaker.dispatch import timers
from caretaker.dispatch.choose import Candidate
from caretaker.dispatch.escalation_tables import ContractorOfferRow
from caretaker.dispatch.lifecycle import FINAL, FIXED, TicketStatus
from caretaker.dispatch.outbox import enqueue, iso
from caretaker.dispatch.privacy import mask_text
from caretaker.dispatch.desk import history_line
from caretaker.dispatch.tables import AssignmentRow, TicketRow
from caretaker.estate.durations import format_duration
from caretaker.estate.model import Contractor, Site
from caretaker.estate.shifts import is_on_shift

CONTRACTOR_LEVELS: frozenset[int] = frozenset({1, 2})  # DOMAIN: danger, or basic living disrupted
TIMEOUTS_BEFORE_CONTRACTOR = 2  # unaccepted past the accept window this many times
ARRIVE_TIMER = "contractor:arrive"

# (session, ticket, notice type, reason, now): how the operators are told (Dispatcher.notify_supervisors)
Notify = Callable[[Session, TicketRow, str, str, datetime], None]


@dataclass(frozen=True, slots=True)
class Offer:
    contractor: str
    arrive_by: datetime
    reason: str


def contractor_topic(prefix: str, site: str, contractor: str) -> str:
    return f"{prefix}/{site}/contractors/{contractor}/dispatch"


def nobody_qualified_on_site(site: Site, trade: str, candidates: Sequence[Candidate], now: datetime) -> bool:
    """Return True when no technician of the trade is on shift with a fresh location on the estate (busy or
    not: a busy one may still be freed, so only an empty estate calls a contractor)."""
    for candidate in candidates:
        tech = candidate.technician
        if trade not in tech.skills or not is_on_shift(tech, now, site.timezone):
            continue
        if candidate.located_at is not None and now - candidate.located_at < site.travel.location_ttl:
            return False
    return True


def needs_contractor(urgency: int, nobody_on_site: bool, timeouts: int) -> i18n.Said | None:
    """Return why a piece of work goes to a contractor (reading as English, said in its reader's language in
    the history and the notice), or None when it does not."""
    if urgency not in CONTRACTOR_LEVELS:
        return None
    if nobody_on_site:
        return i18n.said("note.contractor_nobody")
    if timeouts >= TIMEOUTS_BEFORE_CONTRACTOR:
        return i18n.said("note.contractor_timeouts", count=timeouts)
    return None


def choose_contractor(site: Site, trade: str, excluded: Iterable[str] = ()) -> Contractor | None:
    """Return the first contractor of the trade in the site file's order that was not offered it yet."""
    skip = frozenset(excluded)
    for contractor in site.contractors.values():
        if trade in contractor.trades and contractor.id not in skip:
            return contractor
    return None


def offered(session: Session, ticket_id: str, trade: str | None = None) -> list[str]:
    """Return the contractors a ticket was offered to (for one trade, or any), in order."""
    query = select(ContractorOfferRow.contractor).where(ContractorOfferRow.ticket_id == ticket_id)
    if trade is not None:
        query = query.where(ContractorOfferRow.trade == trade)
    return list(session.scalars(query.order_by(ContractorOfferRow.id)))


def current_contractor(session: Session, ticket_id: str) -> str | None:
    """Return the contractor a ticket was last offered to, or None (ticket JSON's `contractor`)."""
    names = offered(session, ticket_id)
    return names[-1] if names else None


def offer_to_contractor(session: Session, site: Site, prefix: str, ticket: TicketRow, trade: str, reason: str,
                        now: datetime, notify: Notify) -> Offer | None:
    """Offer the work of `trade` on the ticket to the next contractor of that trade: a Dispatch-like push on
    their topic (and their channels, through the outbox), the `arrive` timer, a history line and a
    `contractor` notice. Return the offer, or None when no contractor of the trade is left."""
    already = offered(session, ticket.id, trade)
    if already:
        return None  # one contractor per trade of a ticket: the operators decide on another
    contractor = choose_contractor(site, trade, already)
    if contractor is None:
        return None
    arrive_by = now + contractor.arrive
    session.add(ContractorOfferRow(ticket_id=ticket.id, contractor=contractor.id, trade=trade, reason=reason[:200],
                                   offered_at=now, arrive_by=arrive_by))
    # an outside firm sees the job, not the residents: names and units in the title are masked
    title = mask_text(ticket.title, [ticket.reporter_name or ""], [ticket.unit_id or ""])
    payload = {
        "type": "offered", "ticket": ticket.id, "urgency": ticket.urgency, "category": trade, "title": title,
        "device": ticket.device_id,
        "location": {"building": ticket.building, "floor": ticket.floor, "zone": ticket.zone},
        "arrive_by": iso(arrive_by), "resolve_by": iso(ticket.resolve_by), "reason": str(reason),
        "contractor": contractor.id, "ts": iso(now),
    }
    enqueue(session, contractor_topic(prefix, site.id, contractor.id), payload, now)
    timers.schedule(session, ticket.id, ARRIVE_TIMER, arrive_by)
    text = i18n.said("note.contractor_offered", contractor=contractor.id, name=contractor.name, reason=reason,
                     within=format_duration(contractor.arrive), by=iso(arrive_by))
    session.add(history_line(ticket.id, now, ticket.status, "system", text))
    notify(session, ticket, "contractor", text, now)
    return Offer(contractor.id, arrive_by, reason)


def after_unassigned(session: Session, site: Site, prefix: str, ticket: TicketRow, candidates: Sequence[Candidate],
                     now: datetime, notify: Notify) -> Offer | None:
    """The ticket found nobody to take it: offer it to a contractor when nobody qualified is on site."""
    if ticket.urgency not in CONTRACTOR_LEVELS or not site.contractors:
        return None
    why = needs_contractor(ticket.urgency, nobody_qualified_on_site(site, ticket.category, candidates, now), 0)
    return offer_to_contractor(session, site, prefix, ticket, ticket.category, why, now, notify) if why else None


def after_timeout(session: Session, site: Site, prefix: str, ticket: TicketRow, now: datetime,
                  notify: Notify) -> Offer | None:
    """The ticket's technician let the accept window pass: on the second time, offer it to a contractor."""
    if ticket.urgency not in CONTRACTOR_LEVELS or not site.contractors:
        return None
    timeouts = session.scalar(select(func.count()).where(AssignmentRow.ticket_id == ticket.id,
                                                         AssignmentRow.outcome == "timeout")) or 0
    why = needs_contractor(ticket.urgency, False, timeouts)
    return offer_to_contractor(session, site, prefix, ticket, ticket.category, why, now, notify) if why else None


def is_timer(kind: str) -> bool:
    return kind == ARRIVE_TIMER


def on_timer(session: Session, site: Site, ticket: TicketRow, now: datetime, notify: Notify) -> None:
    """A contractor's `arrive` has passed: unless someone is on site (or the work is done), say so on the
    ticket and tell the supervisors as a breach (it climbs like one), once per offer."""
    if ticket.status in (TicketStatus.ON_SITE, *FIXED, *FINAL) or ticket.arrived_at is not None:
        return
    late = session.scalars(select(ContractorOfferRow).where(
        ContractorOfferRow.ticket_id == ticket.id, ContractorOfferRow.arrive_by <= now,
        ContractorOfferRow.late_at.is_(None)).order_by(ContractorOfferRow.id)).all()
    for offer in late:
        offer.late_at = now
        name = site.contractors[offer.contractor].name if offer.contractor in site.contractors else offer.contractor
        text = i18n.said("note.contractor_late", contractor=offer.contractor, name=name)
        session.add(history_line(ticket.id, now, ticket.status, "system", text))
        notify(session, ticket, "breach", text, now)


def current_contractors(session: Session, ticket_ids: Sequence[str]) -> dict[str, str]:
    """Return, per ticket, the contractor it was last offered to (tickets never offered are left out)."""
    if not ticket_ids:
        return {}
    rows = session.execute(select(ContractorOfferRow.ticket_id, ContractorOfferRow.contractor)
                           .where(ContractorOfferRow.ticket_id.in_(list(ticket_ids))).order_by(ContractorOfferRow.id))
    return {ticket_id: contractor for ticket_id, contractor in rows}
