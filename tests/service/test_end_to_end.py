"""From a sensor's message to a technician's push, on a real Mosquitto and a real database."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from caretaker.dispatch.tables import TicketRow
from caretaker.ingest.tables import DeadLetterRow
from caretaker.rules.tables import AlertRow
from tests.service.harness import Watcher, now_iso, start_service, wait_until


@pytest.fixture
def running(mosquitto, database_url):
    service = start_service(mosquitto.url, database_url)
    watcher = Watcher(mosquitto.host, mosquitto.port, client_id=f"watcher-{time.monotonic_ns()}")
    yield service, watcher
    watcher.close()
    service.stop()


def tickets(service):
    with service.sessions() as session:
        return list(session.scalars(select(TicketRow).order_by(TicketRow.created_at)))


def place(watcher: Watcher, tech: str, building: str, floor: int) -> None:
    watcher.publish(f"test-estate/technicians/{tech}/location", {"ts": now_iso(), "building": building, "floor": floor})


def test_a_leak_dispatches_the_nearest_plumber_within_two_seconds(running):
    service, watcher = running
    place(watcher, "t-far", "B", 5)   # 120 s walk + floors away
    place(watcher, "t-near", "A", 2)  # same building, 3 floors from the basement
    place(watcher, "t-elec", "A", -1)  # closest of all, but not a plumber
    wait_until(lambda: service.pipeline.counters["rejected:unknown_technician"] == 0 and service.ingest.received >= 3)
    time.sleep(0.3)
    sent = time.monotonic()
    watcher.publish("test-estate/devices/A-LEAK-1/telemetry", {"ts": now_iso(), "seq": 1, "values": {"leak": True}})
    push = watcher.wait_for("technicians/t-near/dispatch", lambda p: p["type"] == "assigned", timeout=2.0)
    assert push.at - sent < 2.0
    body = push.json()
    assert body["urgency"] == 1 and body["category"] == "plumbing" and body["device"] == "A-LEAK-1"
    assert body["location"] == {"building": "A", "floor": -1, "zone": "pump-room"}
    assert body["travel_s"] == 20  # floor 2 to floor -1 is two floors (a building has no floor 0), 10 s each
    [ticket] = tickets(service)
    assert (ticket.status, ticket.assignee, ticket.urgency, ticket.category) == ("assigned", "t-near", 1, "plumbing")
    alert = watcher.wait_for("test-estate/alerts", lambda p: p["state"] == "raised")
    assert alert.json()["ticket"] == ticket.id and alert.json()["rule"] == "water-leak"
    assert not watcher.on("technicians/t-far/dispatch")


def test_twenty_repeats_of_a_reading_leave_one_ticket(running):
    service, watcher = running
    place(watcher, "t-near", "A", 1)
    for seq in range(1, 21):
        watcher.publish("test-estate/devices/A-LEAK-2/telemetry", {"ts": now_iso(), "seq": seq, "values": {"leak": True}})
    wait_until(lambda: service.pipeline.counters["alerts_raised"] >= 1)
    time.sleep(0.5)
    assert len(tickets(service)) == 1
    with service.sessions() as session:
        assert session.scalar(select(func.count()).select_from(AlertRow)) == 1
    # one offer, however many repeats; a reminder of the accept deadline may follow on a slow machine
    offers = [p for p in watcher.on("technicians/t-near/dispatch") if p.json()["type"] == "assigned"]
    assert len(offers) == 1


def test_an_unaccepted_ticket_moves_to_the_next_nearest_and_is_withdrawn(running):
    service, watcher = running
    place(watcher, "t-near", "A", 1)
    place(watcher, "t-far", "B", 1)
    time.sleep(0.3)
    watcher.publish("test-estate/devices/A-LEAK-1/telemetry", {"ts": now_iso(), "seq": 1, "values": {"leak": True}})
    watcher.wait_for("technicians/t-near/dispatch", lambda p: p["type"] == "assigned")
    # the small site gives level 1 a 3 s accept window
    watcher.wait_for("technicians/t-near/dispatch", lambda p: p["type"] == "withdrawn", timeout=6)
    moved = watcher.wait_for("technicians/t-far/dispatch", lambda p: p["type"] == "assigned", timeout=2)
    assert "最近" in moved.json()["reason"]  # "nearest", said in the estate's locale (zh-CN)
    [ticket] = tickets(service)
    assert ticket.assignee == "t-far"
    # the second technician accepts by MQTT reply
    watcher.publish("test-estate/technicians/t-far/reply", {"ts": now_iso(), "ticket": ticket.id, "action": "accept"})
    wait_until(lambda: tickets(service)[0].status == "accepted", what="accepted")


def test_nobody_on_site_keeps_the_ticket_open_and_tells_every_supervisor(running):
    service, watcher = running
    watcher.publish("test-estate/devices/B-LEAK-1/telemetry", {"ts": now_iso(), "seq": 1, "values": {"leak": True}})
    for supervisor in ("s-1", "s-2"):
        notice = watcher.wait_for(f"supervisors/{supervisor}/notify", lambda p: p["type"] == "unassigned").json()
        assert "给排水" in notice["reason"]  # the trade, said in the estate's locale (zh-CN)
    [ticket] = tickets(service)
    assert ticket.status == "open" and ticket.assignee is None
    # a plumber swipes a badge at B's door: now on site, the retry gives them the ticket
    watcher.publish("test-estate/devices/B-DOOR-1/event",
                    {"ts": now_iso(), "seq": 1, "type": "badge_granted", "data": {"badge": "BADGE-FAR"}})
    watcher.wait_for("technicians/t-far/dispatch", lambda p: p["type"] == "assigned", timeout=2)


MALFORMED = [
    ("not_json", "devices/A-LEAK-1/telemetry", b"{not json"),
    ("not_utf8", "devices/A-LEAK-1/telemetry", b"\xff\xfe\x00"),
    ("not_object", "devices/A-LEAK-1/telemetry", b"[1, 2]"),
    ("non_finite", "devices/A-LEAK-1/telemetry", b'{"ts": 1, "values": {"leak": NaN}}'),
    ("too_large", "devices/A-LEAK-1/telemetry", b'{"pad": "' + b"x" * 66000 + b'"}'),
    ("bad_payload", "devices/A-LEAK-1/telemetry", b'{"ts": "yesterday", "values": {"leak": true}}'),
    ("bad_payload", "devices/A-LEAK-1/telemetry", b'{"ts": "NOW", "values": {"leak": "wet"}}'),
    ("unknown_device", "devices/NOPE-1/telemetry", None),
    ("unknown_metric", "devices/A-LEAK-1/telemetry", b'{"ts": "NOW", "values": {"humidity": 3}}'),
    ("ts_future", "devices/A-LEAK-1/telemetry", b'{"ts": 99999999999999, "values": {"leak": false}}'),
    ("ts_stale", "devices/A-LEAK-1/telemetry", b'{"ts": 1000, "values": {"leak": false}}'),
]


def test_every_kind_of_malformed_message_is_dead_lettered_and_the_next_good_one_processed(running):
    service, watcher = running
    place(watcher, "t-near", "A", 1)
    for index, (reason, topic, payload) in enumerate(MALFORMED):
        if payload is None:
            payload = f'{{"ts": "{now_iso()}", "values": {{"leak": true}}}}'.encode()
        payload = payload.replace(b'"NOW"', f'"{now_iso()}"'.encode())
        before = len(watcher.on("test-estate/deadletter"))
        watcher.publish(f"test-estate/{topic}", payload)
        wait_until(lambda b=before: len(watcher.on("test-estate/deadletter")) > b, timeout=3, what=f"dead letter {reason}")
        time.sleep(0.05)
        letters = watcher.on("test-estate/deadletter")
        assert len(letters) == before + 1
        letter = letters[-1].json()
        assert letter["reason"] == reason, letter
        assert letter["topic"].endswith(topic) and letter["detail"]
    # another estate's message is not even received: the service subscribes to its own site only
    watcher.publish("other-site/devices/A-LEAK-1/telemetry",
                    {"ts": now_iso(), "values": {"leak": True}})
    # and a good message right after all of them is processed
    watcher.publish("test-estate/devices/A-LEAK-1/telemetry", {"ts": now_iso(), "seq": 7, "values": {"leak": True}})
    watcher.wait_for("technicians/t-near/dispatch", lambda p: p["type"] == "assigned", timeout=2)
    with service.sessions() as session:
        stored = session.scalar(select(func.count()).select_from(DeadLetterRow))
        raw = session.scalars(select(DeadLetterRow.payload).where(DeadLetterRow.reason == "not_utf8")).one()
    assert stored == len(MALFORMED)
    assert raw == b"\xff\xfe\x00"
