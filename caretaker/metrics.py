"""The service's /metrics through prometheus_client: one registry per Service (tests run several in one
process). Collectors read the counters the parts already keep at scrape time; the histograms are observed
when the thing happens:

- reading → push: from the moment the ingest client received the oldest reading of the batch that decided a
  push to the broker's PUBACK for it, taken in the outbox sender (docs/deploy.md#metrics);
- time to accept / to arrive: `accepted_at − created_at`, `arrived_at − created_at` of a ticket, observed when
  the step's transaction commits.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from contextlib import contextmanager
from importlib import metadata
from typing import TYPE_CHECKING, Iterator, Sequence

from prometheus_client import (CollectorRegistry, GCCollector, Histogram, PlatformCollector, ProcessCollector,
                               disable_created_metrics)
from prometheus_client.core import CounterMetricFamily, InfoMetricFamily, Metric
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import event, inspect
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from caretaker.api.metrics import exposition
from caretaker.dispatch.tables import OutboxRow, TicketRow
from caretaker.ingest.client import Inbound

if TYPE_CHECKING:
    from caretaker.estate_runtime import EstateRuntime

log = logging.getLogger(__name__)

disable_created_metrics()  # no `_created` series: they double the lines and no dashboard reads them

# seconds; the fault suite holds the p99 of a push under 2 s in an alarm storm (docs/operations.md)
PUSH_BUCKETS = (0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0)
# seconds; the default deadlines are 2 min to 2 h to accept, 30 min to 1 h to arrive (docs/operations.md)
STEP_BUCKETS = (30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 43200, 86400)
PUSH_KINDS = ("dispatch", "notify", "alerts", "other")
LEVELS = ("1", "2", "3", "4")
ORIGINS_KEPT = 100_000  # outbox rows waiting for their PUBACK whose reading we remember; older ones are forgotten

COUNTERS = (
    ("caretaker_messages_processed_total", "processed", "Messages whose effects are committed (and acknowledged)."),
    ("caretaker_messages_replayed_total", "replays",
     "True duplicates (the same seq, or the same ts and values) that changed nothing."),
    ("caretaker_seq_gaps_total", "seq_gaps", "Messages the devices' seq counters say were skipped when a later one arrived."),
    ("caretaker_seq_gaps_filled_total", "seq_gaps_filled", "Skipped messages that arrived late after all (not lost)."),
    ("caretaker_late_readings_total", "late_readings", "Readings older than one already applied, evaluated at their own time."),
    ("caretaker_clock_skew_total", "clock_skew",
     "Messages whose ts was ahead of the service's clock (applied when they arrived)."),
    ("caretaker_messages_flood_dropped_total", "flood_dropped",
     "Messages of a flooding device counted and not processed (ingest/flood.py)."),
    ("caretaker_alerts_raised_total", "alerts_raised", "Alerts raised by the rules."),
    ("caretaker_alerts_cleared_total", "alerts_cleared", "Alerts cleared by the rules."),
    ("caretaker_batch_failures_total", "batch_failures", "Batches whose commit failed and was retried."),
    ("caretaker_tick_evaluations_total", "tick_evaluations",
     "Devices the timer looked at for time-only rule changes: only those whose time had come (rules/due.py)."),
    ("caretaker_telemetry_store_failures_total", "telemetry_store_failures",
     "Batches the telemetry store (InfluxDB) did not take; retried, nothing acknowledged."),
)


def version() -> str:
    try:
        return metadata.version("caretaker")
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"


def push_kind(topic: str) -> str:
    """Which kind of push an outbox topic is: dispatch (to a technician), notify (a supervisor), alerts, other."""
    last = topic.rsplit("/", 1)[-1]
    return last if last in PUSH_KINDS else "other"


def oldest_reading(batch: Sequence[Inbound]) -> float | None:
    """The arrival (time.monotonic) of the batch's oldest device reading, or None when it holds none."""
    arrivals = [m.arrived for m in batch if m.arrived and "/devices/" in m.topic and m.topic.endswith("/telemetry")]
    return min(arrivals) if arrivals else None


