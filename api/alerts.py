"""Alerts as the API shows them."""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from sqlalchemy.orm import Session, object_session

from caretaker.dispatch import lookup
from caretaker.dispatch.messages import AlertEvent, publish_alert
from caretaker.dispatch.outbox import iso
from caretaker.rules.alert_reads import Alert, Silence


def alert_json(row: Alert, tickets: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The alert as the API shows it; `tickets`: the alerts' tickets when the caller read them for many at
    once (else read for this one, in the row's own session). The link is dispatch's (dispatch/lookup.py)."""
    if tickets is None:
        tickets = lookup.alert_tickets(object_session(row), [row.id])
    return {
        "id": row.id, "rule": row.rule_id, "device": row.device_id or None, "urgency": row.urgency,
        "category": row.category, "title": row.title, "state": row.state, "raised_at": row.raised_at,
        "cleared_at": row.cleared_at, "acked_by": row.acked_by, "acked_at": row.acked_at, "ticket": tickets.get(row.id),
        "building": row.building, "suppressed_by": row.suppressed_by, "silence": row.silence_id,
        "chattering": bool(row.chattering), "occurrences": row.occurrences or 1, "shelved_until": row.shelved_until, "shelved_by": row.shelved_by,
        "shelve_reason": row.shelve_reason,
    }


def alerts_json(session: Session, rows: Iterable[Alert]) -> list[dict[str, Any]]:
    """Many alerts as the API shows them, their tickets read at once."""
    rows = list(rows)
    tickets = lookup.alert_tickets(session, [r.id for r in rows])
    return [alert_json(r, tickets) for r in rows]


def silence_json(row: Silence, now) -> dict[str, Any]:
    return {
        "id": row.id, "matchers": row.matchers, "starts_at": row.starts_at, "ends_at": row.ends_at,
        "reason": row.reason, "author": row.author, "created_at": row.created_at,
        "active": row.starts_at <= now < row.ends_at, "expired_by": row.expired_by,
    }


def publish_transition(session: Session, *, prefix: str, site: str, row: Alert, state: str, by: str,
                       now) -> None:
    """Queue the AlertEvent of an operator's transition (acknowledged, shelved, unshelved) in the same
    transaction, so integrations see every step of an alert's life."""
    publish_alert(session, prefix, site, AlertEvent(
        alert=row.id, state=state, rule=row.rule_id, device=row.device_id or None, urgency=row.urgency,
        ticket=lookup.alert_ticket(session, row.id), ts=iso(now) or "", by=by,
        shelved_until=iso(row.shelved_until) if state == "shelved" else None), now)
