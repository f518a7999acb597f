"""Call-backs (回访, docs/operators.md#call-backs): a resolved repair is called back within 24 hours, another
request within 48; the queue holds resolved tickets a person reported, earliest due first, with the number
to call; satisfied closes with the rating, not fixed reopens; the KPIs count the call-backs made on time."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from caretaker.api.callbacks import callback_due, needs_callback
from api_support import LEAK_REPORT, place_technician

PHOTO = "https://photos.example/fixed.jpg"


def test_deadlines_are_24_hours_for_a_repair_and_48_for_another_request():
    at = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)
    assert callback_due(at, "plumbing") == at + timedelta(hours=24)
    assert callback_due(at, "elevator") == at + timedelta(hours=24)
    assert callback_due(at, "cleaning") == at + timedelta(hours=48)
    assert callback_due(at, "general") == at + timedelta(hours=48)
    assert needs_callback("phone", "13700137001") and not needs_callback("sensor", None)
    assert not needs_callback("desk", "")


def _resolved(client, operator, tech_headers, tech, **report):
    ticket = client.post("/api/v1/tickets", json={**LEAK_REPORT, **report}, headers=operator).json()
    if ticket["assignee"] != tech:
        assert client.post(f"/api/v1/tickets/{ticket['id']}/assign", json={"technician": tech}, headers=operator).status_code == 200
    for step, body in (("accept", None), ("arrive", None), ("resolve", {"note": "fixed", "photos": [PHOTO]})):
        response = client.post(f"/api/v1/tickets/{ticket['id']}/{step}", json=body, headers=tech_headers)
        assert response.status_code == 200, response.text
    return response.json()


def test_the_queue_the_outcomes_and_the_call_back_rate(client, ctx, operator, issue, clock):
    place_technician(ctx, "t-wang")
    wang = issue("technician", "t-wang")
    start = clock.now()
    leak = _resolved(client, operator, wang, "t-wang")
    clock.advance(minutes=5)
    bin_room = _resolved(client, operator, wang, "t-wang", unit="A-1203", description="垃圾房门口很脏",
                         category="cleaning", urgency=4, reporter_phone="13700137000", reporter_name="Zhao Min")
    clock.advance(minutes=5)
    noisy = _resolved(client, operator, wang, "t-wang", unit="A-2801", description="水龙头一直滴水", category="plumbing",
                      urgency=3, reporter_phone="13700137003", reporter_name="Lin Xiaoyu")
    queue = client.get("/api/v1/callbacks", headers=operator).json()
    assert [c["ticket"]["id"] for c in queue] == [leak["id"], noisy["id"], bin_room["id"]]  # by deadline
    assert [c["window_h"] for c in queue] == [24, 24, 48] and not any(c["overdue"] for c in queue)
    assert queue[0]["ticket"]["reporter"]["phone"] == LEAK_REPORT["reporter_phone"]  # the number to call

    clock.advance(hours=2)
    closed = client.post(f"/api/v1/tickets/{leak['id']}/verify", json={"satisfaction": 5}, headers=operator).json()
    assert closed["status"] == "closed"
    reopened = client.post(f"/api/v1/tickets/{noisy['id']}/reopen", json={"note": "not fixed (call-back)"},
                           headers=operator).json()
    assert reopened["status"] in ("assigned", "accepted") and reopened["assignee"] == "t-wang"
    assert [c["ticket"]["id"] for c in client.get("/api/v1/callbacks", headers=operator).json()] == [bin_room["id"]]

    clock.advance(hours=47)  # the cleaning request's 48 hours are up, nobody called
    late = client.get("/api/v1/callbacks", headers=operator).json()
    assert late[0]["overdue"] is True
    kpis = client.get("/api/v1/kpis", params={"from": start.isoformat()}, headers=operator).json()
    assert (kpis["callbacks_due"], kpis["callbacks_on_time"], kpis["callback_rate_pct"]) == (3, 2, 66.7)
