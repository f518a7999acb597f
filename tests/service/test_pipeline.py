"""The pipeline on a real database without a broker: replays, retained statuses, events beside telemetry, device order."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from caretaker.db import make_engine, make_sessions, migrate
from caretaker.pipeline import Pipeline
from caretaker.dispatch.service import Dispatcher
from caretaker.dispatch.tables import TicketRow
from caretaker.estate.site import load_site
from caretaker.ingest.client import Inbound
from caretaker.ingest.store import DEAD_LETTER_PAYLOAD_LIMIT
from caretaker.ingest.tables import DeadLetterRow, DeviceStateRow, TelemetryRow
from caretaker.rules.evaluate import RuleIndex
from caretaker.rules.load import load_rules
from caretaker.rules.tables import AlertRow
from tests.fakes import FakeClock
from tests.service.harness import SMALL_SITE

SITE = load_site(SMALL_SITE)
RULES = load_rules("rules/default_rules.yaml")


@pytest.fixture
def pipeline(database_url):
    engine = make_engine(database_url)
    migrate(engine)
    clock = FakeClock()
    yield Pipeline(SITE, RuleIndex(RULES, SITE.devices, SITE.timezone), Dispatcher(SITE, "caretaker"),
                   make_sessions(engine), "caretaker", clock)
    engine.dispose()


def message(kind: str, device: str, body: dict, retain: bool = False) -> Inbound:
    return Inbound(f"caretaker/test-estate/devices/{device}/{kind}", json.dumps(body).encode(), 1, 1, retain)


def ts(pipeline: Pipeline) -> str:
    return pipeline.clock.now().isoformat().replace("+00:00", "Z")


def alerts(pipeline: Pipeline) -> list[str]:
    with pipeline.sessions() as session:
        return list(session.scalars(select(AlertRow.rule_id)))


def test_an_alarm_button_in_the_same_millisecond_as_telemetry_is_not_a_replay(pipeline):
    now = ts(pipeline)
    pipeline.process([message("telemetry", "A-EL-1", {"ts": now, "values": {"state": "stopped", "occupied": True}})])
    result = pipeline.process([message("event", "A-EL-1", {"ts": now, "type": "alarm_button"})])
    assert result.replays == 0
    assert "elevator-alarm-button" in alerts(pipeline)
    # the same event delivered again is one
    again = pipeline.process([message("event", "A-EL-1", {"ts": now, "type": "alarm_button"})])
    assert again.replays == 1 and alerts(pipeline).count("elevator-alarm-button") == 1


def test_telemetry_without_seq_at_the_same_time_is_applied_when_it_says_something_new(pipeline):
    now = ts(pipeline)
    pipeline.process([message("telemetry", "A-LEAK-1", {"ts": now, "values": {"leak": False}})])
    same = pipeline.process([message("telemetry", "A-LEAK-1", {"ts": now, "values": {"leak": False}})])
    assert same.replays == 1
    news = pipeline.process([message("telemetry", "A-LEAK-1", {"ts": now, "values": {"leak": True}})])
    assert news.replays == 0 and alerts(pipeline) == ["water-leak"]


def test_a_retained_status_replayed_on_resubscribe_does_not_count_as_hearing_from_the_device(pipeline):
    pipeline.process([message("status", "A-PUMP-1", {"ts": ts(pipeline), "state": "online"}, retain=True)])
    first_seen = pipeline.snapshots["A-PUMP-1"].last_seen
    pipeline.clock.advance(minutes=20)
    result = pipeline.process([message("status", "A-PUMP-1", {"state": "online"}, retain=True)])
    assert result.replays == 1 and pipeline.snapshots["A-PUMP-1"].last_seen == first_seen
    # silence is still silence: device-silent raises (3 × the 5 min fallback has passed, and it waits the
    # 7 s an outage would need to explain it)
    pipeline.clock.advance(seconds=10)
    pipeline.process_tick()
    pipeline.clock.advance(seconds=8)
    pipeline.process_tick()
    assert "device-silent" in alerts(pipeline)


def test_numbers_beyond_what_can_be_stored_are_refused_and_the_next_message_processed(pipeline):
    now = ts(pipeline)
    result = pipeline.process([
        message("telemetry", "A-PRESS-1", {"ts": now, "seq": 2**63, "values": {"pressure_kpa": 300}}),
        message("telemetry", "A-PRESS-1", {"ts": now, "values": {"pressure_kpa": 10**400}}),
        message("telemetry", "A-LEAK-1", {"ts": now, "seq": 1, "values": {"leak": True}}),
    ])
    assert [r.reason for r in result.rejections] == ["bad_payload", "bad_payload"]
    assert "seq" in result.rejections[0].detail and "pressure_kpa" in result.rejections[1].detail
    assert alerts(pipeline) == ["water-leak"]


# -- device order (docs/device-protocol.md, "Device order") --------------------------------------

def iso_at(pipeline: Pipeline, seconds: float) -> str:
    return (pipeline.clock.now() + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


def alert_rows(pipeline: Pipeline) -> list[tuple]:
    with pipeline.sessions() as session:
        return list(session.execute(select(AlertRow.rule_id, AlertRow.state, AlertRow.raised_at, AlertRow.cleared_at)
                                    .order_by(AlertRow.raised_at)))


def test_a_late_leak_between_dry_readings_is_raised_at_its_time_cleared_later_and_gets_a_ticket(pipeline):
    t0 = pipeline.clock.now()
    pipeline.clock.advance(seconds=25)
    pipeline.process([message("telemetry", "A-LEAK-1", {"ts": iso_at(pipeline, -20), "seq": 1, "values": {"leak": False}}),
                      message("telemetry", "A-LEAK-1", {"ts": iso_at(pipeline, -5), "seq": 3, "values": {"leak": False}})])
    pipeline.take_gap_changes()
    pipeline.clock.advance(seconds=95)
    pipeline.process_tick()  # seq 2 has been missing for longer than the settle time: lost, as far as we know
    assert pipeline.snapshots["A-LEAK-1"].gaps == 1
    assert pipeline.take_gap_changes() == {"A-LEAK-1"}  # the loss alarms hear of it (caretaker/loss_alarms.py)
    assert pipeline.take_gap_changes() == set()  # once
    result = pipeline.process([message("telemetry", "A-LEAK-1", {"ts": (t0 + timedelta(seconds=10)).isoformat(),
                                                                 "seq": 2, "values": {"leak": True}})])
    assert result.replays == 0 and result.raised == 1 and result.cleared == 1
    assert alert_rows(pipeline) == [("water-leak", "cleared", t0 + timedelta(seconds=10), t0 + timedelta(seconds=50))]
    with pipeline.sessions() as session:
        assert session.scalar(select(func.count()).select_from(TicketRow)) == 1  # it happened: someone looks
        assert session.scalar(select(func.count()).select_from(TelemetryRow)) == 3
    assert pipeline.snapshots["A-LEAK-1"].values == {"leak": False}  # the newest reading still stands
    # seq 2 was missing for 95 s, counted lost, then arrived after all
    assert pipeline.counters["seq_gaps"] == 1 and pipeline.counters["seq_gaps_filled"] == 1
    assert pipeline.snapshots["A-LEAK-1"].gaps == 0
    assert pipeline.take_gap_changes() == {"A-LEAK-1"}  # and of its filling


def test_a_backlog_older_than_a_live_reading_raises_its_alarm(pipeline):
    t0 = pipeline.clock.now()
    pipeline.process([message("telemetry", "A-LEAK-1", {"ts": ts(pipeline), "seq": 100, "values": {"leak": False}})])
    backlog = [message("telemetry", "A-LEAK-1", {"ts": (t0 - timedelta(minutes=5, seconds=-n)).isoformat(),
                                                 "seq": 90 + n, "values": {"leak": True}}) for n in range(10)]
    result = pipeline.process(backlog)
    assert result.replays == 0 and result.raised == 1
    assert pipeline.snapshots["A-LEAK-1"].gaps == 0


def test_a_clock_ahead_cannot_hide_the_leaks_that_follow(pipeline):
    pipeline.process([message("telemetry", "A-LEAK-1", {"ts": iso_at(pipeline, 290), "seq": 1, "values": {"leak": False}})])
    assert pipeline.counters["clock_skew"] == 1
    assert pipeline.snapshots["A-LEAK-1"].last_ts == pipeline.clock.now()
    pipeline.clock.advance(seconds=1)
    result = pipeline.process([message("telemetry", "A-LEAK-1", {"ts": ts(pipeline), "seq": 2, "values": {"leak": True}})])
    assert result.raised == 1 and alerts(pipeline) == ["water-leak"]


def test_two_readings_in_one_millisecond_are_both_kept(pipeline):
    now = ts(pipeline)
    pipeline.process([message("telemetry", "A-PRESS-1", {"ts": now, "seq": 1, "values": {"pressure_kpa": 300}}),
                      message("telemetry", "A-PRESS-1", {"ts": now, "seq": 2, "values": {"pressure_kpa": 120}})])
    pipeline.process([message("telemetry", "A-PRESS-1", {"ts": now, "seq": 2, "values": {"pressure_kpa": 120}})])
    with pipeline.sessions() as session:
        assert sorted(session.scalars(select(TelemetryRow.value_num))) == [120, 300]


def test_the_order_survives_a_reload(pipeline):
    now = ts(pipeline)
    pipeline.process([message("telemetry", "A-LEAK-1", {"ts": now, "seq": 7, "values": {"leak": True}})])
    pipeline.reload()
    again = pipeline.process([message("telemetry", "A-LEAK-1", {"ts": now, "seq": 7, "values": {"leak": True}})])
    assert again.replays == 1 and alerts(pipeline) == ["water-leak"]
    assert pipeline.episodes[("A-LEAK-1", "water-leak")][0].end is None


def test_a_dead_letter_keeps_at_most_4_kib_of_the_bytes(pipeline):
    pipeline.process([Inbound("caretaker/test-estate/devices/NOPE/telemetry", b"x" * 60_000, 1, 1, False)])
    with pipeline.sessions() as session:
        assert [len(p) for p in session.scalars(select(DeadLetterRow.payload))] == [DEAD_LETTER_PAYLOAD_LIMIT]


def test_a_backlog_of_two_wet_spells_in_one_batch_gives_two_alarms(pipeline):
    # the clear delay that ran out between the spells (in the device's time) has cleared the first alarm
    start = pipeline.clock.now() - timedelta(hours=2)
    spells = []
    for k in range(2):
        at = start + timedelta(minutes=30 * k)
        spells += [message("telemetry", "A-LEAK-1", {"ts": at.isoformat(), "seq": 2 * k, "values": {"leak": True}}),
                   message("telemetry", "A-LEAK-1", {"ts": (at + timedelta(minutes=1)).isoformat(), "seq": 2 * k + 1,
                                                     "values": {"leak": False}})]
    result = pipeline.process(spells)
    assert result.raised == 2 and result.cleared == 1
    assert [r[:2] for r in alert_rows(pipeline)] == [("water-leak", "cleared"), ("water-leak", "raised")]


def test_a_device_whose_readings_run_behind_holds_its_for_in_its_own_time(pipeline):
    # low-water-pressure holds 30 s; the device's clock (or its backlog) is 10 minutes behind the service's
    behind = timedelta(minutes=10)
    pipeline.process([message("telemetry", "A-PRESS-1", {"ts": (pipeline.clock.now() - behind).isoformat(),
                                                         "seq": 1, "values": {"pressure_kpa": 100}})])
    pipeline.clock.advance(seconds=1)
    pipeline.process_tick()
    assert alerts(pipeline) == []  # 1 s of low pressure, not 10 minutes
    pipeline.clock.advance(seconds=30)
    pipeline.process_tick()
    assert alerts(pipeline) == ["low-water-pressure"]


def test_gaps_counted_before_the_upgrade_stay_counted(pipeline):
    # a device state written before device order was kept: its gap count, no order
    with pipeline.sessions.begin() as session:
        session.add(DeviceStateRow(device_id="A-LEAK-1", online=True, values={"leak": False}, gaps=3))
    pipeline.reload()
    pipeline.process([message("telemetry", "A-LEAK-1", {"ts": ts(pipeline), "seq": 9, "values": {"leak": False}})])
    assert pipeline.snapshots["A-LEAK-1"].gaps == 3 and pipeline.counters["seq_gaps_filled"] == 0
