"""Timers on a real database (SQLite and PostgreSQL): due by the shared clock, overdue ones counted and
alarmed on, periodic jobs run by one instance a period."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from caretaker.db import make_engine, make_sessions, migrate
from caretaker.leases import take_turn
from caretaker.timer_audit import TimerAudit, alarm_title
from caretaker.dispatch import timers
from caretaker.dispatch.service import AlertFacts, Dispatcher
from caretaker.dispatch.tables import OutboxRow
from caretaker.estate.model import Place
from caretaker.estate.site import load_site
from caretaker.rules.system import SystemAlarm, active_system_alarm
from tests.fakes import FakeClock

SITE = load_site(Path(__file__).resolve().parent.parent / "fixtures" / "small-site.yaml")


@pytest.fixture
def db(database_url):
    engine = make_engine(database_url)
    migrate(engine)
    yield make_sessions(engine)
    engine.dispose()


def true_now(db) -> datetime:
    """The shared clock: the database's on PostgreSQL, the machine's on SQLite."""
    with db() as s:
        return timers.shared_now(s, datetime.now(timezone.utc))


def open_ticket(db, at: datetime) -> str:
    dispatcher = Dispatcher(SITE, "caretaker")
    with db.begin() as s:
        dispatcher.record_location(s, "t-near", Place("A", 1), at, "app")
        return dispatcher.open_for_alert(s, AlertFacts("AL-1", "water-leak", "A-LEAK-1", 1, "plumbing",
                                                       "Water leak", at), at)


def test_on_postgresql_an_instance_whose_clock_is_fast_claims_nothing_early(db, database_url):
    start = true_now(db)
    ticket = open_ticket(db, start + timedelta(minutes=1))  # level 1: its accept deadline 3 s after that
    with db.begin() as s:
        fast = start + timedelta(minutes=5)
        claimed = timers.claim_due(s, timers.shared_now(s, fast))
    if database_url.startswith("postgresql"):
        assert claimed == []  # by the database's clock nothing is due yet
    else:
        assert {c.kind for c in claimed} >= {"accept:warn", "accept:breach"}  # one instance: its clock rules
    assert all(c.ticket_id == ticket for c in claimed)


def test_overdue_counts_the_unfired_timers_due_before_a_time_and_names_the_oldest(db):
    start = true_now(db)
    open_ticket(db, start)
    with db() as s:
        none = timers.overdue(s, start)
        late = timers.overdue(s, start + timedelta(hours=3))
    assert none.count == 0 and none.oldest_due_at is None
    assert late.count >= 3 and late.oldest_due_at is not None and late.oldest_due_at.tzinfo is not None
    assert late.oldest_due_at > start
    with db.begin() as s:
        timers.claim_due(s, start + timedelta(hours=3))
    with db() as s:
        assert timers.overdue(s, start + timedelta(hours=3)).count == 0


def test_the_audit_raises_one_alarm_while_timers_are_overdue_and_clears_it_when_they_fire(db):
    start = true_now(db)
    open_ticket(db, start - timedelta(minutes=5))  # its accept deadline passed minutes ago, nothing swept it
    clock = FakeClock(start)
    audit = TimerAudit(db, clock, "caretaker", SITE.id, late_after=timedelta(seconds=61))
    first, again = audit.run(), audit.run()
    assert first.changed and first.overdue.count >= 2
    assert not again.changed  # still overdue: the alarm stays as it is, the control room is not updated
    with db() as s:
        alarm = active_system_alarm(s, SystemAlarm.TIMERS_OVERDUE)
        events = [json.loads(p) for p in s.scalars(select(OutboxRow.payload).where(OutboxRow.topic.like("%/alerts")))]
    assert alarm is not None and alarm.urgency == 1 and alarm.title == alarm_title(first.overdue)
    assert [(e["rule"], e["state"]) for e in events] == [("system.timers_overdue", "raised")]
    with db.begin() as s:
        timers.claim_due(s, start)  # the sweep caught up
    cleared = audit.run()
    assert cleared.changed and cleared.overdue.count == 0
    with db() as s:
        assert active_system_alarm(s, SystemAlarm.TIMERS_OVERDUE) is None


def test_a_periodic_job_runs_once_a_period_whichever_instance_asks(db):
    t0, period = datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc), timedelta(minutes=10)
    asks = [t0, t0 + timedelta(minutes=3), t0 + timedelta(minutes=9, seconds=59), t0 + timedelta(minutes=13),
            t0 + timedelta(minutes=22), t0 + timedelta(minutes=23)]  # two instances, 3 minutes apart
    ran = []
    for at in asks:
        with db.begin() as s:
            if take_turn(s, "purge", period, at):
                ran.append(at)
    # a run due at 10:00 that starts a moment early still runs (the scheduler's jitter); never two in a period
    assert ran == [t0, t0 + timedelta(minutes=9, seconds=59), t0 + timedelta(minutes=22)]


def test_a_job_that_fails_gives_its_turn_back(db):
    t0, period = datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc), timedelta(minutes=10)
    with pytest.raises(RuntimeError), db.begin() as s:
        assert take_turn(s, "purge", period, t0)
        raise RuntimeError("the purge failed half-way")
    with db.begin() as s:
        assert take_turn(s, "purge", period, t0 + timedelta(seconds=1))
