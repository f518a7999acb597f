"""Many estates behind one API (docs/api.md, "Estates"; docs/deploy.md, "Many estates"): each estate in its own
PostgreSQL schema or SQLite file, as `caretaker run` opens them for a directory of site files; a request names
its estate with `?site=` or the X-Caretaker-Site header, or its token's estate answers it. A token works on the
estate that issued it and is refused, naming that estate, on any other; the admin token reaches every estate
but must name one; a resident's link finds its estate alone. One estate: nothing to name, as before.

The last test runs a real `caretaker run` over a directory of three site files, for what only the whole service
has: /metrics with a `site` label on every estate's series, /healthz naming the estates held."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pytest
from fastapi.testclient import TestClient

from caretaker.api.app import create_app
from caretaker.api.deps import SITE_HEADER, ApiContext, ApiEstates
from caretaker.db import make_sessions
from caretaker.dispatch.service import Dispatcher
from caretaker.estate.site import load_site
from caretaker.estate_db import Databases, open_databases
from tests.conftest import EXAMPLE_SITE

from api_support import ADMIN, ADMIN_TOKEN, LEAK_REPORT, FakeClock, bearer, place_technician

SITES = ("harbor-view", "east-bay", "north-hill")  # the deployment's order: the site files' names, sorted
A, B, C = SITES
ENGLISH = {"Accept-Language": "en"}  # the example estate speaks Chinese; these tests read the English words


def write_estate(folder: Path, site: str) -> Path:
    """The example estate under another site id and name: the same people, buildings and sensors."""
    text = EXAMPLE_SITE.read_text(encoding="utf-8")
    text = text.replace("site: harbor-view", f"site: {site}", 1)
    text = text.replace("name: Harbor View Estate", f"name: {site.replace('-', ' ').title()} Estate", 1)
    path = folder / f"{site}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@dataclass
class World:
    client: TestClient
    contexts: dict[str, ApiContext]

    def token(self, site: str, role: str = "operator", subject: str = "op-1") -> dict[str, str]:
        """A token issued for one estate with the admin token and ?site= (docs/deploy.md, "Many estates")."""
        answer = self.client.post("/api/v1/tokens", params={"site": site}, json={"role": role, "subject": subject},
                                  headers=ADMIN)
        assert answer.status_code == 201, answer.text
        return bearer(answer.json()["token"])

    def report(self, site: str, headers: dict[str, str]) -> dict[str, Any]:
        """A plumbing report on an estate: t-wang (its day-shift plumber) is there and gets it."""
        place_technician(self.contexts[site], "t-wang")
        answer = self.client.post("/api/v1/tickets", json=LEAK_REPORT, headers=headers)
        assert answer.status_code == 201, answer.text
        return answer.json()


def _contexts(databases: Databases, sites: tuple[str, ...], folder: Path) -> dict[str, ApiContext]:
    contexts = {}
    for site_id in sites:
        site = load_site(write_estate(folder, site_id) if site_id != "harbor-view" else EXAMPLE_SITE)
        assert site.id == site_id
        contexts[site_id] = ApiContext(
            sessions=make_sessions(databases.estates[site_id]), site=site, dispatcher=Dispatcher(site, "caretaker"),
            clock=FakeClock(), admin_token=ADMIN_TOKEN, health=lambda: {"broker": True, "database": True},
            metrics=lambda: "", wake_outbox=lambda: None, stream_poll_seconds=0.05)
    return contexts


@pytest.fixture
def world(database_url: str, tmp_path: Path) -> Iterator[World]:
    """Three estates, each in its own schema (PostgreSQL) or file (SQLite), behind one API."""
    databases = open_databases(database_url, SITES, many=True)
    try:
        contexts = _contexts(databases, SITES, tmp_path)
        with TestClient(create_app(ApiEstates(contexts)), headers=ENGLISH) as client:
            yield World(client, contexts)
    finally:
        databases.dispose()


def test_a_token_works_on_its_own_estate_and_is_refused_naming_it_on_another(world: World):
    client = world.client
    on_a = world.token(A)
    assert client.get("/api/v1/tickets", headers=on_a).status_code == 200  # its estate found without naming it
    assert client.get("/api/v1/tickets", params={"site": A}, headers=on_a).status_code == 200
    for other in (B, C):
        refused = client.get("/api/v1/tickets", params={"site": other}, headers=on_a)
        assert refused.status_code == 403, refused.text
        assert f"'{A}'" in refused.json()["detail"] and f"'{other}'" in refused.json()["detail"], refused.text
        by_header = client.get("/api/v1/tickets", headers={**on_a, SITE_HEADER: other})
        assert by_header.status_code == 403 and f"'{A}'" in by_header.json()["detail"], by_header.text
    # a token unknown everywhere stays a 401, wherever it is sent
    for params in ({}, {"site": B}):
        assert client.get("/api/v1/tickets", params=params, headers=bearer("no-such-token")).status_code == 401


def test_the_admin_token_must_name_one_of_several_estates_and_an_unknown_one_is_404(world: World):
    client = world.client
    unnamed = client.get("/api/v1/tickets", headers=ADMIN)
    assert unnamed.status_code == 422, unnamed.text
    said = unnamed.json()["detail"][0]
    assert said["loc"] == ["query", "site"] and all(site in said["msg"] for site in SITES), said
    assert SITE_HEADER in said["msg"] and "3" in said["msg"], said
    for site in SITES:
        assert client.get("/api/v1/tickets", params={"site": site}, headers=ADMIN).status_code == 200
    for headers in (ADMIN, world.token(A), {}):
        unknown = client.get("/api/v1/tickets", params={"site": "nope"}, headers=headers)
        assert unknown.status_code == 404 and "'nope'" in unknown.json()["detail"], unknown.text
        assert "/api/v1/sites" in unknown.json()["detail"]
    header_unknown = client.get("/api/v1/tickets", headers={**ADMIN, SITE_HEADER: "nope"})
    assert header_unknown.status_code == 404 and "'nope'" in header_unknown.json()["detail"]
    too_long = client.get("/api/v1/tickets", params={"site": "x" * 65}, headers=ADMIN)
    assert too_long.status_code == 422 and too_long.json()["detail"][0]["loc"] == ["query", "site"]


def test_the_site_header_works_as_the_query_and_an_estates_tickets_stay_its_own(world: World):
    client = world.client
    on_b = client.post("/api/v1/tokens", json={"role": "operator", "subject": "op-b"},
                       headers={**ADMIN, SITE_HEADER: B})  # issued on B, by the header alone
    assert on_b.status_code == 201, on_b.text
    on_b = bearer(on_b.json()["token"])
    assert client.get("/api/v1/tickets", params={"site": B}, headers=on_b).status_code == 200
    assert client.get("/api/v1/tickets", params={"site": A}, headers=on_b).status_code == 403

    ticket = world.report(A, world.token(A))
    seen_on_a = client.get("/api/v1/tickets", headers={**ADMIN, SITE_HEADER: A}).json()
    assert [t["id"] for t in seen_on_a] == [ticket["id"]]
    for site in (B, C):
        listed = client.get("/api/v1/tickets", headers={**ADMIN, SITE_HEADER: site})
        assert listed.status_code == 200 and listed.json() == [], (site, listed.text)
        one = client.get(f"/api/v1/tickets/{ticket['id']}", params={"site": site}, headers=ADMIN)
        assert one.status_code == 404, (site, one.text)
    assert client.get("/api/v1/tickets", headers=on_b).json() == []  # B's own operator sees none of A's
    # the query wins over the header when both name an estate (one request, one estate)
    both = client.get("/api/v1/tickets", params={"site": A}, headers={**ADMIN, SITE_HEADER: B}).json()
    assert [t["id"] for t in both] == [ticket["id"]]


def test_sites_lists_every_estate_for_the_admin_and_its_own_for_an_estates_token(world: World):
    client = world.client
    every = client.get("/api/v1/sites", headers=ADMIN)
    assert every.status_code == 200, every.text
    assert [s["id"] for s in every.json()] == list(SITES)
    assert every.json()[0] == {"id": A, "name": "Harbor View Estate", "locale": world.contexts[A].site.locale,
                               "timezone": "Asia/Shanghai"}
    assert every.json()[1]["name"] == "East Bay Estate"
    for site in (A, C):
        own = client.get("/api/v1/sites", headers=world.token(site, "technician", "t-wang"))
        assert own.status_code == 200 and [s["id"] for s in own.json()] == [site], own.text
    no_token = client.get("/api/v1/sites")
    assert no_token.status_code == 401 and no_token.headers["www-authenticate"] == "Bearer"
    assert no_token.json()["detail"] == "a bearer token is required"
    in_chinese = client.get("/api/v1/sites", headers={"Accept-Language": "zh-CN"})
    assert in_chinese.status_code == 401 and in_chinese.json()["detail"] != no_token.json()["detail"]
    assert client.get("/api/v1/sites", headers=bearer("no-such-token")).status_code == 401
    revoked = world.token(B)
    tokens = client.get("/api/v1/tokens", params={"site": B}, headers=ADMIN).json()
    revoke = client.delete(f"/api/v1/tokens/{tokens[-1]['id']}", params={"site": B}, headers=ADMIN)
    assert revoke.status_code in (200, 204), revoke.text
    assert client.get("/api/v1/sites", headers=revoked).status_code == 401  # revoked on its estate: out


def test_a_residents_link_finds_its_estate_without_naming_it(world: World):
    client = world.client
    on_a, on_b = world.report(A, world.token(A)), world.report(B, world.token(B))
    for ticket in (on_b, on_a, on_b):  # found once, then remembered; each link its own estate's ticket
        link = ticket["progress_link"]
        assert client.get(link).status_code == 200
        status = client.get(f"{link}/status")
        assert status.status_code == 200, status.text
        assert status.json()["ticket"] == ticket["id"], status.json()
    unknown = client.get("/r/" + "x" * 40 + "/status")
    assert unknown.status_code == 404


@pytest.fixture
def lone(database_url: str, tmp_path: Path) -> Iterator[World]:
    """One estate in the default schema or file, served as `caretaker run` serves a single site file."""
    databases = open_databases(database_url, ("harbor-view",), many=False)
    try:
        contexts = _contexts(databases, ("harbor-view",), tmp_path)
        with TestClient(create_app(contexts[A]), headers=ENGLISH) as client:
            yield World(client, contexts)
    finally:
        databases.dispose()


def test_one_estate_works_as_before_without_naming_it(lone: World):
    client = lone.client
    operator = bearer(client.post("/api/v1/tokens", json={"role": "operator", "subject": "op-1"},
                                  headers=ADMIN).json()["token"])
    ticket = lone.report(A, operator)
    for headers in (ADMIN, operator):
        listed = client.get("/api/v1/tickets", headers=headers)
        assert listed.status_code == 200 and [t["id"] for t in listed.json()] == [ticket["id"]], listed.text
    assert client.get("/api/v1/tickets", params={"site": A}, headers=ADMIN).status_code == 200
    assert client.get("/api/v1/tickets", params={"site": "nope"}, headers=ADMIN).status_code == 404
    for headers in (ADMIN, operator):
        sites = client.get("/api/v1/sites", headers=headers)
        assert sites.status_code == 200 and [s["id"] for s in sites.json()] == [A], sites.text
    assert client.get(f"{ticket['progress_link']}/status").json()["ticket"] == ticket["id"]
    metrics = client.get("/metrics").text
    assert "caretaker_" in metrics and 'site="' not in metrics  # one estate: no site label, as before
    assert client.get("/healthz").json()["status"] == "ok"


# --- the real service over a directory of site files --------------------------------------------------------

def _get(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_caretaker_run_over_a_directory_serves_every_estate_with_site_labels(mosquitto, tmp_path: Path):
    from tests.faults.cluster import write_estates
    from tests.faults.service_process import ServiceProcess, service_env

    sites = ["east-park", "north-park", "west-park"]
    folder = write_estates(tmp_path / "estates", sites)
    env = service_env(folder, f"sqlite:///{tmp_path / 'caretaker.db'}", mosquitto.url, http_enabled="true",
                      admin_token=ADMIN_TOKEN, mqtt_prefix="estates-api")
    port = int(env["CARETAKER_HTTP_PORT"])
    service = ServiceProcess(env, tmp_path / "caretaker.log")
    service.start()
    try:
        service.wait_ready(60)
        for site in sites:  # each estate its own SQLite file beside the configured one
            assert (tmp_path / f"caretaker.{site}.db").exists(), site
        code, body = _get(port, "/healthz")
        assert code == 200, body
        assert sorted(json.loads(body)["estates"]) == sites, body
        code, body = _get(port, "/metrics")
        assert code == 200, body
        for site in sites:
            assert re.search(rf'^caretaker_\w+\{{[^}}]*site="{site}"', body, re.MULTILINE), (site, body[:3000])
        code, body = _get(port, "/api/v1/sites", bearer(ADMIN_TOKEN))
        assert code == 200 and [s["id"] for s in json.loads(body)] == sites, body
        code, body = _get(port, "/api/v1/tickets", bearer(ADMIN_TOKEN))
        assert code == 422 and all(site in body for site in sites), body
    finally:
        service.stop()
