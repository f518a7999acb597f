"""The live stream over a real HTTP server: an event arrives after a ticket changes."""

from __future__ import annotations

import json
import socket
import threading
import time
from typing import Iterator

import httpx
import pytest
import uvicorn

from caretaker.api.app import create_app
from api_support import LEAK_REPORT, place_technician

READ_TIMEOUT_S = 10.0


@pytest.fixture
def server(ctx) -> Iterator[str]:
    """The app on a free loopback port; TestClient would wait for an endless stream to end."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = uvicorn.Config(create_app(ctx), host="127.0.0.1", port=port, log_level="warning",
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


def _events(lines: Iterator[str]) -> Iterator[tuple[str, str]]:
    """Yield (event, data) pairs from SSE lines."""
    event = data = None
    for line in lines:
        if line.startswith("event: "):
            event = line[7:]
        elif line.startswith("data: "):
            data = line[6:]
        elif line == "" and event:
            yield event, data or ""
            event = data = None


def test_stream_sends_a_ticket_event_after_a_change(server, ctx, issue, operator):
    place_technician(ctx, "t-wang")
    token = operator["Authorization"].split()[1]
    timeout = httpx.Timeout(READ_TIMEOUT_S, connect=5)
    with httpx.Client(base_url=server, timeout=timeout) as http:
        # EventSource's way: the token in the query
        with http.stream("GET", "/api/v1/stream", params={"token": token}) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            events = _events(response.iter_lines())
            assert next(events)[0] == "hello"  # primed: only changes from here on
            created = http.post("/api/v1/tickets", json=LEAK_REPORT, headers=operator).json()
            event, data = next(events)
            ticket = json.loads(data)
            assert (event, ticket["id"], ticket["status"]) == ("ticket", created["id"], "assigned")
            assert ticket["reporter"] is None  # no personal data on the wire to every screen
            http.post(f"/api/v1/tickets/{created['id']}/accept", headers=issue("technician", "t-wang"))
            event, data = next(events)
            assert event == "ticket" and json.loads(data)["status"] == "accepted"


def test_stream_sends_alerts_and_needs_a_token(server, ctx, operator):
    from caretaker.rules.tables import AlertRow

    with httpx.Client(base_url=server, timeout=httpx.Timeout(READ_TIMEOUT_S, connect=5)) as http:
        assert http.get("/api/v1/stream").status_code == 401
        with http.stream("GET", "/api/v1/stream", headers=operator) as response:
            events = _events(response.iter_lines())
            assert next(events)[0] == "hello"
            with ctx.sessions.begin() as session:
                session.add(AlertRow(id="AL-live1", rule_id="leak", device_id="A-B2-LEAK-1", urgency=1,
                                     category="plumbing", title="Water leak", state="raised",
                                     raised_at=ctx.clock.now()))
            event, data = next(events)
            assert event == "alert" and json.loads(data)["id"] == "AL-live1"
