"""Residents for the control room (docs/residents.md): who to call in a building during a supply cut."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, status
from pydantic import BaseModel

from caretaker import i18n
from caretaker.api.deps import Ctx, Operator
from caretaker.api.residents import check_on_json
from caretaker.api.schemas import CheckOnOut, UtcTime
from caretaker.api.tables import AuditRow
from caretaker.dispatch import lookup, residents

router = APIRouter(prefix="/api/v1/buildings", tags=["residents"])


class CutOut(BaseModel):
    supply: str
    since: UtcTime
    ticket: str | None
    units: int


class VulnerableOut(BaseModel):
    building: str
    residents: list[CheckOnOut]
    cuts: list[CutOut]  # the building's supply cuts in progress


@router.get("/{building_id}/vulnerable", response_model=VulnerableOut,
            responses={404: {"description": "no such building"}})
def vulnerable(building_id: Annotated[str, Path(max_length=64)], ctx: Ctx, user: Operator) -> dict[str, Any]:
    """The building's vulnerable residents, highest floor first, to call during an outage or water cut;
    each read is written to the audit (GET /api/v1/audit, ticket `building:{id}` or the cut's ticket)."""
    if building_id not in ctx.site.buildings:
        raise HTTPException(status.HTTP_404_NOT_FOUND, i18n.said("error.building_unknown", building=building_id))
    people = residents.check_on(ctx.site, building_id)
    now = ctx.clock.now()
    with ctx.sessions.begin() as session:
        cuts = lookup.open_cuts(session, ctx.site.id, building_id)  # dispatch's read (dispatch/lookup.py)
        if people:
            about = next((c.ticket_id for c in cuts if c.ticket_id), None) or f"building:{building_id}"[:32]
            session.add(AuditRow(at=now, actor=user.subject, role=user.role, action="building.vulnerable",
                                 what=f"vulnerable={len(people)}", ticket_id=about))
        return {"building": building_id, "residents": check_on_json(people, "full"),
                "cuts": [{"supply": c.supply, "since": c.since, "ticket": c.ticket_id, "units": c.units}
                         for c in cuts]}
