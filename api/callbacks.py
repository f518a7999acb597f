"""Call-backs (回访, docs/operators.md#call-backs): every resolved ticket a person reported is called back,
a repair within 24 hours of its resolution, any other request within 48; the outcome closes it with the
resident's rating or reopens it. The deadlines are pure; the queue is one read."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from caretaker.dispatch import reads_tickets
from caretaker.dispatch.reads_tickets import Ticket

REPAIR_TRADES = frozenset({"plumbing", "electrical", "elevator", "security"})
REPAIR_WINDOW = timedelta(hours=24)
REQUEST_WINDOW = timedelta(hours=48)
QUEUE = 500


def callback_window(category: str) -> timedelta:
    """24 hours for a repair, 48 for any other request (cleaning, general)."""
    return REPAIR_WINDOW if category in REPAIR_TRADES else REQUEST_WINDOW


def callback_due(resolved_at: datetime, category: str) -> datetime:
    """When the call-back of a ticket resolved at `resolved_at` is due."""
    return resolved_at + callback_window(category)


def needs_callback(source: str, reporter_phone: str | None) -> bool:
    """A person reported it and left a number: a sensor's ticket has nobody to call."""
    return source != "sensor" and bool(reporter_phone)


def callback_queue(session: Session, limit: int = QUEUE) -> list[Ticket]:
    """Up to `limit` resolved tickets waiting for their call-back, the earliest due first."""
    # the oldest resolved first (dispatch's read): a ticket's call-back is due 24 or 48 h after it, so these
    # hold the earliest due
    rows = [r for r in reads_tickets.oldest_resolved(session, limit * 4)
            if needs_callback(r.source, r.reporter_phone) and r.resolved_at is not None]
    rows.sort(key=lambda r: (callback_due(r.resolved_at, r.category), r.id))
    return rows[:limit]
