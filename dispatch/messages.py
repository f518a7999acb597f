"""What the service publishes, as typed messages: a technician's Dispatch push, a supervisor's notice
(docs/device-protocol.md, "Dispatches") and the AlertEvent integrations read (docs/api.md, "Alert events"),
each built in one place and queued in the outbox of the caller's transaction (the outbox adds its `id`)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session

from caretaker.dispatch.outbox import alerts_topic, dispatch_topic, enqueue, iso, notify_topic
from caretaker.dispatch.privacy import mask_text
from caretaker.dispatch.tables import AssignmentRow, TicketRow

PushKind = Literal["assigned", "withdrawn", "reminder"]
AlertState = Literal["raised", "cleared", "chattering", "acknowledged", "shelved", "unshelved"]


def assignment_ref(row_id: int) -> str:
    """The public id of an assignment (CONTRACT: `AS-…`)."""
    return f"AS-{row_id}"


def assignment_row_id(ref: str) -> int | None:
    """The row id behind an `AS-…` id, or None when it is not one."""
    head, _, number = ref.partition("-")
    return int(number) if head == "AS" and number.isdigit() and len(number) <= 18 else None


class Location(BaseModel):
    model_config = ConfigDict(frozen=True)
    building: str
    floor: int
    zone: str | None


class DispatchPush(BaseModel):
    """A push on `technicians/{tech}/dispatch`: the job, its deadlines, and which assignment it is."""

    model_config = ConfigDict(frozen=True)
    type: PushKind
    ticket: str
    assignment: str | None
    trade: str
    role: str
    urgency: int
    category: str
    title: str
    device: str | None
    location: Location
    accept_by: str | None  # this assignment's own accept window (a reassigned technician's is fresh)
    arrive_by: str | None
    resolve_by: str | None
    travel_s: int = 0
    reason: str = ""
    ts: str


class SupervisorNotice(BaseModel):
    """A notice on `supervisors/{id}/notify`."""

    model_config = ConfigDict(frozen=True)
    type: str
    ticket: str
    urgency: int
    title: str
    reason: str
    ts: str


def dispatch_push(ticket: TicketRow, assignment: AssignmentRow | None, kind: PushKind, now: datetime, *,
                  travel_s: int = 0, reason: str = "") -> DispatchPush:
    """Build the push for the technician of `assignment` (None: the ticket's owner, as before assignments)."""
    # a withdrawn technician is no longer on the ticket: the title (a resident's first line) is masked,
    # as the API masks it for them (docs/api.md, "Personal data")
    title = mask_text(ticket.title, [ticket.reporter_name or ""], [ticket.unit_id or ""]) \
        if kind == "withdrawn" else ticket.title
    accept_by = assignment.accept_by if assignment is not None and assignment.accept_by else ticket.accept_by
    return DispatchPush(
        type=kind, ticket=ticket.id, assignment=assignment_ref(assignment.id) if assignment is not None else None,
        trade=assignment.trade if assignment is not None else ticket.category,
        role=assignment.role if assignment is not None else "owner",
        urgency=ticket.urgency, category=ticket.category, title=title, device=ticket.device_id,
        location=Location(building=ticket.building, floor=ticket.floor, zone=ticket.zone),
        accept_by=iso(accept_by), arrive_by=iso(ticket.arrive_by), resolve_by=iso(ticket.resolve_by),
        travel_s=travel_s, reason=reason, ts=iso(now) or "",
    )


def push(session: Session, prefix: str, site_id: str, tech: str, message: DispatchPush, now: datetime) -> None:
    enqueue(session, dispatch_topic(prefix, site_id, tech), message.model_dump(mode="json"), now)


def supervisor_notice(ticket: TicketRow, kind: str, reason: str, now: datetime) -> SupervisorNotice:
    return SupervisorNotice(type=kind, ticket=ticket.id, urgency=ticket.urgency, title=ticket.title, reason=reason,
                            ts=iso(now) or "")


def notify(session: Session, prefix: str, site_id: str, supervisors, message: SupervisorNotice, now: datetime) -> None:
    for supervisor in supervisors:
        enqueue(session, notify_topic(prefix, site_id, supervisor), message.model_dump(mode="json"), now)


class AlertEvent(BaseModel):
    """An alert's step on `alerts`: the fields every event has, then the optional ones, present only when set
    (a silenced or explained alarm, a system alarm's title, an operator's step)."""

    model_config = ConfigDict(frozen=True)
    alert: str
    state: AlertState
    rule: str
    device: str | None
    urgency: int
    ticket: str | None
    ts: str
    title: str | None = None  # the service's own alarms (rules/system.py), which no rule names
    by: str | None = None  # who acknowledged, shelved or unshelved it
    shelved_until: str | None = None
    silence: int | None = None  # the silence it was raised under
    suppressed_by: str | None = None  # the alert that explains it (an outage)

    def payload(self) -> dict:
        """The event as published: the optional fields only when they are set."""
        optional = ("title", "by", "shelved_until", "silence", "suppressed_by")
        return self.model_dump(mode="json", exclude={name for name in optional if getattr(self, name) is None})


def publish_alert(session: Session, prefix: str, site_id: str, event: AlertEvent, now: datetime) -> None:
    enqueue(session, alerts_topic(prefix, site_id), event.payload(), now)
