"""The dispatch room's front: one object the pipeline, the API and the timer sweep call, each method a
step inside the caller's transaction. The decisions live in the modules it delegates to
(docs/code-map.md, "Dispatch"): incidents and playbooks, choosing and assigning, steps, timers' actions,
locations, messages."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Callable, Container, Iterable, Mapping, NamedTuple, Sequence

from sqlalchemy.orm import Session

from caretaker import i18n

from caretaker.dispatch import alarms, assigning, badges, incidents, locations, lookup, notices, steps, timer_actions
from caretaker.dispatch import timers
from caretaker.dispatch.errors import BadRequest
from caretaker.dispatch.assigning import ASK_AGAIN_AFTER, RETRY_UNASSIGNED  # noqa: F401 (read from here by others)
from caretaker.dispatch.choose import Candidate
from caretaker.dispatch.desk import INCIDENT_WINDOW, Desk
from caretaker.dispatch.incidents import REPEAT_WINDOW, AlertFacts, Report, new_ticket_id  # noqa: F401
from caretaker.dispatch.lifecycle import ACTIVE, FINAL, FIXED, OPEN, Step  # noqa: F401
from caretaker.dispatch.tables import TicketRow
from caretaker.estate.model import Place, Site
from caretaker.rules.model import Decision
from caretaker.rules.playbooks import DEFAULT_PLAYBOOKS, Playbook
from caretaker.rules.silence import Silence
from caretaker.rules.topology import ActiveAlerts


class Seen(NamedTuple):
    """A technician seen somewhere: by their app's location or a badge swipe (`source`)."""
    technician: str
    place: Place
    ts: datetime
    source: str


