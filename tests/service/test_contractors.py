"""Outside contractors on a real Mosquitto and a real database, by a fake clock: a level-1 leak with no
plumber on site is offered to the first plumbing contractor of the site file (c-fix) on its own topic, held
to its 30 minutes, and the operators are told; a leak let pass by two plumbers in turn goes to it too."""

from __future__ import annotations

import time

import pytest

from caretaker.estate import parse_site
from tests.dispatch.escalation_site import escalation_site_text
from tests.fakes import FakeClock
from tests.service.escalation_support import (
    MONDAY_10, leak, operator_client, place, start, sweep_at, write_site,
)
from tests.service.harness import Watcher, wait_until


@pytest.fixture
def estate(tmp_path, mosquitto, database_url):
    clock = FakeClock(MONDAY_10)
    service = start(mosquitto.url, database_url, write_site(tmp_path, escalation_site_text()), clock)
    watcher = Watcher(mosquitto.host, mosquitto.port, client_id=f"watcher-{time.monotonic_ns()}")
    yield service, clock, watcher
    watcher.close()
    service.stop()


def test_nobody_qualified_on_site_offers_a_level_1_leak_to_the_contractor_and_tells_the_operator(estate):
    service, clock, watcher = estate
    leak(watcher, clock)  # B-LEAK-1: no plumber has been seen on the estate
    offer = watcher.wait_for("contractors/c-fix/dispatch", lambda p: p["type"] == "offered").json()
    assert (offer["category"], offer["urgency"], offer["contractor"]) == ("plumbing", 1, "c-fix")
    assert offer["arrive_by"] == "2027-01-04T02:30:00.000Z"  # c-fix's agreement: on site within 30 minutes
    assert offer["location"] == {"building": "B", "floor": 1, "zone": None}
    assert offer["reason"] == "nobody qualified on site" and offer["id"].startswith("M-")
    told = watcher.wait_for("supervisors/s-li/notify", lambda n: n["type"] == "contractor").json()
    assert told["ticket"] == offer["ticket"] and "c-fix（QuickFix）" in told["reason"]  # the estate's zh-CN
    assert not watcher.on("contractors/c-pipe/dispatch")  # one contractor, the first of the trade

    client, operator = operator_client(service)
    ticket = client.get(f"/api/v1/tickets/{offer['ticket']}", headers=operator).json()
    assert ticket["contractor"] == "c-fix" and ticket["status"] == "open"
    assert any(h["note"].startswith("已派给外包单位 c-fix（QuickFix）：现场没有具备该工种的技工")
               for h in ticket["history"])  # the history in the reader's language: the estate's here

    clock.advance(minutes=30)  # nobody confirmed on site by the agreed time
    assert "contractor:arrive" in sweep_at(service, clock.now())
    late = watcher.wait_for("supervisors/s-zhang/notify", lambda n: "未在约定时间内确认到场" in n["reason"]).json()
    assert late["type"] == "breach" and late["level"] == 1  # the climb had reached s-zhang at 15 minutes
    assert len(watcher.on("contractors/c-fix/dispatch")) == 1  # offered once, however many retries


def stored_buildings(service) -> dict[str, str]:
    """Where the service has each technician (what choosing reads)."""
    from sqlalchemy import select

    from caretaker.dispatch.tables import TechnicianLocationRow
    with service.sessions() as session:
        return {r.technician: r.building for r in session.scalars(select(TechnicianLocationRow))}


def test_a_leak_let_pass_by_two_plumbers_goes_to_the_contractor(estate):
    service, clock, watcher = estate
    place(watcher, clock, "t-near", "A", 1)
    place(watcher, clock, "t-far", "B", 1)
    wait_until(lambda: stored_buildings(service) == {"t-near": "A", "t-far": "B"}, what="both locations stored")
    leak(watcher, clock, "A-LEAK-1")
    watcher.wait_for("technicians/t-near/dispatch", lambda p: p["type"] == "assigned")
    clock.advance(seconds=4)  # the small site's level-1 accept window is 3 s
    sweep_at(service, clock.now())
    watcher.wait_for("technicians/t-far/dispatch", lambda p: p["type"] == "assigned")
    assert not watcher.on("contractors/c-fix/dispatch")  # one timeout is not enough
    clock.advance(seconds=4)
    sweep_at(service, clock.now())
    offer = watcher.wait_for("contractors/c-fix/dispatch", lambda p: p["type"] == "offered").json()
    assert offer["reason"] == "not accepted in time 2 times"
    watcher.wait_for("supervisors/s-li/notify", lambda n: n["type"] == "contractor")  # the operator is told


def test_offer_to_contractor_offers_each_trade_of_a_ticket_once_and_masks_the_resident(database_url):
    """What per-assignment code calls (dispatch.contractors.offer_to_contractor), on a real database: one
    offer per trade, the next contractor only when the operators choose one, no resident's name sent."""
    import json

    from sqlalchemy import select

    from caretaker.db import make_engine, make_sessions, migrate
    from caretaker.dispatch.contractors import offer_to_contractor
    from caretaker.dispatch.service import Dispatcher, Report
    from caretaker.dispatch.tables import OutboxRow, TicketRow

    site = parse_site(escalation_site_text())
    engine = make_engine(database_url)
    migrate(engine)
    db, clock = make_sessions(engine), FakeClock(MONDAY_10)
    dispatcher = Dispatcher(site, "caretaker")
    told: list[tuple[str, str]] = []
    try:
        with db.begin() as s:
            ticket_id = dispatcher.report(s, Report(
                source="phone", reporter_name="Zhao Min", reporter_phone="13700137000", building="B", floor=2,
                description="Zhao Min: water through the ceiling", category="plumbing", urgency=1,
                title="Zhao Min: water through the ceiling"), clock.now(), "op-1")
        with db.begin() as s:
            ticket = s.get(TicketRow, ticket_id)
            notify = lambda _s, _t, kind, reason, _now: told.append((kind, reason))  # noqa: E731
            # the report found no plumber on site: plumbing went to c-fix already
            again = offer_to_contractor(s, site, "caretaker", ticket, "plumbing", "nobody qualified on site",
                                        clock.now(), notify)
            power = offer_to_contractor(s, site, "caretaker", ticket, "electrical", "nobody qualified on site",
                                        clock.now(), notify)
            lift = offer_to_contractor(s, site, "caretaker", ticket, "security", "nobody qualified on site",
                                       clock.now(), notify)
        assert again is None and lift is None  # offered already; nobody holds security
        assert power is not None and power.contractor == "c-fix"
        assert [kind for kind, _ in told] == ["contractor"]  # the electrical offer, told through `notify`
        with db() as s:
            offers = [json.loads(r.payload) for r in s.scalars(select(OutboxRow).order_by(OutboxRow.id))
                      if "/contractors/" in r.topic]
        assert [(o["category"], o["contractor"]) for o in offers] == [("plumbing", "c-fix"), ("electrical", "c-fix")]
        assert all("Zhao Min" not in json.dumps(o, ensure_ascii=False) for o in offers)
    finally:
        engine.dispose()
