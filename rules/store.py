"""The rules room's storage: alerts and their log, rule state saved as it changes, silences and shelving."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Container, Mapping

from sqlalchemy import bindparam, delete, func, insert, select, tuple_, update
from sqlalchemy.orm import Session

from caretaker import i18n
from caretaker.i18n import stored
from caretaker.rules.model import IDLE, Clear, Episode, Raise, RuleState
from caretaker.rules.tables import AlertLogRow, AlertRow, RuleStateRow, SilenceRow

StateKey = tuple[str, str]  # (device id, rule id)


class AlertNotFound(Exception):
    def __init__(self, alert_id: str) -> None:
        super().__init__(i18n.said("error.alert_unknown", alert=alert_id))


class SilenceNotFound(Exception):
    def __init__(self, silence_id: int) -> None:
        super().__init__(i18n.said("error.silence_unknown", silence=silence_id))


def _ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


def _time(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc)


def _memory_out(memory: tuple) -> list:
    # event times (count rules) or (time, value) samples (change rules), as JSON
    return [[_ms(item[0]), item[1]] if isinstance(item, tuple) else _ms(item) for item in memory]


def _memory_in(stored: list | None) -> tuple:
    return tuple((_time(item[0]), item[1]) if isinstance(item, list) else _time(item) for item in stored or ())


def load_states(session: Session) -> dict[StateKey, RuleState]:
    return {
        (row.device_id, row.rule_id): RuleState(
            row.alert_id, row.pending_since, row.clearing_since, row.clear_due, _memory_in(row.memory),
            tuple(_time(ms) for ms in row.raises or ()), bool(row.chattering), row.occurrences or 0,
        )
        for row in session.scalars(select(RuleStateRow))
    }


def save_states(session: Session, changed: Mapping[StateKey, RuleState], stored: Container[StateKey]) -> None:
    """Write changed rule states in bulk; an idle state is stored as no row. `stored` holds the keys that
    have a row now (the caller's committed states), so no row is read back first."""
    deletes, updates, inserts, counted = [], [], [], []
    for (device_id, rule_id), state in changed.items():
        exists = (device_id, rule_id) in stored
        if state == IDLE:
            if exists:
                deletes.append((device_id, rule_id))
            continue
        row = {"device_id": device_id, "rule_id": rule_id, "alert_id": state.alert,
               "pending_since": state.pending_since, "clearing_since": state.clearing_since,
               "clear_due": state.clear_due, "memory": _memory_out(state.memory),
               "raises": [_ms(t) for t in state.raises], "chattering": state.chattering,
               "occurrences": state.occurrences}
        (updates if exists else inserts).append(row)
        if state.alert is not None and state.occurrences > 1:
            counted.append({"alert_key": state.alert, "count": state.occurrences})
    if counted:  # a new alert's row comes later in the batch, with its count (record_raise)
        alerts = AlertRow.__table__
        session.execute(alerts.update().where(alerts.c.id == bindparam("alert_key"))
                        .values(occurrences=bindparam("count")), counted)
    if updates:
        session.execute(update(RuleStateRow), updates)
    if inserts:
        session.execute(insert(RuleStateRow), inserts)
    if deletes:
        session.execute(delete(RuleStateRow).where(tuple_(RuleStateRow.device_id, RuleStateRow.rule_id).in_(deletes)))


def record_raise(session: Session, decision: Raise, building: str | None = None, suppressed_by: str | None = None,
                 silence_id: int | None = None) -> None:
    rule = decision.rule
    session.add(AlertRow(id=decision.alert, rule_id=rule.id, device_id=decision.device, urgency=decision.level,
                         category=rule.category, title=rule.title, state="raised", raised_at=decision.at,
                         building=building, suppressed_by=suppressed_by, silence_id=silence_id, chattering=False,
                         occurrences=decision.occurrences))
    note = (i18n.said("note.raise_explained", cause=suppressed_by) if suppressed_by
            else i18n.said("note.raise_silenced", silence=silence_id) if silence_id else None)
    session.add(log_line(decision.alert, "raised", decision.at, "rules", note))


def record_clear(session: Session, decision: Clear) -> AlertRow | None:
    """Mark the alert cleared (and no longer shelved); return it, or None if it was never recorded."""
    row = session.get(AlertRow, decision.alert)
    if row is None:
        return None
    row.state, row.cleared_at = "cleared", decision.at
    row.shelved_until = None
    session.add(AlertLogRow(alert_id=decision.alert, state="cleared", at=decision.at, by="rules"))
    return row


def mark_chattering(session: Session, alert_id: str, at: datetime) -> bool:
    """Flag the alert as chattering (for the maintenance plan); return whether it exists. Its ticket is
    dispatch's to say (dispatch/lookup.py `alert_ticket`)."""
    row = session.get(AlertRow, alert_id)
    if row is None:
        return False
    row.chattering = True
    session.add(log_line(alert_id, "chattering", at, "rules", i18n.said("note.condition_chattering")))
    return True


def acknowledge(session: Session, alert_id: str, by: str, now: datetime,
                note: str | None = None) -> tuple[AlertRow, bool]:
    """Record who acknowledged the alert and when (the first acknowledgement counts); return it and
    whether this call was that first acknowledgement."""
    row = session.get(AlertRow, alert_id)
    if row is None:
        raise AlertNotFound(alert_id)
    if row.acked_at is not None:
        return row, False
    row.acked_by, row.acked_at = by, now
    session.add(AlertLogRow(alert_id=alert_id, state="acknowledged", at=now, by=by, note=note))
    return row, True


def shelve(session: Session, alert_id: str, by: str, until: datetime, reason: str, now: datetime) -> AlertRow:
    """Shelve an active alert until a time, with a reason; it comes back when the time is up or it clears."""
    row = session.get(AlertRow, alert_id)
    if row is None:
        raise AlertNotFound(alert_id)
    if row.state != "raised":
        raise ValueError(f"alert {alert_id} is {row.state}; only an active alert can be shelved")
    if until <= now:
        raise ValueError("a shelf must end in the future")
    row.shelved_until, row.shelved_by, row.shelve_reason = until, by, reason
    session.add(log_line(alert_id, "shelved", now, by,  # the operator's reason as typed, a parameter
                         i18n.said("note.shelved", until=until.isoformat(), reason=reason)))
    return row


def unshelve(session: Session, alert_id: str, by: str, now: datetime) -> AlertRow:
    row = session.get(AlertRow, alert_id)
    if row is None:
        raise AlertNotFound(alert_id)
    if row.shelved_until is not None:
        row.shelved_until = None
        session.add(AlertLogRow(alert_id=alert_id, state="unshelved", at=now, by=by))
    return row


def expire_shelves(session: Session, now: datetime) -> list[AlertRow]:
    """Unshelve every alert whose shelf time is up; return them."""
    rows = list(session.scalars(
        select(AlertRow).where(AlertRow.shelved_until.is_not(None), AlertRow.shelved_until <= now)))
    for row in rows:
        row.shelved_until = None
        session.add(log_line(row.id, "unshelved", now, "system", i18n.said("note.shelf_time_up")))
    return rows


def log_line(alert_id: str, state: str, at: datetime, by: str | None, note: str | i18n.Said | None) -> AlertLogRow:
    """Return an alert's log row: `note` as its English text and, for the rules' own wording (a `Said`), its key
    and parameters, said in the reader's language (`note_of`); a person's note is stored as typed."""
    return AlertLogRow(alert_id=alert_id, state=state, at=at, by=by, note=None if note is None else str(note),
                       note_said=stored.dump(note))


def note_of(line: AlertLogRow) -> str | i18n.Said | None:
    """Return what a log line says: the rules' wording as a `Said`, else the note as stored (a person's words,
    a line from before the wording was kept)."""
    return stored.load(line.note_said, line.note)


def alert_log(session: Session, alert_id: str) -> list[AlertLogRow]:
    return list(session.scalars(select(AlertLogRow).where(AlertLogRow.alert_id == alert_id).order_by(AlertLogRow.id)))


def list_alerts(session: Session, state: str | None = None, device_id: str | None = None,
                limit: int = 200) -> list[AlertRow]:
    query = select(AlertRow)
    if state:
        query = query.where(AlertRow.state == state)
    if device_id:
        query = query.where(AlertRow.device_id == device_id)
    return list(session.scalars(query.order_by(AlertRow.raised_at.desc()).limit(limit)))


def fault_counts(session: Session, since: datetime) -> dict[str, int]:
    """Return, per device, the alerts it raised since a time that were its own faults (not silenced in a
    planned window, not explained by an outage)."""
    rows = session.execute(
        select(AlertRow.device_id, func.count()).where(
            AlertRow.raised_at >= since, AlertRow.silence_id.is_(None), AlertRow.suppressed_by.is_(None))
        .group_by(AlertRow.device_id))
    return {device_id: count for device_id, count in rows}


def recent_episodes(session: Session, since: datetime) -> dict[StateKey, tuple[Episode, ...]]:
    """Return, per (device, rule), the alerts active or raised since a time, oldest first: what a late
    reading is checked against (docs/rules.md, "Late readings")."""
    rows = session.execute(
        select(AlertRow.device_id, AlertRow.rule_id, AlertRow.id, AlertRow.raised_at, AlertRow.cleared_at)
        .where((AlertRow.raised_at >= since) | (AlertRow.state == "raised"))
        .where(AlertRow.device_id.is_not(None)).order_by(AlertRow.raised_at))
    found: dict[StateKey, tuple[Episode, ...]] = {}
    for device_id, rule_id, alert, raised_at, cleared_at in rows:
        key = (device_id, rule_id)
        found[key] = found.get(key, ()) + (Episode(alert, raised_at, cleared_at),)
    return found


def alerts_since(session: Session, since: datetime) -> int:
    """Return how many alerts were raised since a time, leaving out those a silence expected (the flood
    figure counts the last 10 minutes, as the control room's banner does)."""
    return session.scalar(select(func.count()).where(AlertRow.raised_at >= since, AlertRow.silence_id.is_(None))) or 0


# --- silences ---------------------------------------------------------------------------------

SILENCE_KEYS = ("rule", "device", "device_type", "building", "floor", "zone")


def create_silence(session: Session, *, matchers: Mapping[str, Any], starts_at: datetime, ends_at: datetime,
                   reason: str, author: str, now: datetime) -> SilenceRow:
    unknown = set(matchers) - set(SILENCE_KEYS)
    if unknown:
        raise ValueError(f"unknown matcher {', '.join(sorted(unknown))}; use {', '.join(SILENCE_KEYS)}")
    if not matchers:
        raise ValueError("a silence needs at least one matcher (it would silence the whole estate)")
    if ends_at <= starts_at:
        raise ValueError("a silence must end after it starts")
    row = SilenceRow(matchers=dict(matchers), starts_at=starts_at, ends_at=ends_at, reason=reason, author=author,
                     created_at=now)
    session.add(row)
    session.flush()
    return row


def expire_silence(session: Session, silence_id: int, by: str, now: datetime) -> SilenceRow:
    """End a silence now (it stays on record)."""
    row = session.get(SilenceRow, silence_id)
    if row is None:
        raise SilenceNotFound(silence_id)
    if row.ends_at > now:
        row.ends_at, row.expired_by = max(now, row.starts_at), by
    return row


def list_silences(session: Session, now: datetime | None = None, limit: int | None = None) -> list[SilenceRow]:
    """Return every silence, or with `now` only those in force or still to come, newest first."""
    query = select(SilenceRow)
    if now is not None:
        query = query.where(SilenceRow.ends_at > now)
    return list(session.scalars(query.order_by(SilenceRow.starts_at.desc(), SilenceRow.id.desc()).limit(limit)))
