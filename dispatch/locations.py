"""Where technicians are: the newest report of each (app or badge swipe) kept, and whether it brings
someone on site (then waiting assignments may find them)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from caretaker.dispatch.tables import TechnicianLocationRow
from caretaker.estate.model import Place, Site


def record(session: Session, site: Site, tech: str, place: Place, ts: datetime, source: str) -> bool:
    """Remember where a technician is, keeping the newest report; return True when they have just come on
    site or moved to another building."""
    row = session.get(TechnicianLocationRow, tech)
    if row is None:
        session.add(TechnicianLocationRow(technician=tech, building=place.building, floor=place.floor,
                                          zone=place.zone, ts=ts, source=source))
        return True
    if ts < row.ts:
        return False
    arrived = ts - row.ts >= site.travel.location_ttl or row.building != place.building
    row.building, row.floor, row.zone, row.ts, row.source = place.building, place.floor, place.zone, ts, source
    return arrived
