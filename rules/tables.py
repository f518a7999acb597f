"""The rules room's tables: alerts, their transition log, and per-device rule state."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, Index, Integer, String, Text, false, text
from caretaker.estate.clock import UtcDateTime
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class RulesBase(DeclarativeBase):
    pass


class AlertRow(RulesBase):
    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_state_raised", "state", "raised_at"), Index("ix_alerts_device_rule", "device_id", "rule_id"))
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    rule_id: Mapped[str] = mapped_column(String(64))
    device_id: Mapped[str] = mapped_column(String(64))
    urgency: Mapped[int] = mapped_column(Integer)
    category: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(16))  # raised | cleared
    raised_at: Mapped[datetime] = mapped_column(UtcDateTime())
    cleared_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    acked_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    acked_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # its ticket is not kept here: dispatch's ticket_alerts holds that link, once (dispatch/lookup.py)
    building: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # why it opened no ticket of its own: the alert that explains it (a building's outage) or a silence
    suppressed_by: Mapped[str | None] = mapped_column(String(32), nullable=True)
    silence_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    chattering: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # how often its condition held while it was active: a chattering sensor's flips (docs/operations.md)
    occurrences: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))
    shelved_until: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    shelved_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    shelve_reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class SilenceRow(RulesBase):
    """A maintenance window: alerts matching it while it is in force are recorded but open no ticket."""

    __tablename__ = "silences"
    __table_args__ = (Index("ix_silences_window", "ends_at", "starts_at"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    matchers: Mapped[dict] = mapped_column(JSON)  # rule, device, device_type, building, floor, zone
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime())
    ends_at: Mapped[datetime] = mapped_column(UtcDateTime())
    reason: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expired_by: Mapped[str | None] = mapped_column(String(64), nullable=True)


class AlertLogRow(RulesBase):
    """Every transition of an alert: raised, acknowledged, cleared."""

    __tablename__ = "alert_log"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    alert_id: Mapped[str] = mapped_column(String(32), index=True)
    state: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    note_said: Mapped[dict | None] = mapped_column(JSON, nullable=True)  # the rules' own note (caretaker/i18n/stored.py)


class RuleStateRow(RulesBase):
    """Where a rule stands for a device (pending since, active alert), so a restart resumes it."""

    __tablename__ = "rule_states"
    device_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    rule_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    alert_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    pending_since: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    clearing_since: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    clear_due: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    memory: Mapped[list] = mapped_column(JSON, default=list, server_default=text("'[]'"))
    raises: Mapped[list] = mapped_column(JSON, default=list, server_default=text("'[]'"))
    chattering: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    occurrences: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
