"""T29: volume, against the API served by a real uvicorn on a loopback port.

- a request body over the limit (64 KiB) gets 413 before the handler: a declared 50 MB body is answered
  before one byte of it is sent; a chunked body is cut at the limit; a resolve carrying 20 photos of
  48 KiB (the 80 MB resolve of issue 6, scaled) stores nothing;
- a token over its rate gets 429 with Retry-After (rate set to 30/minute here), other tokens unaffected,
  never a 5xx, also with 8 clients at once;
- every list route's page size is capped;
- streams per token are capped (2 here): the third gets 429, another token still gets one, and closing
  one frees its place.
"""

from __future__ import annotations

import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest
import uvicorn

from caretaker.api.app import create_app
from caretaker.api.limits import ApiLimits
from caretaker.dispatch.tables import TicketRow
from tests.conftest import free_port
from tests.faults.api_world import ADMIN, api_context, migrated_engine, wang_ticket

pytestmark = pytest.mark.faults

LIMITS = ApiLimits(body_bytes=64 * 1024, rate="30/minute", streams_per_token=2)
# list routes whose length the site file bounds (its devices, its technicians), or that only an admin
# reads; every other list route must take a capped `limit`
BOUNDED_WITHOUT_LIMIT = {
    "/api/v1/sites": "one row per estate of the deployment's site files",
    "/api/v1/technicians": "one row per technician of the site file",
    "/api/v1/tokens": "admin only; one row per token issued",
}
LARGEST_PAGE = 10_000


class Served:
    def __init__(self, app: Any) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                                    access_log=False, lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> "Served":
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    engine = migrated_engine(f"sqlite:///{Path(tmp_path_factory.mktemp('t29')) / 'caretaker.db'}")
    ctx = api_context(engine)
    with Served(create_app(ctx, LIMITS)) as served:
        yield {"url": served.url, "ctx": ctx}
    engine.dispose()


@pytest.fixture
def token(api: dict[str, Any]):
    """Return a function issuing a fresh token (each test counts against its own)."""
    issued = 0

    def _issue(role: str = "operator", subject: str = "op-1") -> dict[str, str]:
        nonlocal issued
        issued += 1
        response = httpx.post(f"{api['url']}/api/v1/tokens", json={"role": role, "subject": subject}, headers=ADMIN)
        assert response.status_code == 201, response.text
        return {"Authorization": f"Bearer {response.json()['token']}"}

    return _issue


def _raw(url: str, request: bytes, then: bytes = b"") -> bytes:
    """Send raw bytes and return what the server answers (up to its close or 2 s of silence)."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(request)
        if then:
            try:
                sock.sendall(then)
            except OSError:  # the server answered and closed while we were still sending
                pass
        sock.settimeout(2)
        answer = b""
        try:
            while b"\r\n\r\n" not in answer or not answer.split(b"\r\n\r\n", 1)[1]:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                answer += chunk
        except (socket.timeout, ConnectionResetError):
            pass
    return answer


def test_a_declared_50_mb_body_is_refused_before_a_byte_is_sent(api, token) -> None:
    headers = token()
    auth = headers["Authorization"].encode()
    answer = _raw(api["url"], b"POST /api/v1/tickets HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Authorization: " + auth + b"\r\nContent-Length: 52428800\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert "最多接受 65536".encode() in answer  # said in the estate's zh-CN
    with api["ctx"].sessions() as session:
        assert session.query(TicketRow).count() == 0


def test_a_chunked_body_is_cut_at_the_limit(api, token) -> None:
    auth = token()["Authorization"].encode()
    head = (b"POST /api/v1/tickets HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Authorization: " + auth + b"\r\nTransfer-Encoding: chunked\r\n\r\n")
    chunk = b'{"description": "' + b"x" * 16_000
    body = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in [chunk] + [b"y" * 16_000] * 6) + b"0\r\n\r\n"
    answer = _raw(api["url"], head, body)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    small = b'{"description": "a leak"}'
    answer = _raw(api["url"], head, b"%x\r\n%s\r\n0\r\n\r\n" % (len(small), small))
    assert answer.startswith(b"HTTP/1.1 422"), answer[:300]  # read in full and judged: the report lacks fields


def test_a_resolve_with_megabytes_of_photos_stores_nothing(api, token) -> None:
    operator = token()
    ticket = wang_ticket(_Http(api["url"]), api["ctx"], operator)
    wang = token("technician", "t-wang")
    assert httpx.post(f"{api['url']}/api/v1/tickets/{ticket['id']}/accept", headers=wang).status_code == 200
    photo = "data:image/jpeg;base64," + "A" * (48 * 1024 - 30)
    response = httpx.post(f"{api['url']}/api/v1/tickets/{ticket['id']}/resolve", headers=wang,
                          json={"note": "replaced the joint", "photos": [photo] * 20})
    assert response.status_code == 413, response.text
    after = httpx.get(f"{api['url']}/api/v1/tickets/{ticket['id']}", headers=operator).json()
    assert after["status"] == "accepted" and after["photos"] == []


class _Http:
    """The bit of TestClient's interface `wang_ticket` uses, over the real server."""

    def __init__(self, url: str) -> None:
        self.url = url

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.post(self.url + path, **kwargs)


