"""The channels' queues: a message a receiver refuses is given up after a few tries, logged without personal
data and counted, and never blocks the messages after it; /metrics shows each channel's figures; the outbox
purge keeps what a channel has not handled; on PostgreSQL two instances deliver each message once."""

from __future__ import annotations

import json
import logging
import re
import time
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from caretaker.db import make_engine, make_sessions, migrate
from caretaker.dispatch.notify.model import delivery_id
from caretaker.dispatch.notify.policy import GIVE_UP_AFTER
from caretaker.dispatch.notify.sender import Channels
from caretaker.dispatch.notify.tables import DeliveryRow
from caretaker.dispatch.notify.webhook import WebhookChannel
from caretaker.dispatch.outbox import enqueue, purge_sent
from caretaker.dispatch.tables import OutboxRow
from caretaker.estate import parse_site
from tests.channels.receivers import WebhookReceiver
from tests.channels.sites import FAST, site_with, start
from tests.service.harness import SMALL_SITE, Watcher, now_iso, wait_until


@pytest.fixture
def receiver():
    made = WebhookReceiver()
    yield made
    made.close()


def test_a_refused_message_is_given_up_counted_and_the_queue_goes_on(mosquitto, sqlite_url, tmp_path, receiver,
                                                                     caplog):
    """The receiver answers 404 to the first message it is sent, whatever it is: that one is tried
    GIVE_UP_AFTER (3) times and given up; the leak's other messages after it are delivered."""
    refused: list[str] = []

    def answer(body) -> int:
        refused[:] = refused or [body["id"]]
        return 404 if body["id"] == refused[0] else 200

    receiver.answer = answer
    site = site_with(tmp_path, f"  - {{id: ops, kind: webhook, url: '{receiver.url}', takes: [alert, dispatch]}}\n")
    watcher = Watcher(mosquitto.host, mosquitto.port, client_id=f"watcher-{time.monotonic_ns()}")
    caplog.set_level(logging.INFO)
    service = start(mosquitto.url, sqlite_url, site)
    try:
        watcher.publish("test-estate/technicians/t-near/location", {"ts": now_iso(), "building": "A", "floor": 2})
        time.sleep(0.2)
        watcher.publish("test-estate/devices/A-LEAK-1/telemetry", {"ts": now_iso(), "seq": 1, "values": {"leak": True}})
        push = watcher.wait_for("technicians/t-near/dispatch", lambda p: p["type"] == "assigned").json()
        alert = watcher.wait_for("test-estate/alerts", lambda p: p["state"] == "raised").json()
        worker = service.channels.workers["ops"]
        wait_until(lambda: worker.given_up == 1, timeout=10, what="the refused message given up")
        # both of the leak's messages, but the refused one, are delivered after it
        wanted = {push["id"], alert["id"]}
        wait_until(lambda: len(wanted & {p.json()["payload"]["id"] for p in receiver.delivered()}) == 1,
                   timeout=10, what="the message after the refused one")
        metrics = service.metrics_text()
    finally:
        service.stop()
        watcher.close()
    tries = [p for p in receiver.posts if json.loads(p.body)["id"] == refused[0]]
    assert len(tries) == GIVE_UP_AFTER and all("x-refused" in p.headers for p in tries)
    assert worker.given_up == 1 and worker.failed_attempts == GIVE_UP_AFTER
    assert 'caretaker_channel_given_up_total{channel="ops"} 1' in metrics
    assert f'caretaker_channel_delivered_total{{channel="ops"}} {worker.delivered}' in metrics
    assert re.search(r'caretaker_channel_queue_depth\{channel="ops"\} \d', metrics)
    assert 'caretaker_channel_oldest_undelivered_seconds{channel="ops"}' in metrics
    [gave_up] = [r for r in caplog.records if "gave up" in r.getMessage()]
    said = gave_up.getMessage()
    assert "http 404" in said and refused[0] in said
    # no names, numbers, titles or urls of the estate in the channels' log lines
    channel_lines = " ".join(r.getMessage() for r in caplog.records if r.name.startswith("caretaker.dispatch.notify"))
    for personal in ("Near Plumber", "13800000001", "Water leak", receiver.url):
        assert personal not in channel_lines


def test_metrics_show_a_waiting_channels_depth_and_age(mosquitto, sqlite_url, tmp_path, receiver):
    receiver.refuse()
    site = site_with(tmp_path, f"  - {{id: ops, kind: webhook, url: '{receiver.url}', takes: [alert]}}\n")
    watcher = Watcher(mosquitto.host, mosquitto.port, client_id=f"watcher-{time.monotonic_ns()}")
    service = start(mosquitto.url, sqlite_url, site)
    try:
        watcher.publish("test-estate/devices/A-LEAK-1/telemetry", {"ts": now_iso(), "seq": 1, "values": {"leak": True}})
        wait_until(lambda: service.channels.workers["ops"].failed_attempts >= 2, timeout=10, what="failed tries")
        metrics = service.metrics_text()
    finally:
        service.stop()
        watcher.close()
    assert re.search(r'caretaker_channel_queue_depth\{channel="ops"\} [1-9]', metrics), metrics
    age = float(re.search(r'caretaker_channel_oldest_undelivered_seconds\{channel="ops"\} ([0-9.e+-]+)', metrics)[1])
    assert age > 0
    assert re.search(r'caretaker_channel_failed_attempts_total\{channel="ops"\} [2-9]', metrics)


