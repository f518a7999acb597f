"""The service's own alarms: one per kind and subject while active, updated rather than repeated, cleared once."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from caretaker.db import make_engine, make_sessions, migrate
from caretaker.system_alarms import clear_alarm, raise_alarm
from caretaker.dispatch.tables import OutboxRow
from caretaker.rules.system import SystemAlarm, active_system_alarm
from caretaker.rules.tables import AlertLogRow

T0 = datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc)


@pytest.fixture
def sessions(database_url):
    engine = make_engine(database_url)
    migrate(engine)
    yield make_sessions(engine)
    engine.dispose()


def test_a_persisting_condition_raises_one_alarm_and_updates_its_title(sessions) -> None:
    with sessions.begin() as session:
        first = raise_alarm(session, prefix="caretaker", site="hv", kind=SystemAlarm.MESSAGES_LOST,
                            title="messages lost from 2 devices in building A", urgency=2, now=T0, building="A")
    with sessions.begin() as session:
        again = raise_alarm(session, prefix="caretaker", site="hv", kind=SystemAlarm.MESSAGES_LOST,
                            title="messages lost from 2 devices in building A", urgency=2, now=T0 + timedelta(seconds=5))
        grown = raise_alarm(session, prefix="caretaker", site="hv", kind=SystemAlarm.MESSAGES_LOST,
                            title="messages lost from 5 devices in building A", urgency=2, now=T0 + timedelta(seconds=9))
    assert first.state == "raised" and again.state == "unchanged" and grown.state == "updated"
    assert again.alert == first.alert == grown.alert
    with sessions() as session:
        row = active_system_alarm(session, SystemAlarm.MESSAGES_LOST)
        assert row is not None and row.title == "messages lost from 5 devices in building A"
        assert row.category == "system" and row.device_id == "" and row.building == "A"
        events = [r.payload for r in session.scalars(select(OutboxRow).order_by(OutboxRow.id))]
    assert len(events) == 2  # raised, then the update; the unchanged repeat published nothing
    assert '"device": null' in events[0] and '"rule": "system.messages_lost"' in events[0]


def test_clearing_ends_the_alarm_once_and_a_new_condition_raises_a_new_one(sessions) -> None:
    with sessions.begin() as session:
        first = raise_alarm(session, prefix="caretaker", site="hv", kind=SystemAlarm.TIMERS_OVERDUE,
                            title="3 timers overdue", urgency=1, now=T0)
    with sessions.begin() as session:
        cleared = clear_alarm(session, prefix="caretaker", site="hv", kind=SystemAlarm.TIMERS_OVERDUE,
                              now=T0 + timedelta(minutes=1), note="the sweep caught up")
        nothing = clear_alarm(session, prefix="caretaker", site="hv", kind=SystemAlarm.TIMERS_OVERDUE,
                              now=T0 + timedelta(minutes=1))
    assert cleared is not None and cleared.alert == first.alert and nothing is None
    with sessions.begin() as session:
        second = raise_alarm(session, prefix="caretaker", site="hv", kind=SystemAlarm.TIMERS_OVERDUE,
                             title="1 timer overdue", urgency=1, now=T0 + timedelta(minutes=5))
    assert second.state == "raised" and second.alert != first.alert
    with sessions() as session:
        states = [r.state for r in session.scalars(
            select(AlertLogRow).where(AlertLogRow.alert_id == first.alert).order_by(AlertLogRow.id))]
    assert states == ["raised", "cleared"]


def test_a_device_subject_keeps_alarms_of_different_devices_apart(sessions) -> None:
    with sessions.begin() as session:
        a = raise_alarm(session, prefix="caretaker", site="hv", kind=SystemAlarm.DEVICE_FLOODING,
                        title="A-LEAK-1 floods", urgency=3, now=T0, subject="A-LEAK-1")
        b = raise_alarm(session, prefix="caretaker", site="hv", kind=SystemAlarm.DEVICE_FLOODING,
                        title="B-LEAK-1 floods", urgency=3, now=T0, subject="B-LEAK-1")
    assert a.state == b.state == "raised" and a.alert != b.alert
