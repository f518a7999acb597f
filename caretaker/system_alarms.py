"""Raise and clear the service's own alarms (rules/system.py) and queue their AlertEvents in the same transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from caretaker import i18n

from caretaker.dispatch.messages import AlertEvent, publish_alert
from caretaker.dispatch.outbox import iso
from caretaker.rules.system import SystemAlarm, SystemAlarmChange, clear_system_alarm, raise_system_alarm


def _publish(session: Session, prefix: str, site: str, change: SystemAlarmChange, now: datetime) -> None:
    if change.state == "unchanged":
        return
    publish_alert(session, prefix, site, AlertEvent(
        alert=change.alert, state="raised" if change.state == "updated" else change.state, rule=change.kind.value,
        device=change.subject or None, urgency=change.urgency, ticket=None, ts=iso(change.at) or "",
        title=change.title), now)


def _in(text: str | None, locale: str | None) -> str | None:
    """A title or note said (caretaker/i18n) in the estate's `locale`; None: English, as before estates had
    one; plain text as it is."""
    return i18n.render(text, locale or "en") if isinstance(text, i18n.Said) else text


def raise_alarm(session: Session, *, prefix: str, site: str, kind: SystemAlarm, title: str, urgency: int,
                now: datetime, subject: str = "", building: str | None = None,
                locale: str | None = None) -> SystemAlarmChange:
    """Raise (or update) a system alarm and queue its AlertEvent; return what changed. A `title` said with
    caretaker/i18n is written in `locale`, the estate's (its site file)."""
    change = raise_system_alarm(session, kind, title=_in(title, locale) or "", urgency=urgency, now=now, subject=subject,
                                building=building)
    _publish(session, prefix, site, change, now)
    return change


def clear_alarm(session: Session, *, prefix: str, site: str, kind: SystemAlarm, now: datetime, subject: str = "",
                note: str | None = None, locale: str | None = None) -> SystemAlarmChange | None:
    """Clear a system alarm if one is raised and queue its AlertEvent; return what changed."""
    change = clear_system_alarm(session, kind, now=now, subject=subject, note=_in(note, locale))
    if change is not None:
        _publish(session, prefix, site, change, now)
    return change
