"""Where technicians are, whether they are on shift and on site, and what they are working on."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from caretaker.api.deps import Ctx, Operator
from caretaker.api.schemas import TechnicianOut
from caretaker.dispatch import lookup
from caretaker.estate.shifts import is_on_shift

router = APIRouter(prefix="/api/v1/technicians", tags=["technicians"])


@router.get("", response_model=list[TechnicianOut])
def get_technicians(ctx: Ctx, _user: Operator) -> list[dict[str, Any]]:
    """Every technician of the site with last location, on site (location fresher than location_ttl), on shift,
    and current tickets, most urgent first."""
    now = ctx.clock.now()
    with ctx.sessions() as session:
        locations = lookup.locations(session)
        work: dict[str, list[dict[str, Any]]] = {}
        # every assignment each technician holds, a support's too, as dispatch reads them (dispatch/lookup.py)
        for tech, ticket, role, trade in lookup.held_work(session):
            work.setdefault(tech, []).append({"id": ticket.id, "status": ticket.status, "urgency": ticket.urgency,
                                              "title": ticket.title, "role": role, "trade": trade})
    result = []
    for tech in ctx.site.technicians.values():
        loc = locations.get(tech.id)
        result.append({
            "id": tech.id, "name": tech.name, "phone": tech.phone, "skills": sorted(tech.skills),
            "location": {"building": loc.building, "floor": loc.floor, "zone": loc.zone} if loc else None,
            "source": loc.source if loc else None, "seen_at": loc.ts if loc else None,
            "on_site": loc is not None and now - loc.ts < ctx.site.travel.location_ttl,
            "on_shift": is_on_shift(tech, now, ctx.site.timezone),
            "current": work.get(tech.id, []),
        })
    return result
