"""Escalation with levels on a real Mosquitto and a real database, by a fake clock: a level-1 leak nobody
can take climbs from the supervisor on duty (s-li) to s-zhang after 15 minutes and to the manager (m-chen)
after an hour; s-zhang's acknowledgement (their own token; s-li's may not) stops the climb; a restart
between levels neither repeats nor skips one."""

from __future__ import annotations

import time

import pytest

from tests.dispatch.escalation_site import SUPERVISORS, escalation_site_text
from tests.fakes import FakeClock
from tests.service.escalation_support import (
    MONDAY_10, leak, notices, operator_client, start, sweep_at, token_for, write_site,
)
from tests.service.harness import Watcher, wait_until

LEVELS_ONLY = SUPERVISORS.split("contractors:")[0]  # no contractor: the climb alone


@pytest.fixture
def estate(tmp_path, mosquitto, database_url):
    clock = FakeClock(MONDAY_10)
    site_file = write_site(tmp_path, escalation_site_text(LEVELS_ONLY))
    watcher = Watcher(mosquitto.host, mosquitto.port, client_id=f"watcher-{time.monotonic_ns()}")
    services = []

    def run():
        service = start(mosquitto.url, database_url, site_file, clock)
        services.append(service)
        return service

    yield run, clock, watcher
    watcher.close()
    for service in services:
        service.stop()


def told(watcher: Watcher, supervisor: str) -> list[tuple[str, int | None]]:
    return [(n["type"], n["level"]) for n in notices(watcher, supervisor)]


def climbed_to(watcher: Watcher, supervisor: str, level: int) -> dict:
    return watcher.wait_for(f"supervisors/{supervisor}/notify",
                            lambda n: n["type"] == "escalation" and n["level"] == level).json()


def test_an_unaccepted_breach_climbs_the_levels_in_order_and_stops_when_a_supervisor_acks(estate):
    run, clock, watcher = estate
    service = run()
    leak(watcher, clock)  # building B: no plumber on site
    first = watcher.wait_for("supervisors/s-li/notify", lambda n: n["type"] == "unassigned").json()
    assert first["level"] == 0 and first["escalation"]["next_level"] == 1
    assert first["escalation"]["next_at"] == "2027-01-04T02:15:00.000Z"
    # the accept deadline (3 s) passes: the breach is told to the level reached, it does not start again
    clock.advance(seconds=10)
    assert "accept:breach" in sweep_at(service, clock.now())
    watcher.wait_for("supervisors/s-li/notify", lambda n: n["type"] == "breach")
    clock.advance(minutes=14)
    sweep_at(service, clock.now())
    time.sleep(0.3)  # nothing more is due: give a wrong push the time to arrive
    assert told(watcher, "s-zhang") == [] and told(watcher, "m-chen") == []
    clock.advance(minutes=1)  # 15 minutes after the first notice
    assert "escalate:1" in sweep_at(service, clock.now())
    level_1 = climbed_to(watcher, "s-zhang", 1)
    assert level_1["escalation"]["next_at"] == "2027-01-04T03:00:00.000Z"
    assert told(watcher, "s-wu") == [] and told(watcher, "m-chen") == []  # s-wu works nights

    client, operator = operator_client(service)
    waiting = client.get("/api/v1/notices", params={"ticket": first["ticket"], "unacked": True}, headers=operator)
    assert level_1["id"] in [n["id"] for n in waiting.json()]
    own = client.get("/api/v1/notices", headers=token_for(client, "supervisor", "s-zhang")).json()
    assert {n["supervisor"] for n in own} == {"s-zhang"} and level_1["id"] in [n["id"] for n in own]
    # a supervisor's token acknowledges only what was sent to them
    not_theirs = client.post(f"/api/v1/notices/{level_1['id']}/ack", headers=token_for(client, "supervisor", "s-li"))
    assert not_theirs.status_code == 403
    answer = client.post(f"/api/v1/notices/{level_1['id']}/ack", headers=token_for(client, "supervisor", "s-zhang"))
    assert answer.status_code == 200, answer.text
    assert answer.json()["stopped"] is True and answer.json()["acked_by"] == "s-zhang"
    again = client.post(f"/api/v1/notices/{level_1['id']}/ack", headers=operator).json()
    assert again["stopped"] is False and again["acked_at"] == answer.json()["acked_at"]
    assert again["acked_by"] == "s-zhang"  # the first acknowledgement counts
    assert client.post("/api/v1/notices/M-nope/ack", headers=operator).status_code == 404
    still = client.get("/api/v1/notices", params={"ticket": first["ticket"], "unacked": True}, headers=operator)
    assert level_1["id"] not in [n["id"] for n in still.json()]

    ticket = client.get(f"/api/v1/tickets/{first['ticket']}", headers=operator).json()
    notes = [h["note"] for h in ticket["history"]]
    assert "升级在第 1 级停止：s-zhang 已确认通知" in notes  # the system's lines in the estate's zh-CN
    assert "升级至第 1 级：已通知 s-zhang" in notes
    assert ticket["escalation"]["level"] == 1 and ticket["escalation"]["stopped_by"] == "s-zhang"

    clock.advance(hours=1)  # past the manager's hour
    assert "escalate:2" not in sweep_at(service, clock.now())
    time.sleep(0.3)
    assert told(watcher, "m-chen") == []  # the manager is never called
    # the arrive deadline breached at 30 minutes: a new failure, a new climb from the supervisor on duty
    # the notice is said in the estate's locale (zh-CN): the arrive deadline is 到场
    arrive = watcher.wait_for("supervisors/s-li/notify", lambda n: n["type"] == "breach" and "到场" in n["reason"])
    assert arrive.json()["level"] == 0 and arrive.json()["escalation"]["next_level"] == 1


