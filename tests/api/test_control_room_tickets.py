"""The control room's ticket reads and notes (docs/api.md#tickets): closed and cancelled tickets found by trade,
level, building, technician, words and a date range, a page at a time with the total; operators' notes in
the history without changing the status."""

from __future__ import annotations

from datetime import timedelta

from api_support import LEAK_REPORT, place_technician


def _report(client, headers, **body):
    response = client.post("/api/v1/tickets", json={**LEAK_REPORT, **body}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def test_filters_by_trade_level_building_words_and_dates_with_the_total(client, operator, clock):
    leak = _report(client, operator)
    clock.advance(days=2)
    lift = _report(client, operator, unit=None, building="B", floor=1, description="电梯门关不上", category="elevator",
                   urgency=2)
    door = _report(client, operator, unit=None, building="C", floor=1, description="单元门禁坏了", category="security")
    cancelled = client.post(f"/api/v1/tickets/{door['id']}/cancel", json={"note": "duplicate"}, headers=operator)
    assert cancelled.status_code == 200

    def ids(**query):
        response = client.get("/api/v1/tickets", params=query, headers=operator)
        assert response.status_code == 200, response.text
        return [t["id"] for t in response.json()], int(response.headers["X-Total-Count"])

    assert ids(category="elevator") == ([lift["id"]], 1)
    assert ids(urgency=2, building="B") == ([lift["id"]], 1)
    assert ids(status="cancelled") == ([door["id"]], 1)
    assert ids(q="门禁") == ([door["id"]], 1)
    assert ids(q=leak["id"].lower()) == ([leak["id"]], 1)
    assert ids(q="100%_") == ([], 0)  # LIKE's wildcards are words here
    day = (clock.now() - timedelta(days=1)).isoformat()
    assert ids(to=day) == ([leak["id"]], 1)
    assert set(ids(**{"from": day})[0]) == {lift["id"], door["id"]}
    first, total = ids(limit=2)
    second, _ = ids(limit=2, offset=2)
    assert total == 3 and len(first) == 2 and len(second) == 1 and not set(first) & set(second)
    assert client.get("/api/v1/tickets", params={"category": "cooking"}, headers=operator).status_code == 422
    assert client.get("/api/v1/tickets", params={"from": "yesterday"}, headers=operator).status_code == 422


def test_a_technician_is_found_by_their_tickets(client, ctx, operator):
    place_technician(ctx, "t-wang")
    ticket = _report(client, operator)
    assert ticket["assignee"] == "t-wang"
    found = client.get("/api/v1/tickets", params={"assignee": "t-wang"}, headers=operator).json()
    assert [t["id"] for t in found] == [ticket["id"]]
    assert client.get("/api/v1/tickets", params={"assignee": "t-huang"}, headers=operator).json() == []


def test_an_operators_note_joins_the_history_and_changes_no_status(client, operator, issue, clock):
    ticket = _report(client, operator)
    clock.advance(minutes=3)
    response = client.post(f"/api/v1/tickets/{ticket['id']}/notes", json={"note": " 住户再次来电：水已关 "},
                           headers=operator)
    assert response.status_code == 201, response.text
    after = response.json()
    assert after["status"] == ticket["status"]
    last = after["history"][-1]
    assert last["status"] == "note" and last["by"] == "op-1" and last["note"] == "住户再次来电：水已关"
    assert after["updated_at"] > ticket["updated_at"]  # the live stream sees the ticket change
    assert client.get(f"/api/v1/tickets/{ticket['id']}", headers=operator).json()["history"][-1] == last
    blank = client.post(f"/api/v1/tickets/{ticket['id']}/notes", json={"note": "   "}, headers=operator)
    assert blank.status_code == 422 and blank.json()["detail"][0]["loc"] == ["body", "note"]
    assert client.post("/api/v1/tickets/T-NONE/notes", json={"note": "x"}, headers=operator).status_code == 404
    tech = issue("technician", "t-wang")
    assert client.post(f"/api/v1/tickets/{ticket['id']}/notes", json={"note": "x"}, headers=tech).status_code == 403


def test_the_report_form_gets_a_suggestion_and_the_earlier_tickets_of_a_unit_and_a_number(client, operator, engine):
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from caretaker.api.tables import AuditRow

    got = client.post("/api/v1/reports/suggest", json={"description": "楼道灯不亮"}, headers=operator)
    assert got.status_code == 200 and got.json() == {"category": "electrical", "urgency": 3, "word": "灯",
                                                "kind": "repair", "complaint_type": None, "kind_word": None}
    assert client.post("/api/v1/reports/suggest", json={"description": "电梯困人"}, headers=operator).json()[
        "urgency"] == 1
    unit_ticket = _report(client, operator)  # A-0302, Qian Hui's number
    other = _report(client, operator, unit="A-2801", reporter_phone="13700137003", description="门禁坏了")
    found = client.get("/api/v1/reports/earlier", params={"unit": "A-0302", "phone": "13700137003"},
                       headers=operator).json()
    assert {t["id"]: t["matched"] for t in found} == {unit_ticket["id"]: ["unit"], other["id"]: ["phone"]}
    assert all("reporter" not in t and "phone" not in t for t in found)
    assert client.get("/api/v1/reports/earlier", headers=operator).json() == []
    with Session(engine) as session:
        audited = session.scalars(select(AuditRow).where(AuditRow.action == "report.earlier")).all()
    assert [(a.ticket_id, a.actor) for a in audited] == [(other["id"], "op-1")]


def test_candidates_are_ranked_as_dispatch_ranks_them_with_its_reasons(client, ctx, operator):
    place_technician(ctx, "t-wang", building="A", floor=1)  # plumbing and electrical, day shift: on
    place_technician(ctx, "t-chen", building="A", floor=3)  # the night plumber: off shift at 10:00
    place_technician(ctx, "t-liu", building="B", floor=1)  # electrician: no plumbing
    ticket = _report(client, operator)
    assert ticket["assignee"] == "t-wang"
    got = client.get(f"/api/v1/tickets/{ticket['id']}/candidates", headers=operator)
    assert got.status_code == 200, got.text
    body = got.json()
    by_id = {c["technician"]: c for c in body["candidates"]}
    first = body["candidates"][0]
    # the assignee is not "busy" with this very ticket: they stay the automatic choice, ranked first
    assert body["automatic"] == "t-wang" == first["technician"] and first["available"] and first["is_current"]
    assert first["travel_s"] is not None and first["on_site"] and first["on_shift"] and first["has_trade"]
    assert (by_id["t-chen"]["available"], by_id["t-chen"]["reason_code"], by_id["t-chen"]["has_trade"]) == (
        False, "off_shift", True)
    assert by_id["t-liu"]["reason_code"] == "lacks_trade" and by_id["t-liu"]["on_site"]
    ranks = [c["rank"] for c in body["candidates"]]
    assert ranks == sorted(ranks) and len(ranks) == len(ctx.site.technicians)
    with_trade = [c["has_trade"] for c in body["candidates"] if not c["available"]]
    assert with_trade == sorted(with_trade, reverse=True)  # those holding the trade before the rest
    assert client.get("/api/v1/tickets/T-NONE/candidates", headers=operator).status_code == 404
