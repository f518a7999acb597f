"""Ticket lifecycle on a real database (SQLite and PostgreSQL): open, assign, steps, timers, pushes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from caretaker.db import make_engine, make_sessions, migrate
from caretaker.dispatch import timers
from caretaker.dispatch.errors import BadRequest, NotYourTicket, StepNotAllowed, TicketNotFound
from caretaker.dispatch.service import AlertFacts, Dispatcher, Report
from caretaker.dispatch.tables import OutboxRow, TicketHistoryRow, TicketRow
from caretaker.estate.model import Place
from caretaker.estate.site import load_site
from tests.fakes import FakeClock

SITE = load_site(Path(__file__).resolve().parent.parent / "fixtures" / "small-site.yaml")


@pytest.fixture
def db(database_url):
    engine = make_engine(database_url)
    migrate(engine)
    yield make_sessions(engine)
    engine.dispose()


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def dispatcher():
    return Dispatcher(SITE, "caretaker")


def leak(alert: str = "AL-1", device: str = "A-LEAK-1", at=None) -> AlertFacts:
    return AlertFacts(alert, "water-leak", device, 1, "plumbing", "Water leak", at)


def locate(db, dispatcher, clock, tech: str, building: str, floor: int) -> None:
    with db.begin() as s:
        dispatcher.record_location(s, tech, Place(building, floor), clock.now(), "app")


def pushes(db, topic_suffix: str) -> list[dict]:
    with db() as s:
        rows = s.scalars(select(OutboxRow).order_by(OutboxRow.id)).all()
    return [json.loads(r.payload) for r in rows if r.topic.endswith(topic_suffix)]


def ticket(db, ticket_id: str) -> TicketRow:
    with db() as s:
        return s.get(TicketRow, ticket_id)


def sweep(db, dispatcher, clock) -> list[str]:
    with db.begin() as s:
        due = timers.claim_due(s, clock.now())
        for item in due:
            dispatcher.on_timer(s, item, clock.now())
    return [d.kind for d in due]


def test_a_second_alert_on_the_same_device_and_rule_joins_the_open_ticket(db, dispatcher, clock):
    locate(db, dispatcher, clock, "t-near", "A", 1)
    with db.begin() as s:
        first = dispatcher.open_for_alert(s, leak("AL-1", at=clock.now()), clock.now())
    clock.advance(seconds=30)
    with db.begin() as s:
        second = dispatcher.open_for_alert(s, leak("AL-2", at=clock.now()), clock.now())
    assert first == second
    assert len(pushes(db, "t-near/dispatch")) == 1


def test_deadlines_come_from_the_sites_sla(db, dispatcher, clock):
    with db.begin() as s:
        ticket_id = dispatcher.open_for_alert(s, leak(at=clock.now()), clock.now())
    row = ticket(db, ticket_id)
    assert (row.accept_by - clock.now()).total_seconds() == 3  # small-site.yaml: level 1 accept 3s
    assert (row.arrive_by - clock.now()).total_seconds() == 30 * 60
    assert (row.resolve_by - clock.now()).total_seconds() == 2 * 3600


def test_full_lifecycle_by_the_assigned_technician_and_the_control_room(db, dispatcher, clock):
    locate(db, dispatcher, clock, "t-near", "A", 1)
    with db.begin() as s:
        ticket_id = dispatcher.open_for_alert(s, leak(at=clock.now()), clock.now())
    with db.begin() as s:
        dispatcher.accept(s, ticket_id, "t-near", clock.advance(seconds=1))
    with db.begin() as s:
        dispatcher.arrive(s, ticket_id, "t-near", clock.advance(minutes=4))
    with pytest.raises(BadRequest):
        with db.begin() as s:
            dispatcher.resolve(s, ticket_id, "t-near", clock.now(), "closed the valve", [])
    with db.begin() as s:
        dispatcher.resolve(s, ticket_id, "t-near", clock.advance(minutes=20), "replaced the joint", ["photo-1.jpg"])
    with db.begin() as s:
        dispatcher.verify(s, ticket_id, "op-1", clock.advance(minutes=5), satisfaction=5, note="resident happy")
    row = ticket(db, ticket_id)
    assert row.status == "closed" and row.satisfaction == 5 and not row.breached
    with db() as s:
        statuses = [h.status for h in s.scalars(select(TicketHistoryRow).where(
            TicketHistoryRow.ticket_id == ticket_id).order_by(TicketHistoryRow.id)) if "support" not in (h.note or "")]
    assert statuses == ["open", "assigned", "accepted", "on_site", "resolved", "verified", "closed"]
    # the same leak within 7 days of the fix is no new ticket: the ticket reopens to its owner, escalated
    with db.begin() as s:
        assert dispatcher.open_for_alert(s, leak("AL-9", at=clock.now()), clock.advance(days=2)) == ticket_id
    row = ticket(db, ticket_id)
    assert (row.status, row.assignee, row.satisfaction) == ("assigned", "t-near", None)
    assert (row.accept_by - clock.now()).total_seconds() == 3  # fresh deadlines from the reopening
    assert [n["type"] for n in pushes(db, "s-1/notify")] == ["escalation"]
    # after 7 days it is a new problem and a new ticket
    with db.begin() as s:
        dispatcher.cancel(s, ticket_id, "op-1", clock.now(), "tidy up")
    with db.begin() as s:
        assert dispatcher.open_for_alert(s, leak("AL-10", at=clock.now()), clock.advance(days=8)) != ticket_id


@pytest.mark.parametrize(
    "step, tech, error",
    [
        ("accept", "t-far", NotYourTicket),
        ("arrive", "t-near", StepNotAllowed),
        ("resolve", "t-near", StepNotAllowed),
    ],
    ids=["someone-else-accepts", "arrive-before-accept", "resolve-before-accept"],
)
def test_steps_out_of_turn_are_refused(db, dispatcher, clock, step, tech, error):
    locate(db, dispatcher, clock, "t-near", "A", 1)
    with db.begin() as s:
        ticket_id = dispatcher.open_for_alert(s, leak(at=clock.now()), clock.now())
    with pytest.raises(error):
        with db.begin() as s:
            if step == "resolve":
                dispatcher.resolve(s, ticket_id, tech, clock.now(), "done", ["p.jpg"])
            else:
                getattr(dispatcher, step)(s, ticket_id, tech, clock.now())
    assert ticket(db, ticket_id).status == "assigned"


def test_unknown_ticket(db, dispatcher, clock):
    with pytest.raises(TicketNotFound):
        with db.begin() as s:
            dispatcher.accept(s, "T-NOPE", "t-near", clock.now())


def test_decline_goes_to_the_next_nearest_and_never_back(db, dispatcher, clock):
    locate(db, dispatcher, clock, "t-near", "A", 1)
    locate(db, dispatcher, clock, "t-far", "B", 1)
    with db.begin() as s:
        ticket_id = dispatcher.open_for_alert(s, leak(at=clock.now()), clock.now())
    with db.begin() as s:
        dispatcher.decline(s, ticket_id, "t-near", clock.advance(seconds=1))
    assert ticket(db, ticket_id).assignee == "t-far"
    with db.begin() as s:
        dispatcher.decline(s, ticket_id, "t-far", clock.advance(seconds=1))
    row = ticket(db, ticket_id)
    assert row.status == "open" and row.assignee is None
    notices = pushes(db, "s-1/notify")
    assert [n["type"] for n in notices] == ["unassigned"]


def test_accept_timeout_withdraws_and_reassigns(db, dispatcher, clock):
    locate(db, dispatcher, clock, "t-near", "A", 1)
    locate(db, dispatcher, clock, "t-far", "B", 1)
    with db.begin() as s:
        ticket_id = dispatcher.open_for_alert(s, leak(at=clock.now()), clock.now())
    clock.advance(seconds=2)
    assert "accept_timeout" not in sweep(db, dispatcher, clock)
    clock.advance(seconds=1.5)
    assert "accept_timeout" in sweep(db, dispatcher, clock)
    # 80% of the 3 s accept window brought a reminder first
    assert [p["type"] for p in pushes(db, "t-near/dispatch")] == ["assigned", "reminder", "withdrawn"]
    assert [p["type"] for p in pushes(db, "t-far/dispatch")] == ["assigned"]
    assert ticket(db, ticket_id).assignee == "t-far"


def test_an_accepted_ticket_is_not_taken_back_when_the_window_ends(db, dispatcher, clock):
    locate(db, dispatcher, clock, "t-near", "A", 1)
    with db.begin() as s:
        ticket_id = dispatcher.open_for_alert(s, leak(at=clock.now()), clock.now())
    with db.begin() as s:
        dispatcher.accept(s, ticket_id, "t-near", clock.advance(seconds=1))
    clock.advance(seconds=10)
    sweep(db, dispatcher, clock)
    assert ticket(db, ticket_id).status == "accepted"
    assert [p["type"] for p in pushes(db, "t-near/dispatch")] == ["assigned"]


def test_warning_at_80_percent_then_breach_escalates_to_every_supervisor(db, dispatcher, clock):
    locate(db, dispatcher, clock, "t-near", "A", 1)
    with db.begin() as s:
        ticket_id = dispatcher.open_for_alert(s, leak(at=clock.now()), clock.now())
    with db.begin() as s:
        dispatcher.accept(s, ticket_id, "t-near", clock.advance(seconds=1))
    clock.advance(minutes=24, seconds=30)  # 80% of the 30 min arrive window
    assert "arrive:warn" in sweep(db, dispatcher, clock)
    assert pushes(db, "t-near/dispatch")[-1]["type"] == "reminder"
    assert not ticket(db, ticket_id).breached
    clock.advance(minutes=6)
    assert "arrive:breach" in sweep(db, dispatcher, clock)
    assert ticket(db, ticket_id).breached
    for supervisor in ("s-1", "s-2"):
        assert [n["type"] for n in pushes(db, f"{supervisor}/notify")] == ["warning", "breach"]


def test_a_person_report_for_a_vulnerable_resident_is_raised_one_level(db, clock):
    site = load_site(Path(__file__).resolve().parents[2] / "examples" / "harbor-view.yaml")
    unit = next(u for u in site.units.values() if any(r.vulnerable for r in u.residents))
    dispatcher = Dispatcher(site, "caretaker")
    report = Report(source="phone", reporter_name="Zhao Min", reporter_phone="13700137000", building=unit.building,
                    floor=unit.floor, description="no hot water", category="plumbing", urgency=3,
                    title="No hot water", unit_id=unit.id)
    with db.begin() as s:
        ticket_id = dispatcher.report(s, report, clock.now(), by="op-1")
    assert ticket(db, ticket_id).urgency == 2


def test_reopen_returns_the_ticket_to_its_owner(db, dispatcher, clock):
    locate(db, dispatcher, clock, "t-near", "A", 1)
    with db.begin() as s:
        ticket_id = dispatcher.open_for_alert(s, leak(at=clock.now()), clock.now())
    with db.begin() as s:
        dispatcher.accept(s, ticket_id, "t-near", clock.now())
        dispatcher.resolve(s, ticket_id, "t-near", clock.advance(minutes=10), "fixed", ["p.jpg"])
    locate(db, dispatcher, clock, "t-far", "A", -1)  # now nearer, but the owner keeps it
    with db.begin() as s:
        dispatcher.reopen(s, ticket_id, "op-1", clock.advance(minutes=1), "still leaking")
    row = ticket(db, ticket_id)
    assert (row.status, row.assignee) == ("assigned", "t-near")
    assert [p["type"] for p in pushes(db, "t-near/dispatch")] == ["assigned", "assigned"]


def test_cancel_withdraws_and_stops_every_timer(db, dispatcher, clock):
    locate(db, dispatcher, clock, "t-near", "A", 1)
    with db.begin() as s:
        ticket_id = dispatcher.open_for_alert(s, leak(at=clock.now()), clock.now())
    with db.begin() as s:
        dispatcher.cancel(s, ticket_id, "op-1", clock.now(), "false alarm")
    assert pushes(db, "t-near/dispatch")[-1]["type"] == "withdrawn"
    clock.advance(hours=3)
    assert sweep(db, dispatcher, clock) == []
    assert ticket(db, ticket_id).status == "cancelled"


def test_a_repeat_report_from_the_same_unit_joins_the_ticket_and_escalates(db, clock):
    site = load_site(Path(__file__).resolve().parents[2] / "examples" / "harbor-view.yaml")
    unit = next(iter(site.units.values()))
    dispatcher = Dispatcher(site, "caretaker")

    def report(description: str, category: str = "plumbing") -> str:
        with db.begin() as s:
            return dispatcher.report(s, Report(source="phone", reporter_name="Resident", reporter_phone="13700137000",
                                               building=unit.building, floor=unit.floor, description=description,
                                               category=category, urgency=3, title=description, unit_id=unit.id),
                                     clock.now(), by="op-1")

    first = report("tap dripping")
    clock.advance(days=1)
    assert report("tap still dripping") == first
    assert report("light broken", category="electrical") != first  # another trade is another problem
    with db() as s:
        notes = [h.note for h in s.scalars(select(TicketHistoryRow).where(TicketHistoryRow.ticket_id == first))]
    assert any("reported again within 7 days" in (n or "") for n in notes)
    assert [n["type"] for n in pushes(db, "notify") if n["ticket"] == first][-1] == "escalation"


def test_a_technician_who_missed_the_push_is_asked_again_when_nobody_else_can_come(db, dispatcher, clock):
    locate(db, dispatcher, clock, "t-near", "A", 1)  # the only plumber on site
    with db.begin() as s:
        ticket_id = dispatcher.open_for_alert(s, leak(at=clock.now()), clock.now())
    clock.advance(seconds=4)
    sweep(db, dispatcher, clock)  # accept window (3 s) ran out: a level 1 asks them again at once
    row = ticket(db, ticket_id)
    assert (row.status, row.assignee) == ("assigned", "t-near")
    assert [p["type"] for p in pushes(db, "t-near/dispatch") if p["type"] != "reminder"] == [
        "assigned", "withdrawn", "assigned"]
    assert pushes(db, "t-near/dispatch")[-1]["accept_by"] > pushes(db, "t-near/dispatch")[0]["accept_by"]
    clock.advance(seconds=4)
    sweep(db, dispatcher, clock)  # missed twice: skipped for a while (a contractor, where there is one)
    assert ticket(db, ticket_id).status == "open"
    clock.advance(minutes=5)
    sweep(db, dispatcher, clock)
    assert ticket(db, ticket_id).status == "open"  # still skipped for a while
    locate(db, dispatcher, clock, "t-near", "A", 1)
    clock.advance(minutes=6)
    sweep(db, dispatcher, clock)
    row = ticket(db, ticket_id)
    assert (row.status, row.assignee) == ("assigned", "t-near")
    assert [p["type"] for p in pushes(db, "t-near/dispatch")][-1] == "assigned"


def test_a_more_urgent_alert_shortens_the_accept_window_of_the_waiting_technician(db, dispatcher, clock):
    locate(db, dispatcher, clock, "t-near", "A", 1)
    locate(db, dispatcher, clock, "t-far", "B", 1)
    pump = AlertFacts("AL-P", "pump-fault", "A-PUMP-1", 3, "plumbing", "Water pump fault", clock.now())
    with db.begin() as s:
        ticket_id = dispatcher.open_for_alert(s, pump, clock.now())  # level 3: 30 min to accept
    clock.advance(seconds=30)
    with db.begin() as s:
        assert dispatcher.open_for_alert(s, leak("AL-L", at=clock.now()), clock.now()) == ticket_id
    assert ticket(db, ticket_id).urgency == 1
    clock.advance(seconds=4)  # level 1 gives 3 s to accept on this site
    sweep(db, dispatcher, clock)
    assert ticket(db, ticket_id).assignee == "t-far"
    assert [p["type"] for p in pushes(db, "t-near/dispatch")][-1] == "withdrawn"


def test_an_incident_that_grows_gains_its_new_alarms_trades_once(db, dispatcher, clock):
    """A pump fault (level 3, plumbing only) is joined by a burst pipe: the level rises and security is
    sent; a second leak sends nobody more."""
    locate(db, dispatcher, clock, "t-near", "A", 1)
    locate(db, dispatcher, clock, "t-sec", "A", 2)
    pump = AlertFacts("AL-P", "pump-fault", "A-PUMP-1", 3, "plumbing", "Water pump fault", clock.now())
    with db.begin() as s:
        ticket_id = dispatcher.open_for_alert(s, pump, clock.now())
    assert not pushes(db, "t-sec/dispatch")
    with db.begin() as s:
        assert dispatcher.open_for_alert(s, leak("AL-L1", at=clock.now()), clock.advance(seconds=20)) == ticket_id
    with db.begin() as s:
        assert dispatcher.open_for_alert(s, leak("AL-L2", "A-LEAK-2", at=clock.now()), clock.advance(seconds=20)) == ticket_id
    [guard] = pushes(db, "t-sec/dispatch")
    assert (guard["ticket"], guard["trade"], guard["role"], guard["urgency"]) == (ticket_id, "security", "support", 1)
    assert ticket(db, ticket_id).urgency == 1 and ticket(db, ticket_id).playbooks == ["burst-pipe"]
