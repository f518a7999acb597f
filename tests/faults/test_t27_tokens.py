"""T27: tokens. Missing, garbage, revoked and expired tokens get 401 on every route that takes one, the
live stream included (one open when its token is revoked or expires ends within a poll); tokens can be
given an expiry and rotated; their last use is listed and written at most once a minute.

Figures checked: 31 routes (the stream included) × 6 bad tokens, 186 of 186 answered 401; a 60 s token works at 59 s and is
refused at 60 s; a rotated token is refused at once, its successor works with the same lifetime; 50
requests within a minute write the last use once (before: no last use, no expiry, no rotation).
"""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import event

from caretaker.api.app import create_app
from tests.faults.privacy_support import (  # noqa: F401  (fixtures)
    ADMIN, bearer, clock, client, ctx, engine, issue, operator, pg_engine, probe, server, site, streams,
    token_of, walk_routes,
)

pytestmark = pytest.mark.faults
PUBLIC = ("/healthz", "/metrics")  # no token needed: no one's data


def _issue(client, **body) -> dict:
    response = client.post("/api/v1/tokens", json={"role": "operator", "subject": "op-9", **body}, headers=ADMIN)
    assert response.status_code == 201, response.text
    return response.json()


def _info(client, ident: str) -> dict:
    return next(t for t in client.get("/api/v1/tokens", headers=ADMIN).json() if t["id"] == ident)


def test_bad_tokens_get_401_on_every_route(client, ctx, clock, issue):
    revoked, expired = _issue(client), _issue(client, ttl=60)
    client.delete(f"/api/v1/tokens/{revoked['id']}", headers=ADMIN)
    clock.advance(seconds=61)
    long_garbage = b"Bearer " + "\u00fc".encode("latin-1") * 2000
    bad = {"missing": {}, "garbage": bearer("garbage"), "long garbage": {"Authorization": long_garbage},
           "not bearer": {"Authorization": "Token abc"}, "revoked": bearer(revoked["token"]),
           "expired": bearer(expired["token"])}
    routes = [(m, p) for m, p in walk_routes(create_app(ctx)) if p.startswith("/api/")]
    assert len(routes) >= 30
    refused = 0
    for method, path in routes:
        url = path.replace("{", "").replace("}", "")  # any id: the token is looked at first
        for name, headers in bad.items():
            response = client.request(method, url, headers=headers)
            assert response.status_code == 401, (method, path, name, response.text)
            assert response.headers["WWW-Authenticate"] == "Bearer"
            refused += 1
    assert refused == len(routes) * len(bad)
    assert [t["expired"] for t in client.get("/api/v1/tokens", headers=ADMIN).json()
            if t["id"] == expired["id"]] == [True]


def test_a_token_expires_at_its_time(client, clock):
    short = _issue(client, ttl=60)
    assert short["expires_at"] == (clock.now() + timedelta(seconds=60)).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z")
    at = _issue(client, expires_at=(clock.now() + timedelta(hours=1)).isoformat())
    forever = _issue(client)
    assert forever["expires_at"] is None
    clock.advance(seconds=59)
    assert client.get("/api/v1/tickets", headers=bearer(short["token"])).status_code == 200
    clock.advance(seconds=1)
    response = client.get("/api/v1/tickets", headers={**bearer(short["token"]), "Accept-Language": "en"})
    assert (response.status_code, response.json()["detail"]) == (401, "expired token")
    assert client.get("/api/v1/tickets", headers=bearer(at["token"])).status_code == 200
    clock.advance(hours=1)
    assert client.get("/api/v1/tickets", headers=bearer(at["token"])).status_code == 401
    assert client.get("/api/v1/tickets", headers=bearer(forever["token"])).status_code == 200
    # asked for wrongly: 422 naming the field
    past = client.post("/api/v1/tokens", json={"role": "operator", "subject": "x",
                                               "expires_at": "2020-01-01T00:00:00Z"}, headers=ADMIN)
    assert past.status_code == 422 and past.json()["detail"][0]["loc"] == ["body", "expires_at"]
    both = client.post("/api/v1/tokens", json={"role": "operator", "subject": "x", "ttl": 600,
                                               "expires_at": "2030-01-01T00:00:00Z"}, headers=ADMIN)
    assert both.status_code == 422
    assert client.post("/api/v1/tokens", json={"role": "operator", "subject": "x", "ttl": 5},
                       headers=ADMIN).status_code == 422
    too_far = (clock.now() + timedelta(days=6 * 366)).isoformat()
    assert client.post("/api/v1/tokens", json={"role": "operator", "subject": "x", "expires_at": too_far},
                       headers=ADMIN).status_code == 422


