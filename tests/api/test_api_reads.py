"""Read-only views: health, metrics, devices and telemetry, alerts, technicians, KPIs, dead letters."""

from __future__ import annotations

import base64
from datetime import timedelta

from caretaker.ingest.payloads import Rejection
from caretaker.ingest.store import DeviceSnapshot, insert_dead_letters, insert_telemetry, save_snapshots
from caretaker.rules.tables import AlertRow

from api_support import place_technician


def _alerts(ctx, count: int, device: str = "A-B2-LEAK-1", minutes_apart: float = 0.5) -> list[str]:
    now = ctx.clock.now()
    ids = []
    with ctx.sessions.begin() as session:
        for i in range(count):
            ids.append(f"AL-test{i:03d}")
            session.add(AlertRow(id=ids[-1], rule_id="leak", device_id=device, urgency=1, category="plumbing",
                                 title="Water leak", state="raised", raised_at=now - timedelta(minutes=i * minutes_apart)))
    return ids


def test_healthz_ok_without_token(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "down": [], "broker": True, "database": True}


def test_healthz_503_names_what_is_down(client, probe):
    probe.health["broker"] = False
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "down" and response.json()["down"] == ["broker"]


def test_metrics_count_tickets_alerts_and_flood(client, ctx, wang_ticket):
    _alerts(ctx, 10)
    response = client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    lines = set(response.text.splitlines())
    for expected in ('caretaker_tickets{status="assigned"} 1', 'caretaker_tickets{status="closed"} 0',
                     "caretaker_alerts_open 10", "caretaker_alarms_last_10m 10", "caretaker_alarm_flood 1",
                     "caretaker_outbox_backlog 2", "caretaker_test_extra 1"):  # the dispatch, the resident's `received`
        assert expected in lines, expected


def test_alerts_list_and_ack(client, ctx, operator):
    ids = _alerts(ctx, 2)
    listed = client.get("/api/v1/alerts?state=raised", headers=operator).json()
    assert [a["id"] for a in listed] == ids and listed[0]["raised_at"] == "2026-11-23T02:00:00.000Z"
    assert client.get("/api/v1/alerts?state=cleared", headers=operator).json() == []
    acked = client.post(f"/api/v1/alerts/{ids[0]}/ack", json={"note": "on it"}, headers=operator).json()
    assert acked["acked_by"] == "op-1" and acked["acked_at"] == "2026-11-23T02:00:00.000Z"
    assert client.post("/api/v1/alerts/AL-nope/ack", headers=operator).status_code == 404


def _device_state(ctx) -> None:
    now = ctx.clock.now()
    with ctx.sessions.begin() as session:
        save_snapshots(session, [
            DeviceSnapshot("A-B2-LEAK-1", {"leak": True}, True, now, 7, now),
            DeviceSnapshot("A-EL-1", {"state": "normal"}, False, now, None, now),
        ], set())
        insert_telemetry(session, [
            {"device_id": "A-B2-LEAK-1", "metric": "leak", "ts": now - timedelta(minutes=m), "seq": None,
             "value_num": float(m == 0), "value_text": None} for m in (0, 5, 10)
        ])


def test_devices_with_last_values_and_filters(client, ctx, issue):
    _device_state(ctx)
    integrator = issue("integrator", "bms")
    devices = client.get("/api/v1/devices", headers=integrator).json()
    assert len(devices) == len(ctx.site.devices)
    leak = next(d for d in devices if d["id"] == "A-B2-LEAK-1")
    assert leak["online"] is True and leak["values"] == {"leak": True} and leak["type"] == "water_leak"
    assert leak["location"] == {"building": "A", "floor": -2, "zone": "pump-room"}
    assert leak["last_seen"] == "2026-11-23T02:00:00.000Z"
    elevators = client.get("/api/v1/devices?building=A&type=elevator", headers=integrator).json()
    assert [d["id"] for d in elevators] == ["A-EL-1", "A-EL-2"]
    assert [d["id"] for d in client.get("/api/v1/devices?online=false", headers=integrator).json()] == ["A-EL-1"]
    assert client.get("/api/v1/devices/A-EL-2", headers=integrator).json()["online"] is None
    assert client.get("/api/v1/devices/NOPE", headers=integrator).status_code == 404


def test_telemetry_history_in_a_range(client, ctx, operator):
    _device_state(ctx)
    url = "/api/v1/devices/A-B2-LEAK-1/telemetry"
    points = client.get(url, headers=operator).json()["points"]
    assert [p["value"] for p in points] == [False, False, True]
    ranged = client.get(url, params={"metric": "leak", "from": "2026-11-23T01:52:00Z", "to": "2026-11-23T02:00:00Z"},
                        headers=operator).json()
    assert [p["ts"] for p in ranged["points"]] == ["2026-11-23T01:55:00.000Z", "2026-11-23T02:00:00.000Z"]
    response = client.get(url, params={"from": "2026-11-23T01:52:00"}, headers=operator)
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["query", "from"]
    assert client.get(url, params={"from": "yesterday"}, headers=operator).status_code == 422
    assert client.get("/api/v1/devices/NOPE/telemetry", headers=operator).status_code == 404


