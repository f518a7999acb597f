"""A building's mains loss told to its residents, on a real Mosquitto and the real service (SQLite and
PostgreSQL): every unit of the building gets one `outage` notice however many meters raise and however often
an alarm comes back, and one `restored` when the last meter has mains again, across a restart of the
service in the middle of the outage. A water cut (low pressure) does the same.

Figures checked: 2 meters of building A raising, one of them cleared and raised again, the service
restarted mid-outage = 3 `outage` notices (its 3 units, none to building B) and 3 `restored`, 0 more."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from caretaker.api.app import create_app
from caretaker.http import api_context
from caretaker.dispatch.resident_tables import SupplyCutRow
from caretaker.dispatch.residents import ResidentNotice
from caretaker.dispatch.tables import OutboxRow, TicketRow
from caretaker.api.tables import AuditRow
from tests.residents.support import UNITS_A, UNITS_B, VULNERABLE, Notices, site_with_units
from tests.service.harness import Watcher, now_iso, start_service, wait_until

QUICK_RULES = __import__("pathlib").Path(__file__).resolve().parent.parent / "fixtures" / "quick-rules.yaml"
ADMIN_TOKEN = "residents-admin-token"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
def world(mosquitto, tmp_path):
    site = site_with_units(tmp_path)
    gateway = Notices(mosquitto.host, mosquitto.port)
    watcher = Watcher(mosquitto.host, mosquitto.port, client_id=f"watcher-{time.monotonic_ns()}")
    yield site, gateway, watcher
    gateway.close()
    watcher.close()


def _mains(watcher: Watcher, meter: str, seq: int, ok: bool) -> None:
    watcher.publish(f"test-estate/devices/{meter}/telemetry", {"ts": now_iso(), "seq": seq, "values": {"mains_ok": ok}})


def _alerts(watcher: Watcher, state: str, rule: str = "mains-power-lost") -> list:
    return [s.json() for s in watcher.on("test-estate/alerts") if s.json()["state"] == state and s.json()["rule"] == rule]


def _all_sent(service) -> None:
    """Wait until the outbox has published everything queued so far (nothing more can still come)."""
    def done():
        with service.sessions() as session:
            return session.scalar(select(func.count()).select_from(OutboxRow).where(OutboxRow.sent_at.is_(None))) == 0
    wait_until(done, timeout=10, what="outbox empty")


def test_an_outage_is_told_to_every_unit_once_and_its_end_once_across_a_restart(world, mosquitto, database_url):
    site, gateway, watcher = world
    service = start_service(mosquitto.url, database_url, site_file=site, admin_token=ADMIN_TOKEN)
    try:
        _mains(watcher, "A-METER-1", 1, False)
        _mains(watcher, "A-METER-2", 1, False)
        wait_until(lambda: len(_alerts(watcher, "raised")) == 2, timeout=20, what="both meters' alarms")
        outages = gateway.wait("outage", 3)
        _all_sent(service)
        assert sorted(unit for unit, _ in gateway.of("outage")) == UNITS_A  # once each, none to B
        notices = [ResidentNotice.model_validate(n) for _, n in outages]
        ticket = _alerts(watcher, "raised")[0]["ticket"]
        assert {(n.type, n.building, n.ticket, n.link) for n in notices} == {("outage", "A", ticket, None)}
        assert all("停电" in n.text for n in notices) and len({n.id for n in notices}) == 3
        assert not any(retained for *_, retained in gateway.seen)

        # the control room sees whom to call: on the outage ticket and in the building's read, audited
        client = TestClient(create_app(api_context(service)))
        operator = _token(client, "operator", "op-1")
        shown = client.get(f"/api/v1/tickets/{ticket}", headers=operator).json()
        assert shown["check_on"] == [VULNERABLE]
        tech = _token(client, "technician", "t-far")  # not on the ticket: masked
        listed = client.get("/api/v1/tickets", headers=tech).json()
        assert all(t["id"] != ticket for t in listed)
        building = client.get("/api/v1/buildings/A/vulnerable", headers=operator).json()
        assert building["residents"] == [VULNERABLE] and building["cuts"][0]["units"] == 3
        assert client.get("/api/v1/buildings/A/vulnerable", headers=tech).status_code == 403
        with service.sessions() as session:
            actions = set(session.scalars(select(AuditRow.action).where(AuditRow.actor == "op-1")))
        assert {"ticket.check_on", "building.vulnerable"} <= actions

        # one meter's mains come back and go again: the same outage, nobody is told anything
        _mains(watcher, "A-METER-1", 2, True)
        wait_until(lambda: len(_alerts(watcher, "cleared")) == 1, timeout=10, what="meter 1 cleared")
        _mains(watcher, "A-METER-1", 3, False)
        wait_until(lambda: len(_alerts(watcher, "raised")) == 3, timeout=20, what="meter 1 raised again")
        _all_sent(service)
        assert len(gateway.of("outage")) == 3 and not gateway.of("restored")
    finally:
        service.stop()

    # a restart in the middle of the outage: nothing repeated, and its end is not forgotten
    service = start_service(mosquitto.url, database_url, site_file=site)
    try:
        _mains(watcher, "A-METER-1", 4, True)
        _mains(watcher, "A-METER-2", 2, True)
        restored = gateway.wait("restored", 3)
        _all_sent(service)
        assert sorted(unit for unit, _ in gateway.of("restored")) == UNITS_A
        assert all("恢复供电" in n["text"] for _, n in restored)
        assert len(gateway.of("outage")) == 3
        with service.sessions() as session:
            [cut] = session.scalars(select(SupplyCutRow)).all()
            assert cut.ended_at is not None and cut.alerts == []
    finally:
        service.stop()


def test_a_water_cut_is_told_to_the_building_and_its_end(world, mosquitto, database_url):
    site, gateway, watcher = world
    service = start_service(mosquitto.url, database_url, site_file=site, rules_file=QUICK_RULES)
    try:
        watcher.publish("test-estate/devices/B-PRESS-1/telemetry",
                        {"ts": now_iso(), "seq": 1, "values": {"pressure_kpa": 40}})
        [(unit, notice)] = gateway.wait("outage", 1)
        assert unit == UNITS_B[0] and "停水" in notice["text"] and notice["building"] == "B"
        watcher.publish("test-estate/devices/B-PRESS-1/telemetry",
                        {"ts": now_iso(), "seq": 2, "values": {"pressure_kpa": 300}})
        [(unit, notice)] = gateway.wait("restored", 1)
        assert unit == UNITS_B[0] and "恢复供水" in notice["text"]
        _all_sent(service)
        assert len(gateway.seen) == 2
        with service.sessions() as session:
            assert session.scalar(select(func.count()).select_from(TicketRow)) == 1
    finally:
        service.stop()


def _token(client: TestClient, role: str, subject: str) -> dict[str, str]:
    response = client.post("/api/v1/tokens", json={"role": role, "subject": subject}, headers=ADMIN)
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}
