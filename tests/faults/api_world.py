"""The API on a real database for the input and volume fault tests (T28, T29): the example estate, a fixed
clock, the real migrations, tokens issued through the API."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from caretaker.api.app import create_app
from caretaker.api.deps import ApiContext
from caretaker.api.limits import ApiLimits
from caretaker.db import make_engine, make_sessions, migrate
from caretaker.dispatch.service import Dispatcher
from caretaker.dispatch.tables import TechnicianLocationRow
from caretaker.estate.site import load_site
from tests.conftest import EXAMPLE_SITE
from tests.fakes import FakeClock
from datetime import datetime, timezone

ADMIN_TOKEN = "fault-test-admin-token"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
MONDAY_10AM = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)  # the day shift is on in Asia/Shanghai
SITE = load_site(EXAMPLE_SITE)
LEAK_REPORT = {
    "reporter_name": "Qian Hui", "reporter_phone": "13700137001", "unit": "A-0302",
    "description": "Water leaking from the ceiling in the kitchen", "source": "phone",
}


def migrated_engine(url: str) -> Engine:
    engine = make_engine(url)
    migrate(engine)
    return engine


def api_context(engine: Engine, clock: FakeClock | None = None) -> ApiContext:
    return ApiContext(
        sessions=make_sessions(engine), site=SITE, dispatcher=Dispatcher(SITE, "caretaker"),
        clock=clock or FakeClock(MONDAY_10AM), admin_token=ADMIN_TOKEN,
        health=lambda: {"broker": True, "database": True}, metrics=lambda: "", wake_outbox=lambda: None,
        stream_poll_seconds=0.05,
    )


def client_for(ctx: ApiContext, limits: ApiLimits | None = None) -> TestClient:
    # server errors become responses (500), as a real client would see them, rather than test exceptions
    return TestClient(create_app(ctx, limits), raise_server_exceptions=False)


def issue(client: TestClient, role: str, subject: str) -> dict[str, str]:
    response = client.post("/api/v1/tokens", json={"role": role, "subject": subject}, headers=ADMIN)
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def wang_ticket(client: TestClient, ctx: ApiContext, operator: dict[str, str]) -> dict[str, Any]:
    """A plumbing report that dispatch gives to t-wang, who is on site and on the day shift."""
    with ctx.sessions.begin() as session:
        session.merge(TechnicianLocationRow(technician="t-wang", building="A", floor=1, zone="lobby",
                                            ts=ctx.clock.now(), source="app"))
    response = client.post("/api/v1/tickets", json=LEAK_REPORT, headers=operator)
    assert response.status_code == 201, response.text
    return response.json()
