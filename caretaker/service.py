"""The running service: one instance of `caretaker run`. It holds what the estates share (the database, the
publisher, the estate leases, the scheduler, the HTTP API, /metrics and /healthz) and one
`caretaker.estate_runtime.EstateRuntime` per estate (docs/deploy.md, "Many estates")."""

from __future__ import annotations

import logging
import threading
from typing import Callable, Sequence

from apscheduler.schedulers.background import BackgroundScheduler
from prometheus_client import CollectorRegistry
from sqlalchemy import text

from caretaker.estate.clock import Clock, SystemClock
from caretaker.estate_db import DatabaseUnavailable, Databases, open_databases
from caretaker.estate_leases import LeaseTable
from caretaker.estate_runtime import EstateRuntime
from caretaker.estates import Loaded, is_many, load_estates
from caretaker.ingest.client import Publisher
from caretaker.lease_keeper import LeaseKeeper, instance_name
from caretaker.metrics import register_process
from caretaker.roles import describe, parse_roles
from caretaker.settings import Settings
from caretaker.single_instance import InstanceLock, SecondInstance
from caretaker.db import make_sessions

__all__ = ["DatabaseUnavailable", "Loaded", "Service", "load_configuration", "load_estates"]

log = logging.getLogger(__name__)

KPI_WATCH_EVERY_S = 600  # the check runs once an hour across instances (caretaker/kpi_watch.py); asking is cheap


def load_configuration(settings: Settings) -> Loaded:
    """Return the one estate the settings name, with the rules; raises SiteError/RulesError naming every problem,
    ValueError for a directory of several estates (load_estates reads those)."""
    estates = load_estates(settings)
    if len(estates) != 1:
        raise ValueError(f"{settings.site_file} holds {len(estates)} estates: load them with load_estates")
    return estates[0]


