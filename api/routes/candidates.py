"""GET /api/v1/tickets/{id}/candidates: who could take the ticket, best first, each with trade, shift, on-site
state, travel time, current work and dispatch's reason; and who dispatch itself would choose."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from caretaker.api.candidates import rank, reason_text, without_ticket
from caretaker.api.deps import Ctx, Operator
from caretaker.api.language import language
from caretaker.api.tickets import get_ticket_or_raise
from caretaker.dispatch import lookup, reads_tickets
from caretaker.dispatch.service import ASK_AGAIN_AFTER
from caretaker.dispatch.reads_tickets import Ticket
from caretaker.estate.model import Place

router = APIRouter(prefix="/api/v1/tickets", tags=["tickets"])


def _refused(session, ticket: Ticket, since) -> set[str]:
    """Who declined the ticket or let it time out lately, as dispatch reads it (dispatch/lookup.py); its
    read is being reshaped for several assignments per ticket (issue 7), so either shape is taken."""
    if hasattr(lookup, "refusals"):
        return {tech for tech, *_ in lookup.refusals(session, ticket.id, ticket.category, since)}
    return set(lookup.recently_refused(session, ticket.id, since))


@router.get("/{ticket_id}/candidates", responses={404: {"description": "no such ticket"}})
def get_candidates(ticket_id: Annotated[str, Path(max_length=32)], ctx: Ctx, _user: Operator,
                   request: Request) -> dict[str, Any]:
    """Every technician ranked for the ticket as dispatch ranks them (dispatch/choose.py): available ones
    first, nearest first; `automatic` is dispatch's own choice now (null: nobody is available). `reason` is in
    the request's language (docs/api.md, "Language"), `reason_code` the same in every language."""
    lang = language(request)
    now = ctx.clock.now()
    with ctx.sessions() as session:
        ticket = get_ticket_or_raise(session, ticket_id)
        active = reads_tickets.active_assigned(session)  # who works on what (dispatch/reads_tickets.py)
        others = [a for a in active if a.assignee == ticket.assignee and a.id != ticket.id]
        candidates = without_ticket(lookup.candidates(session, ctx.site), ticket.assignee,
                                    (min((a.urgency for a in others), default=None), len(others)))
        excluded = _refused(session, ticket, now - ASK_AGAIN_AFTER)
    ranked, automatic = rank(ctx.site, category=ticket.category, urgency=ticket.urgency,
                             place=Place(ticket.building, ticket.floor, ticket.zone), candidates=candidates, now=now,
                             excluded=excluded)
    work: dict[str, list[dict[str, Any]]] = {}
    for a in active:
        if a.id != ticket.id:
            work.setdefault(a.assignee, []).append({"id": a.id, "urgency": a.urgency, "status": a.status,
                                                    "title": a.title})
    return {
        "ticket": ticket.id, "category": ticket.category, "urgency": ticket.urgency, "assignee": ticket.assignee,
        "automatic": automatic,
        "candidates": [{
            "technician": r.candidate.technician.id, "name": r.candidate.technician.name, "rank": r.rank,
            "skills": sorted(r.candidate.technician.skills),
            "has_trade": ticket.category in r.candidate.technician.skills,
            "available": r.available, "on_shift": r.on_shift, "on_site": r.on_site, "travel_s": r.travel_s,
            "location": ({"building": r.candidate.place.building, "floor": r.candidate.place.floor,
                          "zone": r.candidate.place.zone} if r.candidate.place else None),
            "open_work": r.candidate.open_work, "current": work.get(r.candidate.technician.id, []),
            "reason": reason_text(r, lang), "reason_code": r.reason_code,
            "is_current": r.candidate.technician.id == ticket.assignee,
        } for r in ranked],
    }
