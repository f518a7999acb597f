"""The real service on a fake clock, for escalation and contractor tests: the site file with supervisors on
shifts, levels and contractors written to a temp dir, timers swept at the fake clock's time (on PostgreSQL
the service's own sweep goes by the database's clock, which stays weeks before the fake one, so only these
sweeps fire anything), and the API in-process."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from pathlib import Path

from fastapi.testclient import TestClient

from caretaker.api.app import create_app
from caretaker.http import api_context
from caretaker.service import Service, load_configuration
from caretaker.settings import Settings
from caretaker.dispatch import timers
from tests.fakes import FakeClock
from tests.service.harness import Watcher

# a Monday, 10:00 in Asia/Shanghai: s-li is the supervisor on duty (tests/dispatch/escalation_site.py)
MONDAY_10 = datetime(2027, 1, 4, 2, 0, tzinfo=timezone.utc)
ADMIN_TOKEN = "escalation-test-admin-token-0123456789"


def write_site(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "site.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def start(broker_url: str, database_url: str, site_file: Path, clock: FakeClock) -> Service:
    settings = Settings(mqtt_url=broker_url, database_url=database_url, site_file=site_file, tick_seconds=0.2,
                        mqtt_client_id=f"caretaker-test-{time.monotonic_ns()}", admin_token=ADMIN_TOKEN)
    service = Service(settings, load_configuration(settings), clock=clock)
    service.start(with_http=False)
    return service


def sweep_at(service: Service, now: datetime) -> list[str]:
    """Fire every timer due by `now` as the service's sweep does; return their kinds."""
    with service.sessions.begin() as session:
        due = sorted(timers.claim_due(session, now), key=lambda d: (d.due_at, d.id))
        for timer in due:
            service.dispatcher.on_timer(session, timer, now)
    service.outbox.wake()
    return [timer.kind for timer in due]


def ts(clock: FakeClock) -> str:
    return clock.now().isoformat(timespec="milliseconds").replace("+00:00", "Z")


def leak(watcher: Watcher, clock: FakeClock, device: str = "B-LEAK-1", seq: int = 1) -> None:
    watcher.publish(f"test-estate/devices/{device}/telemetry", {"ts": ts(clock), "seq": seq, "values": {"leak": True}})


def place(watcher: Watcher, clock: FakeClock, tech: str, building: str, floor: int) -> None:
    watcher.publish(f"test-estate/technicians/{tech}/location",
                    {"ts": ts(clock), "building": building, "floor": floor})


def notices(watcher: Watcher, supervisor: str) -> list[dict]:
    return [seen.json() for seen in watcher.on(f"supervisors/{supervisor}/notify")]


def operator_client(service: Service) -> tuple[TestClient, dict[str, str]]:
    """Return an in-process API client and an operator's headers (a token issued by the admin)."""
    client = TestClient(create_app(api_context(service)))
    return client, token_for(client, "operator", "op-wang")


def token_for(client: TestClient, role: str, subject: str) -> dict[str, str]:
    """Return the headers of a new token for the role and subject, issued by the admin."""
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    answer = client.post("/api/v1/tokens", json={"role": role, "subject": subject}, headers=admin)
    assert answer.status_code in (200, 201), answer.text
    return {"Authorization": f"Bearer {answer.json()['token']}"}
