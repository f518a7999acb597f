"""One estate at work: its site, rules, pipeline, dispatcher, ingest session, outbox, channels and timers, over its
own database scope (docs/deploy.md, "Many estates"). `caretaker.service.Service` holds one of these per estate
and everything the estates share (the HTTP API, the scheduler, the publisher, the leases, /metrics)."""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from caretaker.api.alerts import publish_transition
from caretaker.db import make_sessions
from caretaker.dispatch import notices, timers
from caretaker.dispatch.notify import store as channel_store
from caretaker.dispatch.notify.sender import Channels, build_channels, lock_key
from caretaker.dispatch.outbox import OutboxSender, iso, purge_sent
from caretaker.dispatch.resident_store import ResidentDesk
from caretaker.dispatch.service import Dispatcher
from caretaker.estate.clock import Clock
from caretaker.estate.crashpoints import crash_point
from caretaker.estate_leases import Fenced
from caretaker.estates import Loaded
from caretaker.ingest import store as ingest_store
from caretaker.ingest.client import IngestClient, Inbound, Publisher, drain
from caretaker.ingest.flood import FloodPolicy
from caretaker.ingest.payloads import Rejection
from caretaker.ingest.store import DEAD_LETTER_PAYLOAD_LIMIT
from caretaker.ingest.topics import deadletter_topic, inbound_subscriptions
from caretaker.kpi_watch import KpiWatch
from caretaker.leases import take_turn
from caretaker.loss_alarms import LossWatch
from caretaker.metrics import ServiceMetrics
from caretaker.pipeline import BatchResult, Pipeline
from caretaker.rules import store as rules_store
from caretaker.rules.evaluate import RuleIndex
from caretaker.settings import Settings
from caretaker.timer_audit import TimerAudit, overdue_after
from caretaker.worker import BatchCommitter

if TYPE_CHECKING:
    from caretaker.lease_keeper import LeaseKeeper

log = logging.getLogger(__name__)

DEADLETTER_PAYLOAD_LIMIT = DEAD_LETTER_PAYLOAD_LIMIT  # the store keeps the same cut (ingest/store.py)
TIMER_RETRY = timedelta(seconds=5)  # before a timer that met a database error fires again
PURGE_EVERY = timedelta(minutes=10)
NOTICES_KEPT = timedelta(days=30)  # a supervisor's notice can be acknowledged (and listed) this long


