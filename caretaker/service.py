"""The running service: wires ingest, rules, dispatch and the API to the broker, the database and the clock."""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
from dataclasses import dataclass
from datetime import timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import sessionmaker

from api.alerts import publish_transition
from caretaker.db import make_engine, make_sessions, migrate
from caretaker.leases import take_turn
from caretaker.loss_alarms import LossWatch
from caretaker.metrics import ServiceMetrics
from caretaker.pipeline import BatchResult, Pipeline
from caretaker.worker import BatchCommitter
from caretaker.settings import Settings
from caretaker.timer_audit import TimerAudit, overdue_after
from caretaker.kpi_watch import KpiWatch
from dispatch import notices, timers
from dispatch.notify import store as channel_store
from dispatch.notify.sender import Channels, build_channels
from dispatch.outbox import OutboxSender, iso, purge_sent
from dispatch.service import Dispatcher
from dispatch.resident_store import ResidentDesk
from estate.clock import Clock, SystemClock
from estate.crashpoints import crash_point
from estate.model import Site
from estate.site import load_site
from ingest import store as ingest_store
from ingest.client import IngestClient, Inbound, Publisher, drain
from ingest.flood import FloodPolicy
from ingest.payloads import Rejection
from ingest.store import DEAD_LETTER_PAYLOAD_LIMIT
from ingest.topics import deadletter_topic, inbound_subscriptions
from rules.evaluate import RuleIndex
from rules.load import load_playbooks, load_rules
from rules.playbooks import DEFAULT_PLAYBOOKS, Playbook
from rules import store as rules_store
from rules.model import Rule

log = logging.getLogger(__name__)

DEADLETTER_PAYLOAD_LIMIT = DEAD_LETTER_PAYLOAD_LIMIT  # the store keeps the same cut (ingest/store.py)
TIMER_RETRY = timedelta(seconds=5)  # before a timer that met a database error fires again
PURGE_EVERY = timedelta(minutes=10)
KPI_WATCH_EVERY_S = 600  # the check runs once an hour across instances (caretaker/kpi_watch.py); asking is cheap
NOTICES_KEPT = timedelta(days=30)  # a supervisor's notice can be acknowledged (and listed) this long


class DatabaseUnavailable(Exception):
    """The database could not be reached at start; the message names where (without the password)."""


@dataclass(frozen=True, slots=True)
class Loaded:
    site: Site
    rules: list[Rule]
    playbooks: tuple[Playbook, ...] = DEFAULT_PLAYBOOKS  # which trades an incident needs (rules file)


def load_configuration(settings: Settings) -> Loaded:
    """Return the site and rules the settings name; raises SiteError/RulesError naming every problem."""
    if settings.site_file is None:
        raise ValueError("CARETAKER_SITE_FILE is not set: point it at your site file (see docs/site-file.md)")
    return Loaded(load_site(settings.site_file), load_rules(settings.rules_file), load_playbooks(settings.rules_file))


