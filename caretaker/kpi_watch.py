"""The KPI watch: once an hour (one instance a period, caretaker.leases), the figures of the last three whole
days in the estate's zone; a figure below its target on each raises `system.kpi_missed` for it, one that is
not clears it (api/kpi_watch.py decides)."""

from __future__ import annotations

from datetime import timedelta

from caretaker.api.kpi_watch import TARGETS, last_days, missed_every_day, title
from caretaker import i18n
from caretaker.api.kpis import compute_kpis, load_kpi_rows
from caretaker.db import Sessions
from caretaker.leases import take_turn
from caretaker.system_alarms import clear_alarm, raise_alarm
from caretaker.estate.clock import Clock
from caretaker.rules.system import SystemAlarm

PERIOD = timedelta(hours=1)
URGENCY = 3  # the management team's business, not a technician's tonight


class KpiWatch:
    def __init__(self, sessions: Sessions, clock: Clock, prefix: str, site: str, zone: str,
                 locale: str | None = None) -> None:
        self._sessions, self._clock, self._prefix, self._site, self._zone = sessions, clock, prefix, site, zone
        self._locale = locale  # the estate's: the alarm's words (None: English)

    def run(self, force: bool = False) -> bool:
        """Check the last days' figures; return whether an alarm was raised or cleared (its event queued)."""
        now = self._clock.now()
        changed = False
        with self._sessions.begin() as session:
            if not take_turn(session, "kpi-watch", PERIOD, now) and not force:
                return False
            daily = []
            for start, end in last_days(now, self._zone):
                tickets, alerts = load_kpi_rows(session, start, end)
                daily.append(compute_kpis(tickets, alerts, start, end, now))
            missed = missed_every_day(daily)
            for name, target in TARGETS.items():
                if name in missed:
                    change = raise_alarm(session, prefix=self._prefix, site=self._site, kind=SystemAlarm.KPI_MISSED,
                                         title=title(name, missed[name], target), urgency=URGENCY, now=now,
                                         subject=name, locale=self._locale)
                    changed = changed or change.state != "unchanged"
                else:
                    changed = clear_alarm(session, prefix=self._prefix, site=self._site, kind=SystemAlarm.KPI_MISSED,
                                          now=now, subject=name, note=i18n.said("alarm.kpi_back"),
                                          locale=self._locale) is not None or changed
        return changed
