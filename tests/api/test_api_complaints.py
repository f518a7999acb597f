"""Complaints and suggestions over the real API on SQLite and PostgreSQL (docs/api.md, "Kinds of report"): the
kind is stored with the ticket (from the request, else from the words), a service complaint is answered within
12 hours (a warning at 80%, a breach escalated to the supervisors), a safety complaint is a level-1 security
ticket, a suggestion goes to no technician and closes with its answer, a complaint does not close unanswered,
lists filter by kind, and the KPIs count complaints answered on time."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from api_support import LEAK_REPORT, place_technician

from caretaker.api.kpi_watch import missed_every_day
from caretaker.dispatch import timers
from caretaker.dispatch.outbox import iso
from caretaker.dispatch.tables import OutboxRow

PHOTO = "https://photos.example/fixed.jpg"
RUDE = {"reporter_name": "Tang Yue", "reporter_phone": "13700137005", "unit": "B-1602", "source": "phone",
        "description": "投诉保安态度差，对业主大呼小叫"}
BENCHES = {"reporter_name": "Lin Xiaoyu", "reporter_phone": "13700137003", "unit": "A-2801", "source": "app",
           "description": "建议小区增加电动车充电桩"}
THROWN = {"reporter_name": "Deng Kai", "reporter_phone": "13700137007", "unit": "C-1102", "source": "phone",
          "description": "楼上有人高空抛物，差点砸到小孩"}


@pytest.fixture
def operator(operator):
    """The operator reading in English: the history's system lines are said in the reader's language."""
    return {**operator, "Accept-Language": "en"}


def file(client, operator, body, status=201):
    response = client.post("/api/v1/tickets", json=body, headers=operator)
    assert response.status_code == status, response.text
    return response.json()


def sweep(ctx, now) -> list[str]:
    """Fire every timer due by `now` as the service's sweep does; return their kinds."""
    with ctx.sessions.begin() as session:
        due = sorted(timers.claim_due(session, now), key=lambda d: (d.due_at, d.id))
        for timer in due:
            ctx.dispatcher.on_timer(session, timer, now)
    return [t.kind for t in due]


def notices(ctx, ticket_id):
    """The notices of the ticket's answer clock sent to the supervisors (the outbox's pushes), as (type, supervisor)."""
    with ctx.sessions() as session:
        rows = session.scalars(select(OutboxRow).where(OutboxRow.topic.like("%/supervisors/%/notify"))).all()
        pushed = [(row.topic.split("/")[-2], json.loads(row.payload)) for row in rows]
    return sorted((p["type"], who) for who, p in pushed if p["ticket"] == ticket_id and "投诉答复" in p["reason"])  # in the
    # estate's language (zh-CN): a notice has no reader's request to ask


def test_a_service_complaint_from_its_words_has_a_12_hour_answer_deadline(client, operator):
    ticket = file(client, operator, RUDE)
    assert (ticket["kind"], ticket["complaint_type"]) == ("complaint", "service")
    assert ticket["answer_by"] == iso(_at(ticket["created_at"]) + timedelta(hours=12))
    assert ticket["answered_at"] is None and ticket["answer"] is None
    notes = [h["note"] for h in ticket["history"]]
    assert "filed as a service complaint" in notes and f"answer due by {ticket['answer_by']}" in notes
    again = client.get(f"/api/v1/tickets/{ticket['id']}", headers=operator).json()
    assert again["kind"] == "complaint" and again["answer_by"] == ticket["answer_by"]


def test_the_request_names_the_kind_over_the_words(client, operator):
    leak = file(client, operator, LEAK_REPORT)  # a repair: no answer, no clock
    assert (leak["kind"], leak["complaint_type"], leak["answer_by"]) == ("repair", None, None)
    told = file(client, operator, {**BENCHES, "kind": "complaint"})  # the operator heard a complaint
    assert (told["kind"], told["complaint_type"]) == ("complaint", "service") and told["answer_by"]
    safety = file(client, operator, {**RUDE, "unit": "A-0302", "complaint_type": "safety"})
    assert (safety["kind"], safety["complaint_type"], safety["answer_by"]) == ("complaint", "safety", None)