class Service:
    """Everything `caretaker run` starts; `start()` returns once the broker and database are ready."""

    def __init__(self, settings: Settings, loaded: Loaded, clock: Clock | None = None) -> None:
        self.settings = settings
        self.site = loaded.site
        self.clock = clock or SystemClock()
        self.engine = make_engine(settings.database_url)
        try:
            migrate(self.engine)
        except OperationalError as exc:
            where = self.engine.url.render_as_string(hide_password=True)
            raise DatabaseUnavailable(f"cannot reach the database at {where}: {exc.orig or exc}") from exc
        self.sessions: sessionmaker = make_sessions(self.engine)
        self.dispatcher = Dispatcher(self.site, settings.mqtt_prefix, timedelta(seconds=settings.incident_window_s),
                                     loaded.playbooks)
        self.dispatcher.residents = ResidentDesk(self.site, settings.mqtt_prefix, settings.public_url,
                                                 timedelta(days=settings.resident_link_days))
        self.pipeline = Pipeline(self.site, RuleIndex(loaded.rules, self.site.devices, self.site.timezone), self.dispatcher, self.sessions,
                                 settings.mqtt_prefix, self.clock, telemetry_sink=self._influx_sink(),
                                 flood_policy=FloodPolicy(settings.device_flood_rate, settings.device_flood_burst))
        target = settings.mqtt
        self.ingest = IngestClient(target, settings.mqtt_client_id, settings.mqtt_protocol,
                                   inbound_subscriptions(settings.mqtt_prefix, self.site.id))
        self.publisher = Publisher(target, f"{settings.mqtt_client_id}-pub", settings.mqtt_protocol)
        self.outbox = OutboxSender(self.sessions, self.publisher.publish, self.clock)
        # every outbox message also goes to the site file's channels that take it, each from its own queue
        # (docs/channels.md); the router runs with no channels too, so the outbox purge is never held back
        self.channels = Channels(self.site, self.engine, settings.mqtt_prefix, build_channels(self.site))
        self.committer = BatchCommitter(self.pipeline, self._after_commit)
        self.losses = LossWatch(self.site, self.sessions, settings.mqtt_prefix, self.clock)
        self.timer_audit = TimerAudit(self.sessions, self.clock, settings.mqtt_prefix, self.site.id,
                                      overdue_after(settings.tick_seconds, settings.timers_overdue_s))
        self.kpi_watch = KpiWatch(self.sessions, self.clock, settings.mqtt_prefix, self.site.id, self.site.timezone)
        self.scheduler = BackgroundScheduler(timezone="UTC")
        self.purge_every = PURGE_EVERY
        self.job_runs: dict[str, int] = {}  # periodic jobs this instance ran (its turn), for /metrics
        self.metrics = ServiceMetrics(self)  # /metrics: this service's own registry (caretaker/metrics.py)
        self.outbox.on_sent = self.metrics.pushed
        self._stop = threading.Event()
        self._worker: threading.Thread | None = None
        self.http = None

    def _influx_sink(self):
        if not self.settings.influx_enabled:
            return None
        from ingest.influx import InfluxSink

        s = self.settings
        return InfluxSink(s.influx_url, s.influx_token.get_secret_value(), s.influx_org, s.influx_bucket,
                          site=self.site.id)

    # --- life cycle --------------------------------------------------------------------------

    def start(self, with_http: bool = True) -> None:
        self.publisher.start()
        self.outbox.start()
        self.channels.start()
        self._worker = threading.Thread(target=self._work, name="ingest-worker", daemon=True)
        self.losses.start()  # before connecting: whether a missing session is news depends on the past
        self._worker.start()
        self.ingest.start()
        self.scheduler.add_job(self.sweep_timers, "interval", seconds=self.settings.tick_seconds,
                               id="timers", max_instances=1, coalesce=True)
        # its own job, so that a sweep that hangs does not hold back the check that reports it
        self.scheduler.add_job(self.audit_timers, "interval", seconds=max(self.settings.tick_seconds,
                               self.settings.timers_overdue_s / 6), id="timer-audit", max_instances=1, coalesce=True)
        self.scheduler.add_job(self._guarded, "interval", args=[self.watch_kpis], seconds=KPI_WATCH_EVERY_S,
                               id="kpi-watch", max_instances=1, coalesce=True)  # figures that slip (api/kpi_watch.py)
        self.scheduler.add_job(self._guarded, "interval", args=[self.purge],
                               seconds=self.purge_every.total_seconds(), id="purge", max_instances=1, coalesce=True)
        self.scheduler.start()
        if with_http and self.settings.http_enabled:
            from caretaker.http import HttpServer

            self.http = HttpServer(self)
            self.http.start()
        log.info("caretaker is running for site %s (%d devices, %d technicians)",
                 self.site.id, len(self.site.devices), len(self.site.technicians))

    def stop(self) -> None:
        """Stop whatever was started, in order; safe after a start that failed half-way."""
        self._stop.set()
        if self.http is not None:
            self.http.stop()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        self.ingest.stop()
        if self._worker is not None:
            self._worker.join(timeout=10)
        self.outbox.stop()
        self.channels.stop()
        self.publisher.stop()
        self.metrics.close()
        close = getattr(self.pipeline.telemetry_sink, "close", None)
        if close is not None:
            close()
        self.engine.dispose()

    # --- the ingest worker -------------------------------------------------------------------

    def _work(self) -> None:
        last_tick = time.monotonic()
        while not self._stop.is_set():
            batch = drain(self.ingest.inbox, self.settings.batch_max, self.settings.batch_wait_ms / 1000, 0.2)
            if batch:
                with self.metrics.batch(batch):  # its pushes remember when its oldest reading arrived
                    self.committer.commit(batch, stopping=self._stop.is_set)
            if time.monotonic() - last_tick >= self.settings.tick_seconds:
                last_tick = time.monotonic()
                self._guarded(self.pipeline.refresh_silences)
                self._guarded(self.pipeline.process_tick)
                self._guarded(self.watch_losses)

    def watch_losses(self):
        """Raise or clear the alarms about lost messages and a lost broker session (caretaker/loss_alarms.py)."""
        return self.losses.watch(self.ingest.sessions, self.pipeline.snapshots)

    def _after_commit(self, part: list[Inbound], result: BatchResult) -> None:
        for message in part:
            self.ingest.ack(message)
        for rejection in result.rejections:
            self._publish_dead_letter(rejection)
        if result.outbox_added or result.accepted:
            self.outbox.wake()
            self.channels.wake()

    def _guarded(self, action) -> None:
        try:
            result = action()
            if getattr(result, "outbox_added", False):
                self.outbox.wake()
        except Exception:
            log.exception("%s failed; will try again", getattr(action, "__name__", action))

    def _publish_dead_letter(self, rejection: Rejection) -> None:
        log.warning("dead letter %s on %s: %s", rejection.reason, rejection.topic, rejection.detail)
        payload = {
            "topic": rejection.topic, "reason": rejection.reason, "detail": rejection.detail,
            "payload_b64": base64.b64encode(rejection.payload[:DEADLETTER_PAYLOAD_LIMIT]).decode("ascii"),
            "ts": iso(self.clock.now()),
        }
        self.publisher.publish(deadletter_topic(self.settings.mqtt_prefix, self.site.id),
                               json.dumps(payload).encode(), qos=0)

    # --- timers ------------------------------------------------------------------------------

    def sweep_timers(self) -> int:
        """Fire every due timer once; return how many fired. On PostgreSQL "due" is by the database's clock,
        whatever clock the service was given (dispatch.timers.shared_now)."""
        fired = 0
        with self.sessions.begin() as session:
            now = timers.shared_now(session, self.clock.now())
            for alert in rules_store.expire_shelves(session, now):
                publish_transition(session, prefix=self.settings.mqtt_prefix, site=self.site.id, row=alert,
                                   state="unshelved", by="system", now=now)
                fired += 1
            # tickets locked in one order, as the ingest worker does not interleave with it the other way
            for due in sorted(timers.claim_due(session, now), key=lambda d: (d.ticket_id, d.due_at)):
                savepoint = session.begin_nested()
                try:
                    self.dispatcher.on_timer(session, due, now)
                    savepoint.commit()
                except DBAPIError:
                    # a passing database error (a deadlock, a lost connection): fire it again shortly
                    savepoint.rollback()
                    timers.rearm(session, due.id, now + TIMER_RETRY)
                    log.exception("timer %s (%s) for ticket %s hit a database error; retrying", due.id, due.kind,
                                  due.ticket_id)
                except Exception:
                    # a broken timer must not hold back the others; it stays fired and is logged
                    savepoint.rollback()
                    log.exception("timer %s (%s) for ticket %s failed", due.id, due.kind, due.ticket_id)
                fired += 1
            if fired:
                crash_point("timers_fired_before_commit")  # claimed and acted on, nothing committed yet
        if fired:
            self.outbox.wake()
        return fired

    def watch_kpis(self) -> None:
        """Raise `system.kpi_missed` for a figure below its target three days running, clear it once not."""
        if self.kpi_watch.run():
            self.outbox.wake()

    def audit_timers(self) -> None:
        """Raise `system.timers_overdue` while timers are overdue, clear it once they are not."""
        try:
            if self.timer_audit.run().changed:
                self.outbox.wake()
        except Exception:
            log.exception("the timer audit failed; will try again")

    # --- health and figures ------------------------------------------------------------------

    def purge(self) -> None:
        """Delete what only grows and is no longer needed: fired timers and sent pushes after a day, dead
        letters and telemetry rows after their retention. One instance a period does it (caretaker.leases)."""
        with self.sessions.begin() as session:
            now = timers.shared_now(session, self.clock.now())
            if not take_turn(session, "purge", self.purge_every, now):
                return
            timers.purge_fired(session, now - timedelta(days=1))
            purge_sent(session, now - timedelta(days=1))
            notices.purge(session, now - NOTICES_KEPT)  # acknowledgeable this long (docs/api.md#notices)
            channel_store.purge_done(session.connection(), now - timedelta(days=1))
            ingest_store.purge_older(session, now - timedelta(days=self.settings.dead_letter_retention_days),
                                     now - timedelta(days=self.settings.telemetry_retention_days))
        self.job_runs["purge"] = self.job_runs.get("purge", 0) + 1

    def health(self) -> dict:
        database = True
        try:
            with self.sessions() as session:  # a reader: never waits behind a batch commit on SQLite
                session.execute(text("SELECT 1"))
        except Exception:
            database = False
        return {"broker": self.ingest.connected and self.publisher.connected, "database": database}

    def metrics_text(self) -> str:
        """Return the service's counters, histograms, process figures and build info in Prometheus text format
        (the database gauges are added by the /metrics route: api/metrics.py)."""
        return self.metrics.text()
