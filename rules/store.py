"""The rules room's storage: alerts and their log, and rule state saved as it changes."""

from __future__ import annotations

from datetime import datetime
from typing import Mapping

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rules.model import IDLE, Clear, Raise, RuleState
from rules.tables import AlertLogRow, AlertRow, RuleStateRow

StateKey = tuple[str, str]  # (device id, rule id)


class AlertNotFound(Exception):
    def __init__(self, alert_id: str) -> None:
        super().__init__(f"alert {alert_id!r} does not exist")


def load_states(session: Session) -> dict[StateKey, RuleState]:
    return {
        (row.device_id, row.rule_id): RuleState(row.alert_id, row.pending_since, row.clearing_since, row.clear_due)
        for row in session.scalars(select(RuleStateRow))
    }


def save_states(session: Session, changed: Mapping[StateKey, RuleState]) -> None:
    """Write changed rule states; an idle state is stored as no row."""
    for (device_id, rule_id), state in changed.items():
        row = session.get(RuleStateRow, (device_id, rule_id))
        if state == IDLE:
            if row is not None:
                session.delete(row)
            continue
        if row is None:
            session.add(RuleStateRow(device_id=device_id, rule_id=rule_id, alert_id=state.alert,
                                     pending_since=state.pending_since, clearing_since=state.clearing_since,
                                     clear_due=state.clear_due))
        else:
            row.alert_id, row.pending_since = state.alert, state.pending_since
            row.clearing_since, row.clear_due = state.clearing_since, state.clear_due


def record_raise(session: Session, decision: Raise) -> None:
    rule = decision.rule
    session.add(AlertRow(id=decision.alert, rule_id=rule.id, device_id=decision.device, urgency=rule.urgency,
                         category=rule.category, title=rule.title, state="raised", raised_at=decision.at))
    session.add(AlertLogRow(alert_id=decision.alert, state="raised", at=decision.at, by="rules"))


def record_clear(session: Session, decision: Clear) -> str | None:
    """Mark the alert cleared; return the ticket it belongs to, if any."""
    row = session.get(AlertRow, decision.alert)
    if row is None:
        return None
    row.state, row.cleared_at = "cleared", decision.at
    session.add(AlertLogRow(alert_id=decision.alert, state="cleared", at=decision.at, by="rules"))
    return row.ticket_id


def link_ticket(session: Session, alert_id: str, ticket_id: str) -> None:
    row = session.get(AlertRow, alert_id)
    if row is not None:
        row.ticket_id = ticket_id


def acknowledge(session: Session, alert_id: str, by: str, now: datetime, note: str | None = None) -> AlertRow:
    """Record who acknowledged the alert and when (the first acknowledgement counts); return it."""
    row = session.get(AlertRow, alert_id)
    if row is None:
        raise AlertNotFound(alert_id)
    if row.acked_at is None:
        row.acked_by, row.acked_at = by, now
        session.add(AlertLogRow(alert_id=alert_id, state="acknowledged", at=now, by=by, note=note))
    return row


def list_alerts(session: Session, state: str | None = None, device_id: str | None = None,
                limit: int = 200) -> list[AlertRow]:
    query = select(AlertRow)
    if state:
        query = query.where(AlertRow.state == state)
    if device_id:
        query = query.where(AlertRow.device_id == device_id)
    return list(session.scalars(query.order_by(AlertRow.raised_at.desc()).limit(limit)))


def alerts_since(session: Session, since: datetime) -> int:
    """Return how many alerts were raised since a time (the flood figure counts the last 10 minutes)."""
    return session.scalar(select(func.count()).where(AlertRow.raised_at >= since)) or 0