def test_bad_kinds_are_a_422_naming_the_field(client, operator):
    for body, field in (({**RUDE, "kind": "praise"}, "kind"), ({**RUDE, "complaint_type": "noise"}, "complaint_type"),
                        ({**RUDE, "kind": "repair", "complaint_type": "service"}, "complaint_type"),
                        ({**BENCHES, "kind": "suggestion", "complaint_type": "safety"}, "complaint_type")):
        response = client.post("/api/v1/tickets", json=body, headers=operator)
        assert response.status_code == 422, response.text
        assert [e["loc"] for e in response.json()["detail"]] == [["body", field]], response.text
    bad_list = client.get("/api/v1/tickets", params={"kind": "praise"}, headers=operator)
    assert bad_list.status_code == 422 and bad_list.json()["detail"][0]["loc"] == ["query", "kind"]
    assert client.get("/api/v1/tickets", headers=operator).json() == []  # nothing was filed


def test_a_safety_complaint_is_level_1_security_dispatched_at_once(client, ctx, operator):
    place_technician(ctx, "t-zhao", building="C")  # the gate's security post, always on
    ticket = file(client, operator, {**THROWN, "urgency": 3})  # the level asked for does not hold
    assert (ticket["kind"], ticket["complaint_type"]) == ("complaint", "safety")
    assert (ticket["urgency"], ticket["category"]) == (1, "security")
    assert ticket["status"] == "assigned" and ticket["assignee"] == "t-zhao"
    assert ticket["answer_by"] is None  # its level-1 deadlines are its clock


def test_the_answer_clock_warns_at_80_percent_and_escalates_a_breach(client, ctx, operator, clock):
    ticket = file(client, operator, RUDE)
    answered = file(client, operator, {**RUDE, "unit": "A-0302", "reporter_name": "Qian Hui",
                                       "reporter_phone": "13700137001"})
    assert client.post(f"/api/v1/tickets/{answered['id']}/answer", json={"answer": "已约谈保安，调岗培训"},
                       headers=operator).status_code == 200
    clock.advance(hours=9, minutes=36)  # 80% of 12 hours
    assert "answer:warn" in sweep(ctx, clock.now())
    assert ("warning", "s-li") in notices(ctx, ticket["id"])
    clock.advance(hours=2, minutes=24)
    assert "answer:breach" in sweep(ctx, clock.now())
    assert {("breach", "s-li"), ("breach", "s-xu")} <= set(notices(ctx, ticket["id"]))
    breached = client.get(f"/api/v1/tickets/{ticket['id']}", headers=operator).json()
    assert breached["breached"] is True
    assert f"complaint answer deadline breached (was due {ticket['answer_by']})" in [h["note"] for h in breached["history"]]
    # the answered one heard nothing of its clock
    assert notices(ctx, answered["id"]) == []


def test_the_answer_is_recorded_stops_the_clock_and_once_only(client, ctx, operator, clock):
    ticket = file(client, operator, RUDE)
    clock.advance(hours=1)
    response = client.post(f"/api/v1/tickets/{ticket['id']}/answer", json={"answer": "已约谈当班保安并调岗"},
                           headers=operator)
    assert response.status_code == 200, response.text
    answered = response.json()
    assert answered["answered_at"] == iso(clock.now()) and answered["answered_by"] == "op-1"
    assert answered["answer"] == "已约谈当班保安并调岗"
    assert answered["history"][-2]["note"] == "answered: 已约谈当班保安并调岗" and answered["history"][-2]["by"] == "op-1"
    clock.advance(hours=12)
    assert not [k for k in sweep(ctx, clock.now()) if k.startswith("answer:")]  # retired
    again = client.post(f"/api/v1/tickets/{ticket['id']}/answer", json={"answer": "again"}, headers=operator)
    assert again.status_code == 409 and "answered" in again.json()["detail"]
    blank = client.post(f"/api/v1/tickets/{ticket['id']}/answer", json={"answer": "  "}, headers=operator)
    assert blank.status_code == 422 and blank.json()["detail"][0]["loc"] == ["body", "answer"]
    repair = file(client, operator, LEAK_REPORT)
    refused = client.post(f"/api/v1/tickets/{repair['id']}/answer", json={"answer": "x"}, headers=operator)
    assert refused.status_code == 409 and "repair" in refused.json()["detail"]
    unknown = client.post("/api/v1/tickets/T-000000-XXXXXX/answer", json={"answer": "x"}, headers=operator)
    assert unknown.status_code == 404