def test_rotation_replaces_the_secret_at_once(client, clock):
    old = _issue(client, ttl=90 * 86400)
    clock.advance(days=30)
    response = client.post(f"/api/v1/tokens/{old['id']}/rotate", headers=ADMIN)
    assert response.status_code == 201, response.text
    new = response.json()
    assert (new["role"], new["subject"]) == ("operator", "op-9") and new["token"] != old["token"]
    assert client.get("/api/v1/tickets", headers=bearer(old["token"])).status_code == 401
    assert client.get("/api/v1/tickets", headers=bearer(new["token"])).status_code == 200
    assert new["expires_at"] == (clock.now() + timedelta(days=90)).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z")  # the same lifetime, from now
    listed = _info(client, old["id"])
    assert (listed["revoked"], listed["replaced_by"]) == (True, new["id"])
    assert client.post(f"/api/v1/tokens/{old['id']}/rotate", headers=ADMIN).status_code == 409
    assert client.post("/api/v1/tokens/000000000000/rotate", headers=ADMIN).status_code == 404
    shorter = client.post(f"/api/v1/tokens/{new['id']}/rotate", json={"ttl": 3600}, headers=ADMIN).json()
    assert shorter["expires_at"] == (clock.now() + timedelta(hours=1)).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z")


def test_last_use_is_listed_and_written_at_most_once_a_minute(client, ctx, engine, clock):
    token = _issue(client)
    assert _info(client, token["id"])["last_used_at"] is None
    writes: list[str] = []

    def count(_conn, _cursor, statement: str, *_args) -> None:
        if statement.lstrip().upper().startswith("UPDATE API_TOKENS"):
            writes.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        for _ in range(50):
            assert client.get("/api/v1/tickets", headers=bearer(token["token"])).status_code == 200
            clock.advance(seconds=1)
        assert len(writes) == 1  # 50 requests over 50 s: one write
        first = _info(client, token["id"])["last_used_at"]
        clock.advance(seconds=10)
        client.get("/api/v1/tickets", headers=bearer(token["token"]))
        assert len(writes) == 2  # a minute on
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert _info(client, token["id"])["last_used_at"] > first


def test_a_stream_ends_when_its_token_is_revoked_or_expires(server, client, clock, streams):
    revoked, expiring = _issue(client), _issue(client, ttl=120)
    with httpx.Client(base_url=server, timeout=15) as http:
        for garbage in ("garbage", "g" * 5000, "\u00fc" * 40):  # (a NUL byte is 422 for any query)
            assert http.get("/api/v1/stream", params={"token": garbage}).status_code == 401
        one, two = streams(server, revoked["token"]), streams(server, expiring["token"])
        assert one.status == two.status == 200
        http.delete(f"/api/v1/tokens/{revoked['id']}", headers=ADMIN)
        assert one.wait_for(lambda e, d: e == "unauthorized", "the end of the revoked token's stream")
        one.wait_for(lambda e, d: e == "end", "the stream to close")
        clock.advance(seconds=120)
        assert two.wait_for(lambda e, d: e == "unauthorized", "the end of the expired token's stream")
        for token in (revoked, expiring):
            assert http.get("/api/v1/stream", params={"token": token["token"]}).status_code == 401
            assert http.get("/api/v1/stream", headers=bearer(token["token"])).status_code == 401