def test_technicians_location_shift_and_work(client, ctx, operator, wang_ticket):
    place_technician(ctx, "t-chen", building="B", floor=2, at=ctx.clock.now() - timedelta(hours=2))
    techs = {t["id"]: t for t in client.get("/api/v1/technicians", headers=operator).json()}
    assert set(techs) == set(ctx.site.technicians)
    wang = techs["t-wang"]
    assert wang["on_site"] and wang["on_shift"] and wang["source"] == "app"
    assert wang["location"] == {"building": "A", "floor": 1, "zone": "lobby"}
    assert [w["id"] for w in wang["current"]] == [wang_ticket["id"]]
    chen = techs["t-chen"]
    assert not chen["on_site"] and not chen["on_shift"] and chen["current"] == []  # stale location, night shift
    assert techs["t-zhao"]["location"] is None and techs["t-zhao"]["on_shift"]


def test_kpis_endpoint(client, ctx, issue, operator, wang_ticket, clock):
    wang, tid = issue("technician", "t-wang"), wang_ticket["id"]
    clock.advance(seconds=60)
    client.post(f"/api/v1/tickets/{tid}/accept", headers=wang)
    clock.advance(seconds=60)
    client.post(f"/api/v1/tickets/{tid}/arrive", headers=wang)
    client.post(f"/api/v1/tickets/{tid}/resolve", json={"note": "ok", "photos": ["https://x/1.jpg"]}, headers=wang)
    client.post(f"/api/v1/tickets/{tid}/verify", json={"satisfaction": 4}, headers=operator)
    _alerts(ctx, 3)
    kpis = client.get("/api/v1/kpis", headers=operator).json()
    assert kpis["tickets"] == 1 and kpis["response_compliance_pct"] == 100.0 and kpis["first_time_fix_pct"] == 100.0
    assert kpis["satisfaction"] == 80.0 and kpis["mean_accept_s"] == 60.0 and kpis["mean_resolve_s"] == 120.0
    assert kpis["top_faulty_devices"] == [{"device": "A-B2-LEAK-1", "alerts": 3}]
    assert kpis["from"] == "2026-11-16T02:02:00.000Z" and kpis["to"] == "2026-11-23T02:02:00.000Z"
    empty = client.get("/api/v1/kpis", params={"from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z"},
                       headers=operator).json()
    assert empty["tickets"] == 0 and empty["response_compliance_pct"] is None
    bad = client.get("/api/v1/kpis", params={"from": "2026-01-02T00:00:00Z", "to": "2026-01-01T00:00:00Z"},
                     headers=operator)
    assert bad.status_code == 422


def test_dead_letters_with_raw_bytes(client, ctx, operator):
    with ctx.sessions.begin() as session:
        insert_dead_letters(session, [Rejection("caretaker/harbor-view/devices/X/telemetry", "unknown_device",
                                                "device 'X' is not in the site file", b'{"ts":1}')], ctx.clock.now())
    [letter] = client.get("/api/v1/deadletters", headers=operator).json()
    assert letter["reason"] == "unknown_device" and base64.b64decode(letter["payload_b64"]) == b'{"ts":1}'
    assert letter["received_at"] == "2026-11-23T02:00:00.000Z"


def test_a_device_that_faults_three_times_in_30_days_is_flagged_for_inspection(client, ctx, operator, clock):
    from datetime import timedelta

    from caretaker.rules.tables import AlertRow

    def fault(n: int, days_ago: float, **extra) -> None:
        with ctx.sessions.begin() as session:
            session.add(AlertRow(id=f"AL-f{n}", rule_id="pump-fault", device_id="A-B2-PUMP-1", urgency=3,
                                 category="plumbing", title="Water pump fault", state="cleared",
                                 raised_at=clock.now() - timedelta(days=days_ago), chattering=False, **extra))

    fault(1, 40)  # too old to count
    fault(2, 20)
    fault(3, 10, suppressed_by="AL-outage")  # explained by a power outage: not the pump's fault
    fault(4, 5)
    pump = client.get("/api/v1/devices/A-B2-PUMP-1", headers=operator).json()
    assert (pump["faults_30d"], pump["needs_inspection"]) == (2, False)
    fault(5, 1)
    pump = client.get("/api/v1/devices/A-B2-PUMP-1", headers=operator).json()
    assert (pump["faults_30d"], pump["needs_inspection"]) == (3, True)
