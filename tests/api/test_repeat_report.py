"""A repeat report of an open ticket's problem answers 200 with `merged: true` and the ticket's Location;
a new one 201 with `merged: false` (docs/api.md, "Reports")."""

from __future__ import annotations

from api_support import LEAK_REPORT, place_technician


def test_a_repeat_report_is_merged_with_200_and_says_so(client, ctx, operator, clock) -> None:
    place_technician(ctx, "t-wang")
    first = client.post("/api/v1/tickets", json=LEAK_REPORT, headers=operator)
    assert first.status_code == 201, first.text
    assert first.json()["merged"] is False
    assert first.headers["location"] == f"/api/v1/tickets/{first.json()['id']}"
    clock.advance(minutes=5)
    again = {**LEAK_REPORT, "reporter_name": "Qian Bo", "reporter_phone": "13700137002",
             "description": "Still water coming through the kitchen ceiling"}
    second = client.post("/api/v1/tickets", json=again, headers=operator)
    assert second.status_code == 200, second.text
    assert second.json()["merged"] is True and second.json()["id"] == first.json()["id"]
    assert second.headers["location"] == f"/api/v1/tickets/{first.json()['id']}"
    assert len(client.get("/api/v1/tickets", headers=operator).json()) == 1


def test_the_report_route_documents_both_answers(client) -> None:
    answers = client.get("/openapi.json").json()["paths"]["/api/v1/tickets"]["post"]["responses"]
    assert {"200", "201"} <= set(answers)
