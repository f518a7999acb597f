"""The outbox on a real database (SQLite and PostgreSQL): every message has an id of its own that a re-send
keeps; each is marked sent as soon as the broker has it; one instance's sender publishes at a time."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select, text

from caretaker.db import make_engine, make_sessions, migrate
from caretaker.dispatch.outbox import SENDER_LOCK, OutboxSender, Outgoing, enqueue
from caretaker.dispatch.service import AlertFacts, Dispatcher
from caretaker.dispatch.tables import OutboxRow, TicketRow
from caretaker.estate.model import Place
from caretaker.estate.site import load_site
from tests.conftest import _postgres_database
from tests.fakes import FakeClock

SITE = load_site(Path(__file__).resolve().parent.parent / "fixtures" / "small-site.yaml")


class Broker:
    """The publisher port: records what it was given; `refuse_from` makes the n-th publish (1-based) and
    every later one fail, as a broker that stopped answering would."""

    def __init__(self, refuse_from: int | None = None) -> None:
        self.got: list[tuple[str, dict]] = []
        self.calls = 0
        self.refuse_from = refuse_from

    def publish(self, topic: str, payload: bytes, qos: int) -> bool:
        self.calls += 1
        if self.refuse_from is not None and self.calls >= self.refuse_from:
            return False
        self.got.append((topic, json.loads(payload)))
        return True


@pytest.fixture
def db(database_url):
    engine = make_engine(database_url)
    migrate(engine)
    yield make_sessions(engine)
    engine.dispose()


def queue(db, count: int) -> None:
    with db.begin() as s:
        for n in range(count):
            enqueue(s, "caretaker/t/alerts", {"alert": f"AL-{n}", "state": "raised"}, FakeClock().now())


def unsent(db) -> int:
    with db() as s:
        return len(s.scalars(select(OutboxRow.id).where(OutboxRow.sent_at.is_(None))).all())


def test_every_push_notice_and_alert_event_carries_an_id_of_its_own(db):
    clock, dispatcher = FakeClock(), Dispatcher(SITE, "caretaker")
    with db.begin() as s:
        dispatcher.record_location(s, "t-near", Place("A", 1), clock.now(), "app")
        ticket_id = dispatcher.open_for_alert(s, AlertFacts("AL-1", "water-leak", "A-LEAK-1", 1, "plumbing",
                                                            "Water leak", clock.now()), clock.now())
        dispatcher.notify_supervisors(s, s.get(TicketRow, ticket_id), "warning", "accept deadline is near",
                                      clock.now())
        enqueue(s, "caretaker/small/alerts", {"alert": "AL-1", "state": "raised"}, clock.now())
    broker = Broker()
    OutboxSender(db, broker.publish, clock).send_pending()
    kinds = {topic.rsplit("/", 1)[1] for topic, _ in broker.got}
    assert kinds == {"dispatch", "notify", "alerts"}
    assert len([t for t, _ in broker.got if t.endswith("/notify")]) == len(SITE.supervisors) >= 2
    ids = [body["id"] for _, body in broker.got]
    assert all(isinstance(i, str) and i for i in ids)
    assert len(set(ids)) == len(ids)  # a notice to several supervisors is several messages, several ids


def test_a_message_the_broker_did_not_take_is_sent_again_with_the_same_id_and_in_order(db):
    queue(db, 5)
    failing = Broker(refuse_from=3)
    OutboxSender(db, failing.publish, FakeClock()).send_pending()
    assert [b["alert"] for _, b in failing.got] == ["AL-0", "AL-1"]
    assert unsent(db) == 3  # the two the broker took are marked at once; the rest wait, in order
    with db() as s:
        stored = json.loads(s.scalars(select(OutboxRow.payload).order_by(OutboxRow.id)).all()[2])
    healthy = Broker()
    OutboxSender(db, healthy.publish, FakeClock()).send_pending()
    assert [b["alert"] for _, b in healthy.got] == ["AL-2", "AL-3", "AL-4"]
    assert healthy.got[0][1]["id"] == stored["id"]
    assert unsent(db) == 0


def test_a_backlog_sends_what_people_act_on_first_and_every_topic_in_its_order(db):
    at = FakeClock().now()
    with db.begin() as s:  # a storm's backlog: alert events, then a plumber's pushes and a supervisor's notice
        for n in range(6):
            enqueue(s, "caretaker/t/alerts", {"alert": f"AL-{n}", "state": "raised"}, at)
            if n == 2:
                enqueue(s, "caretaker/t/technicians/t-li/dispatch", {"type": "assigned", "n": 1}, at)
                enqueue(s, "caretaker/t/supervisors/s-chen/notify", {"type": "unassigned"}, at)
        enqueue(s, "caretaker/t/technicians/t-li/dispatch", {"type": "withdrawn", "n": 2}, at)
    broker = Broker()
    sender = OutboxSender(db, broker.publish, FakeClock(), batch=4)
    while sender.send_pending():
        pass
    topics = [topic.split("/", 2)[2] for topic, _ in broker.got]
    assert topics[:3] == ["technicians/t-li/dispatch", "supervisors/s-chen/notify", "technicians/t-li/dispatch"]
    assert [b["type"] for t, b in broker.got if t.endswith("/dispatch")] == ["assigned", "withdrawn"]
    assert [b["alert"] for t, b in broker.got if t.endswith("/alerts")] == [f"AL-{n}" for n in range(6)]
    assert unsent(db) == 0


def test_rows_handed_over_send_what_people_act_on_first_too(db):
    broker = Broker()
    sender = OutboxSender(db, broker.publish, FakeClock())
    sender.send_pending()  # nothing waiting: from now on committed rows are handed over
    at = FakeClock().now()
    with db.begin() as s:  # one batch's rows: many alert events, then the ticket's push
        for n in range(25):
            enqueue(s, "caretaker/t/alerts", {"alert": f"AL-{n}", "state": "raised"}, at)
        enqueue(s, "caretaker/t/technicians/t-li/dispatch", {"type": "assigned"}, at)
    with db() as s:
        rows = [Outgoing(*row) for row in s.execute(select(OutboxRow.id, OutboxRow.topic, OutboxRow.payload,
                                                           OutboxRow.qos).order_by(OutboxRow.id))]
    sender.hand(rows)
    assert sender.send_handed() == 26
    assert broker.got[0][0] == "caretaker/t/technicians/t-li/dispatch"
    assert [b["alert"] for _, b in broker.got[1:]] == [f"AL-{n}" for n in range(25)]
    assert unsent(db) == 0


@pytest.fixture
def postgres_url(postgres_admin_url):
    yield from _postgres_database(postgres_admin_url)  # SQLite runs one instance: only here are there several


def test_a_sender_waits_while_another_instance_has_its_turn(postgres_url):
    engine = make_engine(postgres_url)
    migrate(engine)
    db = make_sessions(engine)
    queue(db, 3)
    try:
        with engine.connect() as other:  # another instance in the middle of sending
            assert other.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": SENDER_LOCK})
            broker = Broker()
            OutboxSender(db, broker.publish, FakeClock()).send_pending()
            assert broker.got == [] and unsent(db) == 3
            other.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": SENDER_LOCK})
        OutboxSender(db, broker.publish, FakeClock()).send_pending()
        assert [b["alert"] for _, b in broker.got] == ["AL-0", "AL-1", "AL-2"]
        with db.begin() as s:  # the sender's pooled connection is back to durable commits, holding no lock
            assert s.scalar(text("SHOW synchronous_commit")) == "on"
            assert s.scalar(text("SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
                                 "WHERE l.locktype = 'advisory' AND d.datname = current_database()")) == 0
    finally:
        engine.dispose()
