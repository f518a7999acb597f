"""An alert's ticket is stored once (ticket_alerts) and reads the same everywhere: the alert events on MQTT,
GET /api/v1/alerts, one alert, an acknowledgement, the export; and the migration that moved the link
(0012_alert_ticket_link) keeps every link, up and down, on SQLite and PostgreSQL (docs/api.md, "Alerts")."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import inspect, select, text

from caretaker.api.app import create_app
from caretaker.db import alembic_config, make_engine, make_sessions
from caretaker.dispatch import lookup
from caretaker.dispatch.tables import TicketAlertRow, TicketRow
from caretaker.http import api_context
from caretaker.rules.tables import AlertRow
from tests.service.harness import Watcher, now_iso, start_service, wait_until

ADMIN_TOKEN = "alert-link-test-admin-token-0123456789"
T0 = datetime(2026, 11, 30, 2, 0, tzinfo=timezone.utc)


@pytest.fixture
def running(mosquitto, database_url):
    service = start_service(mosquitto.url, database_url, admin_token=ADMIN_TOKEN)
    watcher = Watcher(mosquitto.host, mosquitto.port, client_id=f"watcher-{time.monotonic_ns()}")
    yield service, watcher
    watcher.close()
    service.stop()


def operator(client: TestClient) -> dict[str, str]:
    answer = client.post("/api/v1/tokens", json={"role": "operator", "subject": "op-1"},
                         headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert answer.status_code in (200, 201), answer.text
    return {"Authorization": f"Bearer {answer.json()['token']}"}


def test_an_alerts_ticket_reads_the_same_in_its_events_the_api_and_the_export(running):
    service, watcher = running
    watcher.publish("test-estate/technicians/t-near/location", {"ts": now_iso(), "building": "A", "floor": 3})
    watcher.wait_for("technicians/t-near/location")
    watcher.publish("test-estate/devices/A-LEAK-2/telemetry", {"ts": now_iso(), "seq": 1, "values": {"leak": True}})
    raised = watcher.wait_for("/alerts", lambda e: e["state"] == "raised", timeout=8).json()
    [ticket] = wait_until(lambda: [t.id for t in _tickets(service)], what="the leak's ticket")
    assert raised["ticket"] == ticket
    with service.sessions() as session:
        assert lookup.alert_tickets(session, [raised["alert"], "AL-none"]) == {raised["alert"]: ticket}

    client = TestClient(create_app(api_context(service)))
    headers = operator(client)
    listed = client.get("/api/v1/alerts", headers=headers).json()
    assert [(a["id"], a["ticket"]) for a in listed] == [(raised["alert"], ticket)]
    assert client.get(f"/api/v1/alerts/{raised['alert']}", headers=headers).json()["ticket"] == ticket
    acked = client.post(f"/api/v1/alerts/{raised['alert']}/ack", json={"note": "seen"}, headers=headers)
    assert acked.status_code == 200 and acked.json()["ticket"] == ticket
    event = watcher.wait_for("/alerts", lambda e: e["state"] == "acknowledged").json()
    assert event["ticket"] == ticket
    export = client.get("/api/v1/exports/alerts.csv", params={"lang": "en"}, headers=headers)
    assert export.status_code == 200 and ticket in export.text


def _tickets(service) -> list[TicketRow]:
    with service.sessions() as session:
        return list(session.scalars(select(TicketRow)))


def test_the_migration_moves_every_link_into_ticket_alerts_and_back(database_url):
    engine = make_engine(database_url)
    sessions = make_sessions(engine)
    config = alembic_config(database_url)
    with sessions.begin() as session:
        session.add(TicketRow(id="T-1", status="open", urgency=1, category="plumbing", title="Water leak",
                              source="sensor", building="A", floor=3, created_at=T0, updated_at=T0, accept_by=T0,
                              resolve_by=T0, breached=False, photos=[], cycle=1))
        session.flush()
        for n in (1, 2, 3):
            session.add(AlertRow(id=f"AL-{n}", rule_id="water-leak", device_id="A-LEAK-2", urgency=1,
                                 category="plumbing", title="Water leak", state="raised",
                                 raised_at=T0 + timedelta(minutes=n), building="A"))
        session.add(TicketAlertRow(ticket_id="T-1", alert_id="AL-1", attached_at=T0 + timedelta(minutes=1)))

    def run(step, target: str) -> None:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            step(config, target)

    run(command.downgrade, "0011")  # before 0012, later heads first: the column is back, filled from the links
    with engine.connect() as connection:
        assert dict(connection.execute(text("SELECT id, ticket_id FROM alerts ORDER BY id")).all()) == {
            "AL-1": "T-1", "AL-2": None, "AL-3": None}
        assert "ix_ticket_alerts_alert" not in {i["name"] for i in inspect(connection).get_indexes("ticket_alerts")}
    with engine.begin() as connection:  # links only the old copy held: one to a ticket, one to none that exists
        connection.execute(text("UPDATE alerts SET ticket_id = 'T-1' WHERE id = 'AL-2'"))
        connection.execute(text("UPDATE alerts SET ticket_id = 'T-gone' WHERE id = 'AL-3'"))

    run(command.upgrade, "heads")
    with engine.connect() as connection:
        assert "ticket_id" not in {c["name"] for c in inspect(connection).get_columns("alerts")}
    with sessions() as session:
        assert lookup.alert_tickets(session, ["AL-1", "AL-2", "AL-3"]) == {"AL-1": "T-1", "AL-2": "T-1"}
        moved = session.get(TicketAlertRow, ("T-1", "AL-2"))
        assert moved.attached_at == T0 + timedelta(minutes=2)  # attached at the alert's raise
    engine.dispose()
