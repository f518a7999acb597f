"""T26: personal data. A technician sees the resident's number unmasked, and their name and unit at all,
only while holding the ticket's active assignment; free text (description, notes, resolution) is masked
for anyone else; every read, REST and stream, is audited; the application cannot change or delete the
audit; no phone number or token reaches the logs, also when the database refuses an insert.

Figures checked: 0 unmasked numbers, names or units shown to a technician after their job ends (before
the fix: name, unit and the typed number stayed visible); a repeat report keeps its reporter (2 of 2
reporters, before: the second's number dropped and their name written into the history); 1 audit row per
personal read, REST and stream alike; UPDATE and DELETE of the audit raise on SQLite and PostgreSQL; 0
phones, names or tokens in the captured logs and the dead letter after a refused insert (before: the
bound parameters, and on PostgreSQL the "Failing row contains" line, carried both).
"""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import DBAPIError

from caretaker.api.tables import AuditRow
from caretaker.pipeline import BatchResult
from caretaker.worker import BatchCommitter
from caretaker.dispatch.privacy import mask_text
from caretaker.dispatch.tables import OutboxRow
from caretaker.ingest.client import Inbound
from tests.faults.privacy_support import (  # noqa: F401  (fixtures)
    ADMIN, NAME, PHONE, PHONE_IN_TEXT, PHOTO, REPORT, UNIT, clock, client, ctx, engine, issue, leaks, operator,
    pg_engine, place_technician, probe, report, server, site, streams, token_of,
)

pytestmark = pytest.mark.faults
SECOND = {**REPORT, "reporter_name": "Qian Bo", "reporter_phone": "13700137002",
          "description": "still leaking, this is Qian Bo, call 137-0013-7002"}


def _audit(ctx) -> list[tuple[str, str, str, str]]:
    with ctx.sessions() as session:
        rows = session.scalars(select(AuditRow).order_by(AuditRow.id))
        return [(r.actor, r.action, r.what, r.ticket_id) for r in rows]


def _texts(ticket: dict[str, Any]) -> str:
    return "\n".join([ticket["title"], ticket["description"] or "", ticket["resolution_note"] or ""]
                     + [h["note"] or "" for h in ticket["history"]])


@pytest.mark.parametrize("masked_phones", [("13800138000", "138****8000"), ("+86 138 0013 8000", "138****8000"),
                                           ("138-0013-8000", "138****8000"), ("021-6888 1234", "021****1234"),
                                           ("(0755) 12345678", "075****5678"), ("6688 1234", "****1234")])
def test_phone_patterns_in_free_text_are_masked(masked_phones):
    typed, shown = masked_phones
    assert mask_text(f"ring {typed} after 6") == f"ring {shown} after 6"
    # what dispatch itself writes stays readable: times, ids, levels
    note = "accept deadline 2026-11-23T02:15:00.000Z is near; alert AL-123456789012 attached; level 2 → 1"
    assert mask_text(note) == note


def test_name_unit_and_number_only_during_the_active_assignment(client, ctx, issue, operator):
    place_technician(ctx, "t-wang")
    wang = issue("technician", "t-wang")
    ticket = report(client, operator)
    tid = ticket["id"]

    def as_wang() -> dict[str, Any]:
        response = client.get(f"/api/v1/tickets/{tid}", headers=wang)
        assert response.status_code == 200, response.text
        return response.json()

    working = as_wang()  # assigned: theirs to work
    assert working["reporter"] == {"name": NAME, "phone": PHONE, "unit": UNIT}
    assert PHONE_IN_TEXT in working["description"]
    client.post(f"/api/v1/tickets/{tid}/accept", headers=wang)
    client.post(f"/api/v1/tickets/{tid}/arrive", headers=wang)
    assert as_wang()["reporter"]["phone"] == PHONE
    note = f"replaced the pipe; {NAME} asked to be called on {PHONE} when the ceiling is dry"
    client.post(f"/api/v1/tickets/{tid}/resolve", json={"note": note, "photos": [PHOTO]}, headers=wang)
    done = as_wang()  # the job has ended: the number masked, no name, no unit, the text masked
    assert done["reporter"] == {"name": None, "phone": "137****7001", "unit": None}
    assert [(r["name"], r["phone"], r["unit"]) for r in done["reporters"]] == [(None, "137****7001", None)]
    assert not leaks(_texts(done), (NAME, PHONE, PHONE_IN_TEXT, UNIT)), _texts(done)
    assert "139****5678" in done["description"] and "***" in done["resolution_note"]
    staff = client.get(f"/api/v1/tickets/{tid}", headers=operator).json()  # operators see it all (audited)
    assert staff["reporter"]["name"] == NAME and staff["resolution_note"] == note
    # reopened: theirs again, so they see it again
    client.post(f"/api/v1/tickets/{tid}/reopen", json={"note": "still wet"}, headers=operator)
    assert as_wang()["reporter"] == {"name": NAME, "phone": PHONE, "unit": UNIT}
    # reassigned away: no read at all
    client.post(f"/api/v1/tickets/{tid}/assign", json={"technician": "t-guo"}, headers=operator)
    assert client.get(f"/api/v1/tickets/{tid}", headers=wang).status_code == 403
    # a wall screen (personal=false) shows nobody's data, even to staff
    wall = client.get("/api/v1/tickets?personal=false", headers=operator).json()[0]
    assert wall["reporter"] is None and wall["reporters"] == [] and not leaks(_texts(wall), (NAME, PHONE_IN_TEXT))


