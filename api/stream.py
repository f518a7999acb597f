"""The live feed: what changed in the database since the last poll, so any number of instances serve it alike."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Hashable

from sqlalchemy.orm import Session

from caretaker.api.alerts import alert_json
from caretaker.api.deps import User
from caretaker.api.schemas import AlertOut, TicketOut
from caretaker.api.tables import AuditRow
from caretaker.api.tickets import Loaded, audit_rows, may_read, render
from caretaker.dispatch import reads_tickets
from caretaker.rules import alert_reads

# a change is looked for this far back, because a transaction stamps its rows before it commits:
# a slow commit lands "in the past" and a cursor at the last poll would miss it
LOOKBACK = timedelta(seconds=60)
# changes looked at a poll, newest first: an alarm storm's minute (600 alerts) fits many times over, so the
# window's old, already-sent changes never crowd out new ones (T30 in docs/operations.md)
MAX_PER_POLL = 5000


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

    def __init__(self, user: User, personal: bool = False, lang: str | None = None) -> None:
        self.user = user
        self.personal = personal
        self.lang = lang  # the history's system lines said in it (None: as stored)
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
            # owned, or a support assignment held (dispatch/reads_tickets.py)
            self._theirs = reads_tickets.open_of(session, self.technician)

    def poll(self, session: Session, now: datetime) -> Batch:
        """Return (event name, JSON data) for every ticket and alert that changed since the last poll."""
        return self._poll(session, now, send=True)

    def _poll(self, session: Session, now: datetime, send: bool) -> Batch:
        since = now - LOOKBACK
        batch = Batch()
        # the keys first, newest first (cheap columns); whole rows only for what has not been sent; both are the
        # rooms' reads (dispatch/reads_tickets.py, rules/alert_reads.py)
        fresh = {}
        for row in reads_tickets.changed_since(session, since, MAX_PER_POLL, self.technician, self._theirs):
            key = _ticket_key(row)
            if key not in self._tickets:
                self._tickets[key] = row.updated_at
                fresh[row.id] = row.updated_at
        changed = []
        if fresh and send:
            rows = reads_tickets.tickets_by_ids(session, list(fresh))
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
            for data in render(session, changed, viewer, loaded, lang=self.lang):
                batch.events.append(("ticket", TicketOut.model_validate(data).model_dump_json()))
        if not self.technician:
            unsent = []
            for row in alert_reads.changed_since(session, since, MAX_PER_POLL):
                key = _alert_key(row)
                if key not in self._alerts:
                    self._alerts[key] = max(t for t in (row.raised_at, row.cleared_at, row.acked_at) if t)
                    unsent.append(row.id)
            if unsent and send:
                for alert in sorted(alert_reads.alerts_by_ids(session, unsent), key=lambda a: (a.raised_at, a.id)):
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
