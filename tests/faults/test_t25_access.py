"""T25: every id-bearing route and the stream, called as another technician, an integrator, and with no, a
garbage or a revoked token, answers 403/404/401 and leaks nothing of another's ticket.

Figures checked: 54 REST routes × 6 callers (another technician, an integrator, no token, a garbage
token, a non-bearer header, the ticket's own technician's revoked token) = 324 requests, each answering
its expected status with 0 bodies holding the resident's name, number (plain or masked), unit or words; the stream: 0 events of another technician's
ticket, and after a ticket is reassigned away exactly one `withdrawn` event with its id and 0 events of it
after that (before the fix: every later change, notes and typed number included). The route table must
name every route of the app: a route added without an entry fails the test.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from caretaker.api.app import create_app
from caretaker.dispatch.tables import OutboxRow
from tests.faults.privacy_support import (  # noqa: F401  (fixtures)
    ADMIN, MARKERS, NAME, PHONE_IN_TEXT, PHOTO, REPORT, bearer, clock, client, ctx, engine, issue, leaks, operator, pg_engine,
    place_technician, probe, report, server, site, streams, token_of, walk_routes,
)

pytestmark = pytest.mark.faults


@dataclass(frozen=True)
class Access:
    """What another technician and an integrator get; no, garbage and revoked tokens always get 401."""

    technician: int
    integrator: int
    body: Any = None


NOBODY = Access(403, 403)  # admin or operator only
BODY_RESOLVE = {"note": "done", "photos": [PHOTO]}
# every route that takes a token; the test fails when the app has a route this table does not name
ROUTES: dict[tuple[str, str], Access] = {
    ("POST", "/api/v1/tokens"): Access(403, 403, {"role": "admin", "subject": "me"}),
    ("GET", "/api/v1/tokens"): NOBODY,
    ("POST", "/api/v1/tokens/{ident}/rotate"): NOBODY,
    ("DELETE", "/api/v1/tokens/{ident}"): NOBODY,
    ("GET", "/api/v1/tickets"): Access(200, 403),  # a technician's own tickets only (none here)
    ("GET", "/api/v1/tickets/{ticket_id}"): NOBODY,
    ("POST", "/api/v1/tickets"): Access(403, 403, REPORT),
    ("POST", "/api/v1/tickets/{ticket_id}/accept"): NOBODY,
    ("POST", "/api/v1/tickets/{ticket_id}/decline"): NOBODY,
    ("POST", "/api/v1/tickets/{ticket_id}/arrive"): NOBODY,
    ("POST", "/api/v1/tickets/{ticket_id}/resolve"): Access(403, 403, BODY_RESOLVE),
    ("POST", "/api/v1/tickets/{ticket_id}/verify"): NOBODY,
    ("POST", "/api/v1/tickets/{ticket_id}/reopen"): NOBODY,
    ("POST", "/api/v1/tickets/{ticket_id}/assign"): Access(403, 403, {"technician": "t-huang"}),
    ("POST", "/api/v1/tickets/{ticket_id}/cancel"): NOBODY,
    ("GET", "/api/v1/alerts"): NOBODY,
    ("GET", "/api/v1/alerts/{alert_id}"): NOBODY,
    ("POST", "/api/v1/alerts/{alert_id}/ack"): NOBODY,
    ("POST", "/api/v1/alerts/{alert_id}/shelve"): NOBODY,
    ("POST", "/api/v1/alerts/{alert_id}/unshelve"): NOBODY,
    ("GET", "/api/v1/silences"): NOBODY,
    ("POST", "/api/v1/silences"): NOBODY,
    ("DELETE", "/api/v1/silences/{silence_id}"): NOBODY,
    ("GET", "/api/v1/devices"): Access(403, 200),  # devices carry no personal data; integrators read them
    ("GET", "/api/v1/devices/{device_id}"): Access(403, 200),
    ("GET", "/api/v1/devices/{device_id}/telemetry"): Access(403, 200),
    ("GET", "/api/v1/technicians"): NOBODY,
    ("GET", "/api/v1/kpis"): NOBODY,
    ("GET", "/api/v1/deadletters"): NOBODY,
    ("GET", "/api/v1/audit"): NOBODY,
    ("GET", "/api/v1/stream"): Access(200, 403),  # read as a stream below
    ("POST", "/api/v1/tickets/{ticket_id}/photos"): NOBODY,  # refused before the body is read
    ("GET", "/api/v1/photos/{photo_id}"): NOBODY,  # a photo of t-wang's ticket
    ("GET", "/api/v1/me"): Access(200, 200),  # the caller's own role and name, the site's
    ("GET", "/api/v1/meta"): Access(200, 200),  # the site's names and words, no phone numbers
    ("POST", "/api/v1/tickets/{ticket_id}/notes"): Access(403, 403, {"note": "checked"}),
    ("POST", "/api/v1/reports/suggest"): Access(403, 403, {"description": "楼道灯不亮"}),
    ("GET", "/api/v1/reports/earlier"): NOBODY,
    ("GET", "/api/v1/tickets/{ticket_id}/candidates"): NOBODY,
    ("GET", "/api/v1/callbacks"): NOBODY,
    ("GET", "/api/v1/kpis/breakdown"): NOBODY,
    ("GET", "/api/v1/kpis/trends"): NOBODY,
    ("GET", "/api/v1/exports/tickets.{fmt}"): NOBODY,
    ("GET", "/api/v1/exports/alerts.{fmt}"): NOBODY,
    ("GET", "/api/v1/exports/report.{fmt}"): NOBODY,
    ("GET", "/api/v1/buildings/{building_id}/vulnerable"): NOBODY,  # residents to call in an outage
    ("POST", "/api/v1/notices/{notice_id}/ack"): NOBODY,  # operators acknowledge a supervisor's notice
    ("GET", "/api/v1/notices"): NOBODY,  # operators; a supervisor's token: their own
    # one assignment's steps: its own technician only (an operator may confirm an arrival)
    ("POST", "/api/v1/assignments/{assignment_id}/accept"): NOBODY,
    ("POST", "/api/v1/assignments/{assignment_id}/decline"): NOBODY,
    ("POST", "/api/v1/assignments/{assignment_id}/arrive"): Access(403, 403, {"confirmed_by_operator": True}),
    ("POST", "/api/v1/assignments/{assignment_id}/done"): NOBODY,
    ("POST", "/api/v1/tickets/{ticket_id}/answer"): Access(403, 403, {"answer": "整改措施：加装围挡"}),
    ("GET", "/api/v1/sites"): Access(200, 200),  # the caller's own estate: its id, name, locale, time zone
}
# the residents' progress page (docs/residents.md): no bearer token, the link's own token is the key; a
# token that is no link gets the same bare 404 whoever calls, with whatever header
LINK_ROUTES: dict[tuple[str, str], Any] = {
    ("GET", "/r/{token}"): None, ("GET", "/r/{token}/status"): None,
    ("GET", "/r/{token}/photos/{photo_id}"): None, ("POST", "/r/{token}/rating"): {"score": 5},
}
# routes that take no token and hold no one's data (the page, its assets, health, the API's description)
# a report of someone else's, in another unit: a stream's own ticket, changed last, says it has caught up
SENTINEL = {"reporter_name": "Sun Li", "reporter_phone": "13600136000", "unit": "A-2801",
            "description": "门禁坏了", "source": "phone"}
PUBLIC = {("GET", "/"), ("MOUNT", "/static"), ("MOUNT", "/docs-assets"), ("GET", "/docs"),
          ("GET", "/openapi.json"), ("GET", "/healthz"), ("GET", "/metrics"),
          ("GET", "/tech"), ("GET", "/tech/sw.js"), ("GET", "/tech/manifest.webmanifest"), ("MOUNT", "/tech/static")}


def test_the_table_names_every_route_of_the_app(ctx):
    routes = set(walk_routes(create_app(ctx)))
    unnamed = routes - set(ROUTES) - PUBLIC - set(LINK_ROUTES)
    assert not unnamed, f"routes with no entry in T25's table (say who may call them): {sorted(unnamed)}"
    assert not (set(ROUTES) | PUBLIC | set(LINK_ROUTES)) - routes, "the table names routes the app no longer has"


def test_a_progress_link_that_is_not_one_is_a_bare_404_for_everyone(client, ctx, issue, operator):
    place_technician(ctx, "t-wang")
    ticket = report(client, operator)
    real = ticket["progress_link"].rsplit("/", 1)[1]
    callers = _callers(issue, client) | {"operator": operator}
    guesses = [real[:-1] + ("A" if real[-1] != "A" else "B"), ticket["id"], "x" * 300, "a" * 32]
    for (method, path), body in LINK_ROUTES.items():
        for token in guesses:
            for who, headers in callers.items():
                url = path.format(token=token, photo_id="PH-000000000000")
                response = client.request(method, url, headers=headers, json=body)
                assert (response.status_code, response.json()) == (404, {"detail": "not found"}), (method, url, who)
    # the real link answers, and still not with a photo that is not its ticket's
    assert client.get(f"/r/{real}/status").status_code == 200
    assert client.get(f"/r/{real}/photos/PH-000000000000").status_code == 404


def _callers(issue, client) -> dict[str, dict[str, str]]:
    revoked = issue("technician", "t-wang")  # the ticket's own technician, once the token is revoked
    ident = next(t["id"] for t in client.get("/api/v1/tokens", headers=ADMIN).json() if t["subject"] == "t-wang")
    assert client.delete(f"/api/v1/tokens/{ident}", headers=ADMIN).status_code == 200
    return {"another technician": issue("technician", "t-huang"), "integrator": issue("integrator", "bms-1"),
            "no token": {}, "garbage token": bearer("x" * 300), "not a bearer": {"Authorization": "Basic Zm9vOmJhcg=="},
            "revoked token": revoked}


def test_no_route_answers_another_caller_with_someone_elses_data(client, ctx, issue, operator):
    place_technician(ctx, "t-wang")
    ticket = report(client, operator)
    assert ticket["assignee"] == "t-wang"
    token_id = client.get("/api/v1/tokens", headers=ADMIN).json()[0]["id"]  # the operator's: a real one
    photo = client.post(f"/api/v1/tickets/{ticket['id']}/photos", headers=operator,
                        files={"file": ("site.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "image/png")}).json()
    ids = {"ticket_id": ticket["id"], "ident": token_id, "alert_id": "AL-000000000000", "silence_id": "1",
           "device_id": "A-B2-LEAK-1", "photo_id": photo["id"], "building_id": "A",
           "notice_id": "M-0", "assignment_id": ticket["assignments"][0]["id"],
           "fmt": "csv"}  # the exports' format
    callers = _callers(issue, client)
    answered = 0
    for (method, path), access in ROUTES.items():
        if path == "/api/v1/stream":
            continue
        url = path.format(**ids)
        for who, headers in callers.items():
            expected = {"another technician": access.technician, "integrator": access.integrator}.get(who, 401)
            response = client.request(method, url, headers=headers, json=access.body)
            assert response.status_code == expected, (method, path, who, response.text)
            assert not leaks(response.text), (method, path, who, leaks(response.text))
            assert ticket["id"] not in response.text or response.status_code >= 400, (method, path, who)
            if expected == 401:
                assert response.headers["WWW-Authenticate"] == "Bearer"
            answered += 1
    assert answered == (len(ROUTES) - 1) * len(callers)
    # none of it touched the ticket
    after = client.get(f"/api/v1/tickets/{ticket['id']}", headers=operator).json()
    assert (after["status"], after["assignee"], len(after["history"])) == ("assigned", "t-wang", len(ticket["history"]))


def test_the_stream_refuses_bad_callers_and_shows_no_one_elses_ticket(server, ctx, issue, operator, streams):
    with httpx.Client(base_url=server, timeout=15) as http:
        place_technician(ctx, "t-wang")
        callers = _callers(issue, http)
        for who, headers in callers.items():
            expected = {"another technician": 200, "integrator": 403}.get(who, 401)
            if expected != 200:
                response = http.get("/api/v1/stream", headers=headers)
                assert response.status_code == expected, (who, response.text)
                if headers.get("Authorization", "").startswith("Bearer "):  # EventSource's way, too
                    assert http.get("/api/v1/stream", params={"token": token_of(headers)}).status_code == expected
        huang = streams(server, token_of(callers["another technician"]), personal="true")
        wang = streams(server, token_of(issue("technician", "t-wang")))
        ticket = report(http, operator)
        wang.ticket(ticket["id"], "wang's new ticket", status="assigned")
        # the ticket is taken from t-wang; then it goes on: a repeat report with a number, notes, steps
        http.post(f"/api/v1/tickets/{ticket['id']}/assign", json={"technician": "t-guo"}, headers=operator)
        _, gone = wang.wait_for(lambda e, d: e == "withdrawn", "the withdrawn event")
        assert gone == {"ticket": ticket["id"]}
        with ctx.sessions() as session:  # and the push that tells his phone: no number in its title
            pushes = [json.loads(r.payload) for r in session.scalars(select(OutboxRow).where(
                OutboxRow.topic.like("%/technicians/t-wang/dispatch")))]
        [withdrawn] = [p for p in pushes if p["type"] == "withdrawn"]
        assert not leaks(withdrawn["title"], (PHONE_IN_TEXT, "13912345678", NAME, "A-0302")), withdrawn["title"]
        again = {**REPORT, "reporter_name": "Qian Bo", "reporter_phone": "13700137002",
                 "description": "still leaking, ring me on 13700137002"}
        assert report(http, operator, again)["id"] == ticket["id"]
        http.post(f"/api/v1/tickets/{ticket['id']}/accept", headers=issue("technician", "t-guo"))
        # a sentinel for each stream: a ticket of their own, changed after all of the above
        for tech, stream in (("t-wang", wang), ("t-huang", huang)):
            mine = report(http, operator, SENTINEL)
            http.post(f"/api/v1/tickets/{mine['id']}/assign", json={"technician": tech}, headers=operator)
            stream.ticket(mine["id"], f"{tech}'s own ticket", assignee=tech)
        after_withdrawn = wang.seen[[e for e, _ in wang.seen].index("withdrawn") + 1:]
        assert [d for e, d in after_withdrawn if ticket["id"] in d] == []
        assert [d for e, d in huang.seen if ticket["id"] in d] == []
        for seen in (after_withdrawn, huang.seen):  # while it was t-wang's, he saw it as REST shows it
            text = "\n".join(d for _, d in seen)
            assert not leaks(text, MARKERS + ("Qian Bo", "13700137002")), leaks(text)
