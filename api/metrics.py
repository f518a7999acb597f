"""Prometheus text for /metrics: tickets by status, open alerts, the alarm rate and flood, outbox backlog,
overdue timers; and the exposition every part of /metrics shares (prometheus_client's format)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Iterable

from prometheus_client import generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy.orm import Session

from caretaker.dispatch import reads_figures
from caretaker.dispatch.lifecycle import TicketStatus
from caretaker.dispatch.timers import overdue, shared_now
from caretaker.ingest import device_reads
from caretaker.rules import alert_reads
from caretaker.rules.store import alerts_since
from caretaker.rules.system import SystemAlarm

STATUSES = tuple(s.value for s in TicketStatus)
FLOOD_WINDOW = timedelta(minutes=10)
FLOOD_ALARMS = 10  # docs/operations.md: 10 or more in 10 minutes is more than one operator can handle
TIMERS_LATE_AFTER = timedelta(seconds=61)  # a tick and a grace minute (CARETAKER_TIMERS_OVERDUE_S)
_INTEGRAL = re.compile(r"^([^#].*) (-?\d+)\.0$", re.MULTILINE)


def is_flood(alarms_last_10min: int) -> bool:
    return alarms_last_10min >= FLOOD_ALARMS


class Families:
    """A collector over metric families already made (what generate_latest reads)."""

    def __init__(self, families: Iterable[Metric]) -> None:
        self._families = list(families)

    def collect(self) -> Iterable[Metric]:
        return iter(self._families)


def exposition(registry) -> str:
    """Return a registry's metrics in the Prometheus text format 0.0.4. Whole numbers are written without
    `.0`, as /metrics always wrote counts (operators' greps and the docs read `caretaker_tickets 3`);
    Prometheus reads both."""
    return _INTEGRAL.sub(r"\1 \2", generate_latest(registry).decode("utf-8"))


def _gauge(name: str, help_text: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, help_text, value=value)


def database_families(session: Session, now: datetime,
                      timers_late_after: timedelta = TIMERS_LATE_AFTER) -> list[Metric]:
    """The service's own gauges, read from the database at scrape time. Overdue timers are counted here, not by
    the sweep: a sweep that stopped still shows."""
    # each count is its room's read (dispatch/reads_figures.py, rules/alert_reads.py, ingest/device_reads.py)
    by_status = reads_figures.tickets_by_status(session)
    open_breached = reads_figures.open_breached(session)
    open_alerts = alert_reads.open_count(session)
    recent = alerts_since(session, now - FLOOD_WINDOW)
    backlog = reads_figures.outbox_backlog(session)
    offline = device_reads.offline_count(session)
    late = overdue(session, shared_now(session, now) - timers_late_after)
    active = alert_reads.open_by_rule(session, [kind.value for kind in SystemAlarm])
    system = GaugeMetricFamily("caretaker_system_alarms_active",
                               "The service's own alarms raised and not cleared, by kind (docs/operations.md).",
                               labels=["kind"])
    for kind in SystemAlarm:
        system.add_metric([kind.value.removeprefix("system.")], active.get(kind.value, 0))
    tickets = GaugeMetricFamily("caretaker_tickets", "Tickets by status.", labels=["status"])
    for status in STATUSES:
        tickets.add_metric([status], by_status.get(status, 0))
    return [
        tickets,
        _gauge("caretaker_tickets_breached_open", "Open tickets that breached a deadline.", open_breached),
        _gauge("caretaker_alerts_open", "Alerts raised and not yet cleared.", open_alerts),
        _gauge("caretaker_alarms_last_10m", "Alerts raised in the last 10 minutes.", recent),
        _gauge("caretaker_alarm_flood", "1 when 10 or more alerts were raised in the last 10 minutes.",
               1 if is_flood(recent) else 0),
        _gauge("caretaker_outbox_backlog", "Pushes written but not yet published.", backlog),
        _gauge("caretaker_devices_offline", "Devices whose last status is offline.", offline),
        _gauge("caretaker_timers_overdue", "Timers past due by more than a tick and the grace period.", late.count),
        system,
    ]


def collect_metrics(session: Session, now: datetime, timers_late_after: timedelta = TIMERS_LATE_AFTER) -> str:
    """Return the service's own gauges as Prometheus text (exposition format 0.0.4)."""
    return exposition(Families(database_families(session, now, timers_late_after)))