# --- the counters the parts keep, read at scrape time --------------------------------------------------

class ServiceCounters:
    """The ingest, rule, outbox and periodic-job counters of one service, as they were before
    prometheus_client (same names, same meaning), plus the channels' own lines."""

    def __init__(self, service: "EstateRuntime") -> None:
        self._service = service

    def describe(self) -> list[Metric]:
        return []  # nothing to read at registration (the channels' figures need the database)

    def collect(self) -> Iterator[Metric]:
        service = self._service
        counters = dict(service.pipeline.counters)  # a copy: the worker adds keys while this reads
        yield CounterMetricFamily("caretaker_messages_received_total", "MQTT messages received by the ingest client.",
                                  value=service.ingest.received)
        rejected = CounterMetricFamily("caretaker_messages_rejected_total", "Messages sent to the dead letters, by reason.",
                                       labels=["reason"])
        for key, value in sorted(counters.items()):
            if key.startswith("rejected:"):
                rejected.add_metric([key.split(":", 1)[1]], value)
        yield rejected
        for name, key, help_text in COUNTERS:
            yield CounterMetricFamily(name, help_text, value=counters.get(key, 0))
        yield CounterMetricFamily("caretaker_pushes_sent_total", "Outbox messages published.", value=service.outbox.sent)
        runs = CounterMetricFamily("caretaker_periodic_job_runs_total",
                                   "Periodic jobs this instance ran (one instance a period).", labels=["job"])
        for job, count in sorted(service.job_runs.items()):
            runs.add_metric([job], count)
        yield runs


