"""A service complaint's answer clock on the real service (real Mosquitto, SQLite and PostgreSQL), restarted
between filing and the deadline: the warning at 80% (9 h 36 min) and the breach at 12 h still come, once each,
from the timer rows; the breach is escalated to the supervisor on duty then (s-wu, nights), and the answer
stops the climb so the next level is never told (docs/operations.md, "Complaints and suggestions")."""

from __future__ import annotations

import time

import pytest

from tests.dispatch.escalation_site import SUPERVISORS, escalation_site_text
from tests.fakes import FakeClock
from tests.service.escalation_support import MONDAY_10, notices, operator_client, start, sweep_at, write_site
from tests.service.harness import Watcher

LEVELS_ONLY = SUPERVISORS.split("contractors:")[0]
RUDE = {"reporter_name": "Tang Yue", "reporter_phone": "13700137005", "building": "B", "floor": 3,
        "source": "phone", "description": "投诉保安态度差，对业主大呼小叫"}


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


def clock_notices(watcher: Watcher, supervisor: str) -> list[tuple[str, int | None]]:
    """The answer clock's notices to a supervisor, as (type, level)."""
    return [(n["type"], n["level"]) for n in notices(watcher, supervisor) if "投诉答复" in n["reason"]]  # in the estate's zh-CN


def answer_clock_fired(kinds: list[str]) -> list[str]:
    return [k for k in kinds if k.startswith("answer:")]


def test_the_answer_clock_survives_restarts_and_the_answer_stops_its_escalation(estate):
    run, clock, watcher = estate
    service = run()
    client, operator = operator_client(service)
    filed = client.post("/api/v1/tickets", json=RUDE, headers=operator)
    assert filed.status_code == 201, filed.text
    ticket = filed.json()
    assert ticket["kind"] == "complaint" and ticket["answer_by"] == "2027-01-04T14:00:00.000Z"  # 22:00 in Shanghai
    service.stop()

    service = run()  # the clock is timer rows: a new service carries on
    clock.advance(hours=9, minutes=36)
    assert answer_clock_fired(sweep_at(service, clock.now())) == ["answer:warn"]
    watcher.wait_for("supervisors/s-li/notify", lambda n: n["type"] == "warning" and "投诉答复" in n["reason"])
    service.stop()

    service = run()
    clock.advance(hours=2, minutes=24)  # 22:00: s-li has gone home, s-wu is on the night shift
    assert answer_clock_fired(sweep_at(service, clock.now())) == ["answer:breach"]
    breach = watcher.wait_for("supervisors/s-wu/notify",
                              lambda n: n["type"] == "breach" and "投诉答复" in n["reason"]).json()
    assert breach["ticket"] == ticket["id"] and breach["level"] == 0 and breach["escalation"]["next_level"] == 1
    client, operator = operator_client(service)
    assert client.get(f"/api/v1/tickets/{ticket['id']}", headers=operator).json()["breached"] is True

    clock.advance(minutes=1)
    answered = client.post(f"/api/v1/tickets/{ticket['id']}/answer", json={"answer": "已约谈当班保安，调岗并培训"},
                           headers=operator)
    assert answered.status_code == 200, answered.text
    notes = [h["note"] for h in answered.json()["history"]]
    assert "逾期答复：已约谈当班保安，调岗并培训" in notes  # the system's words in the estate's language
    assert "升级在第 0 级停止：op-wang 已答复" in notes
    clock.advance(minutes=20)  # past level 1's 15 minutes: nobody more is told
    assert "escalate:1" not in sweep_at(service, clock.now())
    clock.advance(hours=12)
    assert answer_clock_fired(sweep_at(service, clock.now())) == []
    time.sleep(0.3)  # nothing is due: give a wrong push the time to arrive
    assert clock_notices(watcher, "s-li") == [("warning", 0)]
    assert clock_notices(watcher, "s-wu") == [("breach", 0)]
    assert [n for n in notices(watcher, "s-zhang") if n["ticket"] == ticket["id"] and n["type"] == "escalation"] == []
