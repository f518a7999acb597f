"""A batch of many alarms of one incident (a storm): one ticket a building, every alarm linked and said in its
history once, every AlertEvent queued in order, what the first alarm learnt shared with the rest
(dispatch/incidents.py `Memo`), and the same answers as alarms one batch at a time."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from caretaker.db import make_engine, make_sessions, migrate
from caretaker.dispatch.service import Dispatcher
from caretaker.dispatch.tables import AssignmentRow, OutboxRow, TicketAlertRow, TicketHistoryRow, TicketRow
from caretaker.estate.site import load_site
from caretaker.ingest.client import Inbound
from caretaker.pipeline import Pipeline
from caretaker.rules.evaluate import RuleIndex
from caretaker.rules.load import load_rules
from caretaker.simulators.load import load_devices, write_load_site
from tests.fakes import FakeClock

DEVICES = 240  # 24 leak sensors, 6 in each of the 4 load buildings
RULES = load_rules("rules/default_rules.yaml")


@pytest.fixture
def estate(tmp_path):
    write_load_site(tmp_path / "site.yaml", DEVICES)
    return load_site(tmp_path / "site.yaml")


@pytest.fixture
def make_pipeline():
    engines = []

    def make(site, url: str) -> Pipeline:
        engine = make_engine(url)
        engines.append(engine)
        migrate(engine)
        return Pipeline(site, RuleIndex(RULES, site.devices, site.timezone), Dispatcher(site, "caretaker"),
                        make_sessions(engine), "caretaker", FakeClock())

    yield make
    for engine in engines:
        engine.dispose()


@pytest.fixture
def pipeline(estate, database_url, make_pipeline):
    return make_pipeline(estate, database_url)


def iso(at: datetime) -> str:
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def on_site(pipeline: Pipeline) -> list[Inbound]:
    at = iso(pipeline.clock.now())
    return [Inbound(f"caretaker/load/technicians/{tech}/location",
                    json.dumps({"ts": at, "building": "L1", "floor": 1}).encode(), 1, 1)
            for tech in pipeline.site.technicians]


def wet(pipeline: Pipeline, leaks, seq: int = 1) -> list[Inbound]:
    start = pipeline.clock.now()
    return [Inbound(f"caretaker/load/devices/{d.id}/telemetry",
                    json.dumps({"ts": iso(start + timedelta(milliseconds=i)), "seq": seq,
                                "values": {"leak": True}}).encode(), i + 1, 1)
            for i, d in enumerate(leaks)]


def dry(pipeline: Pipeline, leaks, seq: int) -> list[Inbound]:
    return [Inbound(f"caretaker/load/devices/{d.id}/telemetry",
                    json.dumps({"ts": iso(pipeline.clock.now()), "seq": seq, "values": {"leak": False}}).encode(),
                    i + 1, 1) for i, d in enumerate(leaks)]


def leak_sensors():
    return [d for d in load_devices(DEVICES) if d.type == "water_leak"]


def incidents(pipeline: Pipeline) -> dict[str, dict]:
    """Each building's tickets, as what they hold: alerts linked, lines said, assignments by trade."""
    with pipeline.sessions() as session:
        tickets = {t.id: t.building for t in session.scalars(select(TicketRow))}
        links = Counter((row.ticket_id, row.alert_id) for row in session.scalars(select(TicketAlertRow)))
        lines = [(row.ticket_id, row.note_said) for row in session.scalars(select(TicketHistoryRow)
                                                                             .order_by(TicketHistoryRow.id))]
        trades = [(row.ticket_id, row.role, row.trade) for row in session.scalars(select(AssignmentRow))]
    result: dict[str, dict] = {}
    for ticket_id, building in tickets.items():
        result.setdefault(building, []).append({
            "links": sorted(a for (t, a), n in links.items() if t == ticket_id for _ in range(n)),
            "joined": [said["params"]["alert"] for t, said in lines
                       if t == ticket_id and said and said["key"] == "note.alert_attached_what"],
            "opened": sum(1 for t, said in lines if t == ticket_id and said and said["key"] == "note.opened"),
            "assignments": sorted((role, trade) for t, role, trade in trades if t == ticket_id),
        })
    return result


def alert_events(pipeline: Pipeline) -> list[dict]:
    with pipeline.sessions() as session:
        return [json.loads(row.payload) for row in session.scalars(
            select(OutboxRow).where(OutboxRow.topic.endswith("/alerts")).order_by(OutboxRow.id))]


