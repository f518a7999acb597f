"""The service's loss alarms: messages lost (devices' sequence gaps) and a broker that lost the service's session.

Both are decided in ingest/loss.py and raised with caretaker/system_alarms.py, in one transaction with the
accounting (ingest/loss_store.py), so a crash neither repeats an alarm nor drops one. Runs on the ingest
worker's thread, which is the database's only ingest writer. What each alarm means and what an operator does
about it: docs/operations.md, "Lost messages".
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from queue import Empty, SimpleQueue
from typing import Iterable, Mapping
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from caretaker import i18n
from caretaker.system_alarms import clear_alarm, raise_alarm
from caretaker.estate.clock import Clock
from caretaker.estate.model import Site
from caretaker.ingest.client import SessionReport
from caretaker.ingest.loss import Mark, account, closed, loss_title, should_clear
from caretaker.ingest.loss_store import load_marks, save_marks
from caretaker.ingest.store import DeviceSnapshot
from caretaker.ingest.tables import DeviceStateRow
from caretaker.rules.system import SystemAlarm, active_system_alarm
from caretaker.rules.tables import AlertLogRow, AlertRow

log = logging.getLogger(__name__)

URGENCY = 2  # an operator checks soon: an alarm may have been among what was lost


@dataclass(slots=True)
class WatchResult:
    outbox_added: bool = False


class LossWatch:
    """Turns the devices' gap counts and the broker's session reports into alarms, and clears them once an
    operator has seen them and nothing more was lost for a while (ingest/loss.py, QUIET)."""

    def __init__(self, site: Site, sessions: sessionmaker, prefix: str, clock: Clock) -> None:
        self.site = site
        self.sessions = sessions
        self.prefix = prefix
        self.clock = clock
        self.building_of = {d.id: d.place.building for d in site.devices.values()}
        self.marks: dict[str, Mark] = {}
        self._stored: set[str] = set()
        self._pending: list[SessionReport] = []  # kept until their alarm is committed
        self._active: set[SystemAlarm] = set()
        # the devices whose gap count may differ from what was reported, still to look at; None: every device
        # (the first look after a start, or a caller that does not say what changed)
        self._unchecked: set[str] | None = None
        self.ran_before = False

    def start(self) -> None:
        """Read the accounting back, and whether this database has served before: a first start without a
        session is a new deployment, a later one is a loss. Call before the ingest client connects."""
        with self.sessions() as session:
            self.marks = load_marks(session)
            self._stored = set(self.marks)
            self.ran_before = session.scalar(select(DeviceStateRow.device_id).limit(1)) is not None
            self._active = {kind for kind in (SystemAlarm.MESSAGES_LOST, SystemAlarm.SESSION_LOST)
                            if active_system_alarm(session, kind) is not None}

    def watch(self, reports: SimpleQueue[SessionReport], snapshots: Mapping[str, DeviceSnapshot],
              gaps_changed: Iterable[str] | None = None) -> WatchResult:
        """One look: new session reports, new gaps, alarms ready to clear. `gaps_changed`: the devices whose gap count
        changed since the last look (Pipeline.take_gap_changes), so an idle estate of 100,000 devices costs a
        look at none of them; None looks at every device."""
        while True:
            try:
                self._pending.append(reports.get_nowait())
            except Empty:
                break
        if gaps_changed is None:
            self._unchecked = None
        elif self._unchecked is not None:
            self._unchecked.update(gaps_changed)
        lost_sessions = [r for r in self._pending if not r.present and (r.connection > 1 or self.ran_before)]
        gaps = self._new_gaps(snapshots)
        if not lost_sessions and not gaps and not (self._active and self._clear_due()):
            self._pending.clear()
            self._unchecked = set()
            return WatchResult()
        now = self.clock.now()
        result = WatchResult()
        stored = set(self._stored)
        with self.sessions.begin() as session:
            if lost_sessions:
                result.outbox_added |= self._session_lost(session, now)
            changed = self._messages_lost(session, gaps, now, result) if gaps else {}
            changed.update(self._clear_seen(session, now, result))
            save_marks(session, changed, stored)
        # committed: only now is the new accounting the current one (a failure leaves it, and the
        # pending reports, to be tried again on the next tick)
        self.marks.update(changed)
        self._stored = stored
        self._pending.clear()
        self._unchecked = set()
        return result

    def _new_gaps(self, snapshots: Mapping[str, DeviceSnapshot]) -> dict[str, int]:
        """The gap counts that differ from what was reported, of the devices still to look at."""
        looked = snapshots.keys() if self._unchecked is None else self._unchecked
        gaps = {}
        for device_id in looked:
            snap = snapshots.get(device_id)
            if snap is None or device_id not in self.building_of:
                continue
            mark = self.marks.get(device_id)
            if snap.gaps != (mark.reported if mark is not None else 0):
                gaps[device_id] = snap.gaps
        return gaps

    # --- the decisions, inside the transaction ------------------------------------------------

    def _session_lost(self, session: Session, now: datetime) -> bool:
        local = now.astimezone(ZoneInfo(self.site.timezone)).strftime("%Y-%m-%d %H:%M:%S")
        title = i18n.said("alarm.session_lost", at=local)  # written in the estate's locale (system_alarms.py)
        row = active_system_alarm(session, SystemAlarm.SESSION_LOST)
        if row is not None and row.acked_at is not None:
            clear_alarm(session, prefix=self.prefix, site=self.site.id, kind=SystemAlarm.SESSION_LOST, now=now,
                        note=i18n.said("alarm.session_lost_again"), locale=self.site.locale)
        raise_alarm(session, prefix=self.prefix, site=self.site.id, kind=SystemAlarm.SESSION_LOST, title=title,
                    urgency=URGENCY, now=now, locale=self.site.locale)
        self._active.add(SystemAlarm.SESSION_LOST)
        log.error("alarm: %s", title)  # the log in English (a `Said` reads as its English text)
        return True

    def _messages_lost(self, session: Session, gaps: Mapping[str, int], now: datetime,
                       result: WatchResult) -> dict[str, Mark]:
        row = active_system_alarm(session, SystemAlarm.MESSAGES_LOST)
        accounting = account(gaps, self.marks, self.building_of, acknowledged=row is not None and row.acked_at is not None)
        loss = accounting.loss
        if loss is None:
            return dict(accounting.marks)
        if loss.renew:
            clear_alarm(session, prefix=self.prefix, site=self.site.id, kind=SystemAlarm.MESSAGES_LOST, now=now,
                        note=i18n.said("alarm.messages_lost_again"), locale=self.site.locale)
        title = loss_title(loss, self.site.locale)  # the estate's language, cut to the title's length in it
        change = raise_alarm(session, prefix=self.prefix, site=self.site.id, kind=SystemAlarm.MESSAGES_LOST,
                             title=title, urgency=URGENCY, now=now, building=loss.building)
        row = session.get(AlertRow, change.alert)
        if row is not None:  # the control room files it under its building, none once it spans several
            row.building = loss.building
        self._active.add(SystemAlarm.MESSAGES_LOST)
        result.outbox_added = True
        log.error("alarm: %s (%d new)", loss_title(loss), loss.new_messages)  # the log in English
        return dict(accounting.marks)

    def _clear_due(self) -> bool:
        """Whether a raised loss alarm may clear now; a read, so a quiet tick takes no write lock."""
        now = self.clock.now()
        with self.sessions() as session:
            for kind in list(self._active):
                row = active_system_alarm(session, kind)
                if row is None:
                    self._active.discard(kind)
                elif row.acked_at is not None and should_clear(row.acked_at, _last_loss(session, row), now):
                    return True
        return False

    def _clear_seen(self, session: Session, now: datetime, result: WatchResult) -> dict[str, Mark]:
        changed: dict[str, Mark] = {}
        for kind in list(self._active):
            row = active_system_alarm(session, kind)
            if row is None:
                self._active.discard(kind)
                continue
            if row.acked_at is None:
                continue
            last = _last_loss(session, row)
            if should_clear(row.acked_at, last, now):
                clear_alarm(session, prefix=self.prefix, site=self.site.id, kind=kind, now=now,
                            note=i18n.said("alarm.loss_quiet"), locale=self.site.locale)
                self._active.discard(kind)
                result.outbox_added = True
                if kind is SystemAlarm.MESSAGES_LOST:
                    changed.update(closed(self.marks))
        return changed


def _last_loss(session: Session, row: AlertRow) -> datetime:
    """When the alarm last had news: its raise or its latest update."""
    last = session.scalar(select(AlertLogRow.at).where(AlertLogRow.alert_id == row.id,
                                                       AlertLogRow.state.in_(("raised", "updated")))
                          .order_by(AlertLogRow.at.desc()).limit(1))
    return last or row.raised_at
