"""Assignments through HTTP (docs/api.md, "Assignments"): the ticket's `assignments`, each one's steps by its
technician, an arrive from another building refused with the reason, an operator's confirmation."""

from __future__ import annotations

from api_support import place_technician
from caretaker.dispatch.tables import TechnicianLocationRow


def test_a_ticket_shows_its_owners_assignment_and_its_steps_act_on_it(client, ctx, wang_ticket, issue, operator):
    [owner] = wang_ticket["assignments"]
    assert (owner["technician"], owner["trade"], owner["role"], owner["status"]) == (
        "t-wang", "plumbing", "owner", "offered")
    assert owner["id"].startswith("AS-") and owner["accept_by"] == wang_ticket["accept_by"]
    wang = issue("technician", "t-wang")
    accepted = client.post(f"/api/v1/assignments/{owner['id']}/accept", headers=wang)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "accepted" and accepted.json()["assignments"][0]["status"] == "accepted"
    again = client.post(f"/api/v1/assignments/{owner['id']}/accept", headers=wang, params={"lang": "en"})
    assert again.status_code == 409 and "while it is accepted" in again.json()["detail"]
    done = client.post(f"/api/v1/assignments/{owner['id']}/done", headers=wang, params={"lang": "en"})
    assert done.status_code == 409 and "resolving it with a note and a photo" in done.json()["detail"]
    other = issue("technician", "t-chen")
    assert client.post(f"/api/v1/assignments/{owner['id']}/arrive", headers=other).status_code == 403
    assert client.post("/api/v1/assignments/AS-999999/accept", headers=wang).status_code == 404
    assert client.post(f"/api/v1/assignments/{owner['id']}/accept", headers=operator).status_code == 403


def test_an_arrive_from_another_building_is_409_until_an_operator_confirms_it(client, ctx, wang_ticket, issue,
                                                                             operator):
    wang = issue("technician", "t-wang")
    ticket_id = wang_ticket["id"]  # in building A
    assert client.post(f"/api/v1/tickets/{ticket_id}/accept", headers=wang).status_code == 200
    place_technician(ctx, "t-wang", building="B", floor=2)
    refused = client.post(f"/api/v1/tickets/{ticket_id}/arrive", headers=wang, params={"lang": "en"})
    assert refused.status_code == 409
    assert "your last location is building B, not A" in refused.json()["detail"]
    [owner] = client.get(f"/api/v1/tickets/{ticket_id}", headers=operator).json()["assignments"]
    assert client.post(f"/api/v1/assignments/{owner['id']}/arrive", headers=operator).status_code == 403
    confirmed = client.post(f"/api/v1/assignments/{owner['id']}/arrive", headers=operator,
                            json={"confirmed_by_operator": True})
    assert confirmed.status_code == 200, confirmed.text
    body = confirmed.json()
    assert body["status"] == "on_site" and body["history"][-1]["by"] == "op-1"
    assert "op-1 已确认到场" in body["history"][-1]["note"]  # in the estate's language: nobody asked another
    with ctx.sessions() as session:  # pressing arrive never moves the technician
        assert session.get(TechnicianLocationRow, "t-wang").building == "B"


def test_reopening_keeps_the_first_cycles_times_and_rating_in_the_kpis(client, ctx, wang_ticket, issue, operator):
    wang, ticket_id = issue("technician", "t-wang"), wang_ticket["id"]
    ctx.clock.advance(seconds=60)
    assert client.post(f"/api/v1/tickets/{ticket_id}/accept", headers=wang).status_code == 200
    ctx.clock.advance(seconds=240)
    assert client.post(f"/api/v1/tickets/{ticket_id}/arrive", headers=wang).status_code == 200
    ctx.clock.advance(seconds=600)
    resolved = client.post(f"/api/v1/tickets/{ticket_id}/resolve", headers=wang,
                           json={"note": "replaced the joint", "photos": ["https://photos.example/a.jpg"]})
    assert resolved.status_code == 200, resolved.text
    assert client.post(f"/api/v1/tickets/{ticket_id}/verify", headers=operator,
                       json={"satisfaction": 4}).json()["status"] == "closed"
    reopened = client.post(f"/api/v1/tickets/{ticket_id}/reopen", headers=operator, json={"note": "drips again"})
    body = reopened.json()
    assert body["status"] == "assigned" and body["accepted_at"] is None and body["satisfaction"] is None
    assert [(a["cycle"], a["status"]) for a in body["assignments"]] == [(1, "done"), (2, "offered")]
    kpis = client.get("/api/v1/kpis", headers=operator,
                      params={"from": "2026-11-23T00:00:00Z", "to": "2026-11-24T00:00:00Z"}).json()
    assert kpis["rated"] == 1 and kpis["satisfaction"] == 80.0  # the first cycle's rating still counts
    assert kpis["mean_accept_s"] == 60.0 and kpis["mean_arrive_s"] == 300.0 and kpis["mean_resolve_s"] == 900.0
    assert kpis["first_time_fix_pct"] is None or kpis["closed"] == 0


