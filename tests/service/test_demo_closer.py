"""In the demo, work that technicians finished on site is resolved and then closed after the call-back."""

from __future__ import annotations

from datetime import timedelta

from caretaker.db import make_engine, make_sessions, migrate
from caretaker.demo_closer import DemoCloser
from caretaker.dispatch.service import AlertFacts, Dispatcher
from caretaker.dispatch.tables import TicketRow
from caretaker.estate.model import Place
from caretaker.estate.site import load_site
from tests.fakes import FakeClock
from tests.service.harness import SMALL_SITE


def test_the_demo_closes_the_loop_so_technicians_come_free(sqlite_url):
    site = load_site(SMALL_SITE)
    engine = make_engine(sqlite_url)
    migrate(engine)
    sessions, clock, dispatcher = make_sessions(engine), FakeClock(), Dispatcher(site, "caretaker")
    closer = DemoCloser(sessions, dispatcher, clock, work=timedelta(minutes=2), callback=timedelta(minutes=1))
    with sessions.begin() as s:
        dispatcher.record_location(s, "t-near", Place("A", 1), clock.now(), "app")
        ticket_id = dispatcher.open_for_alert(
            s, AlertFacts("AL-1", "water-leak", "A-LEAK-1", 1, "plumbing", "Water leak", clock.now()), clock.now())
        dispatcher.accept(s, ticket_id, "t-near", clock.now())
        dispatcher.arrive(s, ticket_id, "t-near", clock.advance(minutes=1))

    def status() -> str:
        with sessions() as s:
            return s.get(TicketRow, ticket_id).status

    clock.advance(minutes=1)
    closer.close_finished()
    assert status() == "on_site"  # still working
    clock.advance(minutes=1, seconds=1)
    closer.close_finished()
    assert status() == "resolved"
    clock.advance(minutes=1, seconds=1)
    closer.close_finished()
    with sessions() as s:
        ticket = s.get(TicketRow, ticket_id)
        assert ticket.status == "closed" and ticket.satisfaction in (4, 5) and ticket.photos
    engine.dispose()
