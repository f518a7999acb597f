"""The demo's stand-in for the people who finish the work: technicians resolve, the control room calls back.

Resolving needs a photo over the API and verifying needs a call to the resident, which simulated
MQTT devices cannot do; without this the demo's technicians would all end up busy and new incidents
would wait unassigned."""

from __future__ import annotations

import logging
import random
import threading
from datetime import timedelta

from sqlalchemy import select

from caretaker.dispatch.errors import DispatchError
from caretaker.dispatch.lifecycle import TicketStatus
from caretaker.dispatch.service import Dispatcher
from caretaker.dispatch.tables import TicketRow
from caretaker.estate.clock import Clock

log = logging.getLogger(__name__)


class DemoCloser:
    """Every few seconds: resolve tickets that have been on site for a while, then verify and close them."""

    def __init__(self, sessions, dispatcher: Dispatcher, clock: Clock, work: timedelta, callback: timedelta,
                 seed: int = 1) -> None:
        self._sessions, self._dispatcher, self._clock = sessions, dispatcher, clock
        self._work, self._callback = work, callback
        self._rng = random.Random(seed)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="demo-closer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(5.0):
            try:
                self.close_finished()
            except Exception:  # the demo goes on; the next round tries again
                log.exception("demo closer failed")

    def close_finished(self) -> None:
        now = self._clock.now()
        with self._sessions.begin() as session:
            on_site = session.scalars(select(TicketRow).where(
                TicketRow.status == TicketStatus.ON_SITE.value, TicketRow.arrived_at <= now - self._work)).all()
            for ticket in on_site:
                self._step(lambda t=ticket: self._dispatcher.resolve(
                    session, t.id, t.assignee, now, "Fixed and tested (demo).", ["demo://photo-after.jpg"]))
            resolved = session.scalars(select(TicketRow).where(
                TicketRow.status == TicketStatus.RESOLVED.value, TicketRow.resolved_at <= now - self._callback)).all()
            for ticket in resolved:
                self._step(lambda t=ticket: self._dispatcher.verify(
                    session, t.id, "demo-operator", now, self._rng.choice((4, 5, 5)), "Resident called back (demo)."))

    @staticmethod
    def _step(action) -> None:
        try:
            action()
        except DispatchError as exc:  # the ticket moved on meanwhile
            log.info("demo closer skipped a step: %s", exc)