class Service:
    """Everything `caretaker run` starts; `start()` returns once the broker and database are ready. Built with one
    `Loaded` estate, the service reads as that estate (`service.site`, `service.pipeline`, …) as it always did;
    with several, `service.estates[site]` is each."""

    def __init__(self, settings: Settings, loaded: Loaded | Sequence[Loaded], clock: Clock | None = None,
                 roles: str | None = None) -> None:
        self.settings = settings
        self.clock = clock or SystemClock()
        chosen = (loaded,) if isinstance(loaded, Loaded) else tuple(loaded)
        # a directory keeps every estate apart, even while it holds one: adding a second moves nothing
        self.many = len(chosen) > 1 or is_many(settings)
        self.roles = parse_roles(roles if roles is not None else settings.role)
        self.instance_lock = InstanceLock(settings.database_url)  # SQLite: one instance only (docs/deploy.md)
        try:
            self.instance_lock.acquire()
        except SecondInstance as exc:
            raise DatabaseUnavailable(str(exc)) from exc
        self.databases: Databases = open_databases(settings.database_url, [e.site.id for e in chosen], self.many)
        # which instance ingests which estate: leases in the default scope (docs/deploy.md, "Scaling out")
        base = self.databases.base
        self.leases = LeaseKeeper(make_sessions(base), LeaseTable(base), self.clock, [e.site.id for e in chosen],
                                  instance_name(settings.instance_id), settings.estates_per_instance,
                                  settings.lease_seconds)
        # one publisher per instance, its id its own (a shared id would make two instances kick each other off)
        self.publisher = Publisher(settings.mqtt, f"{settings.mqtt_client_id}-pub-{self.leases.token}",
                                   settings.mqtt_protocol)
        self.estates: dict[str, EstateRuntime] = {
            e.site.id: EstateRuntime(settings, e, self.clock, self.databases.estates[e.site.id], self.publisher,
                                     self.leases, many=self.many, with_process_metrics=not self.many)
            for e in chosen}
        # many estates: one registry for the process figures; each estate's series carry its `site` label
        self.process_registry = register_process(CollectorRegistry(auto_describe=True)) if self.many else None
        self.scheduler = BackgroundScheduler(timezone="UTC")
        self._stop = threading.Event()
        self.http = None

    # --- one estate, as the service always was --------------------------------------------------

    @property
    def only(self) -> EstateRuntime:
        """The estate of a single-estate service; raises for several (pick one from `estates`)."""
        if len(self.estates) != 1:
            raise AttributeError(f"this service runs {len(self.estates)} estates: use service.estates[site]")
        return next(iter(self.estates.values()))

    site = property(lambda self: self.only.site)
    engine = property(lambda self: self.only.engine)
    sessions = property(lambda self: self.only.sessions)
    pipeline = property(lambda self: self.only.pipeline)
    dispatcher = property(lambda self: self.only.dispatcher)
    ingest = property(lambda self: self.only.ingest)
    outbox = property(lambda self: self.only.outbox)
    channels = property(lambda self: self.only.channels)
    committer = property(lambda self: self.only.committer)
    losses = property(lambda self: self.only.losses)
    timer_audit = property(lambda self: self.only.timer_audit)
    kpi_watch = property(lambda self: self.only.kpi_watch)
    job_runs = property(lambda self: self.only.job_runs)
    metrics = property(lambda self: self.only.metrics)

    @property
    def purge_every(self):
        return self.only.purge_every

    @purge_every.setter
    def purge_every(self, value) -> None:
        for estate in self.estates.values():
            estate.purge_every = value

    def watch_losses(self):
        return self.only.watch_losses()

    def follow_lease(self, at_start: bool = False) -> bool:
        return self.only.follow_lease(at_start)

    # --- life cycle --------------------------------------------------------------------------

    def start(self, with_http: bool = True) -> None:
        serves_api = with_http and self.settings.http_enabled and "api" in self.roles
        self.publisher.start()
        for estate in self.estates.values():
            estate.start()
        if "ingest" in self.roles:
            self.leases.run_round(starting=True)
            for estate in self.estates.values():
                estate.start_ingest()  # an estate held now is connected and subscribed before this returns
            self.leases.start()
        if "timers" in self.roles:
            self._add_timer_jobs()
        self.scheduler.start()
        if serves_api:
            from caretaker.http import HttpServer

            self.http = HttpServer(self)
            self.http.start()
        devices = sum(len(e.site.devices) for e in self.estates.values())
        log.info("caretaker is running for %s (%d devices); roles %s, instance %s, estates held: %s",
                 ", ".join(self.estates), devices, describe(self.roles), self.leases.name,
                 ", ".join(self.leases.owned()) or "none")

    def _add_timer_jobs(self) -> None:
        self.scheduler.add_job(self.sweep_timers, "interval", seconds=self.settings.tick_seconds,
                               id="timers", max_instances=1, coalesce=True)
        # its own job, so that a sweep that hangs does not hold back the check that reports it
        self.scheduler.add_job(self.audit_timers, "interval", seconds=max(self.settings.tick_seconds,
                               self.settings.timers_overdue_s / 6), id="timer-audit", max_instances=1, coalesce=True)
        self.scheduler.add_job(self.watch_kpis, "interval", seconds=KPI_WATCH_EVERY_S,
                               id="kpi-watch", max_instances=1, coalesce=True)  # figures that slip (api/kpi_watch.py)
        self.scheduler.add_job(self.purge, "interval", seconds=min(e.purge_every for e in self.estates.values())
                               .total_seconds(), id="purge", max_instances=1, coalesce=True)

    def stop(self) -> None:
        """Stop whatever was started, in order; safe after a start that failed half-way."""
        self._stop.set()
        if self.http is not None:
            self.http.stop()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        for estate in self.estates.values():
            estate.stop_ingest()
        self.leases.stop()  # after the workers: nothing commits for an estate once its lease is given up
        for estate in self.estates.values():
            estate.stop()
        self.publisher.stop()
        self.databases.dispose()
        self.instance_lock.release()

    # --- the periodic jobs, estate by estate ---------------------------------------------------

    def _each(self, job: Callable[[EstateRuntime], object]) -> list[object]:
        """Run a job for every estate; one estate's failure is logged and never holds back the next."""
        results = []
        for estate in self.estates.values():
            try:
                results.append(job(estate))
            except Exception:
                log.exception("estate %s: %s failed; will try again", estate.site.id,
                              getattr(job, "__name__", job))
        return results

    def sweep_timers(self) -> int:
        """Fire every estate's due timers once; return how many fired (EstateRuntime.sweep_timers)."""
        if len(self.estates) == 1:
            return self.only.sweep_timers()  # its errors reach the scheduler's log as they always did
        return sum(n for n in self._each(EstateRuntime.sweep_timers) if isinstance(n, int))

    def audit_timers(self) -> None:
        self._each(EstateRuntime.audit_timers)

    def watch_kpis(self) -> None:
        self._each(EstateRuntime.watch_kpis)

    def purge(self) -> None:
        self._each(EstateRuntime.purge)

    # --- health and figures ------------------------------------------------------------------

    def database_ok(self) -> bool:
        if not self.many:
            return self.only.database_ok()  # a reader: never waits behind a batch commit on SQLite
        try:
            with self.databases.base.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception:
            return False
        if self.databases.base.dialect.name == "postgresql" or not self.many:
            return True  # every estate's scope is in this same database (one estate: this very one)
        return all(e.database_ok() for e in self.estates.values())  # a SQLite file each

    def health(self) -> dict:
        ingesting = [e for e in self.estates.values() if e.ingesting]
        broker = self.publisher.connected and all(e.ingest.connected for e in ingesting)
        return {"broker": broker, "database": self.database_ok(), "instance": self.leases.name,
                "roles": sorted(self.roles), "estates": self.leases.owned()}

    def metrics_text(self) -> str:
        """Return the service's counters, histograms, process figures and build info in Prometheus text format
        (for one estate the /metrics route adds the database gauges: api/metrics.py). Many estates: all of it,
        every estate's series with its `site` label, the process figures once."""
        if not self.many:
            return self.only.metrics_text()
        from caretaker.estate_metrics import deployment_metrics

        return deployment_metrics(self)
