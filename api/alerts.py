"""Alerts as the API shows them."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from dispatch.outbox import alerts_topic, enqueue, iso
from rules.tables import AlertRow, SilenceRow


def alert_json(row: AlertRow) -> dict[str, Any]:
    return {
        "id": row.id, "rule": row.rule_id, "device": row.device_id or None, "urgency": row.urgency,
        "category": row.category, "title": row.title, "state": row.state, "raised_at": row.raised_at,
        "cleared_at": row.cleared_at, "acked_by": row.acked_by, "acked_at": row.acked_at, "ticket": row.ticket_id,
        "building": row.building, "suppressed_by": row.suppressed_by, "silence": row.silence_id,
        "chattering": bool(row.chattering), "occurrences": row.occurrences or 1, "shelved_until": row.shelved_until, "shelved_by": row.shelved_by,
        "shelve_reason": row.shelve_reason,
    }


def silence_json(row: SilenceRow, now) -> dict[str, Any]:
    return {
        "id": row.id, "matchers": row.matchers, "starts_at": row.starts_at, "ends_at": row.ends_at,
        "reason": row.reason, "author": row.author, "created_at": row.created_at,
        "active": row.starts_at <= now < row.ends_at, "expired_by": row.expired_by,
    }


def publish_transition(session: Session, *, prefix: str, site: str, row: AlertRow, state: str, by: str,
                       now) -> None:
    """Queue the AlertEvent of an operator's transition (acknowledged, shelved, unshelved) in the same
    transaction, so integrations see every step of an alert's life."""
    enqueue(session, alerts_topic(prefix, site), {
        "alert": row.id, "state": state, "rule": row.rule_id, "device": row.device_id or None, "urgency": row.urgency,
        "ticket": row.ticket_id, "ts": iso(now), "by": by,
        **({"shelved_until": iso(row.shelved_until)} if state == "shelved" else {}),
    }, now)
