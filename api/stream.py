"""The live feed: what changed in the database since the last poll, so any number of instances serve it alike."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Hashable

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from api.alerts import alert_json
from api.deps import User
from api.schemas import AlertOut, TicketOut
from api.tables import AuditRow
from api.tickets import Loaded, audit_rows, may_read, render
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


@dataclass(slots=True)
class Batch:
    """One poll's events, and the audit rows to write before they are sent (a personal-data read)."""

    events: list[tuple[str, str]] = field(default_factory=list)
    audit: list[AuditRow] = field(default_factory=list)


class ChangeFeed:
    """Remembers what one subscriber has been sent; `poll` returns the ticket and alert events since.

    Each ticket is sent as GET /api/v1/tickets/{id} would show it to the subscriber at that moment,
    rendered and masked by the same function (api.tickets); `personal` as in GET /api/v1/tickets. A
    technician hears only of tickets assigned to them, and once of a ticket taken away (`withdrawn`,
    its id only): nothing of it after that."""

    def __init__(self, user: User, personal: bool = False) -> None:
        self.user = user
        self.personal = personal
        self._tickets: dict[Hashable, datetime] = {}
        self._alerts: dict[Hashable, datetime] = {}
        self._theirs: set[str] = set()  # tickets now theirs: they also hear that one was taken away

    @property
    def technician(self) -> str | None:
        return self.user.subject if self.user.is_technician else None

    def prime(self, session: Session, now: datetime) -> None:
        """Mark everything recent as already sent: a subscriber hears of changes after it connects."""
        self.poll(session, now)
        if self.technician:  # a ticket taken away before the stream began is no news; one later is
            assigned = select(TicketRow.id).where(TicketRow.assignee == self.technician,
                                                  TicketRow.status.notin_(("closed", "cancelled")))
            self._theirs = set(session.scalars(assigned))

    def poll(self, session: Session, now: datetime) -> Batch:
        """Return (event name, JSON data) for every ticket and alert that changed since the last poll."""
        since = now - LOOKBACK
        batch = Batch()
        query = select(TicketRow).where(TicketRow.updated_at >= since)
        if self.technician:
            query = query.where(or_(TicketRow.assignee == self.technician, TicketRow.id.in_(self._theirs or [""])))
        changed = []
        for ticket in session.scalars(query.order_by(TicketRow.updated_at).limit(MAX_PER_POLL)):
            key = _ticket_key(ticket)
            if key in self._tickets:
                continue
            self._tickets[key] = ticket.updated_at
            if may_read(self.user, ticket):
                changed.append(ticket)
                if self.technician:
                    self._theirs.add(ticket.id)
            elif ticket.id in self._theirs:  # REST now answers 403: say so once, show nothing
                self._theirs.discard(ticket.id)
                batch.events.append(("withdrawn", json.dumps({"ticket": ticket.id})))
        if changed:
            loaded = Loaded.of(session, changed)
            viewer = self.user if self.personal else None
            if viewer is not None:
                batch.audit = audit_rows(viewer, changed, loaded, "stream.ticket", now)
            for data in render(session, changed, viewer, loaded):
                batch.events.append(("ticket", TicketOut.model_validate(data).model_dump_json()))
        if not self.technician:
            query = select(AlertRow).where(or_(AlertRow.raised_at >= since, AlertRow.cleared_at >= since,
                                               AlertRow.acked_at >= since))
            for alert in session.scalars(query.order_by(AlertRow.raised_at).limit(MAX_PER_POLL)):
                key = _alert_key(alert)
                if key not in self._alerts:
                    self._alerts[key] = max(t for t in (alert.raised_at, alert.cleared_at, alert.acked_at) if t)
                    batch.events.append(("alert", AlertOut.model_validate(alert_json(alert)).model_dump_json()))
        self._forget(since)
        return batch

    def _forget(self, since: datetime) -> None:
        for seen in (self._tickets, self._alerts):
            for key in [k for k, at in seen.items() if at < since]:
                del seen[key]


def sse(event: str, data: str) -> str:
    """Return one Server-Sent Event; data is one line of JSON, so no line splitting is needed."""
    return f"event: {event}\ndata: {data}\n\n"


def hello(poll_seconds: float) -> str:
    return sse("hello", json.dumps({"poll_s": poll_seconds}))
