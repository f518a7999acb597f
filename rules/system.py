"""Alarms the service raises about itself (messages lost, a lost broker session, overdue timers, a device
flooding): alerts like any other in the control room and on the alerts topic, with no device rule behind them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from caretaker.rules.model import alert_id
from caretaker.rules.tables import AlertLogRow, AlertRow

SYSTEM_CATEGORY = "system"  # not a trade: an operator checks it, no technician is sent


class SystemAlarm(StrEnum):
    """What the service itself can alarm about; the value is the alert's `rule` (docs/operations.md)."""

    MESSAGES_LOST = "system.messages_lost"  # devices' sequence numbers show gaps, or the broker dropped our queue
    SESSION_LOST = "system.session_lost"  # the broker came back without our session: what it queued is gone
    TIMERS_OVERDUE = "system.timers_overdue"  # deadlines are not firing: escalations are stuck
    DEVICE_FLOODING = "system.device_flooding"  # one device sends far more than any device should
    KPI_MISSED = "system.kpi_missed"  # a service figure missed its target three days running (api/kpi_watch.py)


@dataclass(frozen=True, slots=True)
class SystemAlarmChange:
    """What `raise_system_alarm`/`clear_system_alarm` did, for the caller to publish as an AlertEvent."""

    alert: str
    state: str  # raised | cleared | updated
    kind: SystemAlarm
    subject: str
    urgency: int
    title: str
    at: datetime


def active_system_alarm(session: Session, kind: SystemAlarm, subject: str = "") -> AlertRow | None:
    """Return the raised alarm of this kind about this subject, if there is one."""
    return session.scalar(select(AlertRow).where(
        AlertRow.rule_id == kind.value, AlertRow.device_id == subject, AlertRow.state == "raised").limit(1))


def raise_system_alarm(session: Session, kind: SystemAlarm, *, title: str, urgency: int, now: datetime,
                       subject: str = "", building: str | None = None) -> SystemAlarmChange:
    """Raise the alarm, or bring the raised one's title up to date (one alarm per kind and subject while
    it is active, so a condition that persists never floods the control room). `subject` is the device id
    when a device is concerned, else empty."""
    row = active_system_alarm(session, kind, subject)
    if row is not None:
        if row.title == title[:200] and row.urgency <= urgency:
            return SystemAlarmChange(row.id, "unchanged", kind, subject, row.urgency, row.title, now)
        row.title, row.urgency = title[:200], min(row.urgency, urgency)
        session.add(AlertLogRow(alert_id=row.id, state="updated", at=now, by="service", note=title[:500]))
        return SystemAlarmChange(row.id, "updated", kind, subject, row.urgency, row.title, now)
    new_id = alert_id(kind.value, subject, now)
    session.add(AlertRow(id=new_id, rule_id=kind.value, device_id=subject, urgency=urgency, category=SYSTEM_CATEGORY,
                         title=title[:200], state="raised", raised_at=now, building=building, chattering=False))
    session.add(AlertLogRow(alert_id=new_id, state="raised", at=now, by="service", note=title[:500]))
    return SystemAlarmChange(new_id, "raised", kind, subject, urgency, title[:200], now)


def clear_system_alarm(session: Session, kind: SystemAlarm, *, now: datetime, subject: str = "",
                       note: str | None = None) -> SystemAlarmChange | None:
    """Clear the raised alarm of this kind about this subject; return None when none was raised."""
    row = active_system_alarm(session, kind, subject)
    if row is None:
        return None
    row.state, row.cleared_at, row.shelved_until = "cleared", now, None
    session.add(AlertLogRow(alert_id=row.id, state="cleared", at=now, by="service", note=note))
    return SystemAlarmChange(row.id, "cleared", kind, subject, row.urgency, row.title, now)
