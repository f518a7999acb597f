"""The live feed: what changed in the database since the last poll, so any number of instances serve it alike."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Hashable

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from api.alerts import alert_json
from api.schemas import AlertOut, TicketOut
from api.tickets import render
from dispatch.tables import TicketRow
from rules.tables import AlertRow

# a change is looked for this far back, because a transaction stamps its rows before it commits:
# a slow commit lands "in the past" and a cursor at the last poll would miss it
LOOKBACK = timedelta(seconds=60)
MAX_PER_POLL = 500


def _ticket_key(t: TicketRow) -> Hashable:
    # status and assignee too: two steps in the same clock tick leave updated_at unchanged
    return (t.id, t.updated_at, t.status, t.assignee, bool(t.breached))


def _alert_key(a: AlertRow) -> Hashable:
    return (a.id, a.state, a.acked_at)


class ChangeFeed:
    """Remembers what one subscriber has been sent; `poll` returns the ticket and alert events since."""

    def __init__(self, technician: str | None = None) -> None:
        self.technician = technician  # a technician's feed: their tickets only, and no alerts
        self._tickets: dict[Hashable, datetime] = {}
        self._alerts: dict[Hashable, datetime] = {}
        self._theirs: set[str] = set()  # tickets once theirs: they also hear that one was taken away

    def prime(self, session: Session, now: datetime) -> None:
        """Mark everything recent as already sent: a subscriber hears of changes after it connects."""
        self.poll(session, now)

    def poll(self, session: Session, now: datetime) -> list[tuple[str, str]]:
        """Return (event name, JSON data) for every ticket and alert that changed since the last poll."""
        since = now - LOOKBACK
        events: list[tuple[str, str]] = []
        query = select(TicketRow).where(TicketRow.updated_at >= since)
        if self.technician:
            query = query.where(or_(TicketRow.assignee == self.technician, TicketRow.id.in_(self._theirs or [""])))
        changed = []
        for ticket in session.scalars(query.order_by(TicketRow.updated_at).limit(MAX_PER_POLL)):
            key = _ticket_key(ticket)
            if key not in self._tickets:
                self._tickets[key] = ticket.updated_at
                changed.append(ticket)
                if self.technician and ticket.assignee == self.technician:
                    self._theirs.add(ticket.id)
        # the feed carries no personal data: a subscriber reads the ticket (audited) for the reporter
        for data in render(session, changed, None):
            events.append(("ticket", TicketOut.model_validate(data).model_dump_json()))
        if not self.technician:
            query = select(AlertRow).where(or_(AlertRow.raised_at >= since, AlertRow.cleared_at >= since,
                                               AlertRow.acked_at >= since))
            for alert in session.scalars(query.order_by(AlertRow.raised_at).limit(MAX_PER_POLL)):
                key = _alert_key(alert)
                if key not in self._alerts:
                    self._alerts[key] = max(t for t in (alert.raised_at, alert.cleared_at, alert.acked_at) if t)
                    events.append(("alert", AlertOut.model_validate(alert_json(alert)).model_dump_json()))
        self._forget(since)
        return events

    def _forget(self, since: datetime) -> None:
        for seen in (self._tickets, self._alerts):
            for key in [k for k, at in seen.items() if at < since]:
                del seen[key]


def sse(event: str, data: str) -> str:
    """Return one Server-Sent Event; data is one line of JSON, so no line splitting is needed."""
    return f"event: {event}\ndata: {data}\n\n"


def hello(poll_seconds: float) -> str:
    return sse("hello", json.dumps({"poll_s": poll_seconds}))
