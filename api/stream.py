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
from dispatch import lookup
from dispatch.lifecycle import FINAL
from dispatch.tables import TicketRow
from rules.tables import AlertRow

# a change is looked for this far back, because a transaction stamps its rows before it commits:
# a slow commit lands "in the past" and a cursor at the last poll would miss it
LOOKBACK = timedelta(seconds=60)
# changes looked at a poll, newest first: an alarm storm's minute (600 alerts) fits many times over, so the
# window's old, already-sent changes never crowd out new ones (T30 in docs/operations.md)
MAX_PER_POLL = 5000
_TICKET_KEY = (TicketRow.id, TicketRow.updated_at, TicketRow.status, TicketRow.assignee, TicketRow.breached)
_ALERT_KEY = (AlertRow.id, AlertRow.state, AlertRow.acked_at, AlertRow.raised_at, AlertRow.cleared_at)


def _rows(session: Session, table, ids: list[str], chunk: int = 500) -> list:
    """The whole rows of these ids, a chunk at a time (SQLite caps the parameters of one statement)."""
    return [row for at in range(0, len(ids), chunk)
            for row in session.scalars(select(table).where(table.id.in_(ids[at:at + chunk])))]


def _ticket_key(row) -> Hashable:
    # status and assignee too: two steps in the same clock tick leave updated_at unchanged
    return (row.id, row.updated_at, row.status, row.assignee, bool(row.breached))


def _alert_key(row) -> Hashable:
    return (row.id, row.state, row.acked_at)


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
        self._poll(session, now, send=False)
        if self.technician:  # a ticket taken away before the stream began is no news; one later is
            assigned = select(TicketRow.id).where(  # owned, or a support assignment held (dispatch/lookup.py)
                or_(TicketRow.assignee == self.technician, TicketRow.id.in_(lookup.held_tickets(self.technician))),
                TicketRow.status.notin_(FINAL))
            self._theirs = set(session.scalars(assigned))

    def poll(self, session: Session, now: datetime) -> Batch:
        """Return (event name, JSON data) for every ticket and alert that changed since the last poll."""
        return self._poll(session, now, send=True)

    def _poll(self, session: Session, now: datetime, send: bool) -> Batch:
        since = now - LOOKBACK
        batch = Batch()
        # the keys first, newest first (cheap columns); whole rows only for what has not been sent
        query = select(*_TICKET_KEY).where(TicketRow.updated_at >= since)
        if self.technician:
            query = query.where(or_(TicketRow.assignee == self.technician, TicketRow.id.in_(self._theirs or [""]),
                                    TicketRow.id.in_(lookup.held_tickets(self.technician))))
        fresh = {}
        for row in session.execute(query.order_by(TicketRow.updated_at.desc()).limit(MAX_PER_POLL)):
            key = _ticket_key(row)
            if key not in self._tickets:
                self._tickets[key] = row.updated_at
                fresh[row.id] = row.updated_at
        changed = []
        if fresh and send:
            rows = _rows(session, TicketRow, list(fresh))
            for ticket in sorted(rows, key=lambda t: (t.updated_at, t.id)):
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
            query = select(*_ALERT_KEY).where(or_(AlertRow.raised_at >= since, AlertRow.cleared_at >= since,
                                                  AlertRow.acked_at >= since))
            unsent = []
            for row in session.execute(query.order_by(AlertRow.raised_at.desc()).limit(MAX_PER_POLL)):
                key = _alert_key(row)
                if key not in self._alerts:
                    self._alerts[key] = max(t for t in (row.raised_at, row.cleared_at, row.acked_at) if t)
                    unsent.append(row.id)
            if unsent and send:
                for alert in sorted(_rows(session, AlertRow, unsent), key=lambda a: (a.raised_at, a.id)):
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
