"""The timer auditor: timers overdue by more than a tick and a grace period raise `system.timers_overdue`,
cleared once the sweep has caught up. It runs apart from the sweep (its own scheduler job, its own
transaction), so a sweep that has stopped or hangs is seen; docs/operations.md says what to do."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from caretaker import i18n
from caretaker.db import Sessions
from caretaker.system_alarms import clear_alarm, raise_alarm
from caretaker.dispatch.outbox import iso
from caretaker.dispatch.timers import Overdue, overdue, shared_now
from caretaker.estate.clock import Clock
from caretaker.rules.system import SystemAlarm, active_system_alarm

URGENCY = 1  # a stuck escalation can leave a leak or a trapped resident without anyone told
AUDIT_LOCK = 0x6361_7265_7461  # PostgreSQL: instances raise and clear the alarm one at a time


def overdue_after(tick_seconds: float, grace_seconds: float) -> timedelta:
    """Return how late a timer may be before it counts as overdue: a sweep runs every tick, and may take a while."""
    return timedelta(seconds=tick_seconds + grace_seconds)


def alarm_title(found: Overdue) -> str:
    """Return the alarm's title; it names when the oldest was due, not a count, so it stays the same (and the
    control room is not updated every check) while the sweep stays stuck."""
    since = iso(found.oldest_due_at) if found.oldest_due_at is not None else "?"
    return i18n.said("alarm.timers_overdue", since=since)


@dataclass(frozen=True, slots=True)
class AuditResult:
    overdue: Overdue
    changed: bool  # the alarm was raised or cleared: its AlertEvent waits in the outbox


class TimerAudit:
    def __init__(self, sessions: Sessions, clock: Clock, prefix: str, site: str, late_after: timedelta,
                 locale: str | None = None) -> None:
        self.locale = locale  # the estate's: the alarm's words (None: English)
        self._sessions = sessions
        self._clock = clock
        self._prefix = prefix
        self._site = site
        self.late_after = late_after

    def run(self) -> AuditResult:
        """Count the overdue timers and raise or clear the alarm when that changed; reads only, as a rule."""
        with self._sessions() as session:
            found = self._overdue(session)
            active = active_system_alarm(session, SystemAlarm.TIMERS_OVERDUE) is not None
        if bool(found.count) == active:
            return AuditResult(found, False)
        with self._sessions.begin() as session:
            if session.get_bind().dialect.name == "postgresql":
                session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": AUDIT_LOCK})
            found = self._overdue(session)
            now = shared_now(session, self._clock.now())
            if found.count:
                change = raise_alarm(session, prefix=self._prefix, site=self._site, kind=SystemAlarm.TIMERS_OVERDUE,
                                     title=alarm_title(found), urgency=URGENCY, now=now, locale=self.locale)
                return AuditResult(found, change.state != "unchanged")
            cleared = clear_alarm(session, prefix=self._prefix, site=self._site, kind=SystemAlarm.TIMERS_OVERDUE,
                                  now=now, note=i18n.said("alarm.timers_caught_up"), locale=self.locale)
            return AuditResult(found, cleared is not None)

    def _overdue(self, session: Session) -> Overdue:
        return overdue(session, shared_now(session, self._clock.now()) - self.late_after)