def test_a_storm_in_one_batch_is_one_ticket_a_building_with_every_link_line_and_event_in_order(pipeline):
    leaks = leak_sensors()
    pipeline.process(on_site(pipeline))
    pipeline.process(wet(pipeline, leaks))
    events = alert_events(pipeline)
    # every alarm's event, once, in the order of the readings that raised them
    assert [e["device"] for e in events] == [d.id for d in leaks]
    assert all(e["state"] == "raised" and e["ticket"] for e in events)
    ticket_of = {d.place.building: set() for d in leaks}
    for event, device in zip(events, leaks):
        ticket_of[device.place.building].add(event["ticket"])
    assert all(len(tickets) == 1 for tickets in ticket_of.values())  # one ticket a building
    found = incidents(pipeline)
    assert sorted(found) == sorted(ticket_of)
    for building, tickets in found.items():
        assert len(tickets) == 1
        ticket = tickets[0]
        alerts = [e["alert"] for e, d in zip(events, leaks) if d.place.building == building]
        assert ticket["links"] == sorted(alerts)  # every alarm linked, once
        assert ticket["joined"] == alerts[1:]  # each joining alarm said once, in order; the first opened it
        assert ticket["opened"] == 1
        # the burst-pipe playbook's security support once, however many alarms joined
        assert ticket["assignments"] == [("owner", "plumbing"), ("support", "security")]


def test_a_batch_joins_the_incident_an_earlier_batch_opened_and_a_replay_of_it_adds_nothing(pipeline):
    leaks = leak_sensors()
    first = [d for d in leaks if d.place.building == "L1"][:2]
    rest = [d for d in leaks if d not in first]
    pipeline.process(on_site(pipeline))
    pipeline.process(wet(pipeline, first))
    pipeline.clock.advance(seconds=5)
    later = wet(pipeline, rest)
    pipeline.process(later)
    found = incidents(pipeline)
    assert {b: len(t) for b, t in found.items()} == {"L1": 1, "L2": 1, "L3": 1, "L4": 1}
    l1 = found["L1"][0]
    assert len(l1["links"]) == len([d for d in leaks if d.place.building == "L1"])
    assert l1["assignments"] == [("owner", "plumbing"), ("support", "security")]
    before = (found, len(alert_events(pipeline)))
    pipeline.process(later)  # the broker delivers the batch again
    assert (incidents(pipeline), len(alert_events(pipeline))) == before


def test_a_batch_after_the_incident_was_fixed_reopens_it_once_and_the_rest_join_it(pipeline):
    leaks = [d for d in leak_sensors() if d.place.building == "L1"]  # where the technicians are
    pipeline.process(on_site(pipeline))
    pipeline.process(wet(pipeline, leaks[:1]))
    with pipeline.sessions.writer() as session, session.begin():
        ticket = session.scalars(select(TicketRow)).one()
        owner = session.scalars(select(AssignmentRow).where(AssignmentRow.ticket_id == ticket.id,
                                                             AssignmentRow.role == "owner")).one()
        dispatcher, now = pipeline.dispatcher, pipeline.clock.now()
        dispatcher.accept(session, ticket.id, owner.technician, now)
        dispatcher.arrive(session, ticket.id, owner.technician, now)
        dispatcher.resolve(session, ticket.id, owner.technician, now, "closed the riser valve",
                           ["https://photos.example/after.jpg"])
    pipeline.clock.advance(minutes=20)  # beyond the incident window: only "the same problem within 7 days"
    pipeline.process(dry(pipeline, leaks[:1], seq=2))
    pipeline.clock.advance(seconds=31)
    pipeline.process_tick()  # dry for its clear delay: the alarm clears
    pipeline.clock.advance(seconds=1)
    pipeline.process(wet(pipeline, leaks, seq=3))  # the same sensor wet again first, then all the others
    found = incidents(pipeline)
    assert len(found["L1"]) == 1  # the fix did not hold: reopened, and every other leak joins it
    assert len(found["L1"][0]["links"]) == len(leaks) + 1


def test_a_storm_in_one_batch_ends_as_the_same_alarms_one_batch_each(estate, database_url, tmp_path, make_pipeline):
    leaks = leak_sensors()
    together = make_pipeline(estate, database_url)
    together.process(on_site(together))
    together.process(wet(together, leaks))
    apart = make_pipeline(estate, f"sqlite:///{tmp_path / 'apart.db'}")
    apart.process(on_site(apart))
    for message in wet(apart, leaks):
        apart.process([message])

    def shape(pipeline: Pipeline):
        ids: dict[str, str] = {}  # alerts and tickets by their order of appearance, not their random ids
        for event in alert_events(pipeline):
            ids.setdefault(event["ticket"], f"ticket-{len(ids)}")
        return ([(e["device"], e["state"], ids[e["ticket"]]) for e in alert_events(pipeline)],
                {b: [(len(t["links"]), len(t["joined"]), t["opened"], t["assignments"]) for t in tickets]
                 for b, tickets in incidents(pipeline).items()})

    assert shape(together) == shape(apart)
