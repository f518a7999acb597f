"""What the pages need to speak the estate's language: its locale and time zone, the names of its buildings,
technicians and devices' places, and the vocabularies with their labels (docs/api.md#meta)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from caretaker.api.deps import Ctx, CurrentUser
from caretaker.api.vocabulary import vocabulary
from caretaker.estate.model import LOCALES

router = APIRouter(prefix="/api/v1", tags=["meta"])


@router.get("/meta")
def get_meta(ctx: Ctx, _user: CurrentUser) -> dict[str, Any]:
    """The site's locale, time zone and names, and the ticket and alert vocabularies labelled per language;
    any token may read it (it holds no personal data: technicians' names, not their phones)."""
    site = ctx.site
    return {
        "site": {"id": site.id, "name": site.name, "locale": site.locale, "timezone": site.timezone},
        "languages": list(LOCALES),
        "buildings": [{"id": b.id, "name": b.name or b.id, "floors": [b.lowest_floor, b.highest_floor]}
                      for b in site.buildings.values()],
        "technicians": [{"id": t.id, "name": t.name, "skills": sorted(t.skills)} for t in site.technicians.values()],
        **vocabulary(),
    }
