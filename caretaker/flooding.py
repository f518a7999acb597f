"""The flood guard at the head of the pipeline: drops a flooding device's excess (ingest/flood.py decides),
counts it, and raises one alarm and one maintenance ticket per flooding device (docs/operations.md)."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime, timedelta
from typing import Sequence

from sqlalchemy.orm import sessionmaker

from caretaker import i18n
from caretaker.system_alarms import clear_alarm, raise_alarm
from caretaker.dispatch.service import AlertFacts, Dispatcher
from caretaker.dispatch.tables import TicketRow
from caretaker.estate.model import Site
from caretaker.ingest.client import Inbound
from caretaker.ingest.flood import Admission, FloodGuard, FloodPolicy
from caretaker.rules.system import SystemAlarm

log = logging.getLogger(__name__)

# the trade that looks after a device of each family: the maintenance ticket goes to them
TRADE = {"water": "plumbing", "power": "electrical", "elevator": "elevator", "access": "security"}
MAINTENANCE_URGENCY = 4  # a device that talks too much is a fault to fix, not an emergency
MAINTENANCE_SOURCE = "system"  # opened by the service about itself, as its system alarms are


class FloodGate:
    def __init__(self, site: Site, dispatcher: Dispatcher, sessions: sessionmaker, prefix: str,
                 counters: Counter[str], policy: FloodPolicy = FloodPolicy()) -> None:
        self.site, self.sessions, self.prefix = site, sessions, prefix
        # a maintenance job of its own, never folded into an open incident of the building (a leak's, say)
        self.dispatcher = Dispatcher(site, dispatcher.prefix, incident_window=timedelta(0))
        self.counters = counters
        self.guard = FloodGuard(policy)
        self._unannounced: set[str] = set()  # began flooding, alarm not yet written (the database failed)

    def admit(self, batch: Sequence[Inbound], now: datetime) -> tuple[Sequence[Inbound], Admission]:
        """Return the messages of the batch to process, and the decision to `commit` once it is durable."""
        admission = self.guard.admit([m.topic for m in batch], now)
        if not admission.dropped:
            return batch, admission
        return [batch[i] for i in admission.admitted], admission

    def commit(self, admission: Admission, now: datetime) -> None:
        """The batch is durable: count its dropped messages, and announce who began or stopped flooding."""
        self.guard.commit(admission, now)
        if admission.dropped:
            self.counters["flood_dropped"] += admission.dropped
        self._unannounced.update(admission.started)
        if self._unannounced or admission.calmed:
            self._announce(admission.calmed, now)

    def _device(self, source: str) -> str | None:
        """Return the device id of a source of this site, or None (unknown devices are only counted)."""
        parts = source.split("/")
        if len(parts) == 4 and parts[0] == self.prefix and parts[1] == self.site.id and parts[2] == "devices" \
                and parts[3] in self.site.devices:
            return parts[3]
        return None

    def _announce(self, calmed: list[str], now: datetime) -> None:
        started = sorted(self._unannounced)
        try:
            with self.sessions.begin() as session:
                for source in started:
                    if (device_id := self._device(source)) is not None:
                        self._raise(session, device_id, now)
                for source in calmed:
                    if (device_id := self._device(source)) is not None:
                        clear_alarm(session, prefix=self.prefix, site=self.site.id, kind=SystemAlarm.DEVICE_FLOODING,
                                    now=now, subject=device_id, note=i18n.said("alarm.flooding_quiet"),
                                    locale=self.site.locale)
        except Exception:  # the batch itself must still go on; the alarm is written with a later batch
            log.exception("flood guard: could not write the flooding alarm")
            return
        self._unannounced.difference_update(started)
        self.counters["flood_alarms"] += len(started)

    def _raise(self, session, device_id: str, now: datetime) -> None:
        device = self.site.devices[device_id]
        policy = self.guard.policy
        title = i18n.said("alarm.flooding", device=device_id, rate=f"{policy.rate:g}")  # in the estate's locale
        change = raise_alarm(session, prefix=self.prefix, site=self.site.id, kind=SystemAlarm.DEVICE_FLOODING,
                             title=title, urgency=MAINTENANCE_URGENCY, now=now, subject=device_id,
                             building=device.place.building, locale=self.site.locale)
        if change.state != "raised":
            return  # already flooding and announced: one alarm, one ticket
        ticket = self.dispatcher.open_for_alert(session, AlertFacts(
            change.alert, SystemAlarm.DEVICE_FLOODING.value, device_id, MAINTENANCE_URGENCY,
            TRADE.get(device.family, "general"), i18n.say("alarm.flooding_ticket", self.site.locale, device=device_id), now), now)
        row = session.get(TicketRow, ticket)
        if row is not None and row.open_key == f"{device_id}|{SystemAlarm.DEVICE_FLOODING.value}":
            row.source = MAINTENANCE_SOURCE  # not a sensor incident: a building's leak must not join it