def test_a_token_over_its_rate_gets_429_with_retry_after_and_others_do_not(api, token) -> None:
    busy, other = token(), token()
    statuses = [httpx.get(f"{api['url']}/api/v1/alerts", headers=busy).status_code for _ in range(30)]
    assert statuses == [200] * 30
    refused = httpx.get(f"{api['url']}/api/v1/alerts", headers=busy)
    assert refused.status_code == 429, refused.text
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert httpx.get(f"{api['url']}/api/v1/alerts", headers=other).status_code == 200
    assert httpx.get(f"{api['url']}/healthz").status_code == 200  # no token, no limit: balancers keep probing


def test_many_clients_at_once_get_200_or_429_never_a_server_error(api, token) -> None:
    tokens = [token() for _ in range(4)]

    def hammer(headers: dict[str, str]) -> list[int]:
        with httpx.Client(base_url=api["url"], headers=headers, timeout=10) as client:
            return [client.get("/api/v1/tickets", params={"limit": 5}).status_code for _ in range(40)]

    with ThreadPoolExecutor(8) as pool:
        results = [s for batch in pool.map(hammer, tokens * 2) for s in batch]
    assert set(results) <= {200, 429}, sorted(set(results))
    assert results.count(200) == 4 * 30 and results.count(429) == 4 * 50  # 30 a minute for each token


def test_every_list_route_caps_its_page(api, token) -> None:
    headers = token()
    document = httpx.get(f"{api['url']}/openapi.json").json()
    lists = []
    for path, operations in document["paths"].items():
        get = operations.get("get")
        schema = (get or {}).get("responses", {}).get("200", {}).get("content", {}).get("application/json", {}).get("schema", {})
        if not get or "{" in path or schema.get("type") != "array" and "items" not in str(schema.get("$ref", "")):
            continue
        lists.append(path)
        params = {p["name"]: p for p in get.get("parameters", [])}
        if path in BOUNDED_WITHOUT_LIMIT:
            continue
        assert "limit" in params, f"{path} lists without a page size"
        schema = params["limit"]["schema"]  # an optional limit (the device list's) is anyOf [integer, null]
        maximum = schema.get("maximum", next((s.get("maximum") for s in schema.get("anyOf", []) if "maximum" in s), None))
        assert maximum is not None and maximum <= LARGEST_PAGE, f"{path}: limit up to {maximum}"
        over = httpx.get(f"{api['url']}{path}", params={"limit": int(maximum) + 1}, headers=headers)
        # the over-size limit is named (a route with another required parameter names that one too)
        assert over.status_code == 422 and ["query", "limit"] in [d["loc"] for d in over.json()["detail"]], over.text
    assert {"/api/v1/tickets", "/api/v1/alerts", "/api/v1/silences", "/api/v1/deadletters"} <= set(lists)


def test_streams_per_token_are_capped(api, token) -> None:
    mine, theirs = token(), token()
    url = f"{api['url']}/api/v1/stream"
    with httpx.Client(timeout=10) as client, ExitStack() as open_streams:
        first = open_streams.enter_context(client.stream("GET", url, headers=mine))
        second = open_streams.enter_context(client.stream("GET", url, headers=mine))
        assert first.status_code == second.status_code == 200
        third = client.get(url, headers=mine)
        assert third.status_code == 429 and int(third.headers["Retry-After"]) > 0, third.text
        with client.stream("GET", url, headers=theirs) as elsewhere:
            assert elsewhere.status_code == 200
        first.close()
        deadline = time.monotonic() + 10
        while True:  # the server notices the closed connection at its next poll
            with client.stream("GET", url, headers=mine) as again:
                if again.status_code == 200:
                    break
            assert time.monotonic() < deadline, "a closed stream kept its place"
            time.sleep(0.05)