class TextLines:
    """Metrics a part writes as Prometheus text lines (the channels: dispatch/notify/sender.py), parsed at scrape
    time so that their names stay the part's own."""

    def __init__(self, lines) -> None:
        self._lines = lines

    def describe(self) -> list[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        try:  # the channels read the database: while it is away, the other metrics still serve
            text = "\n".join(self._lines()) + "\n"
        except Exception:
            log.exception("the channels' metrics could not be read")
            return
        yield from text_string_to_metric_families(text)


def build_info() -> Metric:
    info = InfoMetricFamily("caretaker_build", "The running caretaker's version (always 1).")
    info.add_metric([], {"version": version()})
    return info


class BuildInfo:
    def describe(self) -> list[Metric]:
        return [build_info()]

    def collect(self) -> Iterator[Metric]:
        yield build_info()


# --- observing on commit ---------------------------------------------------------------------------

_batch = threading.local()  # the worker thread's batch being committed: (ServiceMetrics, arrival)
_by_engine: dict[Engine, "ServiceMetrics"] = {}  # whose histograms a ticket step on this database goes to
_PENDING = "caretaker_metrics_on_commit"


def _on_commit(session: Session, action) -> None:
    """Run `action` once the session's transaction commits; not if the savepoint it was made in rolls back (a
    refused step, an isolated message) nor if the whole transaction does."""
    made_in = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(_PENDING, []).append((made_in, action))


def _within(transaction, ended) -> bool:
    while transaction is not None:
        if transaction is ended:
            return True
        transaction = transaction.parent
    return False


def _never_breaks_a_flush(listener):
    """A figure is not worth a transaction: a listener that fails logs and lets the flush go on."""
    def guarded(*args) -> None:
        try:
            listener(*args)
        except Exception:
            log.exception("a metric could not be noted")
    guarded.__name__ = listener.__name__
    return guarded


@event.listens_for(OutboxRow, "after_insert")
@_never_breaks_a_flush
def _outbox_row_added(_mapper, _connection, target: OutboxRow) -> None:
    current = getattr(_batch, "current", None)
    session = Session.object_session(target)
    if current is None or session is None:
        return  # not written by a batch of readings (a timer, the API): no reading to measure from
    metrics, arrival = current
    _on_commit(session, lambda row_id=target.id: metrics.remember(row_id, arrival))


@event.listens_for(TicketRow, "after_update")
@_never_breaks_a_flush
def _ticket_step(_mapper, connection, target: TicketRow) -> None:
    metrics = _by_engine.get(connection.engine)
    session = Session.object_session(target)
    if metrics is None or session is None:
        return
    state = inspect(target)
    for column, histogram in (("accepted_at", metrics.time_to_accept), ("arrived_at", metrics.time_to_arrive)):
        history = state.attrs[column].history
        if history.added and history.added[0] is not None and not any(history.deleted):
            seconds = (history.added[0] - target.created_at).total_seconds()
            level = str(target.urgency)
            _on_commit(session, lambda h=histogram, s=seconds, lv=level: h.labels(level=lv).observe(max(0.0, s)))


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    for _made_in, action in session.info.pop(_PENDING, ()):
        try:
            action()
        except Exception:  # a figure must never break a commit that already happened
            log.exception("a metric could not be recorded")


@event.listens_for(Session, "after_soft_rollback")
def _rolled_back(session: Session, ended) -> None:
    pending = session.info.get(_PENDING)
    if pending:
        session.info[_PENDING] = [(made_in, action) for made_in, action in pending if not _within(made_in, ended)]


# --- one service's registry ------------------------------------------------------------------------

def register_process(registry: CollectorRegistry) -> CollectorRegistry:
    """Add the build info and the process, platform and garbage-collector figures to a registry."""
    registry.register(BuildInfo())
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    return registry


class ServiceMetrics:
    """The registry behind one service's /metrics (the database gauges are added by the route: api/metrics.py)."""

    def __init__(self, service: "EstateRuntime", with_process: bool = True) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.registry.register(ServiceCounters(service))
        self.registry.register(TextLines(service.channels.metrics_lines))
        if with_process:  # one estate of many: the instance's registry has them once (process_registry)
            register_process(self.registry)
        self.reading_to_push = Histogram(
            "caretaker_reading_to_push_seconds",
            "From a reading's arrival at the ingest client to the broker's PUBACK of the push it caused, by kind.",
            ["push"], buckets=PUSH_BUCKETS, registry=self.registry)
        self.time_to_accept = Histogram(
            "caretaker_ticket_time_to_accept_seconds", "From a ticket's creation to its acceptance, by level.",
            ["level"], buckets=STEP_BUCKETS, registry=self.registry)
        self.time_to_arrive = Histogram(
            "caretaker_ticket_time_to_arrive_seconds", "From a ticket's creation to the technician on site, by level.",
            ["level"], buckets=STEP_BUCKETS, registry=self.registry)
        # every series from the start, at 0: a dashboard and an alert see "none yet" rather than "no data"
        for kind in PUSH_KINDS:
            self.reading_to_push.labels(push=kind)
        for level in LEVELS:
            self.time_to_accept.labels(level=level)
            self.time_to_arrive.labels(level=level)
        self._origins: OrderedDict[int, float] = OrderedDict()
        self._lock = threading.Lock()
        self._engine = service.engine
        _by_engine[self._engine] = self

    def close(self) -> None:
        if _by_engine.get(self._engine) is self:
            del _by_engine[self._engine]

    def text(self) -> str:
        return exposition(self.registry)

    @contextmanager
    def batch(self, messages: Sequence[Inbound]) -> Iterator[None]:
        """While the worker commits these messages, outbox rows it writes remember the oldest reading's arrival."""
        arrival = oldest_reading(messages)
        _batch.current = (self, arrival) if arrival is not None else None
        try:
            yield
        finally:
            _batch.current = None

    def remember(self, row_id: int, arrival: float) -> None:
        with self._lock:
            self._origins[row_id] = arrival
            while len(self._origins) > ORIGINS_KEPT:
                self._origins.popitem(last=False)

    def pushed(self, row_id: int, topic: str) -> None:
        """The broker acknowledged outbox row `row_id` (called by the outbox sender right after the PUBACK)."""
        acked = time.monotonic()
        with self._lock:
            arrival = self._origins.pop(row_id, None)
        if arrival is not None:
            self.reading_to_push.labels(push=push_kind(topic)).observe(max(0.0, acked - arrival))
