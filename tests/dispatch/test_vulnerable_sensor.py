"""A supply cut (an outage, a water cut, a stopped lift) in a building where a vulnerable resident lives is
raised one level, and its history says who to check on; other alarms keep their level (real database)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from caretaker.db import make_engine, make_sessions, migrate
from caretaker.dispatch.service import AlertFacts, Dispatcher
from caretaker.dispatch.tables import TicketHistoryRow, TicketRow
from caretaker.estate.site import load_site
from tests.conftest import EXAMPLE_SITE
from tests.fakes import FakeClock

SITE = load_site(EXAMPLE_SITE)  # building A has vulnerable residents (units A-1203, A-2801)


@pytest.fixture
def db(database_url):
    engine = make_engine(database_url)
    migrate(engine)
    yield make_sessions(engine)
    engine.dispose()


@pytest.mark.parametrize("rule, device, category, level, expected", [
    ("mains-power-lost", "A-B1-PWR-1", "electrical", 2, 1),
    ("elevator-stopped", "A-EL-1", "elevator", 3, 2),
    ("pump-fault", "A-B2-PUMP-1", "plumbing", 3, 3),  # not a supply cut: as the rule says
])
def test_a_supply_cut_where_a_vulnerable_resident_lives_is_raised_a_level(db, rule, device, category, level,
                                                                          expected):
    clock, dispatcher = FakeClock(), Dispatcher(SITE, "caretaker")
    with db.begin() as s:
        ticket_id = dispatcher.open_for_alert(s, AlertFacts("AL-1", rule, device, level, category, rule, clock.now()),
                                              clock.now())
    with db() as s:
        assert s.get(TicketRow, ticket_id).urgency == expected
        notes = [h.note or "" for h in s.scalars(select(TicketHistoryRow).where(TicketHistoryRow.ticket_id == ticket_id))]
    raised = [n for n in notes if n.startswith("urgency raised")]
    assert bool(raised) == (expected != level)
    if raised:
        assert raised[0] == f"urgency raised from {level} to {expected}: vulnerable resident in building A (check on them)"
