"""Silences, shelving and alert transitions through the API; every transition becomes an AlertEvent."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from caretaker.dispatch.tables import OutboxRow
from caretaker.rules.tables import AlertLogRow, AlertRow


def seed_alert(ctx, alert_id: str = "AL-test1", state: str = "raised") -> None:
    with ctx.sessions.begin() as session:
        session.add(AlertRow(id=alert_id, rule_id="water-leak", device_id="A-B2-LEAK-1", urgency=1,
                             category="plumbing", title="Water leak", state=state, raised_at=ctx.clock.now(),
                             building="A", chattering=False))


def alert_events(ctx) -> list[dict]:
    with ctx.sessions() as session:
        rows = session.scalars(select(OutboxRow).where(OutboxRow.topic.like("%/alerts")).order_by(OutboxRow.id))
        return [json.loads(r.payload) for r in rows]


def test_acknowledging_is_logged_and_published_once(client, ctx, operator, probe):
    seed_alert(ctx)
    for _ in range(2):
        response = client.post("/api/v1/alerts/AL-test1/ack", json={"note": "seen"}, headers=operator)
        assert response.status_code == 200 and response.json()["acked_by"] == "op-1"
    assert [(e["state"], e["by"]) for e in alert_events(ctx)] == [("acknowledged", "op-1")]
    assert probe.wakes >= 1


def test_shelving_needs_a_future_time_and_a_reason_and_is_audited(client, ctx, operator, clock):
    seed_alert(ctx)
    until = (clock.now() + timedelta(hours=1)).isoformat()
    missing = client.post("/api/v1/alerts/AL-test1/shelve", json={"until": until}, headers=operator)
    assert missing.status_code == 422 and "reason" in missing.text
    past = client.post("/api/v1/alerts/AL-test1/shelve",
                       json={"until": (clock.now() - timedelta(minutes=1)).isoformat(), "reason": "x"}, headers=operator)
    assert past.status_code == 409
    shelved = client.post("/api/v1/alerts/AL-test1/shelve", json={"until": until, "reason": "sensor being replaced"},
                          headers=operator)
    assert shelved.status_code == 200
    body = shelved.json()
    assert body["shelved_by"] == "op-1" and body["shelve_reason"] == "sensor being replaced"
    assert body["shelved_until"].endswith("Z")
    back = client.post("/api/v1/alerts/AL-test1/unshelve", headers=operator)
    assert back.status_code == 200 and back.json()["shelved_until"] is None
    assert [e["state"] for e in alert_events(ctx)] == ["shelved", "unshelved"]
    detail = client.get("/api/v1/alerts/AL-test1", headers=operator).json()
    assert [(e["state"], e["by"]) for e in detail["log"]] == [("shelved", "op-1"), ("unshelved", "op-1")]
    assert "sensor being replaced" in detail["log"][0]["note"]
    assert client.get("/api/v1/alerts/AL-nope", headers=operator).status_code == 404
    with ctx.sessions() as session:
        log = [r.state for r in session.scalars(select(AlertLogRow).where(AlertLogRow.alert_id == "AL-test1"))]
    assert log == ["shelved", "unshelved"]


def test_a_cleared_alert_cannot_be_shelved_and_an_unknown_one_is_404(client, ctx, operator, clock):
    seed_alert(ctx, state="cleared")
    until = (clock.now() + timedelta(hours=1)).isoformat()
    assert client.post("/api/v1/alerts/AL-test1/shelve", json={"until": until, "reason": "r"},
                       headers=operator).status_code == 409
    assert client.post("/api/v1/alerts/AL-nope/shelve", json={"until": until, "reason": "r"},
                       headers=operator).status_code == 404


def test_a_silence_is_created_listed_and_ended_with_its_author(client, operator, clock):
    body = {"matchers": {"rule": "low-water-pressure", "building": "B"},
            "starts_at": clock.now().isoformat(), "ends_at": (clock.now() + timedelta(hours=3)).isoformat(),
            "reason": "planned water shutdown in building B"}
    created = client.post("/api/v1/silences", json=body, headers=operator)
    assert created.status_code == 201, created.text
    silence = created.json()
    assert silence["author"] == "op-1" and silence["active"] and silence["matchers"] == body["matchers"]
    assert [s["id"] for s in client.get("/api/v1/silences", headers=operator).json()] == [silence["id"]]
    ended = client.delete(f"/api/v1/silences/{silence['id']}", headers=operator)
    assert ended.status_code == 200 and ended.json()["expired_by"] == "op-1" and not ended.json()["active"]
    assert client.get("/api/v1/silences", headers=operator).json() == []
    assert len(client.get("/api/v1/silences?include_past=true", headers=operator).json()) == 1


def test_bad_silences_are_refused_with_the_problem_named(client, operator, clock, issue):
    start, end = clock.now().isoformat(), (clock.now() + timedelta(hours=1)).isoformat()
    no_matcher = client.post("/api/v1/silences", json={"matchers": {}, "ends_at": end, "reason": "r"}, headers=operator)
    assert no_matcher.status_code == 422 and "matcher" in no_matcher.text
    backwards = client.post("/api/v1/silences", json={"matchers": {"building": "A"}, "starts_at": end, "ends_at": start,
                                                      "reason": "r"}, headers=operator)
    assert backwards.status_code == 422 and "end after" in backwards.text
    unknown_key = client.post("/api/v1/silences", json={"matchers": {"colour": "red"}, "ends_at": end, "reason": "r"},
                              headers=operator)
    assert unknown_key.status_code == 422 and "colour" in unknown_key.text
    unknown_building = client.post("/api/v1/silences", json={"matchers": {"building": "Z"}, "ends_at": end,
                                                             "reason": "r"}, headers=operator)
    assert unknown_building.status_code == 422 and "Z" in unknown_building.text
    technician = issue("technician", "t-wang")
    assert client.post("/api/v1/silences", json={"matchers": {"building": "A"}, "ends_at": end, "reason": "r"},
                       headers=technician).status_code == 403
