"""Alerts as the API shows them."""

from __future__ import annotations

from typing import Any

from rules.tables import AlertRow


def alert_json(row: AlertRow) -> dict[str, Any]:
    return {
        "id": row.id, "rule": row.rule_id, "device": row.device_id, "urgency": row.urgency,
        "category": row.category, "title": row.title, "state": row.state, "raised_at": row.raised_at,
        "cleared_at": row.cleared_at, "acked_by": row.acked_by, "acked_at": row.acked_at, "ticket": row.ticket_id,
    }
