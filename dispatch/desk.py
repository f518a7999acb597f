"""What every dispatch module shares: the site, the topic prefix, the playbooks, and the three ways it
records or tells (a history line, a technician's push, the supervisors' notice)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from caretaker import i18n
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
                note: str | None) -> None:
        session.add(TicketHistoryRow(ticket_id=ticket.id, at=now, status=status, by=by, note=note))

    # a push or a notice has no request to ask: its `reason` is said in the site's locale (caretaker/i18n;
    # docs/device-protocol.md, "Dispatches"); a history line stays as written (English)
    def push(self, session: Session, ticket: TicketRow, assignment: AssignmentRow | None, kind: messages.PushKind,
             tech: str, now: datetime, *, travel_s: int = 0, reason: str = "") -> None:
        message = messages.dispatch_push(ticket, assignment, kind, now, travel_s=travel_s,
                                         reason=i18n.render(reason, self.site.locale))
        messages.push(session, self.prefix, self.site.id, tech, message, now)

    def notify_supervisors(self, session: Session, ticket: TicketRow, kind: str, reason: str, now: datetime) -> None:
        messages.notify(session, self.prefix, self.site.id, self.site.supervisors,
                        messages.supervisor_notice(ticket, kind, i18n.render(reason, self.site.locale), now), now)
