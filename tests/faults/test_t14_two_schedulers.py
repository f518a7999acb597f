"""T14: two instances with schedulers → each periodic job runs the expected number of times, not twice.

Two real services (schedulers, sweeps, audits, outbox senders) on one PostgreSQL. Scaled: housekeeping every
0.5 s instead of 10 minutes. Measured: 12 purges take about 12 periods, as one instance would (each instance
on its own schedule took 6 periods before housekeeping took a lease row, caretaker/leases.py), and the old
pushes are gone; with both instances' sweeps stopped, the timers overdue alarm both auditors see is raised
once and cleared once.

What applies now and what waits for the scale-out issue (several `caretaker run` instances): the timer sweep
runs on every instance by design, each timer claimed by one (T13); housekeeping runs once a period (here);
the timer alarm is raised and cleared once (here). The ingest worker's tick (silences, time-only rule changes,
lost-message watch) runs on every instance, and every instance receives every device message today: sharing
the ingest between instances is that issue's, and so is SQLite, which runs one instance only.
"""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from caretaker.service import Service, load_configuration
from caretaker.settings import Settings
from caretaker.dispatch.outbox import enqueue
from caretaker.dispatch.tables import OutboxRow, TicketRow, TimerRow
from caretaker.rules.tables import AlertRow
from tests.conftest import _postgres_database
from tests.service.harness import SMALL_SITE, Watcher, wait_until

pytestmark = pytest.mark.faults

PERIOD = timedelta(seconds=0.5)
RUNS = 12


@pytest.fixture
def postgres_url(postgres_admin_url):
    yield from _postgres_database(postgres_admin_url)


def instance(broker_url: str, database_url: str, name: str) -> Service:
    settings = Settings(mqtt_url=broker_url, database_url=database_url, site_file=SMALL_SITE, tick_seconds=0.2,
                        timers_overdue_s=1, mqtt_client_id=f"t14-{name}-{time.monotonic_ns()}")
    service = Service(settings, load_configuration(settings))
    service.purge_every = PERIOD
    return service


@pytest.fixture
def two(mosquitto, postgres_url):
    services = [instance(mosquitto.url, postgres_url, name) for name in ("a", "b")]
    try:
        for service in services:
            service.start(with_http=False)
        yield services
    finally:
        for service in services:
            service.stop()


def purges(services: list[Service]) -> int:
    return sum(s.job_runs.get("purge", 0) for s in services)


def test_t14_housekeeping_runs_once_a_period_across_two_instances(two):
    a, _ = two
    with a.sessions.begin() as session:  # a push sent two days ago: housekeeping's to delete
        now = session.scalar(text("SELECT clock_timestamp()"))
        enqueue(session, "caretaker/test-estate/alerts", {"alert": "AL-old"}, now - timedelta(days=2))
        session.flush()
        session.execute(OutboxRow.__table__.update().values(sent_at=now - timedelta(days=2)))
    first = wait_until(lambda: purges(two) >= 1 and time.monotonic(), what="a first purge")
    wait_until(lambda: purges(two) >= RUNS + 1, timeout=RUNS * PERIOD.total_seconds() * 4, what=f"{RUNS} purges")
    elapsed = time.monotonic() - first
    per_instance = [s.job_runs.get("purge", 0) for s in two]
    print(f"T14: {RUNS} purges after the first in {elapsed:.1f} s ({elapsed / PERIOD.total_seconds():.1f} periods); "
          f"by instance {per_instance}")
    # one instance a period: RUNS purges need RUNS periods (less the lease's slack); two would need half
    assert elapsed >= (RUNS - 1) * PERIOD.total_seconds() * 0.9
    with a.sessions() as session:
        assert session.scalar(select(func.count()).select_from(OutboxRow)) == 0


def test_t14_two_auditors_raise_the_overdue_alarm_once_and_clear_it_once(two, mosquitto):
    a, b = two
    for service in two:
        service.scheduler.pause_job("timers")  # neither sweeps: both auditors see the same overdue timer
    watcher = Watcher(mosquitto.host, mosquitto.port, client_id=f"t14-watcher-{time.monotonic_ns()}")
    try:
        with a.sessions.begin() as session:
            now = session.scalar(text("SELECT clock_timestamp()"))
            session.add(TicketRow(id="T-14-0001", status="open", urgency=3, category="plumbing", title="Leak",
                                  source="sensor", building="A", floor=1, created_at=now, updated_at=now,
                                  accept_by=now + timedelta(hours=1), resolve_by=now + timedelta(hours=2),
                                  breached=False, photos=[]))
            session.flush()
            # overdue a moment from now, for both auditors at once
            session.add(TimerRow(ticket_id="T-14-0001", kind="retry_assign", due_at=now - timedelta(seconds=0.5),
                                 fired=False))
        watcher.wait_for("test-estate/alerts", lambda p: p["rule"] == "system.timers_overdue"
                         and p["state"] == "raised", timeout=20)
        for service in two:
            service.scheduler.resume_job("timers")
        watcher.wait_for("test-estate/alerts", lambda p: p["rule"] == "system.timers_overdue"
                         and p["state"] == "cleared", timeout=20)
        events = [(m.json()["state"], m.json()["alert"]) for m in watcher.on("test-estate/alerts")
                  if m.json().get("rule") == "system.timers_overdue"]
    finally:
        watcher.close()
    with a.sessions() as session:
        alarms = session.scalars(select(AlertRow).where(AlertRow.rule_id == "system.timers_overdue")).all()
    assert len(alarms) == 1
    assert [state for state, _ in events] == ["raised", "cleared"]
    assert json.dumps(events).count(alarms[0].id) == 2