def test_a_repeat_report_keeps_its_reporter_masked_and_audited_like_the_first(client, ctx, issue, operator, clock):
    place_technician(ctx, "t-wang")
    wang = issue("technician", "t-wang")
    first = report(client, operator)
    clock.advance(minutes=5)
    second = report(client, operator, SECOND)
    assert second["id"] == first["id"]  # merged into the open ticket
    assert [(r["name"], r["phone"]) for r in second["reporters"]] == [(NAME, PHONE), ("Qian Bo", "13700137002")]
    assert "Qian Bo" not in "\n".join(h["note"] or "" for h in second["history"]).replace(
        SECOND["description"], "")  # only inside their own words, never as "who reported"
    with ctx.sessions() as session:  # the supervisors' notice: neither name nor number
        notices = [r.payload for r in session.scalars(select(OutboxRow).where(OutboxRow.topic.like("%/notify")))]
    assert notices and not any(leaks(n, ("Qian Bo", "13700137002", NAME, PHONE)) for n in notices), notices
    working = client.get(f"/api/v1/tickets/{first['id']}", headers=wang).json()
    assert [r["phone"] for r in working["reporters"]] == [PHONE, "13700137002"]
    client.post(f"/api/v1/tickets/{first['id']}/assign", json={"technician": "t-guo"}, headers=operator)
    guo = issue("technician", "t-guo")
    client.post(f"/api/v1/tickets/{first['id']}/accept", headers=guo)
    client.post(f"/api/v1/tickets/{first['id']}/resolve", json={"note": "done", "photos": [PHOTO]}, headers=guo)
    done = client.get(f"/api/v1/tickets/{first['id']}", headers=guo).json()
    assert [(r["name"], r["phone"], r["unit"]) for r in done["reporters"]] == [
        (None, "137****7001", None), (None, "137****7002", None)]
    assert not leaks(_texts(done), ("Qian Bo", "13700137002", "137-0013-7002", NAME)), _texts(done)
    audited = [row for row in _audit(ctx) if row[0] == "t-guo"]
    assert [what for _, _, what, _ in audited][-1] == "reporter_phone(masked),reporters=2"


def test_every_read_is_audited_rest_and_stream(server, ctx, issue, operator, streams):
    place_technician(ctx, "t-wang")
    wang = issue("technician", "t-wang")
    with httpx.Client(base_url=server, timeout=15) as http:
        staff = streams(server, token_of(operator), personal="true")
        own = streams(server, token_of(wang), personal="true")
        wall = streams(server, token_of(operator))  # personal=false: nothing personal, nothing audited
        ticket = report(http, operator)
        tid = ticket["id"]
        for stream in (staff, own, wall):
            stream.ticket(tid, "the new ticket", status="assigned")
        http.get(f"/api/v1/tickets/{tid}", headers=wang)
        http.post(f"/api/v1/tickets/{tid}/accept", headers=wang)
        seen = {name: s.ticket(tid, "the accepted ticket", status="accepted")
                for name, s in (("staff", staff), ("own", own), ("wall", wall))}
    assert seen["own"]["reporter"] == {"name": NAME, "phone": PHONE, "unit": UNIT}  # as REST shows it
    assert seen["staff"]["reporter"]["phone"] == PHONE
    assert seen["wall"]["reporter"] is None and not leaks(_texts(seen["wall"]), (PHONE_IN_TEXT,))
    full = "reporter_name,reporter_phone,unit,text_phone"
    rows = _audit(ctx)
    assert rows.count(("op-1", "ticket.report", full, tid)) == 1
    assert rows.count(("op-1", "stream.ticket", full, tid)) == 2  # two events, two rows; none for the wall
    assert rows.count(("t-wang", "stream.ticket", full, tid)) == 2
    assert rows.count(("t-wang", "ticket.read", full, tid)) == 1
    assert rows.count(("t-wang", "ticket.step", full, tid)) == 1
    assert len(rows) == 7


