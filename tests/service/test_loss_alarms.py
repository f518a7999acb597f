"""The loss alarms' life (caretaker/loss_alarms.py) on a real database: raised from gaps and lost sessions,
never repeated by a restart, cleared once acknowledged and quiet, renewed by a loss after acknowledgement."""

from __future__ import annotations

import json
from dataclasses import replace
from queue import SimpleQueue

import pytest
from sqlalchemy import select

from caretaker.db import make_engine, make_sessions, migrate
from caretaker.loss_alarms import LossWatch
from caretaker.dispatch.outbox import OutboxRow
from caretaker.estate.site import load_site
from caretaker.ingest.client import SessionReport
from caretaker.ingest.store import DeviceSnapshot
from caretaker.rules.store import acknowledge
from caretaker.rules.system import SystemAlarm
from caretaker.rules.tables import AlertLogRow, AlertRow
from tests.fakes import FakeClock
from tests.service.harness import SMALL_SITE


@pytest.fixture
def world(database_url):
    engine = make_engine(database_url)
    migrate(engine)
    sessions = make_sessions(engine)
    clock = FakeClock()
    site = replace(load_site(SMALL_SITE), locale="en")  # an English estate: the alarms' words in English
    yield site, sessions, clock
    engine.dispose()


def watch(site, sessions, clock, ran_before: bool | None = None) -> LossWatch:
    watcher = LossWatch(site, sessions, "caretaker", clock)
    watcher.start()
    if ran_before is not None:
        watcher.ran_before = ran_before
    return watcher


def snapshots(**gaps: int) -> dict[str, DeviceSnapshot]:
    return {device.replace("_", "-"): DeviceSnapshot(device.replace("_", "-"), gaps=n) for device, n in gaps.items()}


def raised(sessions, kind: SystemAlarm) -> list[AlertRow]:
    with sessions() as session:
        return list(session.scalars(select(AlertRow).where(AlertRow.rule_id == kind.value, AlertRow.state == "raised")))


def ack(sessions, alert_id: str, clock) -> None:
    with sessions.begin() as session:
        acknowledge(session, alert_id, "op-1", clock.now())


def test_gaps_raise_one_alarm_that_grows_and_a_restart_does_not_repeat_it(world):
    site, sessions, clock = world
    watcher = watch(site, sessions, clock)
    assert watcher.watch(SimpleQueue(), snapshots(A_LEAK_1=3)).outbox_added
    assert [a.title for a in raised(sessions, SystemAlarm.MESSAGES_LOST)] == [
        "messages lost from 1 device in building A (3 messages)"]
    watcher.watch(SimpleQueue(), snapshots(A_LEAK_1=3, B_LEAK_1=2))
    alarm, = raised(sessions, SystemAlarm.MESSAGES_LOST)
    assert alarm.title == "messages lost from 2 devices in buildings A (1), B (1) (5 messages)"
    assert alarm.building is None
    with sessions() as session:  # the control room and integrations hear of it through the outbox
        assert any(SystemAlarm.MESSAGES_LOST.value in str(r.payload) for r in session.scalars(select(OutboxRow)))

    restarted = watch(site, sessions, clock)  # the accounting is in the database
    assert not restarted.watch(SimpleQueue(), snapshots(A_LEAK_1=3, B_LEAK_1=2)).outbox_added
    assert len(raised(sessions, SystemAlarm.MESSAGES_LOST)) == 1


def test_it_clears_only_once_acknowledged_and_quiet_and_a_later_loss_is_a_new_alarm(world):
    site, sessions, clock = world
    watcher = watch(site, sessions, clock)
    watcher.watch(SimpleQueue(), snapshots(A_LEAK_1=3))
    first, = raised(sessions, SystemAlarm.MESSAGES_LOST)
    clock.advance(hours=5)
    watcher.watch(SimpleQueue(), snapshots(A_LEAK_1=3))
    assert raised(sessions, SystemAlarm.MESSAGES_LOST), "an unacknowledged loss never clears by itself"

    ack(sessions, first.id, clock)
    clock.advance(minutes=1)
    watcher.watch(SimpleQueue(), snapshots(A_LEAK_1=4))  # lost again after it was seen: news
    second, = raised(sessions, SystemAlarm.MESSAGES_LOST)
    assert second.id != first.id and second.title == "messages lost from 1 device in building A (1 message)"

    ack(sessions, second.id, clock)
    clock.advance(minutes=9)
    watcher.watch(SimpleQueue(), snapshots(A_LEAK_1=4))
    assert raised(sessions, SystemAlarm.MESSAGES_LOST), "cleared before 10 quiet minutes"
    clock.advance(minutes=1)
    assert watcher.watch(SimpleQueue(), snapshots(A_LEAK_1=4)).outbox_added
    assert raised(sessions, SystemAlarm.MESSAGES_LOST) == []
    watcher.watch(SimpleQueue(), snapshots(A_LEAK_1=6))  # a new loss after it cleared starts afresh
    assert raised(sessions, SystemAlarm.MESSAGES_LOST)[0].title.endswith("(2 messages)")


