"""A badge swipe as an arrival, on a real Mosquitto and a real database (SQLite and PostgreSQL): a swipe by a
technician in the building of an assignment they accepted puts that assignment on site at the swipe's time;
a swipe elsewhere only moves them (docs/technicians.md, "Arriving").

The site is the small test estate with a second guard (copied into tmp_path, the shared fixture untouched)."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from caretaker.dispatch.tables import AssignmentRow, TechnicianLocationRow, TicketHistoryRow, TicketRow
from tests.service.harness import SMALL_SITE, Watcher, now_iso, place_and_wait, start_service, wait_until

GUARD = {"id": "t-guard", "name": "Second Guard", "phone": "13800000005", "skills": ["security"],
         "badge": "BADGE-GUARD"}


@pytest.fixture
def site_file(tmp_path: Path) -> Path:
    site = yaml.safe_load(SMALL_SITE.read_text(encoding="utf-8"))
    site["technicians"].append(GUARD)
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


def location(service, tech: str) -> TechnicianLocationRow:
    with service.sessions() as session:
        return session.get(TechnicianLocationRow, tech) or TechnicianLocationRow(building=None)


def swipe(watcher: Watcher, door: str, badge: str, seq: int) -> datetime:
    ts = now_iso()
    watcher.publish(f"test-estate/devices/{door}/event",
                    {"ts": ts, "seq": seq, "type": "badge_granted", "data": {"badge": badge}})
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


def reply(watcher: Watcher, tech: str, ticket: str, action: str) -> None:
    watcher.publish(f"test-estate/technicians/{tech}/reply", {"ts": now_iso(), "ticket": ticket, "action": action})


def assigned(watcher: Watcher, tech: str, **match) -> dict:
    return watcher.wait_for(f"technicians/{tech}/dispatch", lambda p: p["type"] == "assigned" and all(
        p.get(k) == v for k, v in match.items()), timeout=8).json()


def by_tech(service, ticket_id: str) -> dict[str, AssignmentRow]:
    with service.sessions() as session:
        rows = session.scalars(select(AssignmentRow).where(AssignmentRow.ticket_id == ticket_id)
                               .order_by(AssignmentRow.id)).all()
    return {r.technician: r for r in rows}


def the_ticket(service, ticket_id: str) -> TicketRow:
    with service.sessions() as session:
        return session.get(TicketRow, ticket_id)


def test_a_badge_swipe_in_the_tickets_building_is_the_arrival_and_elsewhere_only_a_move(running):
    service, watcher = running
    place_and_wait(service, watcher, ("t-near", "B", 2), ("t-guard", "A", 4))  # the plumber starts in the other building
    watcher.publish("test-estate/devices/A-LEAK-2/telemetry", {"ts": now_iso(), "seq": 1, "values": {"leak": True}})
    owner = assigned(watcher, "t-near", role="owner")
    ticket_id = owner["ticket"]
    assigned(watcher, "t-guard", role="support", trade="security")
    reply(watcher, "t-near", ticket_id, "accept")
    reply(watcher, "t-guard", ticket_id, "accept")
    wait_until(lambda: {r.status for r in by_tech(service, ticket_id).values()} == {"accepted"}, what="both accepted")

    # the guard swipes in at B's door: they moved, and their assignment in A is not on site
    swipe(watcher, "B-DOOR-1", "BADGE-GUARD", 1)
    wait_until(lambda: location(service, "t-guard").building == "B", what="the guard's swipe in B stored")
    assert by_tech(service, ticket_id)["t-guard"].status == "accepted"

    # the plumber swipes in at A's door: on site at the swipe's time, the ticket with them
    at = swipe(watcher, "A-DOOR-1", "BADGE-NEAR", 1)
    wait_until(lambda: the_ticket(service, ticket_id).status == "on_site", what="the owner on site by badge")
    ticket = the_ticket(service, ticket_id)
    assert abs(ticket.arrived_at - at) < timedelta(milliseconds=2)
    assert abs(by_tech(service, ticket_id)["t-near"].arrived_at - at) < timedelta(milliseconds=2)
    where = location(service, "t-near")
    assert (where.building, where.source) == ("A", "badge")
    assert ("on_site", "t-near", "arrived by badge in building A") in [
        (h.status, h.by, h.note) for h in _history(service, ticket_id)]
    assert by_tech(service, ticket_id)["t-guard"].status == "accepted"  # one swipe, one technician

    # the guard comes to A and swipes: the security support is on site too
    swipe(watcher, "A-DOOR-1", "BADGE-GUARD", 2)
    wait_until(lambda: by_tech(service, ticket_id)["t-guard"].status == "on_site", what="the guard on site")
    assert ("on_site", "t-guard", "security support on site: arrived by badge in building A") in [
        (h.status, h.by, h.note) for h in _history(service, ticket_id)]


def _history(service, ticket_id: str) -> list[TicketHistoryRow]:
    with service.sessions() as session:
        return list(session.scalars(select(TicketHistoryRow).where(TicketHistoryRow.ticket_id == ticket_id)
                                    .order_by(TicketHistoryRow.id)))


def test_a_swipe_before_accepting_only_moves_the_technician(running):
    """Arrive comes after accept (docs/api.md): a swipe while the work is only offered counts as a location,
    so the app's `arrive` after accepting is then counted."""
    service, watcher = running
    place_and_wait(service, watcher, ("t-near", "B", 2))
    watcher.publish("test-estate/devices/A-LEAK-2/telemetry", {"ts": now_iso(), "seq": 1, "values": {"leak": True}})
    ticket_id = assigned(watcher, "t-near", role="owner")["ticket"]
    swipe(watcher, "A-DOOR-1", "BADGE-NEAR", 1)
    wait_until(lambda: location(service, "t-near").building == "A", what="the swipe stored")
    assert the_ticket(service, ticket_id).status == "assigned"
    reply(watcher, "t-near", ticket_id, "accept")
    reply(watcher, "t-near", ticket_id, "arrive")
    wait_until(lambda: the_ticket(service, ticket_id).status == "on_site", what="arrive counted from the swipe")
