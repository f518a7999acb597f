"""Alerts as the API shows them."""

from __future__ import annotations

from typing import Any

from rules.tables import AlertRow, SilenceRow


def alert_json(row: AlertRow) -> dict[str, Any]:
    return {
        "id": row.id, "rule": row.rule_id, "device": row.device_id, "urgency": row.urgency,
        "category": row.category, "title": row.title, "state": row.state, "raised_at": row.raised_at,
        "cleared_at": row.cleared_at, "acked_by": row.acked_by, "acked_at": row.acked_at, "ticket": row.ticket_id,
        "building": row.building, "suppressed_by": row.suppressed_by, "silence": row.silence_id,
        "chattering": bool(row.chattering), "shelved_until": row.shelved_until, "shelved_by": row.shelved_by,
        "shelve_reason": row.shelve_reason,
    }


def silence_json(row: SilenceRow, now) -> dict[str, Any]:
    return {
        "id": row.id, "matchers": row.matchers, "starts_at": row.starts_at, "ends_at": row.ends_at,
        "reason": row.reason, "author": row.author, "created_at": row.created_at,
        "active": row.starts_at <= now < row.ends_at, "expired_by": row.expired_by,
    }
