"""T23: a leak sensor toggling wet and dry every 2 s for 10 minutes (300 readings), through the real pipeline
and default rules on each database, with a fake clock (the 10 minutes take a few seconds; the
service's time-only tick runs after every reading, as it would each second).

Checks: at most one open ticket for the sensor (exactly one); its alert counts 150 occurrences (the
first wet reading and every one after a dry one: the 30 s clear delay never runs out); it is flagged
chattering once (one `chattering` entry in the alert log, one note on the ticket), at its 4th
occurrence within 10 minutes.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from caretaker.db import make_engine, make_sessions, migrate
from caretaker.pipeline import Pipeline
from caretaker.dispatch import lookup
from caretaker.dispatch.lookup import OPEN
from caretaker.dispatch.service import Dispatcher
from caretaker.dispatch.tables import TicketHistoryRow, TicketRow
from caretaker.estate.site import load_site
from caretaker.ingest.client import Inbound
from caretaker.rules.evaluate import RuleIndex
from caretaker.rules.load import load_rules
from caretaker.rules.tables import AlertLogRow, AlertRow
from tests.fakes import FakeClock
from tests.service.harness import SMALL_SITE

pytestmark = pytest.mark.faults

SITE = load_site(SMALL_SITE)
RULES = load_rules("rules/default_rules.yaml")
SENSOR = "A-LEAK-2"
EVERY_S, MINUTES = 2, 10


@pytest.fixture
def pipeline(database_url):
    engine = make_engine(database_url)
    migrate(engine)
    yield Pipeline(SITE, RuleIndex(RULES, SITE.devices, SITE.timezone), Dispatcher(SITE, "caretaker"),
                   make_sessions(engine), "caretaker", FakeClock())
    engine.dispose()


def reading(pipeline: Pipeline, seq: int, wet: bool) -> Inbound:
    ts = pipeline.clock.now().isoformat(timespec="milliseconds").replace("+00:00", "Z")
    body = {"ts": ts, "seq": seq, "values": {"leak": wet}}
    return Inbound(f"caretaker/test-estate/devices/{SENSOR}/telemetry", json.dumps(body).encode(), seq + 1, 1, False)


def test_a_toggling_sensor_is_one_ticket_counting_its_occurrences_and_flagged_once(pipeline) -> None:
    readings = MINUTES * 60 // EVERY_S
    for seq in range(readings):
        pipeline.process([reading(pipeline, seq, wet=seq % 2 == 0)])  # wet, dry, wet, ...
        pipeline.clock.advance(seconds=EVERY_S)
        pipeline.process_tick()

    with pipeline.sessions() as session:
        tickets = list(session.scalars(select(TicketRow).where(TicketRow.device_id == SENSOR)))
        alerts = list(session.scalars(select(AlertRow).where(AlertRow.device_id == SENSOR).order_by(AlertRow.raised_at)))
        flagged = list(session.scalars(select(AlertLogRow).where(AlertLogRow.state == "chattering")))
        notes = list(session.scalars(select(TicketHistoryRow.note).where(TicketHistoryRow.note.like("%chattering%"))))

    assert len(tickets) == 1 and tickets[0].status in OPEN
    with pipeline.sessions() as session:
        assert set(lookup.alert_tickets(session, [a.id for a in alerts]).values()) == {tickets[0].id}
    [held] = alerts
    assert held.chattering and held.state == "raised"
    assert held.occurrences >= readings // 2 == 150, [a.occurrences for a in alerts]
    assert [f.alert_id for f in flagged] == [held.id]
    assert len(notes) == 1