def test_a_missing_session_is_a_loss_on_a_reconnect_or_on_a_database_that_has_served(world):
    site, sessions, clock = world
    reports: SimpleQueue[SessionReport] = SimpleQueue()
    fresh = watch(site, sessions, clock, ran_before=False)
    reports.put(SessionReport(1, False))  # a new installation: nothing was queued for it
    fresh.watch(reports, {})
    assert raised(sessions, SystemAlarm.SESSION_LOST) == []
    reports.put(SessionReport(2, True))
    fresh.watch(reports, {})
    assert raised(sessions, SystemAlarm.SESSION_LOST) == []
    reports.put(SessionReport(3, False))  # the broker came back without it
    fresh.watch(reports, {})
    alarm, = raised(sessions, SystemAlarm.SESSION_LOST)
    assert "lost the service's session" in alarm.title

    served = watch(site, sessions, clock, ran_before=True)
    ack(sessions, alarm.id, clock)
    clock.advance(seconds=5)
    reports.put(SessionReport(1, False))  # a start against a database that has served before
    served.watch(reports, {})
    again, = raised(sessions, SystemAlarm.SESSION_LOST)
    assert again.id != alarm.id


def test_a_chinese_estates_loss_alarms_are_written_in_chinese(world):
    site, sessions, clock = world
    site = replace(site, locale="zh-CN")
    watcher = watch(site, sessions, clock)
    watcher.watch(SimpleQueue(), snapshots(A_LEAK_1=3))
    watcher.watch(SimpleQueue(), snapshots(A_LEAK_1=3, B_LEAK_1=2))
    alarm, = raised(sessions, SystemAlarm.MESSAGES_LOST)
    assert alarm.title == "2 台设备丢失消息（共 5 条消息）：A 栋（1 台），B 栋（1 台）"
    with sessions() as session:  # the control room hears it in the same words
        events = [json.loads(r.payload) for r in session.scalars(select(OutboxRow).order_by(OutboxRow.id))
                  if SystemAlarm.MESSAGES_LOST.value in str(r.payload)]
    assert events[-1]["title"] == alarm.title

    ack(sessions, alarm.id, clock)
    clock.advance(minutes=10)
    watcher.watch(SimpleQueue(), snapshots(A_LEAK_1=3, B_LEAK_1=2))
    assert raised(sessions, SystemAlarm.MESSAGES_LOST) == []
    with sessions() as session:
        notes = list(session.scalars(select(AlertLogRow.note).where(AlertLogRow.alert_id == alarm.id,
                                                                    AlertLogRow.state == "cleared")))
    assert notes == ["已确认，此后未再丢失消息"]

    reports: SimpleQueue[SessionReport] = SimpleQueue()
    reports.put(SessionReport(2, False))  # a reconnect that found no session
    watcher.watch(reports, {})
    lost, = raised(sessions, SystemAlarm.SESSION_LOST)
    assert lost.title.startswith("消息服务器于 ") and lost.title.endswith("丢失了本服务的会话：它为本服务暂存的消息已丢失")


def test_told_which_devices_changed_it_looks_only_at_those_after_its_first_look(world):
    """The worker says whose gap count a commit changed (Pipeline.take_gap_changes): after the first look at
    every device, a quiet tick looks at none, and a change is seen on the tick after it."""
    site, sessions, clock = world
    watcher = watch(site, sessions, clock)
    before = snapshots(A_LEAK_1=2)
    assert watcher.watch(SimpleQueue(), before, gaps_changed=set()).outbox_added  # the first look: everyone
    quiet = snapshots(A_LEAK_1=2, B_LEAK_1=4)  # B's count here was never reported as changed: not looked at
    assert not watcher.watch(SimpleQueue(), quiet, gaps_changed=set()).outbox_added
    assert watcher.watch(SimpleQueue(), quiet, gaps_changed={"B-LEAK-1"}).outbox_added
    alarm, = raised(sessions, SystemAlarm.MESSAGES_LOST)
    assert alarm.title == "messages lost from 2 devices in buildings A (1), B (1) (6 messages)"