def test_a_support_technician_reads_their_ticket_and_hears_of_it_on_the_stream(client, ctx, issue, operator):
    from caretaker.api.deps import User
    from caretaker.api.stream import ChangeFeed
    from caretaker.dispatch.service import AlertFacts

    place_technician(ctx, "t-wang")
    place_technician(ctx, "t-zhao", building="A", floor=1)  # the gate's guard, always on
    feed = ChangeFeed(User("technician", "t-zhao"))
    with ctx.sessions() as session:
        feed.prime(session, ctx.clock.now())
    now = ctx.clock.now()
    with ctx.sessions.begin() as session:  # a level-1 leak: plumbing owner and security support
        ticket_id = ctx.dispatcher.open_for_alert(session, AlertFacts(
            "AL-1", "water-leak", "A-B2-LEAK-1", 1, "plumbing", "Water leak", now), now)
    ctx.clock.advance(seconds=1)
    with ctx.sessions() as session:
        events = feed.poll(session, ctx.clock.now()).events
    assert any(event == "ticket" and ticket_id in data for event, data in events)
    zhao = issue("technician", "t-zhao")
    shown = client.get(f"/api/v1/tickets/{ticket_id}", headers=zhao)
    assert shown.status_code == 200, shown.text
    support = next(a for a in shown.json()["assignments"] if a["role"] == "support")
    assert (support["technician"], support["trade"]) == ("t-zhao", "security")
    assert [t["id"] for t in client.get("/api/v1/tickets", headers=zhao).json()] == [ticket_id]
    techs = {t["id"]: t for t in client.get("/api/v1/technicians", headers=operator).json()}
    assert [(w["id"], w["role"], w["trade"]) for w in techs["t-zhao"]["current"]] == [(ticket_id, "support", "security")]
    assert [(w["id"], w["role"]) for w in techs["t-wang"]["current"]] == [(ticket_id, "owner")]
    assert client.post(f"/api/v1/tickets/{ticket_id}/accept", headers=zhao).json()["status"] == "assigned"
    done = client.post(f"/api/v1/assignments/{support['id']}/done", headers=zhao, json={"note": "area taped off"})
    assert done.status_code == 200 and done.json()["assignments"][1]["status"] == "done"
    assert client.post(f"/api/v1/tickets/{ticket_id}/resolve", headers=zhao,
                       json={"note": "x", "photos": ["https://p.example/a.jpg"]}).status_code == 403


def test_a_stopped_lift_where_a_vulnerable_resident_lives_is_raised_and_says_who_to_check_on(client, ctx, operator):
    from caretaker.dispatch.service import AlertFacts

    now = ctx.clock.now()
    with ctx.sessions.begin() as session:
        ticket_id = ctx.dispatcher.open_for_alert(session, AlertFacts(
            "AL-1", "elevator-stopped", "A-EL-1", 3, "elevator", "Elevator stopped", now), now)
    ticket = client.get(f"/api/v1/tickets/{ticket_id}", headers=operator).json()
    assert ticket["urgency"] == 2  # a 3 raised one level: building A has vulnerable residents
    assert {c["unit"] for c in ticket["check_on"]} >= {"A-1203"}