class Dispatcher(Desk):
    """Decides and records what happens to tickets and their assignments; every method works inside the
    session it is given."""

    def __init__(self, site: Site, prefix: str, incident_window: timedelta = INCIDENT_WINDOW,
                 playbooks: tuple[Playbook, ...] = DEFAULT_PLAYBOOKS) -> None:
        super().__init__(site, prefix, incident_window, playbooks)

    def notify_supervisors(self, session: Session, ticket: TicketRow, kind: str, reason: str, now: datetime) -> None:
        # level by level when the site file has `escalation`, else every supervisor (dispatch/notices.py)
        notices.tell(session, self.site, self.prefix, ticket, kind, reason, now)

    # --- incidents ----------------------------------------------------------------------------

    def open_for_alert(self, session: Session, alert: AlertFacts, now: datetime) -> str:
        return incidents.open_for_alert(self, session, alert, now)

    def report(self, session: Session, report: Report, now: datetime, by: str) -> str:
        return incidents.report(self, session, report, now, by)

    def on_alert_decisions(self, session: Session, decisions: Sequence[Decision],
                           values_of: Callable[[str], Mapping[str, object]], active: ActiveAlerts,
                           silences: Sequence[Silence], causes: Container[str], now: datetime) -> list[alarms.Outcome]:
        """What a batch's rule decisions do: each recorded, routed to a ticket (silenced, explained by an outage,
        its own), published, told to residents (dispatch/alarms.py); `values_of` gives a device's last values."""
        return alarms.apply_all(self, session, decisions, values_of, active, silences, causes, now)

    def reply(self, session: Session, action: str, ticket_id: str, tech: str, now: datetime) -> None:
        """A technician's MQTT reply: the step on their own assignment of the ticket (raises DispatchError)."""
        steps_ = {"accept": self.accept, "decline": self.decline, "arrive": self.arrive}
        if action not in steps_:
            raise BadRequest(f"{action!r} is not a reply a technician may send")
        steps_[action](session, ticket_id, tech, now)

    # --- choosing -----------------------------------------------------------------------------

    def candidates(self, session: Session) -> list[Candidate]:
        """Return every technician of the site with location and current work, as choosing needs them."""
        return lookup.candidates(session, self.site)

    def assign_waiting(self, session: Session, now: datetime, trades: Iterable[str] | None = None) -> int:
        """Try again the waiting assignments (of these trades) now that someone came on site."""
        return assigning.fill_waiting(self, session, now, trades)

    def technicians_seen(self, session: Session, seen: Iterable[Seen], now: datetime) -> bool:
        """Record where technicians were seen (app locations, badge swipes); one who came on site or changed
        building may take a waiting assignment of their trades. Return whether any was given."""
        moved = {tech for tech, place, ts, source in seen if self.record_location(session, tech, place, ts, source)}
        if not moved:
            return False
        trades = {skill for tech in moved for skill in self.site.technicians[tech].skills}
        return self.assign_waiting(session, now, trades) > 0

    # --- a technician's steps on the ticket: on their own assignment of it ------------------------

    def accept(self, session: Session, ticket_id: str, tech: str, now: datetime) -> None:
        steps.accept(self, session, *steps.own_on_ticket(session, ticket_id, tech, Step.ACCEPT), now)

    def decline(self, session: Session, ticket_id: str, tech: str, now: datetime, note: str | None = None) -> None:
        steps.decline(self, session, *steps.own_on_ticket(session, ticket_id, tech, Step.DECLINE), now, note)

    def arrive(self, session: Session, ticket_id: str, tech: str, now: datetime) -> None:
        steps.arrive(self, session, *steps.own_on_ticket(session, ticket_id, tech, Step.ARRIVE), now)

    def resolve(self, session: Session, ticket_id: str, tech: str, now: datetime, note: str, photos: list[str]) -> None:
        steps.resolve(self, session, *steps.own_on_ticket(session, ticket_id, tech, Step.RESOLVE), now, note, photos)

    # --- steps on one assignment (POST /api/v1/assignments/{id}/…) ---------------------------------

    def assignment_step(self, session: Session, ref: str, step: str, tech: str | None, now: datetime, *,
                        note: str | None = None, confirmed_by: str | None = None) -> str:
        """Take `step` (accept, decline, arrive, done) on the assignment `ref` as its technician (`tech`), or
        as an operator confirming an arrival (`tech` None, `confirmed_by` the operator); return its ticket."""
        ticket, row = steps.own_assignment(session, ref, tech)
        if step == "accept":
            steps.accept(self, session, ticket, row, now)
        elif step == "decline":
            steps.decline(self, session, ticket, row, now, note)
        elif step == "arrive":
            steps.arrive(self, session, ticket, row, now, confirmed_by)
        elif step == "done":
            steps.done(self, session, ticket, row, now, note)
        else:
            raise ValueError(step)
        return ticket.id

    # --- the control room -------------------------------------------------------------------------

    def verify(self, session: Session, ticket_id: str, by: str, now: datetime, satisfaction: int | None,
               note: str | None) -> None:
        steps.verify(self, session, steps.locked(session, ticket_id), by, now, satisfaction, note)

    def reopen(self, session: Session, ticket_id: str, by: str, now: datetime, note: str | None) -> None:
        """Not fixed: the same ticket goes back to the technician who owns it (首问负责制)."""
        steps.reopen(self, session, steps.locked(session, ticket_id), by, now,
                     i18n.said("note.reopened_with", note=note) if note else i18n.said("note.reopened"))

    def assign(self, session: Session, ticket_id: str, tech: str, by: str, now: datetime) -> None:
        """An operator hands the ticket to a named technician, overriding the choice."""
        steps.assign(self, session, steps.locked(session, ticket_id), tech, by, now)

    def cancel(self, session: Session, ticket_id: str, by: str, now: datetime, note: str | None) -> None:
        steps.cancel(self, session, steps.locked(session, ticket_id), by, now, note)

    # --- timers and locations ---------------------------------------------------------------------

    def on_timer(self, session: Session, timer: timers.Due, now: datetime) -> None:
        """Act on a due timer (dispatch/timer_actions.py)."""
        timer_actions.on_timer(self, session, timer, now)

    def record_location(self, session: Session, tech: str, place: Place, ts: datetime, source: str) -> bool:
        """Remember where a technician is (return whether they came on site or changed building); a badge
        swipe also puts on site the work they accepted in that building (dispatch/badges.py)."""
        moved = locations.record(session, self.site, tech, place, ts, source)
        if source == "badge":
            badges.arrive(self, session, tech, place.building, ts)
        return moved