class EstateRuntime:
    """Everything one estate runs. `start()` starts its outbox and channels; `start_ingest()` its ingest worker,
    which takes the estate's messages only while this instance holds its lease; `stop()` stops both."""

    def __init__(self, settings: Settings, loaded: Loaded, clock: Clock, engine: Engine, publisher: Publisher,
                 leases: "LeaseKeeper", *, many: bool, with_process_metrics: bool = True) -> None:
        self.settings = settings
        self.site = loaded.site
        self.clock = clock
        self.engine = engine  # the estate's own scope: its schema (PostgreSQL) or file (SQLite)
        self.many = many
        self.sessions = make_sessions(engine)
        self.leases = leases
        self._ingesting: int | None = None  # the lease generation the ingest client runs under
        self.dispatcher = Dispatcher(self.site, settings.mqtt_prefix, timedelta(seconds=settings.incident_window_s),
                                     loaded.playbooks)
        self.dispatcher.residents = ResidentDesk(self.site, settings.mqtt_prefix, settings.public_url,
                                                 timedelta(days=settings.resident_link_days))
        # the site file's per-device overrides make this estate's rule index, and only this estate's
        self.pipeline = Pipeline(self.site, RuleIndex(loaded.rules, self.site.devices, self.site.timezone),
                                 self.dispatcher, self.sessions, settings.mqtt_prefix, self.clock,
                                 telemetry_sink=self._influx_sink(),
                                 flood_policy=FloodPolicy(settings.device_flood_rate, settings.device_flood_burst))
        self.pipeline.fence = self.leases.fence(self.site.id)  # checked in every batch's transaction
        self.ingest = self._new_ingest()
        self.publisher = publisher  # the instance's one publisher: any connection may carry an estate's pushes
        # estates share one database: each estate's sender takes its own turn (PostgreSQL advisory lock)
        self.outbox = OutboxSender(self.sessions, self.publisher.publish, self.clock,
                                   **({"lock_key": lock_key("caretaker-outbox", self.site.id)} if many else {}))
        self.pipeline.hand_outbox = self._hand_outbox  # a batch's committed rows go straight to the sender
        # every outbox message also goes to the site file's channels that take it, each from its own queue
        # (docs/channels.md); the router runs with no channels too, so the outbox purge is never held back
        self.channels = Channels(self.site, self.engine, settings.mqtt_prefix, build_channels(self.site))
        self.committer = BatchCommitter(self.pipeline, self._after_commit)
        self.losses = LossWatch(self.site, self.sessions, settings.mqtt_prefix, self.clock)
        self.timer_audit = TimerAudit(self.sessions, self.clock, settings.mqtt_prefix, self.site.id,
                                      overdue_after(settings.tick_seconds, settings.timers_overdue_s),
                                      locale=self.site.locale)  # the estate's language for its alarms
        self.kpi_watch = KpiWatch(self.sessions, self.clock, settings.mqtt_prefix, self.site.id, self.site.timezone,
                                  locale=self.site.locale)
        self.purge_every = PURGE_EVERY
        self.job_runs: dict[str, int] = {}  # periodic jobs this instance ran (its turn), for /metrics
        # /metrics: the estate's own registry (caretaker/metrics.py); one estate of many leaves the process
        # figures to the instance's registry
        self.metrics = ServiceMetrics(self, with_process=with_process_metrics)
        self.outbox.on_sent = self.metrics.pushed
        self._stop = threading.Event()
        self._worker: threading.Thread | None = None

    def _new_ingest(self) -> IngestClient:
        # one persistent session per estate, `caretaker-{site}`: whichever instance holds the lease connects with
        # it and drains what the broker queued while nobody held it
        return IngestClient(self.settings.mqtt, f"{self.settings.mqtt_client_id}-{self.site.id}",
                            self.settings.mqtt_protocol, inbound_subscriptions(self.settings.mqtt_prefix, self.site.id))

    def _influx_sink(self):
        if not self.settings.influx_enabled:
            return None
        from caretaker.ingest.influx import InfluxSink

        s = self.settings
        return InfluxSink(s.influx_url, s.influx_token.get_secret_value(), s.influx_org, s.influx_bucket,
                          site=self.site.id)

    # --- life cycle --------------------------------------------------------------------------

    def start(self) -> None:
        """Start what sends: the outbox and the channels (the instance's publisher is already connected)."""
        self.outbox.start()
        self.channels.start()

    def start_ingest(self) -> None:
        """Take the estate's messages while this instance holds its lease: connected and subscribed before this
        returns when the lease is held now (the keeper's first round ran)."""
        self.losses.start()  # before connecting: whether a missing session is news depends on the past
        self.follow_lease(at_start=True)
        self._worker = threading.Thread(target=self._work, name=f"ingest-{self.site.id}", daemon=True)
        self._worker.start()

    def stop_ingest(self) -> None:
        """Stop taking messages: the batch under way commits (or not), nothing more is acknowledged, and the
        session closes; the broker keeps the rest for whoever holds the estate next."""
        self._stop.set()
        if self._worker is not None:
            self._worker.join(timeout=10)
            self._worker = None
        self.ingest.stop()

    def stop(self) -> None:
        """Stop whatever was started, in order; safe after a start that failed half-way."""
        self.stop_ingest()
        self.outbox.stop()
        self.channels.stop()
        self.metrics.close()
        close = getattr(self.pipeline.telemetry_sink, "close", None)
        if close is not None:
            close()

    # --- the ingest worker -------------------------------------------------------------------

    def _work(self) -> None:
        last_tick = time.monotonic()
        while not self._stop.is_set():
            if not self.follow_lease():
                self._stop.wait(0.2)  # another instance holds the estate (or the broker is away): stand by
                continue
            batch = drain(self.ingest.inbox, self.settings.batch_max, self.settings.batch_wait_ms / 1000, 0.2)
            try:
                if batch:
                    with self.metrics.batch(batch):  # its pushes remember when its oldest reading arrived
                        self.committer.commit(batch, stopping=self._stop.is_set)
                if time.monotonic() - last_tick >= self.settings.tick_seconds:
                    last_tick = time.monotonic()
                    self._guarded(self.pipeline.refresh_silences)
                    self._fenced(self.pipeline.process_tick)
                    self._guarded(self.watch_losses)
            except Fenced as exc:
                log.warning("%s: this batch is rolled back, unacknowledged; the estate's session is closed", exc)
                self.leases.lost(self.site.id, self._ingesting)
                self.follow_lease()

    def _fenced(self, action) -> None:
        """Like _guarded, but a lost lease reaches the worker loop, which stops ingesting the estate."""
        try:
            action()
        except Fenced:
            raise
        except Exception:
            log.exception("%s failed; will try again", getattr(action, "__name__", action))

    def follow_lease(self, at_start: bool = False) -> bool:
        """Connect the estate's session when this instance has just gained its lease, disconnect it (acknowledging
        nothing more: the broker gives the rest to the next owner) when it lost it; return whether it ingests."""
        from caretaker.ingest.client import BrokerUnavailable

        held = self.leases.generation(self.site.id)
        if held == self._ingesting:
            return held is not None
        if self._ingesting is not None:
            log.warning("estate %s: lease lost; disconnecting its session", self.site.id)
            self.ingest.stop()
            self.ingest = self._new_ingest()
            self._ingesting = None
        if held is None:
            return False
        if not at_start:
            self.pipeline.reload()  # what the estate's previous owner committed
        try:
            self.ingest.start()
        except BrokerUnavailable:
            if at_start:
                raise
            log.exception("estate %s: cannot connect its session; will try again", self.site.id)
            self.ingest = self._new_ingest()
            return False
        self._ingesting = held
        log.info("estate %s: ingesting under lease generation %d", self.site.id, held)
        return True

    @property
    def ingesting(self) -> bool:
        return self._ingesting is not None

    def watch_losses(self):
        """Raise or clear the alarms about lost messages and a lost broker session (caretaker/loss_alarms.py)."""
        return self.losses.watch(self.ingest.sessions, self.pipeline.snapshots, self.pipeline.take_gap_changes())

    def _after_commit(self, part: list[Inbound], result: BatchResult) -> None:
        with self.ingest.acking():  # the part's acknowledgements in one write (ingest/client.py)
            for message in part:
                self.ingest.ack(message)
        for rejection in result.rejections:
            self._publish_dead_letter(rejection)
        if result.outbox_added:
            self.outbox.wake()
            self.channels.wake()

    def _hand_outbox(self, rows) -> None:
        # the only wake-up a batch of readings gives: each wake costs the sender and the router a write
        # transaction, and on SQLite one waiting behind the worker's next batch (docs/benchmarks.md, latency)
        self.outbox.hand(rows)
        self.channels.wake()

    def _guarded(self, action) -> None:
        try:
            result = action()
            if getattr(result, "outbox_added", False):
                self.outbox.wake()
        except Exception:
            log.exception("estate %s: %s failed; will try again", self.site.id, getattr(action, "__name__", action))

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
            log.exception("estate %s: the timer audit failed; will try again", self.site.id)

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

    # --- health and figures ------------------------------------------------------------------

    def database_ok(self) -> bool:
        try:
            with self.sessions() as session:  # a reader: never waits behind a batch commit on SQLite
                session.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    def metrics_text(self) -> str:
        """Return the estate's counters and histograms in Prometheus text format (and the process figures when
        it is the only estate)."""
        return self.metrics.text()
