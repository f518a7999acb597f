"""The lease keeper: a thread that renews this instance's estate leases every third of the lease time and
claims free estates up to its capacity (docs/deploy.md, "Scaling out"). The ingest worker asks it, before
every batch, which generation it holds (`generation`) and checks that generation in the batch's transaction
(`fence`).

The keeper also keeps its own deadline for each lease by the monotonic clock, started before the renewal that
set the database's expiry: an instance cut off from the database, or paused, stops believing it holds an
estate no later than the database stops saying so."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Callable, Sequence

from sqlalchemy.orm import Session, sessionmaker

from caretaker.estate.clock import Clock
from caretaker.estate_leases import Fenced, LeaseTable
from caretaker.lease_plan import plan_round

log = logging.getLogger(__name__)


def instance_name(configured: str | None) -> str:
    """CARETAKER_INSTANCE_ID, else the host's name: a restarted instance keeps its name and takes its estates
    back at once; two instances on one host need names of their own."""
    return configured or socket.gethostname()


@dataclass(slots=True)
class _Held:
    generation: int
    believed_until: float  # time.monotonic(): past it, this instance no longer counts on the lease


class LeaseKeeper:
    def __init__(self, sessions: sessionmaker, table: LeaseTable, clock: Clock, sites: Sequence[str], name: str,
                 capacity: int, lease_seconds: float) -> None:
        self._sessions = sessions
        self._table = table
        self._clock = clock
        self.sites = tuple(sites)
        self.name = name
        self.token = f"{name}-{os.getpid()}"  # this process, for client ids that must never collide
        self.capacity = capacity
        self.ttl = timedelta(seconds=lease_seconds)
        table.bound_idle_transactions(lease_seconds)  # a paused batch must not hold the next owner back
        self._held: dict[str, _Held] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.on_change: Callable[[], None] = lambda: None  # woken when an estate is gained or lost

    # --- what the ingest worker asks ------------------------------------------------------------

    def generation(self, site: str) -> int | None:
        """The generation under which this instance holds the estate now, or None."""
        with self._lock:
            held = self._held.get(site)
            if held is None:
                return None
            if time.monotonic() >= held.believed_until:
                log.warning("the lease of estate %s ran out before it could be renewed; ingest stops", site)
                del self._held[site]
                return None
            return held.generation

    def owned(self) -> list[str]:
        return sorted(site for site in self.sites if self.generation(site) is not None)

    def fence(self, site: str) -> Callable[[Session], None]:
        """The check a batch of this estate runs in its transaction before it commits."""
        def check(session: Session) -> None:
            generation = self.generation(site)
            if generation is None:
                raise Fenced(f"this instance no longer holds the lease of estate {site}")
            self._table.check(session, site, generation, self._clock.now())
        return check

    def lost(self, site: str, generation: int | None = None) -> None:
        """The worker met the fence: forget the lease (another instance holds it now)."""
        with self._lock:
            held = self._held.get(site)
            if held is not None and (generation is None or held.generation == generation):
                del self._held[site]

    # --- the rounds ---------------------------------------------------------------------------

    def run_round(self, starting: bool = False) -> None:
        """Renew what is held, then claim what the plan says; each step its own short transaction."""
        started = time.monotonic()
        with self._sessions.begin() as session:
            now = self._table.now(session, self._clock.now())
            leases = self._table.read(session)
        with self._lock:
            held = {site: h.generation for site, h in self._held.items()}
        plan = plan_round(self.sites, leases, held, self.name, now, self.capacity, starting)
        changed = False
        for site in plan.renew:
            with self._sessions.begin() as session:
                kept = self._table.renew(session, site, self.name, held[site], self.ttl,
                                         self._table.now(session, self._clock.now()))
            with self._lock:
                if kept and site in self._held:
                    self._held[site].believed_until = started + self.ttl.total_seconds()
                elif not kept:
                    log.warning("lost the lease of estate %s to another instance; ingest stops", site)
                    self._held.pop(site, None)
                    changed = True
        for site in plan.claim:
            with self._sessions.begin() as session:
                generation = self._table.claim(session, site, self.name, self.ttl,
                                               self._table.now(session, self._clock.now()), starting)
            if generation is not None:
                log.info("took the lease of estate %s (generation %d)", site, generation)
                with self._lock:
                    self._held[site] = _Held(generation, started + self.ttl.total_seconds())
                changed = True
        if changed:
            self.on_change()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="lease-keeper", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        every = self.ttl.total_seconds() / 3
        while not self._stop.wait(every):
            try:
                self.run_round()
            except Exception:  # the database is away: the monotonic deadlines stop the ingest in time
                log.exception("renewing the estate leases failed; will try again")

    def stop(self) -> None:
        """Stop renewing and give every estate up, so another instance takes it over at once."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        with self._lock:
            held, self._held = self._held, {}
        for site, h in held.items():
            try:
                with self._sessions.begin() as session:
                    self._table.release(session, site, self.name, h.generation,
                                        self._table.now(session, self._clock.now()))
            except Exception:
                log.exception("could not give up the lease of estate %s; it runs out by itself", site)
