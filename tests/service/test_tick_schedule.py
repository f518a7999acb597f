"""The timer looks only at the devices whose time has come (rules/due.py), on a real database: a silent device
still raises its alarm at the moment it did when every device was looked at every second, and a second with
nothing due looks at nothing (docs/rules.md, "How an alert lives")."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from caretaker.db import make_engine, make_sessions, migrate
from caretaker.dispatch.service import Dispatcher
from caretaker.estate.site import load_site
from caretaker.ingest.client import Inbound
from caretaker.pipeline import Pipeline
from caretaker.rules.evaluate import RuleIndex
from caretaker.rules.load import load_rules
from caretaker.rules.tables import AlertRow
from tests.fakes import FakeClock
from tests.service.harness import SMALL_SITE

SITE = load_site(SMALL_SITE)
RULES = load_rules("rules/default_rules.yaml")
PUMP = "A-PUMP-1"


@pytest.fixture
def pipeline(database_url):
    engine = make_engine(database_url)
    migrate(engine)
    yield Pipeline(SITE, RuleIndex(RULES, SITE.devices, SITE.timezone), Dispatcher(SITE, "caretaker"),
                   make_sessions(engine), "caretaker", FakeClock())
    engine.dispose()


def send(pipeline: Pipeline, device: str, kind: str, body: dict) -> None:
    stamp = pipeline.clock.now().isoformat().replace("+00:00", "Z")
    result = pipeline.process([Inbound(f"caretaker/test-estate/devices/{device}/{kind}",
                                       json.dumps({"ts": stamp, **body}).encode(), 1, 1, False)])
    assert result.accepted == 1, result.rejections


def raised(pipeline: Pipeline, rule: str) -> dict[str, datetime]:
    with pipeline.sessions() as session:
        return {device: at for device, at in session.execute(
            select(AlertRow.device_id, AlertRow.raised_at).where(AlertRow.rule_id == rule))}


def evaluations(pipeline: Pipeline) -> int:
    return pipeline.counters["tick_evaluations"]


def every_second(pipeline: Pipeline, seconds: int) -> None:
    for _ in range(seconds):
        pipeline.clock.advance(seconds=1)
        pipeline.process_tick()


def test_a_silent_device_raises_at_its_timeout_and_quiet_seconds_look_at_nothing(pipeline):
    silent = pipeline.index.rules["device-silent"]
    limit = silent.condition.limit(SITE.devices[PUMP].interval_s)
    send(pipeline, PUMP, "telemetry", {"seq": 1, "values": {"running": True}})
    heard = pipeline.clock.now()

    every_second(pipeline, 60)  # nothing is due: a minute of ticks looks at no device
    assert evaluations(pipeline) == 0

    # ticking every second, silence holds at the first tick past the limit, and the alarm waits its `for`
    first = heard + limit + timedelta(seconds=1)
    expected = first + (silent.hold_for if silent.hold_for % timedelta(seconds=1) == timedelta(0)
                        else timedelta(seconds=silent.hold_for // timedelta(seconds=1) + 1))
    every_second(pipeline, int((expected - pipeline.clock.now()).total_seconds()) - 1)
    assert PUMP not in raised(pipeline, "device-silent")
    every_second(pipeline, 1)
    assert raised(pipeline, "device-silent")[PUMP] == expected
    # the never-heard devices fell silent at the same time, measured from the service's start
    assert set(raised(pipeline, "device-silent")) == set(SITE.devices)
    looked = evaluations(pipeline)
    assert 0 < looked <= 4 * len(SITE.devices)  # each device a few times (silence, then its `for`), not every second

    every_second(pipeline, 120)  # every alarm stands; only a message from a device changes it now
    assert evaluations(pipeline) == looked


def test_a_message_moves_the_silence_on_and_its_alarm_clears_when_the_device_talks(pipeline):
    silent = pipeline.index.rules["device-silent"]
    limit = silent.condition.limit(SITE.devices[PUMP].interval_s)
    send(pipeline, PUMP, "telemetry", {"seq": 1, "values": {"running": True}})
    every_second(pipeline, int(limit.total_seconds()) - 30)
    send(pipeline, PUMP, "telemetry", {"seq": 2, "values": {"running": True}})  # heard again: timeout starts over
    heard = pipeline.clock.now()
    every_second(pipeline, 60)
    assert PUMP not in raised(pipeline, "device-silent")
    pipeline.clock.advance(seconds=(heard + limit + silent.hold_for - pipeline.clock.now()).total_seconds() + 2)
    pipeline.process_tick()  # one late tick after a long pause sees the silence, as the every-second tick did
    pipeline.clock.advance(seconds=silent.hold_for.total_seconds() + 1)
    pipeline.process_tick()
    assert PUMP in raised(pipeline, "device-silent")

    send(pipeline, PUMP, "telemetry", {"seq": 3, "values": {"running": True}})
    every_second(pipeline, int(silent.clear_for.total_seconds()) + 2)
    with pipeline.sessions() as session:
        state = session.scalar(select(AlertRow.state).where(AlertRow.rule_id == "device-silent",
                                                            AlertRow.device_id == PUMP))
    assert state == "cleared"


def test_a_leak_held_for_its_clear_delay_clears_on_time_after_the_device_goes_quiet(pipeline):
    leak = pipeline.index.rules["water-leak"]
    send(pipeline, "A-LEAK-1", "telemetry", {"seq": 1, "values": {"leak": True}})
    pipeline.clock.advance(seconds=5)
    send(pipeline, "A-LEAK-1", "telemetry", {"seq": 2, "values": {"leak": False}})
    dry = pipeline.clock.now()
    every_second(pipeline, int(leak.clear_for.total_seconds()) - 1)
    with pipeline.sessions() as session:
        assert session.scalar(select(AlertRow.state).where(AlertRow.rule_id == "water-leak")) == "raised"
    every_second(pipeline, 1)
    with pipeline.sessions() as session:
        row = session.scalars(select(AlertRow).where(AlertRow.rule_id == "water-leak")).one()
    assert row.state == "cleared" and row.cleared_at == dry + leak.clear_for


def test_a_device_that_keeps_talking_is_never_silent_and_raises_on_time_once_it_stops(pipeline):
    """Readings leave the device's entry in the schedule where it was (they only move its silence later): the
    timer finds it early now and then, looks, and schedules it again."""
    silent = pipeline.index.rules["device-silent"]
    limit = silent.condition.limit(SITE.devices[PUMP].interval_s)
    for seq in range(1, 121):  # twenty minutes of readings every ten seconds
        send(pipeline, PUMP, "telemetry", {"seq": seq, "values": {"running": True}})
        every_second(pipeline, 10)
    heard = pipeline.clock.now() - timedelta(seconds=10)
    assert PUMP not in raised(pipeline, "device-silent")
    looks = pipeline.counters["tick_evaluations"] - 2 * (len(SITE.devices) - 1)  # the others: silence, then its `for`
    assert looks <= 12, looks  # the early entry found a few times, not once per reading
    expected = heard + limit + timedelta(seconds=1)
    while PUMP not in raised(pipeline, "device-silent") and pipeline.clock.now() < expected + silent.hold_for + timedelta(seconds=5):
        every_second(pipeline, 1)
    assert raised(pipeline, "device-silent")[PUMP] <= expected + silent.hold_for + timedelta(seconds=1)
    assert raised(pipeline, "device-silent")[PUMP] >= heard + limit + silent.hold_for


def test_a_running_for_moves_earlier_when_the_device_catches_up_on_its_lag(pipeline):
    on_battery = pipeline.index.rules["ups-on-battery"]  # `for: 10s`, the only rule of a UPS besides silence
    device = "A-UPS-1"
    start = pipeline.clock.now()

    def reading(seq: int, behind: timedelta) -> None:
        stamp = (pipeline.clock.now() - behind).isoformat().replace("+00:00", "Z")
        result = pipeline.process([Inbound(f"caretaker/test-estate/devices/{device}/telemetry",
                                           json.dumps({"ts": stamp, "seq": seq, "values": {"on_battery": True}}).encode(),
                                           seq, 1, False)])
        assert result.accepted == 1, result.rejections

    reading(1, timedelta(seconds=5))  # a backlog: on battery since 5 s ago by the device's clock
    on_battery_since = start - timedelta(seconds=5)
    every_second(pipeline, 1)
    reading(2, timedelta(0))  # caught up: the device's time is the service's again, nothing else changed
    due = on_battery_since + on_battery.hold_for  # 4 s from now, where the first reading alone put it 9 s away
    while device not in raised(pipeline, "ups-on-battery") and pipeline.clock.now() < start + timedelta(seconds=30):
        every_second(pipeline, 1)
    assert due <= raised(pipeline, "ups-on-battery")[device] <= due + timedelta(seconds=1)