def test_the_outbox_purge_keeps_what_a_channel_has_not_handled(database_url):
    engine = make_engine(database_url)
    migrate(engine)
    long_ago = datetime.now(timezone.utc) - timedelta(days=3)
    with make_sessions(engine).begin() as session:
        ids = []
        for routed, status in ((True, "pending"), (True, "delivered"), (True, "given_up"), (False, None), (True, None)):
            row = OutboxRow(topic="caretaker/s/alerts", payload="{}", qos=1, created_at=long_ago, sent_at=long_ago,
                            routed_at=long_ago if routed else None)
            session.add(row)
            session.flush()
            ids.append(row.id)
            if status:
                session.add(DeliveryRow(site="s", channel="c", outbox_id=row.id, status=status, attempts=1,
                                        created_at=long_ago))
    with make_sessions(engine).begin() as session:
        assert purge_sent(session, datetime.now(timezone.utc)) == 3
    with engine.connect() as connection:
        left = set(connection.scalars(select(OutboxRow.id)))
    engine.dispose()
    assert left == {ids[0], ids[3]}  # a delivery still pending; not routed yet


def test_two_instances_on_postgresql_deliver_each_message_once(postgres_admin_url, receiver):
    """Scaled: 60 alerts, two instances' channels on one database, delivered by one instance at a time."""
    from tests.conftest import _postgres_database

    source = SMALL_SITE.read_text(encoding="utf-8") + (
        f"channels:\n  - {{id: ops, kind: webhook, url: '{receiver.url}', takes: [alert]}}\n")
    site = parse_site(source, "small-site.yaml", environ={})
    databases = _postgres_database(postgres_admin_url)
    url = next(databases)
    engine = make_engine(url)
    migrate(engine)
    instances = [Channels(site, engine, "caretaker", [WebhookChannel(site.channels["ops"])], backoff=FAST)
                 for _ in range(2)]
    try:
        for instance in instances:
            instance.start()
        now = datetime.now(timezone.utc)
        with make_sessions(engine).begin() as session:
            for n in range(60):
                enqueue(session, "caretaker/test-estate/alerts", {"alert": f"AL-{n}", "state": "raised"}, now)
        wait_until(lambda: len(receiver.delivered()) >= 60, timeout=20, what="60 deliveries")
        time.sleep(0.5)  # a second copy, were there one, would come now
        counts = Counter(p.json()["id"] for p in receiver.delivered())
        both = [instance.workers["ops"].delivered for instance in instances]
    finally:
        for instance in instances:
            instance.stop()
        engine.dispose()
        databases.close()
    assert len(counts) == 60 and max(counts.values()) == 1, counts.most_common(3)
    assert sum(both) == 60
    assert counts.keys() == {delivery_id("test-estate", "ops", p.json()["payload"]["id"]) for p in receiver.delivered()}


def test_a_channel_taken_out_of_the_site_file_leaves_nothing_pending(mosquitto, sqlite_url, tmp_path, receiver):
    """Its waiting deliveries are given up at the next start, so the outbox can purge their messages."""
    receiver.refuse()
    first = site_with(tmp_path, f"  - {{id: gone, kind: webhook, url: '{receiver.url}', takes: [alert]}}\n",
                      name="first.yaml")
    watcher = Watcher(mosquitto.host, mosquitto.port, client_id=f"watcher-{time.monotonic_ns()}")
    service = start(mosquitto.url, sqlite_url, first)
    try:
        watcher.publish("test-estate/devices/A-LEAK-1/telemetry", {"ts": now_iso(), "seq": 1, "values": {"leak": True}})
        wait_until(lambda: service.channels.workers["gone"].failed_attempts >= 1, timeout=10, what="a failed try")
    finally:
        service.stop()
        watcher.close()
    second = site_with(tmp_path, f"  - {{id: kept, kind: webhook, url: '{receiver.url}', takes: [dispatch]}}\n",
                       name="second.yaml")
    again = start(mosquitto.url, sqlite_url, second)
    try:
        with again.engine.connect() as connection:
            rows = connection.execute(select(DeliveryRow.channel, DeliveryRow.status, DeliveryRow.last_error)).all()
    finally:
        again.stop()
    assert rows and all(row == ("gone", "given_up", "channel removed") for row in rows), rows
