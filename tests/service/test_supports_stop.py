"""Support assignments stop with the ticket, on a real Mosquitto and a real database (SQLite and
PostgreSQL): when the owner resolves, the support work not begun is withdrawn (its technician told) and the
work on site is done; their timers stop, so nobody is offered work on a finished ticket; the cleaning the
playbook asks for after the fix goes on until the ticket closes (docs/operations.md, "Assignments").

The site is the small test estate with a second guard and a cleaner, and an 8 s level-1 accept window (the
owner resolves inside the support's window; copied into tmp_path, the shared fixture untouched)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from caretaker.dispatch.tables import AssignmentRow, TicketRow
from tests.service.harness import SMALL_SITE, Watcher, now_iso, place_and_wait, start_service, wait_until

MORE_TECHNICIANS = [
    {"id": "t-guard", "name": "Second Guard", "phone": "13800000005", "skills": ["security"], "badge": "BADGE-GUARD"},
    {"id": "t-clean", "name": "Cleaner", "phone": "13800000006", "skills": ["cleaning"], "badge": "BADGE-CLEAN"},
]
WINDOW_S = 8


@pytest.fixture
def site_file(tmp_path: Path) -> Path:
    site = yaml.safe_load(SMALL_SITE.read_text(encoding="utf-8"))
    site["technicians"] += MORE_TECHNICIANS
    site["sla"][1]["accept"] = f"{WINDOW_S}s"
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


def reply(watcher: Watcher, tech: str, ticket: str, action: str) -> None:
    watcher.publish(f"test-estate/technicians/{tech}/reply", {"ts": now_iso(), "ticket": ticket, "action": action})


def pushes(watcher: Watcher, tech: str, kind: str) -> list[dict]:
    return [p for p in (s.json() for s in watcher.on(f"technicians/{tech}/dispatch")) if p["type"] == kind]


def wait_push(watcher: Watcher, tech: str, kind: str, timeout: float = 8.0, **match) -> dict:
    return watcher.wait_for(f"technicians/{tech}/dispatch", lambda p: p["type"] == kind and all(
        p.get(k) == v for k, v in match.items()), timeout=timeout).json()


def rows(service, ticket_id: str) -> list[tuple[str, str, str | None, str]]:
    with service.sessions() as session:
        return [(a.trade, a.role, a.technician, a.status) for a in session.scalars(
            select(AssignmentRow).where(AssignmentRow.ticket_id == ticket_id).order_by(AssignmentRow.id))]


def status(service, ticket_id: str) -> str:
    with service.sessions() as session:
        return session.get(TicketRow, ticket_id).status


def burst_pipe(service, watcher: Watcher) -> str:
    """A level-1 leak in A: the plumber owns it and is on site; the guard is offered security."""
    watcher.publish("test-estate/devices/A-LEAK-2/telemetry", {"ts": now_iso(), "seq": 1, "values": {"leak": True}})
    ticket_id = wait_push(watcher, "t-near", "assigned", role="owner")["ticket"]
    wait_push(watcher, "t-guard", "assigned", trade="security", role="support")
    reply(watcher, "t-near", ticket_id, "accept")
    reply(watcher, "t-near", ticket_id, "arrive")
    wait_until(lambda: status(service, ticket_id) == "on_site", what="the plumber on site")
    return ticket_id


def resolve(service, ticket_id: str) -> None:
    with service.sessions.begin() as session:
        service.dispatcher.resolve(session, ticket_id, "t-near", service.clock.now(), "closed the riser valve",
                                   ["https://photos.example/after.jpg"])
    service.outbox.wake()


def test_the_owner_resolving_withdraws_the_security_offer_and_nobody_is_offered_it_again(running):
    service, watcher = running
    place_and_wait(service, watcher, ("t-near", "A", 3), ("t-guard", "A", 4), ("t-sec", "B", 1), ("t-clean", "A", 1))
    ticket_id = burst_pipe(service, watcher)
    resolve(service, ticket_id)  # inside the guard's accept window
    withdrawn = wait_push(watcher, "t-guard", "withdrawn")
    assert withdrawn["ticket"] == ticket_id and withdrawn["trade"] == "security"
    assert "主责人已办结工单" in withdrawn["reason"]  # the owner resolved it, in the estate's zh-CN
    wait_push(watcher, "t-clean", "assigned", trade="cleaning")  # the playbook's later trade goes on
    # the cleaner lets their window pass: their timeout, later than the guard's, proves the sweep went by
    # the guard's accept time, and the security work was offered to nobody
    wait_push(watcher, "t-clean", "withdrawn", timeout=WINDOW_S + 8, reason="未按时接单")  # the estate's zh-CN
    assert not watcher.on("technicians/t-sec/dispatch")
    assert [p["type"] for p in (s.json() for s in watcher.on("technicians/t-guard/dispatch"))] == [
        "assigned", "withdrawn"]
    assert [r for r in rows(service, ticket_id) if r[0] == "security"] == [
        ("security", "support", "t-guard", "withdrawn")]
    assert status(service, ticket_id) == "resolved"


def test_support_on_site_is_done_at_the_resolve_and_the_cleaning_is_withdrawn_when_the_ticket_closes(running):
    service, watcher = running
    place_and_wait(service, watcher, ("t-near", "A", 3), ("t-guard", "A", 4), ("t-clean", "A", 1))
    watcher.publish("test-estate/devices/A-LEAK-2/telemetry", {"ts": now_iso(), "seq": 1, "values": {"leak": True}})
    ticket_id = wait_push(watcher, "t-guard", "assigned", trade="security")["ticket"]
    reply(watcher, "t-guard", ticket_id, "accept")
    reply(watcher, "t-guard", ticket_id, "arrive")
    reply(watcher, "t-near", ticket_id, "accept")
    reply(watcher, "t-near", ticket_id, "arrive")
    wait_until(lambda: ("security", "support", "t-guard", "on_site") in rows(service, ticket_id)
               and status(service, ticket_id) == "on_site", what="the guard and the plumber on site")
    resolve(service, ticket_id)
    wait_push(watcher, "t-clean", "assigned", trade="cleaning")
    assert ("security", "support", "t-guard", "done") in rows(service, ticket_id)
    assert not pushes(watcher, "t-guard", "withdrawn")  # their work ended with the fix: nothing taken back
    reply(watcher, "t-clean", ticket_id, "accept")
    wait_until(lambda: ("cleaning", "support", "t-clean", "accepted") in rows(service, ticket_id),
               what="the cleaner accepted")
    with service.sessions.begin() as session:  # the call-back: satisfied, the ticket closes
        service.dispatcher.verify(session, ticket_id, "op-1", service.clock.now(), 5, "resident happy")
    service.outbox.wake()
    closed = wait_push(watcher, "t-clean", "withdrawn")
    assert "工单已关闭" in closed["reason"]  # the ticket closed, in the estate's zh-CN
    assert status(service, ticket_id) == "closed"
    assert [r for r in rows(service, ticket_id) if r[3] in ("waiting", "offered", "accepted", "on_site")] == []
