"""Tickets through HTTP: reports open tickets, technician and operator steps, errors, masking, audit."""

from __future__ import annotations

from sqlalchemy import select

from caretaker.api.tables import AuditRow
from api_support import LEAK_REPORT, place_technician

PHOTO = "https://photos.example/fixed-pipe.jpg"


def test_report_opens_and_assigns_a_ticket(client, wang_ticket, probe):
    t = wang_ticket
    assert t["status"] == "assigned" and t["category"] == "plumbing" and t["urgency"] == 1
    assert t["location"] == {"building": "A", "floor": 3, "zone": None}
    assert t["source"] == "phone" and t["reporter"] == {"name": "Qian Hui", "phone": "13700137001", "unit": "A-0302"}
    assert t["created_at"] == "2026-11-23T02:00:00.000Z" and t["accept_by"] == "2026-11-23T02:02:00.000Z"
    assert [h["status"] for h in t["history"]] == ["open", "assigned"]
    assert t["breached"] is False and t["alerts"] == [] and t["device"] is None
    assert probe.wakes == 1  # the assignment queued a push


def test_operator_may_set_category_and_urgency(client, ctx, operator):
    body = {**LEAK_REPORT, "unit": None, "building": "B", "floor": 4, "category": "cleaning", "urgency": 3,
            "description": "Stairwell needs mopping"}
    t = client.post("/api/v1/tickets", json=body, headers=operator).json()
    assert (t["category"], t["urgency"], t["status"]) == ("cleaning", 3, "open")  # nobody placed on site


def test_vulnerable_residents_ticket_is_raised_a_level(client, operator):
    body = {**LEAK_REPORT, "unit": "A-1203", "description": "The front door lock is broken"}
    t = client.post("/api/v1/tickets", json=body, headers=operator).json()
    assert (t["category"], t["urgency"]) == ("security", 2)


def test_missing_fields_are_all_named(client, operator):
    response = client.post("/api/v1/tickets", json={"reporter_name": "  "}, headers=operator)
    assert response.status_code == 422
    named = {tuple(e["loc"]) for e in response.json()["detail"]}
    assert named == {("body", f) for f in ("reporter_name", "reporter_phone", "description", "source",
                                           "building", "floor")}


def test_unknown_building_and_bad_floor_are_422(client, operator):
    body = {**LEAK_REPORT, "unit": None, "building": "Z", "floor": 1}
    assert client.post("/api/v1/tickets", json=body, headers=operator).json()["detail"][0]["loc"] == ["body", "building"]
    body = {**LEAK_REPORT, "unit": None, "building": "C", "floor": 40}
    assert client.post("/api/v1/tickets", json=body, headers=operator).json()["detail"][0]["loc"] == ["body", "floor"]


def test_technician_happy_path_to_closed(client, issue, operator, wang_ticket, clock):
    wang, tid = issue("technician", "t-wang"), wang_ticket["id"]
    clock.advance(seconds=30)
    assert client.post(f"/api/v1/tickets/{tid}/accept", headers=wang).json()["status"] == "accepted"
    clock.advance(minutes=5)
    assert client.post(f"/api/v1/tickets/{tid}/arrive", headers=wang).json()["status"] == "on_site"
    clock.advance(minutes=20)
    body = {"note": "replaced the joint", "photos": [PHOTO, "data:image/jpeg;base64,/9j/4AAQ"]}
    resolved = client.post(f"/api/v1/tickets/{tid}/resolve", json=body, headers=wang).json()
    assert resolved["status"] == "resolved" and resolved["photos"][0] == PHOTO
    assert resolved["resolution_note"] == "replaced the joint"
    closed = client.post(f"/api/v1/tickets/{tid}/verify", json={"satisfaction": 5, "note": "called back"},
                         headers=operator).json()
    assert closed["status"] == "closed" and closed["satisfaction"] == 5
    assert [h["status"] for h in closed["history"]][-4:] == ["on_site", "resolved", "verified", "closed"]


def test_wrong_step_is_409_and_unknown_ticket_404(client, issue, wang_ticket):
    wang, tid = issue("technician", "t-wang"), wang_ticket["id"]
    response = client.post(f"/api/v1/tickets/{tid}/arrive", headers=wang)
    assert response.status_code == 409 and response.json()["status"] == "assigned"
    assert client.post("/api/v1/tickets/T-000000-NOPE/accept", headers=wang).status_code == 404


def test_another_technicians_step_is_403(client, issue, wang_ticket):
    chen = issue("technician", "t-chen")
    assert client.post(f"/api/v1/tickets/{wang_ticket['id']}/accept", headers=chen).status_code == 403