def test_a_technician_may_not_answer(client, issue, operator):
    ticket = file(client, operator, RUDE)
    response = client.post(f"/api/v1/tickets/{ticket['id']}/answer", json={"answer": "x"},
                           headers=issue("technician", "t-wang"))
    assert response.status_code == 403


def test_a_complaint_is_not_closed_without_its_answer(client, ctx, operator, issue):
    place_technician(ctx, "t-wang")
    ticket = file(client, operator, {**LEAK_REPORT, "description": "投诉：厨房漏水三天没人管"})
    assert (ticket["kind"], ticket["assignee"]) == ("complaint", "t-wang")
    wang = issue("technician", "t-wang")
    for step, body in (("accept", None), ("arrive", None), ("resolve", {"note": "fixed", "photos": [PHOTO]})):
        assert client.post(f"/api/v1/tickets/{ticket['id']}/{step}", json=body, headers=wang).status_code == 200
    refused = client.post(f"/api/v1/tickets/{ticket['id']}/verify", json={"satisfaction": 4}, headers=operator)
    assert refused.status_code == 409, refused.text
    assert "answer is missing" in refused.json()["detail"] and refused.json()["status"] == "resolved"
    # a call-back without a rating does not close it, so it is allowed
    assert client.post(f"/api/v1/tickets/{ticket['id']}/verify", json={}, headers=operator).status_code == 200
    assert client.post(f"/api/v1/tickets/{ticket['id']}/answer", json={"answer": "更换了水管接头，维修班加强巡查"},
                       headers=operator).status_code == 200
    closed = client.post(f"/api/v1/tickets/{ticket['id']}/verify", json={"satisfaction": 4}, headers=operator)
    assert closed.status_code == 200 and closed.json()["status"] == "closed"


def test_a_conduct_complaint_is_the_control_rooms_its_answer_resolves_it_and_the_call_back_closes_it(
        client, ctx, operator, clock):
    for tech in ("t-wang", "t-zhao", "t-zhou"):
        place_technician(ctx, tech)
    ticket = file(client, operator, RUDE)  # 态度差: nothing to fix, nobody to send
    assert ticket["status"] == "open" and ticket["assignee"] is None and ticket["assignments"] == []
    assert "no technician: the control room answers it" in [h["note"] for h in ticket["history"]]
    early = client.post(f"/api/v1/tickets/{ticket['id']}/verify", json={"satisfaction": 5}, headers=operator)
    assert early.status_code == 409 and "answer is missing" in early.json()["detail"]
    clock.advance(days=3)  # past the level's technician deadlines: only the answer clock speaks
    sweep(ctx, clock.now())
    breached = client.get(f"/api/v1/tickets/{ticket['id']}", headers=operator).json()
    assert [h["note"] for h in breached["history"] if "deadline" in (h["note"] or "")] == [
        f"complaint answer deadline breached (was due {ticket['answer_by']})"]
    answered = client.post(f"/api/v1/tickets/{ticket['id']}/answer", json={"answer": "当班保安已道歉并调岗"},
                           headers=operator).json()
    assert answered["status"] == "resolved" and answered["resolved_at"] == iso(clock.now())
    assert answered["history"][-2]["note"] == "answered late: 当班保安已道歉并调岗"
    queue = client.get("/api/v1/callbacks", headers=operator).json()
    assert ticket["id"] in [c["ticket"]["id"] for c in queue]  # 回访: the complainant is called back
    closed = client.post(f"/api/v1/tickets/{ticket['id']}/verify", json={"satisfaction": 4}, headers=operator)
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    kpis = client.get("/api/v1/kpis", headers=operator).json()
    assert kpis["steps_due"] == 0  # no technician was asked: no technician step is late
    assert (kpis["complaint_answers_due"], kpis["complaints_answered_on_time_pct"]) == (1, 0.0)