def test_a_restart_between_levels_neither_repeats_nor_skips_one(estate):
    run, clock, watcher = estate
    service = run()
    leak(watcher, clock)
    watcher.wait_for("supervisors/s-li/notify", lambda n: n["type"] == "unassigned")
    service.stop()

    service = run()  # the level timers are rows: the new service carries on where the old one was
    clock.advance(minutes=15)
    sweep_at(service, clock.now())
    climbed_to(watcher, "s-zhang", 1)
    client, operator = operator_client(service)
    [ticket] = client.get("/api/v1/tickets", headers=operator).json()
    assert ticket["escalation"]["level"] == 1 and ticket["escalation"]["stopped_at"] is None  # still climbing
    service.stop()

    service = run()
    clock.advance(minutes=45)  # an hour after the first notice
    sweep_at(service, clock.now())
    climbed_to(watcher, "m-chen", 2)
    clock.advance(hours=2)
    sweep_at(service, clock.now())
    time.sleep(0.3)
    escalations = {s: [n for n in told(watcher, s) if n[0] in ("unassigned", "escalation")]
                   for s in ("s-li", "s-wu", "s-zhang", "m-chen")}
    assert escalations == {"s-li": [("unassigned", 0)], "s-wu": [], "s-zhang": [("escalation", 1)],
                           "m-chen": [("escalation", 2)]}
    wait_until(lambda: not service.outbox.send_pending(), what="outbox drained")


def test_notices_older_than_30_days_are_purged_and_newer_ones_kept(database_url):
    from datetime import timedelta

    from sqlalchemy import select

    from caretaker.db import make_engine, make_sessions, migrate
    from caretaker.estate_runtime import NOTICES_KEPT
    from caretaker.dispatch import notices as notice_store
    from caretaker.dispatch.escalation_tables import NoticeRow

    engine = make_engine(database_url)
    migrate(engine)
    db = make_sessions(engine)
    try:
        with db.begin() as s:
            hour = timedelta(hours=1)
            for ident, age in (("M-old", NOTICES_KEPT + hour), ("M-new", NOTICES_KEPT - hour)):
                s.add(NoticeRow(id=ident, ticket_id="T-1", supervisor="s-li", type="breach", level=0,
                                at=MONDAY_10 - age))
        with db.begin() as s:
            assert notice_store.purge(s, MONDAY_10 - NOTICES_KEPT) == 1
        with db() as s:
            assert list(s.scalars(select(NoticeRow.id))) == ["M-new"]
    finally:
        engine.dispose()
