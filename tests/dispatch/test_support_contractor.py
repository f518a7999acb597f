"""A support assignment of a level-1 or level-2 ticket that finds nobody of its trade on site goes to a
contractor of that trade, as the owner's does (real database)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from caretaker.db import make_engine, make_sessions, migrate
from caretaker.dispatch.service import AlertFacts, Dispatcher
from caretaker.dispatch.tables import AssignmentRow, OutboxRow
from caretaker.estate.model import Place
from tests.dispatch.escalation_site import escalation_site
from tests.fakes import FakeClock

SITE = escalation_site()  # contractors c-fix (plumbing, electrical), c-pipe (plumbing), c-lift (elevator)


@pytest.fixture
def db(database_url):
    engine = make_engine(database_url)
    migrate(engine)
    yield make_sessions(engine)
    engine.dispose()


def test_an_outages_lift_check_with_no_lift_engineer_on_site_goes_to_the_lift_contractor(db):
    clock, dispatcher = FakeClock(), Dispatcher(SITE, "caretaker")
    with db.begin() as s:
        dispatcher.record_location(s, "t-elec", Place("A", 1), clock.now(), "app")  # nobody with the elevator trade
        ticket_id = dispatcher.open_for_alert(s, AlertFacts("AL-1", "mains-power-lost", "A-METER-1", 2, "electrical",
                                                            "Mains power lost", clock.now()), clock.now())
    with db() as s:
        rows = s.scalars(select(AssignmentRow).where(AssignmentRow.ticket_id == ticket_id)).all()
        offers = [(r.topic, json.loads(r.payload)) for r in s.scalars(select(OutboxRow)) if "/contractors/" in r.topic]
    assert [(r.trade, r.role, r.status, r.technician) for r in rows] == [
        ("electrical", "owner", "offered", "t-elec"), ("elevator", "support", "waiting", None)]
    [(topic, offer)] = offers
    assert topic.endswith("/contractors/c-lift/dispatch")
    assert (offer["ticket"], offer["category"], offer["reason"]) == (ticket_id, "elevator", "nobody qualified on site")