def test_a_suggestion_needs_no_technician_and_closes_with_its_answer(client, ctx, operator, clock):
    for tech in ("t-wang", "t-zhao"):
        place_technician(ctx, tech)
    ticket = file(client, operator, BENCHES)
    assert ticket["kind"] == "suggestion" and ticket["status"] == "open"
    assert ticket["assignee"] is None and ticket["assignments"] == []
    clock.advance(days=3)  # past every level-4 deadline: nothing warns, nothing breaches
    assert sweep(ctx, clock.now()) == []
    assert notices(ctx, ticket["id"]) == []
    response = client.post(f"/api/v1/tickets/{ticket['id']}/answer",
                           json={"answer": "业委会月度会议已通过，下月在2号楼旁增设充电桩"}, headers=operator)
    assert response.status_code == 200, response.text
    closed = response.json()
    assert closed["status"] == "closed" and closed["closed_at"] == iso(clock.now())
    assert closed["answered_at"] == iso(clock.now()) and closed["breached"] is False
    assert [h["note"] for h in closed["history"]][-2:] == [
        "answered: 业委会月度会议已通过，下月在2号楼旁增设充电桩", "closed: suggestion answered"]


def test_a_repair_of_the_same_unit_never_joins_a_suggestion(client, ctx, operator):
    place_technician(ctx, "t-qian")  # electrical and general, on the day shift
    suggestion = file(client, operator, BENCHES)  # general 4, unit A-2801
    enquiry = file(client, operator, {**BENCHES, "description": "物业费怎么交", "source": "phone"})  # general 4 too
    assert enquiry["id"] != suggestion["id"] and enquiry["merged"] is False
    assert enquiry["kind"] == "repair" and enquiry["assignments"] != []
    again = client.get(f"/api/v1/tickets/{suggestion['id']}", headers=operator).json()
    assert len(again["reporters"]) == 1 and again["status"] == "open"


def test_lists_filter_by_kind(client, operator):
    repair, complaint, suggestion = (file(client, operator, b)["id"] for b in (LEAK_REPORT, RUDE, BENCHES))

    def ids(kind):
        response = client.get("/api/v1/tickets", params={"kind": kind}, headers=operator)
        assert response.status_code == 200, response.text
        assert response.headers["X-Total-Count"] == str(len(response.json()))
        return [t["id"] for t in response.json()]

    assert (ids("repair"), ids("complaint"), ids("suggestion")) == ([repair], [complaint], [suggestion])
    assert ids("enquiry") == []


def test_kpis_count_complaints_answered_on_time(client, ctx, operator, clock):
    start = clock.now()
    on_time = file(client, operator, RUDE)
    late = file(client, operator, {**RUDE, "unit": "A-0302", "reporter_name": "Qian Hui",
                                   "reporter_phone": "13700137001"})
    file(client, operator, {**RUDE, "unit": "A-2801", "reporter_name": "Lin Xiaoyu",
                            "reporter_phone": "13700137003"})  # still within its 12 hours: not due yet
    file(client, operator, BENCHES)
    clock.advance(hours=2)
    client.post(f"/api/v1/tickets/{on_time['id']}/answer", json={"answer": "整改"}, headers=operator)
    clock.advance(hours=11)
    client.post(f"/api/v1/tickets/{late['id']}/answer", json={"answer": "整改"}, headers=operator)
    # the third one was filed at the start too: now it is due and unanswered
    kpis = client.get("/api/v1/kpis", params={"from": iso(start - timedelta(hours=1))}, headers=operator).json()
    assert (kpis["complaints"], kpis["suggestions"]) == (3, 1)
    assert (kpis["complaint_answers_due"], kpis["complaint_answers_on_time"]) == (3, 1)
    assert kpis["complaints_answered_on_time_pct"] == 33.3


def test_kpis_without_complaints_say_none(client, operator):
    kpis = client.get("/api/v1/kpis", headers=operator).json()
    assert kpis["complaints_answered_on_time_pct"] is None and kpis["complaint_answers_due"] == 0


def _at(text: str):
    from datetime import datetime

    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_complaints_answered_late_three_days_running_are_a_missed_kpi():
    late = {"complaints_answered_on_time_pct": 50.0}
    assert missed_every_day([late, late, late])["complaints_answered_on_time_pct"] == [50.0, 50.0, 50.0]
    quiet = {"complaints_answered_on_time_pct": None}  # a day without complaints due breaks the run
    assert "complaints_answered_on_time_pct" not in missed_every_day([late, quiet, late])
