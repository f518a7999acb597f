"""What T25, T26 and T27 share: the API test fixtures (tests/api/conftest.py), a live server whose logs reach
caplog, an SSE reader that waits for events, and a walk over every route of the app."""

from __future__ import annotations

import json
import queue
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import httpx
import pytest
import uvicorn

API_TESTS = Path(__file__).resolve().parents[1] / "api"
if str(API_TESTS) not in sys.path:  # tests/api/conftest.py imports its helpers by their bare name
    sys.path.insert(0, str(API_TESTS))

from caretaker.api.app import create_app  # noqa: E402
from api_support import ADMIN, LEAK_REPORT, bearer, place_technician  # noqa: E402,F401
from tests.api.conftest import (  # noqa: E402,F401  (fixtures, imported to be used)
    clock, client, ctx, engine, issue, operator, pg_engine, probe, site,
)

WAIT_S = 15.0  # the longest any event is waited for; a busy machine is slow, never this slow
# a report whose resident typed a second number into the description
PHONE_IN_TEXT = "139 1234 5678"
REPORT = {**LEAK_REPORT, "description": f"Water leaking from the ceiling in the kitchen, call my son {PHONE_IN_TEXT}"}
NAME, PHONE, UNIT = LEAK_REPORT["reporter_name"], LEAK_REPORT["reporter_phone"], LEAK_REPORT["unit"]
# anything of these in a body or event shown to someone who may not see it is a leak
MARKERS = (NAME, PHONE, "137****7001", UNIT, "kitchen", PHONE_IN_TEXT, "13912345678", "139****5678")
PHOTO = "https://photos.example.com/done.jpg"


def leaks(text: str, markers: tuple[str, ...] = MARKERS) -> list[str]:
    return [m for m in markers if m in text]


def walk_routes(app) -> Iterator[tuple[str, str]]:
    """Yield (method, path) for every route of the app, through included routers; a mount is MOUNT."""

    def walk(routes, prefix: str = "") -> Iterator[tuple[str, str]]:
        for route in routes:
            inner = getattr(route, "original_router", None)
            if inner is not None:
                yield from walk(inner.routes, prefix + getattr(route.include_context, "prefix", ""))
                continue
            for method in sorted(getattr(route, "methods", None) or {"MOUNT"}):
                if method != "HEAD":
                    yield method, prefix + route.path

    return walk(app.routes)


@pytest.fixture
def server(ctx) -> Iterator[str]:
    """The app on a free loopback port, logging through the root logger (so caplog sees what production
    logs); TestClient would wait for an endless stream to end."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = uvicorn.Config(create_app(ctx), host="127.0.0.1", port=port, log_config=None,
                            timeout_graceful_shutdown=1)
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not srv.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)
    # a stream's last poll may still be running on a worker thread: wait for it to hand its connection back
    pool = ctx.sessions.kw["bind"].pool
    deadline = time.monotonic() + 10
    while pool.checkedout() and time.monotonic() < deadline:
        time.sleep(0.02)


class Stream:
    """One SSE subscription read on a thread of its own; the test waits for the events it expects."""

    def __init__(self, base: str, token: str, **params: Any) -> None:
        self.events: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.seen: list[tuple[str, str]] = []  # every (event, raw data) received
        self.status: int | None = None
        self._ready = threading.Event()
        self._http = httpx.Client(base_url=base, timeout=httpx.Timeout(WAIT_S, connect=5))
        self._response: httpx.Response | None = None
        self._thread = threading.Thread(target=self._run, args=({"token": token, **params},), daemon=True)
        self._thread.start()
        assert self._ready.wait(WAIT_S), "the stream did not answer"

    def _run(self, params: dict[str, Any]) -> None:
        event = data = None
        try:
            with self._http.stream("GET", "/api/v1/stream", params=params) as response:
                self._response, self.status = response, response.status_code
                if response.status_code != 200:
                    self.seen.append(("status", response.read().decode()))
                    self._ready.set()
                    return
                for line in response.iter_lines():
                    if line.startswith("event: "):
                        event = line[7:]
                    elif line.startswith("data: "):
                        data = line[6:]
                    elif line == "" and event:
                        self.seen.append((event, data or ""))
                        if event == "hello":
                            self._ready.set()
                        self.events.put((event, json.loads(data) if data else None))
                        event = data = None
        except Exception:  # closed by the test, or the server went away
            pass
        finally:
            self._ready.set()
            self.events.put(("end", None))

    def wait_for(self, wanted: Callable[[str, Any], bool], what: str) -> tuple[str, Any]:
        """Return the first event `wanted` accepts, failing after WAIT_S."""
        deadline = time.monotonic() + WAIT_S
        while True:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"no {what} within {WAIT_S} s; saw {[e for e, _ in self.seen]}"
            try:
                event, data = self.events.get(timeout=remaining)
            except queue.Empty:
                continue
            if wanted(event, data):
                return event, data
            assert event != "end", f"the stream ended before {what}"

    def ticket(self, ticket_id: str, what: str, **fields: Any) -> dict[str, Any]:
        """Wait for the ticket event of `ticket_id` whose fields have the given values."""
        _, data = self.wait_for(lambda e, d: e == "ticket" and d["id"] == ticket_id
                                and all(d.get(k) == v for k, v in fields.items()), what)
        return data

    def close(self) -> None:
        if self._response is not None:
            self._response.close()
        self._http.close()
        self._thread.join(timeout=0.5)  # a blocked read ends when the server shuts the stream


@pytest.fixture
def streams() -> Iterator[Callable[..., Stream]]:
    """Open streams with `streams(base, token, **params)`; all are closed at the end."""
    opened: list[Stream] = []

    def _open(base: str, token: str, **params: Any) -> Stream:
        opened.append(Stream(base, token, **params))
        return opened[-1]

    yield _open
    for s in opened:
        s.close()


def token_of(headers: dict[str, str]) -> str:
    return headers["Authorization"].split(" ", 1)[1]


def report(http, operator: dict[str, str], body: dict[str, Any] = REPORT) -> dict[str, Any]:
    response = http.post("/api/v1/tickets", json=body, headers=operator)
    assert response.status_code in (200, 201), response.text  # 200: merged into the open ticket
    return response.json()