def test_the_audit_cannot_be_changed_or_deleted_and_admins_read_it(client, ctx, engine, issue, operator):
    place_technician(ctx, "t-wang")
    tid = report(client, operator)["id"]
    for _ in range(4):
        client.get(f"/api/v1/tickets/{tid}", headers=operator)
    with pytest.raises(DBAPIError, match="append-only"):
        with ctx.sessions.begin() as session:
            session.execute(update(AuditRow).values(actor="nobody"))
    with pytest.raises(DBAPIError, match="append-only"):
        with ctx.sessions.begin() as session:
            session.execute(delete(AuditRow))
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:  # raw SQL on the app's engine
        conn.execute(text("DELETE FROM api_audit WHERE actor = 'op-1'"))
    with ctx.sessions() as session:
        assert session.scalar(select(func.count()).select_from(AuditRow).where(AuditRow.actor == "op-1")) == 5
    # the admins' read: filters, newest first, paged, the page size capped
    first = client.get("/api/v1/audit", params={"subject": "op-1", "ticket": tid, "limit": 3}, headers=ADMIN)
    assert first.status_code == 200, first.text
    page = first.json()
    assert [e["action"] for e in page["entries"]] == ["ticket.read"] * 3 and page["next_before"]
    rest = client.get("/api/v1/audit", params={"subject": "op-1", "before": page["next_before"]}, headers=ADMIN).json()
    assert [e["action"] for e in rest["entries"]] == ["ticket.read", "ticket.report"] and rest["next_before"] is None
    at = page["entries"][0]["at"]
    assert client.get("/api/v1/audit", params={"from": at}, headers=ADMIN).json()["entries"]
    assert client.get("/api/v1/audit", params={"to": at}, headers=ADMIN).json()["entries"] == []
    assert client.get("/api/v1/audit", params={"subject": "nobody"}, headers=ADMIN).json()["entries"] == []
    assert client.get("/api/v1/audit", params={"limit": 501}, headers=ADMIN).status_code == 422
    assert client.get("/api/v1/audit", params={"from": "9999-12-31T23:59:59-10:00"}, headers=ADMIN).status_code == 422
    assert client.get("/api/v1/audit", headers=operator).status_code == 403


def test_no_phone_or_token_in_the_logs_when_the_database_refuses(server, ctx, engine, issue, operator, caplog):
    caplog.set_level(logging.DEBUG)
    tokens = [token_of(operator), token_of(issue("technician", "t-wang"))]
    # the database refuses any ticket carrying a number: the insert fails as a constraint violation does
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE tickets ADD CONSTRAINT t26_refuse CHECK (reporter_phone IS NULL)"))
        else:
            conn.execute(text("CREATE TRIGGER t26_refuse BEFORE INSERT ON tickets WHEN NEW.reporter_phone IS NOT "
                              "NULL BEGIN SELECT RAISE(ABORT, 'refused'); END"))
    try:
        with httpx.Client(base_url=server, timeout=15) as http:
            response = http.post("/api/v1/tickets", json=REPORT, headers=operator)
            assert response.status_code == 500
        with httpx.Client(base_url=server, timeout=15) as http:  # the server closed the failed connection
            http.get("/api/v1/tickets", params={"token": tokens[1]})  # a token in the query: the access log
            http.get("/api/v1/tickets", headers=operator)
        # the worker's way: a message that breaks its batch goes to the dead letters as internal_error
        letters: list = []
        committer = BatchCommitter(_RefusedInsert(engine, letters), lambda part, result: None, sleep=lambda s: None)
        committer.commit([Inbound(topic="caretaker/harbor-view/devices/A-B2-LEAK-1/telemetry", payload=b"{}",
                                  mid=1)])
    finally:
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE tickets DROP CONSTRAINT t26_refuse" if engine.dialect.name == "postgresql"
                              else "DROP TRIGGER t26_refuse"))
    # everything the service logged, tracebacks included (the test's own HTTP client logs its URLs: not ours)
    ours = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    logged = "\n".join(caplog.handler.format(r) for r in ours)
    assert "IntegrityError" in logged or "refused" in logged, "the refused insert was not logged at all"
    assert not leaks(logged, (NAME, PHONE, PHONE_IN_TEXT, "13912345678", *tokens)), leaks(logged)
    [letter] = letters
    assert letter.reason == "internal_error" and "IntegrityError" in letter.detail
    assert not leaks(letter.detail, (NAME, PHONE, "INSERT", "SQL", "Failing row")), letter.detail


class _RefusedInsert:
    """The worker's pipeline port, doing one real insert the database refuses (a ticket with a number)."""

    def __init__(self, engine, letters: list) -> None:
        self.engine, self.letters = engine, letters

    def process(self, batch) -> BatchResult:
        with self.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO tickets (id, status, urgency, category, title, source, building, floor, reporter_name, "
                "reporter_phone, created_at, updated_at, accept_by, resolve_by, breached, photos) VALUES ('T-x', "
                "'open', 2, 'plumbing', 'x', 'phone', 'A', 3, :name, :phone, :now, :now, :now, :now, false, '[]')"),
                {"name": NAME, "phone": PHONE, "now": "2026-11-23 02:00:00"})
        return BatchResult()

    def reload(self) -> None:
        pass

    def store_rejections(self, rejections) -> None:
        self.letters.extend(rejections)