def test_resolve_without_photo_or_note_is_rejected(client, issue, wang_ticket):
    wang, tid = issue("technician", "t-wang"), wang_ticket["id"]
    client.post(f"/api/v1/tickets/{tid}/accept", headers=wang)
    for body, field in (({"note": "done", "photos": []}, "photos"), ({"note": "done"}, "photos"),
                        ({"note": " ", "photos": [PHOTO]}, "note"),
                        ({"note": "done", "photos": ["javascript:alert(1)"]}, "photos")):
        response = client.post(f"/api/v1/tickets/{tid}/resolve", json=body, headers=wang)
        assert response.status_code == 422, body
        assert ["body", field] == response.json()["detail"][0]["loc"][:2]
    assert client.get(f"/api/v1/tickets/{tid}", headers=wang).json()["status"] == "accepted"


def test_decline_passes_the_ticket_on(client, ctx, issue, wang_ticket):
    place_technician(ctx, "t-zhao")  # security only: cannot take plumbing, so the ticket goes back to open
    t = client.post(f"/api/v1/tickets/{wang_ticket['id']}/decline", json={"note": "hands full"},
                    headers=issue("technician", "t-wang")).json()
    assert t["status"] == "open" and t["assignee"] is None


def test_operator_assign_reopen_cancel(client, issue, operator, wang_ticket):
    tid = wang_ticket["id"]
    assert client.post(f"/api/v1/tickets/{tid}/assign", json={"technician": "t-guo"},
                       headers=operator).json()["assignee"] == "t-guo"
    response = client.post(f"/api/v1/tickets/{tid}/assign", json={"technician": "t-ghost"}, headers=operator)
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "technician"]
    assert client.post(f"/api/v1/tickets/{tid}/reopen", json={"note": "x"}, headers=operator).status_code == 409
    assert client.post(f"/api/v1/tickets/{tid}/cancel", json={"note": "duplicate"},
                       headers=operator).json()["status"] == "cancelled"
    assert client.post(f"/api/v1/tickets/{tid}/cancel", headers=operator).status_code == 409


def test_list_filters_and_order(client, ctx, operator, wang_ticket, clock):
    clock.advance(minutes=1)
    body = {**LEAK_REPORT, "unit": "B-1602", "description": "门禁坏了"}
    second = client.post("/api/v1/tickets", json=body, headers=operator).json()
    assert second["category"] == "security"
    ids = [t["id"] for t in client.get("/api/v1/tickets", headers=operator).json()]
    assert ids == [second["id"], wang_ticket["id"]]
    assert [t["id"] for t in client.get("/api/v1/tickets?building=A", headers=operator).json()] == [wang_ticket["id"]]
    assert [t["id"] for t in client.get("/api/v1/tickets?urgency=3", headers=operator).json()] == [second["id"]]
    assert len(client.get("/api/v1/tickets?status=open,assigned", headers=operator).json()) == 2
    assert client.get("/api/v1/tickets?status=closed", headers=operator).json() == []
    assert len(client.get("/api/v1/tickets?limit=1", headers=operator).json()) == 1
    assert [t["id"] for t in client.get("/api/v1/tickets?assignee=t-wang", headers=operator).json()] == [wang_ticket["id"]]


def test_technician_sees_the_number_only_while_working_the_ticket(client, issue, operator, wang_ticket):
    wang, tid = issue("technician", "t-wang"), wang_ticket["id"]
    assert client.get(f"/api/v1/tickets/{tid}", headers=wang).json()["reporter"]["phone"] == "13700137001"
    client.post(f"/api/v1/tickets/{tid}/accept", headers=wang)
    client.post(f"/api/v1/tickets/{tid}/resolve", json={"note": "fixed", "photos": [PHOTO]}, headers=wang)
    # done with it: the resident's number is no longer theirs to see
    assert client.get(f"/api/v1/tickets/{tid}", headers=wang).json()["reporter"]["phone"] == "137****7001"
    assert client.get(f"/api/v1/tickets/{tid}", headers=operator).json()["reporter"]["phone"] == "13700137001"


def test_every_read_of_personal_data_is_audited(client, ctx, issue, operator, wang_ticket):
    tid = wang_ticket["id"]
    client.get(f"/api/v1/tickets/{tid}", headers=operator)
    client.get("/api/v1/tickets", headers=operator)
    client.get(f"/api/v1/tickets/{tid}", headers=issue("technician", "t-wang"))
    assert client.get("/api/v1/tickets?personal=false", headers=operator).json()[0]["reporter"] is None
    with ctx.sessions() as session:
        rows = [(r.actor, r.role, r.action, r.what, r.ticket_id, r.at)
                for r in session.scalars(select(AuditRow).order_by(AuditRow.id))]
    full = "reporter_name,reporter_phone,unit"
    at = ctx.clock.now()
    assert rows == [("op-1", "operator", "ticket.report", full, tid, at),
                    ("op-1", "operator", "ticket.read", full, tid, at),
                    ("op-1", "operator", "ticket.list", full, tid, at),
                    ("t-wang", "technician", "ticket.read", full, tid, at)]
