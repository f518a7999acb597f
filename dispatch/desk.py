"""What every dispatch module shares: the site, the topic prefix, the playbooks, and the three ways it
records or tells (a history line, a technician's push, the supervisors' notice)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from caretaker import i18n
from caretaker.i18n import stored
from caretaker.dispatch import messages
from caretaker.dispatch.resident_store import ResidentDesk
from caretaker.dispatch.tables import AssignmentRow, TicketHistoryRow, TicketRow
from caretaker.estate.model import Site
from caretaker.rules.playbooks import DEFAULT_PLAYBOOKS, Playbook

# alerts of one trade in one building within this window are one incident (docs/operations.md, "Incidents")
INCIDENT_WINDOW = timedelta(minutes=10)


@dataclass
class Desk:
    site: Site
    prefix: str
    incident_window: timedelta = INCIDENT_WINDOW
    playbooks: tuple[Playbook, ...] = DEFAULT_PLAYBOOKS
    residents: ResidentDesk = field(init=False)

    def __post_init__(self) -> None:
        self.residents = ResidentDesk(self.site, self.prefix)  # residents hear of a report's progress

    def history(self, session: Session, ticket: TicketRow, now: datetime, status: str, by: str,
                note: str | i18n.Said | None) -> None:
        """Add a line to the ticket's history (`history_line`)."""
        session.add(history_line(ticket.id, now, status, by, note))

    # a push or a notice has no request to ask: its `reason` is said in the site's locale (caretaker/i18n;
    # docs/device-protocol.md, "Dispatches"); a history line is said in its reader's language (`history_line`)
    def push(self, session: Session, ticket: TicketRow, assignment: AssignmentRow | None, kind: messages.PushKind,
             tech: str, now: datetime, *, travel_s: int = 0, reason: str = "") -> None:
        message = messages.dispatch_push(ticket, assignment, kind, now, travel_s=travel_s,
                                         reason=i18n.render(reason, self.site.locale))
        messages.push(session, self.prefix, self.site.id, tech, message, now)

    def notify_supervisors(self, session: Session, ticket: TicketRow, kind: str, reason: str, now: datetime) -> None:
        messages.notify(session, self.prefix, self.site.id, self.site.supervisors,
                        messages.supervisor_notice(ticket, kind, i18n.render(reason, self.site.locale), now), now)


def history_line(ticket_id: str, at: datetime, status: str, by: str,
                 note: str | i18n.Said | None) -> TicketHistoryRow:
    """Return a ticket's history row: `note` as its English text, and for the system's own wording (a `Said`,
    whose parameters carry what a person typed unchanged) its key and parameters too, so the API says it in
    the reader's language (dispatch/reads_tickets.py `note_of`); a plain text is stored as it is, with no key."""
    return TicketHistoryRow(ticket_id=ticket_id, at=at, status=status, by=by,
                            note=None if note is None else str(note), note_said=stored.dump(note))
