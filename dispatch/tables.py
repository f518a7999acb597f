"""Dispatch's tables: tickets and their history, assignments, timers, the outbox, technician locations."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from caretaker.estate.clock import UtcDateTime

_BigId = BigInteger().with_variant(Integer, "sqlite")


class DispatchBase(DeclarativeBase):
    pass


class TicketRow(DispatchBase):
    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_status", "status"),
        Index("ix_tickets_created_at", "created_at"),
        Index("ix_tickets_assignee", "assignee"),
    )
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    urgency: Mapped[int] = mapped_column(Integer)
    category: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    source: Mapped[str] = mapped_column(String(16))  # sensor | phone | app | wechat | desk
    device_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    rule_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    building: Mapped[str] = mapped_column(String(64))
    floor: Mapped[int] = mapped_column(Integer)
    zone: Mapped[str | None] = mapped_column(String(64), nullable=True)
    unit_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reporter_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    reporter_phone: Mapped[str | None] = mapped_column(String(32), nullable=True)
    assignee: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # "device|rule" while the ticket is open, NULL after: one open ticket per device and rule
    open_key: Mapped[str | None] = mapped_column(String(140), nullable=True, unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    accept_by: Mapped[datetime] = mapped_column(UtcDateTime())
    arrive_by: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    resolve_by: Mapped[datetime] = mapped_column(UtcDateTime())
    accepted_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    arrived_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    breached: Mapped[bool] = mapped_column(Boolean, default=False)
    resolution_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    photos: Mapped[list] = mapped_column(JSON, default=list)
    satisfaction: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # the work cycle: 1, and one more each reopening (the earlier cycles stay in ticket_cycles)
    cycle: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # the playbooks the ticket's alarms asked for (dispatch/playbooks.py), for the assignments they add later
    playbooks: Mapped[list | None] = mapped_column(JSON, nullable=True)


class TicketCycleRow(DispatchBase):
    """A cycle of a reopened ticket as it stood when it was reopened: its times and rating stay counted."""

    __tablename__ = "ticket_cycles"
    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), index=True)
    cycle: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    assignee: Mapped[str | None] = mapped_column(String(64), nullable=True)
    accept_by: Mapped[datetime] = mapped_column(UtcDateTime())
    arrive_by: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    resolve_by: Mapped[datetime] = mapped_column(UtcDateTime())
    accepted_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    arrived_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    satisfaction: Mapped[int | None] = mapped_column(Integer, nullable=True)
    breached: Mapped[bool] = mapped_column(Boolean, default=False)
    reopened_at: Mapped[datetime] = mapped_column(UtcDateTime())


class TicketHistoryRow(DispatchBase):
    __tablename__ = "ticket_history"
    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    status: Mapped[str] = mapped_column(String(16))
    by: Mapped[str] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text, nullable=True)  # as written; the system's lines in English
    # the system's line as key + parameters (caretaker/i18n/stored.py), said in its reader's language; None for
    # a person's words and for rows older than it (docs/operators.md, "Languages")
    note_said: Mapped[dict | None] = mapped_column(JSON, nullable=True)


class TicketAlertRow(DispatchBase):
    """Which alerts a ticket carries: the one record of an alert's ticket (dispatch/lookup.py `alert_tickets`
    reads it for the alerts' JSON and events)."""

    __tablename__ = "ticket_alerts"
    __table_args__ = (Index("ix_ticket_alerts_alert", "alert_id"),)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), primary_key=True)
    alert_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    attached_at: Mapped[datetime] = mapped_column(UtcDateTime())


class AssignmentRow(DispatchBase):
    """One trade's work on a ticket given to one technician (CONTRACT: `AS-<id>` in JSON): the owner's or a
    support's, waiting for someone, offered, accepted, on site, and how it ended (dispatch/lifecycle.py).
    A reassignment is a new row for the same trade and role; the ended rows are the ticket's record."""

    __tablename__ = "assignments"
    __table_args__ = (Index("ix_assignments_status", "status"),)
    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), index=True)
    technician: Mapped[str | None] = mapped_column(String(64), index=True, nullable=True)  # None while waiting
    assigned_at: Mapped[datetime] = mapped_column(UtcDateTime())  # when the row was made
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)  # the status it ended in
    travel_s: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    trade: Mapped[str] = mapped_column(String(16), default="general", server_default="general")
    role: Mapped[str] = mapped_column(String(8), default="owner", server_default="owner")
    status: Mapped[str] = mapped_column(String(16), default="offered", server_default="offered")
    cycle: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    offered_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    accept_by: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    accepted_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    arrived_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    done_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)  # a decline's reason, an operator's confirmation


class TimerRow(DispatchBase):
    """A deadline as a row: the sweep claims due rows, so a restart or a second instance loses or doubles none."""

    __tablename__ = "timers"
    __table_args__ = (Index("ix_timers_due", "fired", "due_at"),)
    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    due_at: Mapped[datetime] = mapped_column(UtcDateTime())
    assignment_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # the deadline a warning or breach timer watches; when the deadline moves, the timer is stale
    deadline_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    fired: Mapped[bool] = mapped_column(Boolean, default=False)


class OutboxRow(DispatchBase):
    """A message to publish, written in the transaction that decided it; sent and marked afterwards."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_unsent", "sent_at", "id"),)
    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    topic: Mapped[str] = mapped_column(Text)
    payload: Mapped[str] = mapped_column(Text)
    qos: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # when the channels' router queued its deliveries (dispatch/notify/store.py); NULL: not yet
    routed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True, index=True)


class TechnicianLocationRow(DispatchBase):
    __tablename__ = "technician_locations"
    technician: Mapped[str] = mapped_column(String(64), primary_key=True)
    building: Mapped[str] = mapped_column(String(64))
    floor: Mapped[int] = mapped_column(Integer)
    zone: Mapped[str | None] = mapped_column(String(64), nullable=True)
    ts: Mapped[datetime] = mapped_column(UtcDateTime())
    source: Mapped[str] = mapped_column(String(16))  # app | badge


class TicketReporterRow(DispatchBase):
    """A further resident who reported a ticket's problem (a repeat report merged into it); the first
    reporter stays on the ticket row. Personal data: shown, masked and audited like the first."""

    __tablename__ = "ticket_reporters"
    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    source: Mapped[str] = mapped_column(String(16))
    name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    phone: Mapped[str | None] = mapped_column(String(32), nullable=True)
    unit_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
