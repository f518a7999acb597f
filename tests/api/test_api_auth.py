"""Tokens and roles: 401 without a good token, 403 for the wrong role, tokens stored only as hashes."""

from __future__ import annotations

import logging

from sqlalchemy import select

from caretaker.api.deps import hash_token
from caretaker.api.tables import TokenRow
from api_support import ADMIN, bearer


def test_no_token_is_401_with_a_challenge(client):
    response = client.get("/api/v1/tickets")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_unknown_token_is_401(client):
    response = client.get("/api/v1/tickets", headers=bearer("made-up"))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_admin_issues_a_token_stored_as_its_hash(client, ctx):
    response = client.post("/api/v1/tokens", json={"role": "operator", "subject": "op-7"}, headers=ADMIN)
    assert response.status_code == 201
    token = response.json()["token"]
    with ctx.sessions() as session:
        rows = list(session.scalars(select(TokenRow)))
    assert [(r.token_hash, r.role, r.subject) for r in rows] == [(hash_token(token), "operator", "op-7")]
    assert client.get("/api/v1/tickets", headers=bearer(token)).status_code == 200


def test_only_admin_issues_tokens(client, operator):
    response = client.post("/api/v1/tokens", json={"role": "admin", "subject": "me"}, headers=operator)
    assert response.status_code == 403


def test_technician_token_needs_a_technician_of_the_site(client):
    response = client.post("/api/v1/tokens", json={"role": "technician", "subject": "t-nobody"}, headers=ADMIN)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "subject"]


def test_unknown_role_is_422(client):
    response = client.post("/api/v1/tokens", json={"role": "janitor", "subject": "x"}, headers=ADMIN)
    assert response.status_code == 422


def test_revoked_token_is_401(client, ctx, issue):
    headers = issue("operator", "op-2")
    with ctx.sessions.begin() as session:
        session.scalars(select(TokenRow)).one().revoked = True
    assert client.get("/api/v1/tickets", headers=headers).status_code == 401


def test_wrong_role_is_403(client, issue):
    integrator = issue("integrator", "bms")
    assert client.get("/api/v1/tickets", headers=integrator).status_code == 403
    assert client.get("/api/v1/devices", headers=integrator).status_code == 200
    technician = issue("technician", "t-wang")
    assert client.get("/api/v1/devices", headers=technician).status_code == 403
    assert client.post("/api/v1/tickets", json={}, headers=technician).status_code == 403


def test_technician_sees_only_own_tickets(client, ctx, issue, wang_ticket, operator):
    wang, chen = issue("technician", "t-wang"), issue("technician", "t-chen")
    assert [t["id"] for t in client.get("/api/v1/tickets", headers=wang).json()] == [wang_ticket["id"]]
    assert client.get("/api/v1/tickets", headers=chen).json() == []
    # asking for someone else's tickets by filter changes nothing
    assert client.get("/api/v1/tickets?assignee=t-wang", headers=chen).json() == []
    assert client.get(f"/api/v1/tickets/{wang_ticket['id']}", headers=wang).status_code == 200
    assert client.get(f"/api/v1/tickets/{wang_ticket['id']}", headers=chen).status_code == 403


def test_tokens_never_reach_the_logs(client, issue, caplog):
    caplog.set_level(logging.DEBUG)
    headers = issue("operator", "op-3")
    token = headers["Authorization"].split()[1]
    client.get("/api/v1/tickets", headers=headers)
    client.get("/api/v1/tickets", headers=bearer("wrong-token"))
    assert token not in caplog.text and ADMIN["Authorization"].split()[1] not in caplog.text


def test_access_log_redacts_a_token_in_the_query():
    from caretaker.api.app import RedactTokens

    record = logging.LogRecord("uvicorn.access", logging.INFO, "", 0, '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1", "GET", "/api/v1/stream?token=s3cret&x=1", "1.1", 200), None)
    RedactTokens().filter(record)
    assert "s3cret" not in record.getMessage() and "token=***&x=1" in record.getMessage()


def test_admin_lists_and_revokes_a_lost_phones_token(client, issue, operator):
    from api_support import ADMIN

    created = client.post("/api/v1/tokens", json={"role": "technician", "subject": "t-wang"}, headers=ADMIN).json()
    lost = {"Authorization": f"Bearer {created['token']}"}
    assert client.get("/api/v1/tickets", headers=lost).status_code == 200
    listed = client.get("/api/v1/tokens", headers=ADMIN).json()
    assert {(t["id"], t["subject"], t["revoked"]) for t in listed} >= {(created["id"], "t-wang", False)}
    assert all(created["token"] not in str(t) for t in listed)  # the secret is never shown again
    assert client.get("/api/v1/tokens", headers=operator).status_code == 403
    revoked = client.delete(f"/api/v1/tokens/{created['id']}", headers=ADMIN)
    assert revoked.status_code == 200 and revoked.json()["revoked"] is True
    assert client.get("/api/v1/tickets", headers=lost).status_code == 401
    assert client.delete("/api/v1/tokens/000000000000", headers=ADMIN).status_code == 404
