"""What the devices API reads of alerts: each device's open alerts and its faults of the last 30 days, by id.

A page of the device list reads these for its own devices only (docs/api.md, "Devices and telemetry"); the
indexes on (device_id, state) and (device_id, raised_at) of migration 0010 serve both."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from caretaker.ingest.device_reads import chunks
from caretaker.rules.tables import AlertRow


def open_alerts_of(session: Session, device_ids: Sequence[str] | None) -> dict[str, list[str]]:
    """Ids of the raised alerts of these devices (None: of every device), by device id."""
    query = select(AlertRow.id, AlertRow.device_id).where(AlertRow.state == "raised")
    parts = [query] if device_ids is None else [query.where(AlertRow.device_id.in_(part)) for part in chunks(device_ids)]
    found: dict[str, list[str]] = {}
    for part in parts:
        for alert_id, device_id in session.execute(part.order_by(AlertRow.raised_at, AlertRow.id)):
            found.setdefault(device_id, []).append(alert_id)
    return found


def fault_counts_of(session: Session, device_ids: Sequence[str] | None, since: datetime) -> dict[str, int]:
    """Per device, the alerts it raised since a time that were its own faults (not silenced in a planned window,
    not explained by an outage): rules/store.py's fault_counts, for these devices only (None: every device)."""
    query = (select(AlertRow.device_id, func.count())
             .where(AlertRow.raised_at >= since, AlertRow.silence_id.is_(None), AlertRow.suppressed_by.is_(None))
             .group_by(AlertRow.device_id))
    parts = [query] if device_ids is None else [query.where(AlertRow.device_id.in_(part)) for part in chunks(device_ids)]
    return {device_id: count for part in parts for device_id, count in session.execute(part)}
