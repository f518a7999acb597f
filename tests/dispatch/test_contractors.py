"""Contractor fallback, pure and table-driven: when a piece of work goes to a contractor (level, nobody on
site, timeouts), whether anyone qualified is on site, and which contractor (the site file's order)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from caretaker.dispatch.choose import Candidate
from caretaker.dispatch.contractors import choose_contractor, contractor_topic, needs_contractor, nobody_qualified_on_site
from caretaker.estate.model import Place
from tests.dispatch.escalation_site import escalation_site

SITE = escalation_site()
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(("urgency", "nobody", "timeouts", "why"), [
    (1, True, 0, "nobody qualified on site"),
    (2, True, 0, "nobody qualified on site"),
    (3, True, 0, None),  # an ordinary repair waits for the estate's own staff
    (4, True, 5, None),
    (1, False, 0, None),
    (1, False, 1, None),
    (1, False, 2, "not accepted in time 2 times"),
    (2, False, 3, "not accepted in time 3 times"),
])
def test_a_contractor_is_called_for_level_1_and_2_only_with_nobody_on_site_or_two_timeouts(urgency, nobody,
                                                                                          timeouts, why):
    assert needs_contractor(urgency, nobody, timeouts) == why


def candidate(tech: str, *, at: str | None = "A", seen_ago: timedelta = timedelta(minutes=1),
              busy: int | None = None) -> Candidate:
    place = Place(at, 1) if at else None
    return Candidate(SITE.technicians[tech], place, NOW - seen_ago if at else None, busy, 0)


@pytest.mark.parametrize(("candidates", "trade", "nobody"), [
    ([], "plumbing", True),
    ([candidate("t-near")], "plumbing", False),
    ([candidate("t-near", busy=1)], "plumbing", False),  # busy, but here: they may be freed
    ([candidate("t-near", at=None)], "plumbing", True),  # never seen
    ([candidate("t-near", seen_ago=timedelta(minutes=31))], "plumbing", True),  # last seen too long ago
    ([candidate("t-elec")], "plumbing", True),  # here, but not a plumber
    ([candidate("t-elec"), candidate("t-far", seen_ago=timedelta(hours=2))], "plumbing", True),
    ([candidate("t-sec")], "elevator", False),
], ids=["nobody", "a-plumber", "busy-plumber", "never-seen", "stale", "wrong-trade", "mixed", "elevator"])
def test_nobody_qualified_on_site_means_no_fresh_location_of_the_trade(candidates, trade, nobody):
    assert nobody_qualified_on_site(SITE, trade, candidates, NOW) is nobody


@pytest.mark.parametrize(("trade", "excluded", "chosen"), [
    ("plumbing", (), "c-fix"),  # the first in the file that holds the trade
    ("plumbing", ("c-fix",), "c-pipe"),
    ("plumbing", ("c-fix", "c-pipe"), None),
    ("electrical", (), "c-fix"),
    ("elevator", (), "c-lift"),
    ("security", (), None),  # nobody holds it: the supervisors are told, no contractor
])
def test_the_contractor_is_the_first_of_the_trade_in_the_site_file(trade, excluded, chosen):
    found = choose_contractor(SITE, trade, excluded)
    assert (found.id if found else None) == chosen


def test_the_offer_goes_on_the_contractors_own_topic():
    assert contractor_topic("caretaker", "test-estate", "c-fix") == "caretaker/test-estate/contractors/c-fix/dispatch"
    assert SITE.contractors["c-pipe"].arrive == timedelta(minutes=20)


def test_the_offer_reaches_the_contractors_own_channels_and_no_one_elses():
    from caretaker.dispatch.notify.model import MessageKind, classify
    from caretaker.dispatch.notify.router import audiences, route
    from caretaker.estate import parse_site
    from tests.dispatch.escalation_site import SUPERVISORS, escalation_site_text

    text = SUPERVISORS.replace("arrive: 30m}", "arrive: 30m, notify: [fix-hook]}") + """channels:
  - {id: fix-hook, kind: webhook, url: "http://quickfix.example/caretaker", takes: [dispatch]}
  - {id: desk-hook, kind: webhook, url: "http://desk.example/caretaker", takes: [dispatch], to: [t-near]}
"""
    site = parse_site(escalation_site_text(text))
    offer = classify(7, "caretaker/test-estate/contractors/c-fix/dispatch", '{"id": "M-1", "type": "offered"}',
                     "caretaker", "test-estate")
    assert offer is not None and (offer.kind, offer.person) == (MessageKind.DISPATCH, "c-fix")
    assert route(offer, site.channels, audiences(site)) == ["fix-hook"]
    other = classify(8, "caretaker/test-estate/contractors/c-pipe/dispatch", '{"id": "M-2", "type": "offered"}',
                     "caretaker", "test-estate")
    assert route(other, site.channels, audiences(site)) == []
