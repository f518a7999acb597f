"""The pipeline on a real database without a broker: replays, retained statuses, events beside telemetry."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from caretaker.db import make_engine, make_sessions, migrate
from caretaker.pipeline import Pipeline
from dispatch.service import Dispatcher
from estate.site import load_site
from ingest.client import Inbound
from rules.evaluate import RuleIndex
from rules.load import load_rules
from rules.tables import AlertRow
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
