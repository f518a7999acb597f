"""T15: the timer sweep stops while tickets are active → overdue timers are flagged within 2 min, in a
gauge and as an alarm, so a stuck escalation is seen.

The real service (HTTP on), a leak dispatched to a plumber, then its timer sweep stopped (the scheduler job
paused, as a sweep that hangs would be). Scaled: a 0.2 s tick and `CARETAKER_TIMERS_OVERDUE_S=2` instead of
1 s and 60 s, so the ticket's accept deadline (3 s) is overdue after about 5 s instead of about a minute.
In production the auditor checks every 10 s: at most 1 + 60 + 10 s after a missed deadline, within 2 min.
Measured: the alarm `system.timers_overdue` on the alerts topic and in `GET /api/v1/alerts`, and
`caretaker_timers_overdue` ≥ 1 in `/metrics`, about 5 s after the sweep stopped; cleared, and the gauge back
to 0, within a second of the sweep running again. On PostgreSQL also a sweep that hangs (its thread
waiting on a ticket another transaction holds locked) rather than stops: the same alarm and gauge, since
the check runs in a job and a transaction of its own.
"""

from __future__ import annotations

import json
import time
import urllib.request

import pytest
from sqlalchemy import create_engine, text

from caretaker.db import normalize_url
from caretaker.service import Service, load_configuration
from caretaker.settings import Settings
from tests.conftest import _postgres_database, free_port
from tests.service.harness import SMALL_SITE, Watcher, now_iso, wait_until

pytestmark = pytest.mark.faults

TICK_S, GRACE_S = 0.2, 2.0
ACCEPT_S = 3.0  # small-site level 1
ADMIN = "t15-admin-token-0123456789"


def get(port: int, path: str, token: str | None = None) -> str:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.read().decode()


def overdue_gauge(port: int) -> int:
    for line in get(port, "/metrics").splitlines():
        if line.startswith("caretaker_timers_overdue "):
            return int(float(line.split()[1]))
    raise AssertionError("/metrics has no caretaker_timers_overdue")


def start(broker, database_url: str) -> tuple[Service, Watcher, int]:
    port = free_port()
    settings = Settings(mqtt_url=broker.url, database_url=database_url, site_file=SMALL_SITE,
                        tick_seconds=TICK_S, timers_overdue_s=GRACE_S, http_port=port, admin_token=ADMIN,
                        mqtt_client_id=f"t15-{time.monotonic_ns()}")
    service = Service(settings, load_configuration(settings))
    service.start()
    watcher = Watcher(broker.host, broker.port, client_id=f"t15-watcher-{time.monotonic_ns()}")
    return service, watcher, port


def dispatch_a_leak(service: Service, watcher: Watcher) -> str:
    watcher.publish("test-estate/technicians/t-near/location", {"ts": now_iso(), "building": "A", "floor": 1})
    wait_until(lambda: service.ingest.received >= 1, what="the location")
    watcher.publish("test-estate/devices/A-LEAK-1/telemetry", {"ts": now_iso(), "seq": 1, "values": {"leak": True}})
    push = watcher.wait_for("technicians/t-near/dispatch", lambda p: p["type"] == "assigned", timeout=10)
    return push.json()["ticket"]


def alarm(state: str):
    return lambda p: p.get("rule") == "system.timers_overdue" and p["state"] == state


def test_t15_a_stopped_timer_sweep_is_flagged_by_a_gauge_and_an_alarm(mosquitto, database_url):
    service, watcher, port = start(mosquitto, database_url)
    try:
        dispatch_a_leak(service, watcher)
        service.scheduler.pause_job("timers")  # the sweep stops with the ticket's deadlines ahead of it
        stopped = time.monotonic()
        assert overdue_gauge(port) == 0

        raised = watcher.wait_for("test-estate/alerts", alarm("raised"), timeout=ACCEPT_S + TICK_S + GRACE_S + 20)
        flagged_after = raised.at - stopped
        assert raised.json()["device"] is None and raised.json()["id"]
        assert overdue_gauge(port) >= 1
        alerts = json.loads(get(port, "/api/v1/alerts", ADMIN))
        items = alerts["items"] if isinstance(alerts, dict) else alerts
        [shown] = [a for a in items if a["rule"] == "system.timers_overdue"]
        assert shown["category"] == "system" and shown["state"] == "raised"

        service.scheduler.resume_job("timers")
        resumed = time.monotonic()
        cleared = watcher.wait_for("test-estate/alerts", alarm("cleared"), timeout=20)
        wait_until(lambda: overdue_gauge(port) == 0, what="the gauge back to 0")
        print(f"T15: flagged {flagged_after:.1f} s after the sweep stopped, cleared {cleared.at - resumed:.1f} s "
              "after it ran again")
        assert flagged_after <= ACCEPT_S + TICK_S + GRACE_S + 5  # scaled from: within 2 min
    finally:
        watcher.close()
        service.stop()


@pytest.fixture
def postgres_url(postgres_admin_url):
    yield from _postgres_database(postgres_admin_url)


def test_t15_a_timer_sweep_that_hangs_is_flagged_too(mosquitto, postgres_url):
    service, watcher, port = start(mosquitto, postgres_url)
    holder = create_engine(normalize_url(postgres_url))
    try:
        ticket = dispatch_a_leak(service, watcher)
        with holder.connect() as other:
            # another transaction holds the ticket: the sweep claims its timers, then waits for the ticket
            other.execute(text("SELECT id FROM tickets WHERE id = :id FOR UPDATE"), {"id": ticket})
            stopped = time.monotonic()
            raised = watcher.wait_for("test-estate/alerts", alarm("raised"), timeout=ACCEPT_S + TICK_S + GRACE_S + 20)
            assert overdue_gauge(port) >= 1
            other.rollback()  # the sweep goes on
        watcher.wait_for("test-estate/alerts", alarm("cleared"), timeout=20)
        wait_until(lambda: overdue_gauge(port) == 0, what="the gauge back to 0")
        print(f"T15 hung sweep: flagged {raised.at - stopped:.1f} s after it hung")
        assert raised.at - stopped <= ACCEPT_S + TICK_S + GRACE_S + 5
    finally:
        holder.dispose()
        watcher.close()
        service.stop()
