"""Whether a technician's `arrive` counts: their last location (the app's report or a badge swipe) must be
in the ticket's building and fresh; pure (docs/operations.md, "Arrival")."""

from __future__ import annotations

from datetime import datetime, timedelta

from caretaker import i18n


def refusal(ticket_building: str, last_building: str | None, located_at: datetime | None, now: datetime,
            ttl: timedelta) -> str | None:
    """Return why an arrive does not count (said in its reader's language: caretaker/i18n), or None when it does."""
    if last_building is None or located_at is None:
        return i18n.said("error.arrival_location_unknown")
    if now - located_at >= ttl:
        return i18n.said("error.arrival_location_old")
    if last_building != ticket_building:
        return i18n.said("error.arrival_elsewhere", building=last_building, ticket_building=ticket_building)
    return None


def by_badge(ticket_building: str, swipe_building: str, swipe_at: datetime, offered_at: datetime | None,
             accepted_at: datetime | None) -> datetime | None:
    """Return when a badge swipe puts an accepted assignment on site, or None when it does not: the swipe is
    in the ticket's building and not from before the work was offered (a backlog's old swipe dates no
    arrival). A door clock a little behind may date the swipe before the accept: the arrival is then the
    accept's time, never earlier."""
    if swipe_building != ticket_building or accepted_at is None:
        return None
    if offered_at is not None and swipe_at < offered_at:
        return None
    return max(swipe_at, accepted_at)
