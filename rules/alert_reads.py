"""Rules' reads of alerts as the API shows and counts them: one alert, a date range, what the KPIs and /metrics
count, the live stream's changes.

Reads only, each the query the API ran itself before (docs/code-map.md, "How the API reads the rooms"); a
change to an alert is rules/store.py's (acknowledge, shelve, unshelve)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from caretaker.rules.tables import AlertRow, SilenceRow

# the row types these reads return, by the names the API uses
Alert = AlertRow
Silence = SilenceRow

IDS_PER_QUERY = 500  # ids bound in one IN (...): SQLite caps the parameters of one statement


def alert(session: Session, alert_id: str) -> AlertRow | None:
    """The alert, or None."""
    return session.get(AlertRow, alert_id)


def alerts_by_ids(session: Session, ids: Sequence[str], chunk: int = IDS_PER_QUERY) -> list[AlertRow]:
    """The alerts of these ids (unknown ones left out, in no order), a chunk of ids a query."""
    ids = list(ids)
    return [row for at in range(0, len(ids), chunk)
            for row in session.scalars(select(AlertRow).where(AlertRow.id.in_(ids[at:at + chunk])))]


def known_ids(session: Session, ids: Iterable[str], chunk: int = IDS_PER_QUERY) -> set[str]:
    """Which of these alert ids exist already (a batch's raises checked for replays in one query a chunk)."""
    ids = list(ids)
    return {found for at in range(0, len(ids), chunk)
            for found in session.scalars(select(AlertRow.id).where(AlertRow.id.in_(ids[at:at + chunk])))}


def raised_in(session: Session, start: datetime, end: datetime, limit: int) -> list[AlertRow]:
    """The oldest `limit` alerts raised in [start, end), oldest first (an export)."""
    return list(session.scalars(select(AlertRow).where(AlertRow.raised_at >= start, AlertRow.raised_at < end)
                                .order_by(AlertRow.raised_at, AlertRow.id).limit(limit)))


def raised_where(session: Session, start: datetime, end: datetime) -> list[tuple[str, datetime, str | None]]:
    """(device, raised_at, building) of every alert raised in [start, end), in no order (the KPIs)."""
    return [tuple(row) for row in session.execute(
        select(AlertRow.device_id, AlertRow.raised_at, AlertRow.building)
        .where(AlertRow.raised_at >= start, AlertRow.raised_at < end))]


def open_count(session: Session) -> int:
    """How many alerts are raised and not yet cleared."""
    return session.scalar(select(func.count()).where(AlertRow.state == "raised")) or 0


def open_by_rule(session: Session, rules: Iterable[str]) -> dict[str, int]:
    """How many alerts of each of these rules are raised now (a rule with none is left out)."""
    return dict(session.execute(select(AlertRow.rule_id, func.count()).where(
        AlertRow.state == "raised", AlertRow.rule_id.in_(list(rules))).group_by(AlertRow.rule_id)).all())


def changed_since(session: Session, since: datetime, limit: int) -> list:
    """(id, state, acked_at, raised_at, cleared_at) of the alerts raised, cleared or acknowledged since a time,
    the newest raised first, at most `limit`."""
    query = select(AlertRow.id, AlertRow.state, AlertRow.acked_at, AlertRow.raised_at, AlertRow.cleared_at).where(
        or_(AlertRow.raised_at >= since, AlertRow.cleared_at >= since, AlertRow.acked_at >= since))
    return list(session.execute(query.order_by(AlertRow.raised_at.desc()).limit(limit)))
