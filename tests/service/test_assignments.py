"""One incident, several trades, on a real Mosquitto and a real database (SQLite and PostgreSQL): each
assignment chosen, pushed, timed out and reassigned on its own; preemption; arrival measured on site.

The site is the small test estate with more technicians (copied into tmp_path, the shared fixture untouched)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from caretaker.dispatch.tables import AssignmentRow, TechnicianLocationRow, TicketRow
from caretaker.ingest.tables import DeadLetterRow
from tests.service.harness import SMALL_SITE, Watcher, now_iso, place_and_wait, start_service, wait_until

MORE_TECHNICIANS = [
    {"id": "t-guard", "name": "Second Guard", "phone": "13800000005", "skills": ["security"], "badge": "BADGE-GUARD"},
    {"id": "t-clean", "name": "Cleaner", "phone": "13800000006", "skills": ["cleaning"], "badge": "BADGE-CLEAN"},
    {"id": "t-lift", "name": "Lift Engineer", "phone": "13800000007", "skills": ["elevator"], "badge": "BADGE-LIFT"},
]


@pytest.fixture
def site_file(tmp_path: Path) -> Path:
    site = yaml.safe_load(SMALL_SITE.read_text(encoding="utf-8"))
    site["technicians"] += MORE_TECHNICIANS
    site["devices"].append({"id": "A-LEAK-3", "type": "water_leak", "building": "A", "floor": 5})
    path = tmp_path / "site.yaml"
    path.write_text(yaml.safe_dump(site, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
def running(mosquitto, database_url, site_file):
    service = start_service(mosquitto.url, database_url, site_file=site_file)
    watcher = Watcher(mosquitto.host, mosquitto.port, client_id=f"watcher-{time.monotonic_ns()}")
    yield service, watcher
    watcher.close()
    service.stop()


def leak(watcher: Watcher, device: str, seq: int = 1) -> None:
    watcher.publish(f"test-estate/devices/{device}/telemetry", {"ts": now_iso(), "seq": seq, "values": {"leak": True}})


def reply(watcher: Watcher, tech: str, ticket: str, action: str) -> None:
    watcher.publish(f"test-estate/technicians/{tech}/reply", {"ts": now_iso(), "ticket": ticket, "action": action})


def assigned(watcher: Watcher, tech: str, timeout: float = 8.0, **match):
    return watcher.wait_for(f"technicians/{tech}/dispatch", lambda p: p["type"] == "assigned" and all(
        p.get(k) == v for k, v in match.items()), timeout=timeout).json()


def assignments(service, ticket_id: str) -> list[AssignmentRow]:
    with service.sessions() as session:
        return list(session.scalars(select(AssignmentRow).where(AssignmentRow.ticket_id == ticket_id)
                                    .order_by(AssignmentRow.id)))


def tickets(service) -> list[TicketRow]:
    with service.sessions() as session:
        return list(session.scalars(select(TicketRow).order_by(TicketRow.created_at)))


def test_a_burst_pipe_on_three_floors_is_one_ticket_with_a_plumber_security_and_then_cleaning(running):
    service, watcher = running
    place_and_wait(service, watcher, ("t-near", "A", 2), ("t-far", "B", 1), ("t-sec", "B", 1), ("t-guard", "A", 4),
          ("t-clean", "A", 1))
    for device in ("A-LEAK-1", "A-LEAK-2", "A-LEAK-3"):  # basement, floor 3, floor 5
        leak(watcher, device)
    plumber = assigned(watcher, "t-near", trade="plumbing", role="owner")
    guard = assigned(watcher, "t-guard", trade="security", role="support")  # same building: nearer than t-sec
    assert plumber["ticket"] == guard["ticket"] and plumber["assignment"] != guard["assignment"]
    assert plumber["assignment"].startswith("AS-") and guard["accept_by"]
    wait_until(lambda: service.pipeline.counters["alerts_raised"] >= 3, what="three leaks raised")
    [ticket] = tickets(service)
    assert ticket.assignee == "t-near"
    assert [(a.trade, a.role, a.technician) for a in assignments(service, ticket.id)] == [
        ("plumbing", "owner", "t-near"), ("security", "support", "t-guard")]
    assert not watcher.on("technicians/t-sec/dispatch") and not watcher.on("technicians/t-clean/dispatch")
    # the plumber accepts, arrives (they are in building A) and resolves; then cleaning is sent
    reply(watcher, "t-near", ticket.id, "accept")
    reply(watcher, "t-near", ticket.id, "arrive")
    wait_until(lambda: tickets(service)[0].status == "on_site", what="plumber on site")
    with service.sessions.begin() as session:
        service.dispatcher.resolve(session, ticket.id, "t-near", service.clock.now(), "closed the riser valve",
                                   ["https://photos.example/after.jpg"])
    service.outbox.wake()
    cleaner = assigned(watcher, "t-clean", trade="cleaning", role="support")
    assert cleaner["ticket"] == ticket.id
    trades = [(a.trade, a.role, a.status) for a in assignments(service, ticket.id)]
    assert ("plumbing", "owner", "done") in trades and ("cleaning", "support", "offered") in trades


def test_a_building_outage_gives_an_electrician_and_a_lift_engineer(running):
    """mains-power-lost holds for 5 s before it raises."""
    service, watcher = running
    place_and_wait(service, watcher, ("t-elec", "A", -1), ("t-lift", "A", 1))
    watcher.publish("test-estate/devices/A-METER-1/telemetry",
                    {"ts": now_iso(), "seq": 1, "values": {"mains_ok": False}})
    electrician = assigned(watcher, "t-elec", timeout=15, trade="electrical", role="owner")
    lift = assigned(watcher, "t-lift", timeout=5, trade="elevator", role="support")
    assert electrician["ticket"] == lift["ticket"]


def test_a_support_technicians_timeout_reassigns_only_that_assignment(running):
    """The small site gives level 1 a 3 s accept window."""
    service, watcher = running
    place_and_wait(service, watcher, ("t-near", "A", 1), ("t-sec", "A", 2), ("t-guard", "B", 3))
    leak(watcher, "A-LEAK-2")
    owner = assigned(watcher, "t-near", role="owner")
    first = assigned(watcher, "t-sec", role="support")
    reply(watcher, "t-near", owner["ticket"], "accept")  # the owner accepts; the guard lets it pass
    watcher.wait_for("technicians/t-sec/dispatch", lambda p: p["type"] == "withdrawn", timeout=8)
    second = assigned(watcher, "t-guard", role="support")
    assert second["assignment"] != first["assignment"] and second["accept_by"] > first["accept_by"]
    rows = assignments(service, owner["ticket"])
    assert [(a.technician, a.role, a.status) for a in rows][:1] == [("t-near", "owner", "accepted")]
    assert ("t-sec", "support", "timed_out") in [(a.technician, a.role, a.status) for a in rows]
    assert not [p for p in watcher.on("technicians/t-near/dispatch") if p.json()["type"] == "withdrawn"]


def test_a_level_1_leak_takes_a_plumber_off_a_level_3_job_which_goes_to_the_next_plumber(running):
    service, watcher = running
    place_and_wait(service, watcher, ("t-near", "A", 1), ("t-far", "B", 1))
    now = service.clock.now()
    from caretaker.dispatch.incidents import Report
    with service.sessions.begin() as session:  # each plumber holds a job: t-near a level 3, t-far a level 4
        job3 = service.dispatcher.report(session, Report("phone", "", "", "A", 2, "dripping tap", "plumbing", 3,
                                                         "Dripping tap"), now, "op-1")
    assigned(watcher, "t-near", ticket=job3)
    with service.sessions.begin() as session:
        job4 = service.dispatcher.report(session, Report("phone", "", "", "B", 2, "advice on a valve", "plumbing", 4,
                                                         "Valve advice"), now, "op-1")
    assigned(watcher, "t-far", ticket=job4)
    reply(watcher, "t-near", job3, "accept")
    wait_until(lambda: {t.id: t.status for t in tickets(service)}[job3] == "accepted", what="level 3 accepted")
    leak(watcher, "A-LEAK-2")  # level 1 in A: nobody free, t-near is nearest
    urgent = assigned(watcher, "t-near", urgency=1)
    watcher.wait_for("technicians/t-near/dispatch", lambda p: p["type"] == "withdrawn" and p["ticket"] == job3)
    handed = assigned(watcher, "t-far", ticket=job3)  # at once, to the next nearest plumber
    assert urgent["ticket"] != job3 and handed["role"] == "owner"
    by_id = {t.id: t for t in tickets(service)}
    assert (by_id[job3].status, by_id[job3].assignee) == ("assigned", "t-far")
    assert by_id[urgent["ticket"]].assignee == "t-near"


def test_an_arrive_from_another_building_is_refused_and_moves_nobody(running):
    service, watcher = running
    place_and_wait(service, watcher, ("t-near", "B", 2))  # the only plumber, in building B
    leak(watcher, "A-LEAK-2")
    push = assigned(watcher, "t-near")
    reply(watcher, "t-near", push["ticket"], "accept")
    wait_until(lambda: tickets(service)[0].status == "accepted", what="accepted")
    reply(watcher, "t-near", push["ticket"], "arrive")  # still in B

    def refused():
        with service.sessions() as session:
            return session.scalars(select(DeadLetterRow).where(DeadLetterRow.reason == "bad_step")).first()
    letter = wait_until(refused, what="the arrive refused")
    assert "not A" in letter.detail and "building B" in letter.detail
    assert tickets(service)[0].status == "accepted"
    with service.sessions() as session:
        assert session.get(TechnicianLocationRow, "t-near").building == "B"  # not moved to the ticket
    place_and_wait(service, watcher, ("t-near", "A", 3))
    reply(watcher, "t-near", push["ticket"], "arrive")
    wait_until(lambda: tickets(service)[0].status == "on_site", what="on site once in A")
