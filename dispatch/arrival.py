"""Whether a technician's `arrive` counts: their last location (the app's report or a badge swipe) must be
in the ticket's building and fresh; pure (docs/operations.md, "Arrival")."""

from __future__ import annotations

from datetime import datetime, timedelta


def refusal(ticket_building: str, last_building: str | None, located_at: datetime | None, now: datetime,
            ttl: timedelta) -> str | None:
    """Return why an arrive does not count, or None when it does."""
    if last_building is None or located_at is None:
        return "your location is not known: report it from the app or swipe your badge at the building"
    if now - located_at >= ttl:
        return "your last location is too old: report it from the app or swipe your badge at the building"
    if last_building != ticket_building:
        return (f"your last location is building {last_building}, not {ticket_building}: "
                "arrive there, or ask the control room to confirm")
    return None
